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


# Per-test outcomes of the run (passing tests too), for regression reports (history/regression.py).
MAX_TESTS = 20000  # test ids recorded per run; the rest are counted in ``more``
TESTS_PER_RECORD = 150  # at 300 chars per id one ``tests`` record stays under the 64 KB cap
MAX_TEST_ID_CHARS = 300
_results: dict[str, str] = {}
_more = 0


def pytest_runtest_logreport(report: Any) -> None:
    """Remember each test's outcome: failed in any phase, else skipped, else passed (the call)."""
    global _more
    if report.when != "call" and not (report.failed or report.skipped):
        return
    name = report.nodeid[:MAX_TEST_ID_CHARS]
    if name not in _results and len(_results) >= MAX_TESTS:
        _more += 1
        return
    if _results.get(name) != "failed":
        _results[name] = "failed" if report.failed else "skipped" if report.skipped else "passed"


def pytest_sessionfinish(session: Any, exitstatus: Any) -> None:
    """Write the outcomes as ``tests`` records (when AgentLog is active)."""
    global _more
    from agentlog.runtime.activate import is_active

    if not _results or not is_active():
        return
    from agentlog.store import append, make_record

    names = list(_results)
    parts = range(0, len(names), TESTS_PER_RECORD)
    for n, start in enumerate(parts):
        chunk = {name: _results[name] for name in names[start : start + TESTS_PER_RECORD]}
        fields: dict[str, Any] = {"res": chunk, "part": n, "parts": len(parts)}
        if _more and n == len(parts) - 1:
            fields["more"] = _more
        append(make_record("tests", **fields))
    _results.clear()
    _more = 0
