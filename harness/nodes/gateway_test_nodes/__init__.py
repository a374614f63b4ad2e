"""InvokeAI node pack used by invokeai-gateway's live tests.

InvokeAI (6.14.2) imports every folder in ROOT/nodes/ that has an __init__.py at
start-up; the @invocation decorator registers the nodes, so importing the module
is all that is needed. The harness copies this folder to ROOT/nodes/.
"""

from .nodes import GatewayTestFailInvocation, GatewayTestSlowInvocation, GatewayTestWaitFileInvocation

__all__ = ["GatewayTestFailInvocation", "GatewayTestSlowInvocation", "GatewayTestWaitFileInvocation"]
