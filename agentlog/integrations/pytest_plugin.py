"""pytest plugin: a failing test, or a test file that fails to import, is a failure record.

pytest catches these exceptions itself, so no excepthook sees them. Registered
through the ``pytest11`` entry point, the plugin records only when AgentLog is
active in the process (``python -m agentlog -m pytest`` or ``AGENTLOG=true
pytest``); otherwise it does nothing. It listens to ``pytest_exception_interact``,
which pytest calls exactly for the failures a user would debug: not for skips,
and not for expected failures (xfail) that did fail as expected.
"""

from __future__ import annotations

from typing import Any


def pytest_exception_interact(node: Any, call: Any, report: Any) -> None:
    """Record the exception of a failing test phase (setup, call, teardown) or collection."""
    from agentlog.runtime.activate import is_active

    if call.excinfo is None or not is_active():
        return
    from agentlog.capture.failure import record_failure

    exc, tb = call.excinfo.value, call.excinfo.tb
    if call.when == "collect" and exc.__cause__ is not None:
        # pytest wraps an import error in CollectError(...) from it: the cause is the program's failure.
        exc, tb = exc.__cause__, exc.__cause__.__traceback__
    record_failure(exc, "pytest", tb=tb, test=f"{node.nodeid} ({call.when})")
