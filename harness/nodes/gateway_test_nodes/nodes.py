"""Test nodes: a slow node with real progress and cancellation, a node that fails, and
a node that waits for a file (so a test decides exactly when a run ends).

All set use_cache=False: InvokeAI otherwise answers an identical node (same
inputs) from its invocation cache without running it, so a second run of the
same graph would finish at once with no progress events. Tests can still turn
the cache on per node with the `use_cache` field every node has.
"""

import time
from pathlib import Path

from invokeai.app.services.session_processor.session_processor_common import CanceledException
from invokeai.invocation_api import (
    BaseInvocation,
    InputField,
    IntegerOutput,
    InvocationContext,
    StringOutput,
    invocation,
)

# How often a long step looks at the cancel flag, so cancellation is prompt even
# when step_ms is large.
_CANCEL_POLL_SECONDS = 0.02


@invocation(
    "gateway_test_slow",
    title="Gateway Test: Slow",
    tags=["test", "gateway"],
    category="test",
    version="1.0.0",
    use_cache=False,
)
class GatewayTestSlowInvocation(BaseInvocation):
    """Runs `steps` steps of `step_ms` milliseconds each, reporting progress after every step.

    Outputs the number of steps done. Stops when the session is canceled.
    """

    steps: int = InputField(default=5, ge=1, description="Number of steps")
    step_ms: int = InputField(default=100, ge=0, description="Duration of one step in milliseconds")
    label: str = InputField(default="", description="Free text, e.g. to tell runs apart")
    report_clock: bool = InputField(
        default=False,
        description="Append ' t=<unix time in seconds>' (taken just before signalling) to each progress message",
    )

    def invoke(self, context: InvocationContext) -> IntegerOutput:
        for step in range(1, self.steps + 1):
            self._sleep_unless_canceled(context, self.step_ms / 1000.0)
            message = f"step {step}/{self.steps}"
            if self.report_clock:
                message += f" t={time.time():.6f}"
            context.util.signal_progress(message, step / self.steps)
        return IntegerOutput(value=self.steps)

    @staticmethod
    def _sleep_unless_canceled(context: InvocationContext, seconds: float) -> None:
        """Sleep, checking the cancel flag in short slices.

        A canceled node stops by raising CanceledException: the session processor
        treats it as "canceled", not as an error (no invocation_error event, the
        queue item ends `canceled`). This is what InvokeAI's own denoise step
        callback does.
        """
        deadline = time.monotonic() + seconds
        while True:
            if context.util.is_canceled():
                raise CanceledException()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(remaining, _CANCEL_POLL_SECONDS))


@invocation(
    "gateway_test_fail",
    title="Gateway Test: Fail",
    tags=["test", "gateway"],
    category="test",
    version="1.0.0",
    use_cache=False,
)
class GatewayTestFailInvocation(BaseInvocation):
    """Always fails with `message`. InvokeAI reports the exception's class name as
    error_type and its text as error_message."""

    message: str = InputField(default="failed on purpose", description="The error message")

    def invoke(self, context: InvocationContext) -> StringOutput:
        raise GatewayTestError(self.message)


@invocation(
    "gateway_test_wait_file",
    title="Gateway Test: Wait For File",
    tags=["test", "gateway"],
    category="test",
    version="1.0.0",
    use_cache=False,
)
class GatewayTestWaitFileInvocation(BaseInvocation):
    """Waits until the file `path` exists, then outputs its text.

    A test ends the run exactly when it wants by creating the file (write it elsewhere
    and rename it into place, so the node never reads it half-written), and keeps every
    item queued behind this one pending until then. Stops when the session is canceled;
    fails with GatewayTestError when `timeout_s` passes first.
    """

    path: str = InputField(description="Absolute path of the file to wait for")
    timeout_s: float = InputField(default=60.0, ge=0, description="Seconds to wait before failing")
    label: str = InputField(default="", description="Free text, e.g. to tell runs apart")

    def invoke(self, context: InvocationContext) -> StringOutput:
        context.util.signal_progress(f"waiting for {self.path}")
        target = Path(self.path)
        deadline = time.monotonic() + self.timeout_s
        while not target.is_file():
            if context.util.is_canceled():
                raise CanceledException()
            if time.monotonic() >= deadline:
                raise GatewayTestError(f"{self.path} did not appear within {self.timeout_s:g} s")
            time.sleep(_CANCEL_POLL_SECONDS)
        return StringOutput(value=target.read_text(encoding="utf-8", errors="replace"))


class GatewayTestError(Exception):
    """The error gateway_test_fail (and a timed-out gateway_test_wait_file) raises; its name shows up as error_type."""
