"""bench/workflows' peer: invokeai-py-client 1.1.1 doing what the gateway does per run on the
same file: load the definition, create_workflow (its input list), and convert to the API graph.
Offline: the client is never asked to talk to InvokeAI. After a few untimed warm-up rounds,
prints the mean round in microseconds."""

import sys
import time

from invokeai_py_client import InvokeAIClient
from invokeai_py_client.workflow import WorkflowDefinition

path, iterations = sys.argv[1], int(sys.argv[2])
client = InvokeAIClient.from_url("http://127.0.0.1:9")


def round_trip():
    definition = WorkflowDefinition.from_file(path)
    handle = client.create_workflow(definition)
    inputs = len(handle.list_inputs())
    graph = handle._convert_to_api_format()
    return inputs, len(graph["nodes"])


for _ in range(min(20, iterations)):
    round_trip()
start = time.perf_counter()
for _ in range(iterations):
    inputs, nodes = round_trip()
elapsed = time.perf_counter() - start
print(f"PYTHON {elapsed / iterations * 1e6:.1f} us/round inputs {inputs} graph_nodes {nodes}")
