"""pytest plugin: a failing test, or a test file that fails to import, is a failure record.

pytest catches these exceptions itself, so no excepthook sees them. Registered
through the ``pytest11`` entry point, the plugin records only when AgentLog is
active in the process (``python -m agentlog -m pytest`` or ``AGENTLOG=true
pytest``); otherwise it does nothing. It listens to ``pytest_exception_interact``,
which pytest calls exactly for the failures a user would debug: not for skips,
and not for expected failures (xfail) that did fail as expected.

A failing test's call trail is scoped to that test (``capture/testscope.py``),
and a session whose tests failed ends ``failed`` (under xdist too, where the
failures are recorded by the workers).
"""

from __future__ import annotations

from typing import Any

# The (qualname, file) of every collected test function, per session (computed on first failure).
_test_keys: dict[int, set[tuple[str, str]]] = {}


def _code_key(obj: Any) -> tuple[str, str] | None:
    code = getattr(obj, "__code__", None) or getattr(getattr(obj, "__func__", None), "__code__", None)
    return (code.co_qualname, code.co_filename) if code is not None else None


def _collected(session: Any) -> set[tuple[str, str]]:
    if id(session) not in _test_keys:
        keys = {_code_key(getattr(item, "obj", None)) for item in getattr(session, "items", [])}
        _test_keys.clear()
        _test_keys[id(session)] = {k for k in keys if k}
    return _test_keys[id(session)]


def _scope(node: Any, phase: str) -> Any:
    def scope(record: dict[str, Any]) -> None:
        from agentlog.capture.testscope import scope_trail

        trail = record.get("trail")
        if isinstance(trail, dict):
            scope_trail(trail, _code_key(getattr(node, "obj", None)), _collected(node.session), phase)

    return scope


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
    scope = _scope(node, call.when) if call.when != "collect" else None
    record_failure(exc, "pytest", tb=tb, scope=scope, test=f"{node.nodeid} ({call.when})")


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
    """Write the outcomes as ``tests`` records; a session with failing tests ends ``failed``.

    ``failed`` even when only xdist workers recorded the failures (when AgentLog is active).
    """
    global _more
    from agentlog.runtime.activate import is_active

    if not is_active():
        return
    if int(exitstatus) not in (0, 5):  # 5: no tests collected
        from agentlog.work.session import note_failure

        note_failure()
    if not _results:
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
