"""pytest plugin: a failing test is a failure record, with the test's locals.

pytest catches a test's exception, so no excepthook sees it. Registered through
the ``pytest11`` entry point, the plugin records only when AgentLog is active in
the process (``python -m agentlog -m pytest`` or ``AGENTLOG=true pytest``);
otherwise it does nothing. Expected failures (xfail) and skips are not failures.
"""

from __future__ import annotations

from typing import Any


def pytest_runtest_makereport(item: Any, call: Any) -> None:
    """Record the exception of a failing setup, test body or teardown."""
    excinfo = call.excinfo
    if excinfo is None or call.when not in ("setup", "call", "teardown"):
        return
    from agentlog.runtime.activate import is_active

    if not is_active() or _expected(item, excinfo):
        return
    from agentlog.capture.failure import record_failure

    record_failure(excinfo.value, "pytest", tb=excinfo.tb, test=f"{item.nodeid} ({call.when})")


def _expected(item: Any, excinfo: Any) -> bool:
    """Skips, xfail-marked tests and pytest's own outcomes (exit, fail) are not program failures."""
    import pytest

    if excinfo.errisinstance((pytest.skip.Exception, pytest.exit.Exception, pytest.xfail.Exception)):
        return True
    return item.get_closest_marker("xfail") is not None
