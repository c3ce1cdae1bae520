"""The call trail, in process, against both engines (C and pure Python)."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentlog import store
from agentlog.core import selflog
from agentlog.core.config import Config
from agentlog.runtime import tracer

HAVE_C = importlib.util.find_spec("agentlog._tracer") is not None
ENGINES = [
    pytest.param("c", marks=pytest.mark.skipif(not HAVE_C, reason="agentlog._tracer not built")),
    "python",
]
EVENT_NAMES = (
    "PY_START",
    "PY_RESUME",
    "PY_RETURN",
    "PY_YIELD",
    "PY_THROW",
    "PY_UNWIND",
    "RAISE",
    "RERAISE",
    "EXCEPTION_HANDLED",
)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> str:
    """Select the engine under test and make sure nothing is left installed."""
    monkeypatch.setenv("AGENTLOG_ENGINE", request.param)
    monkeypatch.setenv("AGENTLOG_DIR", str(data_dir))
    yield request.param
    tracer.stop()


def record(fn: Callable[[], Any], **options: Any) -> dict[str, Any]:
    """Run fn with the tracer on; return failure_fields for this thread (fn may raise)."""
    tracer.start(Config(**options))
    try:
        try:  # noqa: SIM105 - a real except clause, as in user code
            fn()
        except Exception:  # noqa: BLE001 - the trail of a failing fn is what we want
            pass
        return tracer.failure_fields(threading.get_ident())
    finally:
        tracer.stop()


def shape(trail: dict[str, Any], names: set[str]) -> list[tuple[Any, ...]]:
    """(name, depth, how it started, how it ended, value) for the calls of interest."""
    fns = trail["fn"]
    rows = []
    for item in trail["calls"]:
        name = fns[item["c"]][0].rpartition(".")[2]
        if name not in names:
            continue
        if "ev" in item:
            rows.append(("handled", name, item["e"], item["at"].rpartition(".")[2]))
            continue
        value = item.get("r", {}).get("v", item.get("r", {}).get("l")) if "r" in item else item.get("e")
        rows.append((name, item["d"], item.get("k", "call"), item.get("end"), value))
    return rows


def relative(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Depths relative to the shallowest call shown."""
    base = min(r[1] for r in rows if r[0] != "handled")
    return [(r[0], r[1] - base, *r[2:]) if r[0] != "handled" else r for r in rows]


# -- workloads (module level: user code, identical for both engines) -----------------


def leaf(x: int) -> int:
    return x * 2


def middle(n: int) -> int:
    return leaf(n) + leaf(n + 1)


def outer() -> int:
    total = middle(1)
    return total + leaf(10)


def fact(n: int) -> int:
    return 1 if n <= 1 else n * fact(n - 1)


def countdown(n: int):
    while n:
        yield n
        n -= 1


def consume() -> int:
    return sum(countdown(3))


class Point:
    pass


def parse(text: str) -> int:
    if text == "bad":
        raise ValueError(text)
    return len(text)


def load(items: list[str]) -> int:
    total = 0
    for item in items:
        try:  # noqa: SIM105 - the trail must see an except clause in this frame
            total += parse(item)
        except ValueError:
            pass
    return total


class TestTrail:
    def test_order_and_nesting(self, engine: str) -> None:
        """Calls come oldest first, each with its depth and return value."""
        trail = record(outer)["trail"]
        assert trail["engine"] == engine
        assert relative(shape(trail, {"outer", "middle", "leaf"})) == [
            ("outer", 0, "call", "ret", "26"),
            ("middle", 1, "call", "ret", "6"),
            ("leaf", 2, "call", "ret", "2"),
            ("leaf", 2, "call", "ret", "4"),
            ("leaf", 1, "call", "ret", "20"),
        ]

    def test_durations_nest(self, engine: str) -> None:
        """A call lasts at least as long as its children together."""
        trail = record(outer)["trail"]
        calls = [c for c in trail["calls"] if trail["fn"][c["c"]][0] in ("outer", "middle", "leaf")]
        assert all(c["ns"] >= 0 for c in calls)
        assert calls[0]["ns"] >= calls[1]["ns"] + calls[4]["ns"]

    def test_starts_are_kept(self, engine: str) -> None:
        """``ago`` puts each start in order, inside its parent, before its own end."""
        trail = record(outer)["trail"]
        calls = [c for c in trail["calls"] if trail["fn"][c["c"]][0] in ("outer", "middle", "leaf")]
        starts = [-c["ago"] for c in calls]
        assert starts == sorted(starts)
        assert all(c["ago"] >= c["ns"] for c in calls)
        outer_end = starts[0] + calls[0]["ns"]
        assert all(start + c["ns"] <= outer_end for start, c in zip(starts, calls, strict=True))

    def test_return_value_summaries(self, engine: str) -> None:
        """Primitive results keep their value, str and bytes a prefix (non-ASCII text: pure-Python
        engine only), short tuples their items; others their type and length."""
        values: list[object] = [
            7,
            -3,
            2**70,
            -(2**70),
            1.5,
            True,
            None,
            "héllo",
            "hello",
            "x" * 40,
            b"ab",
            [1, 2, 3],
            (1,),
            (2, "ok", None),
            (1, 2, 3, 4),
            {"a": 1},
            {1, 2},
            frozenset(),
            Point(),
            2**63 - 1,
        ]

        def give(v: object) -> object:
            return v

        def run() -> None:
            for v in values:
                give(v)

        trail = record(run)["trail"]
        got = [c["r"] for c in trail["calls"] if trail["fn"][c["c"]][0].endswith("give")]
        point = f"{__name__}.Point"
        assert got == [
            {"t": "int", "v": "7"},
            {"t": "int", "v": "-3"},
            {"t": "int", "v": ">= 2**63"},
            {"t": "int", "v": "< -2**63"},
            {"t": "float", "v": "1.5"},
            {"t": "bool", "v": "True"},
            {"t": "NoneType", "v": "None"},
            {"t": "str", "l": 5, "v": "'héllo'"},
            {"t": "str", "l": 5, "v": "'hello'"},
            {"t": "str", "l": 40, "v": repr("x" * 16), "x": 24},
            {"t": "bytes", "l": 2, "v": "b'ab'"},
            {"t": "list", "l": 3},
            {"t": "tuple", "l": 1, "items": [{"t": "int", "v": "1"}]},
            {
                "t": "tuple",
                "l": 3,
                "items": [{"t": "int", "v": "2"}, {"t": "str", "l": 2, "v": "'ok'"}, {"t": "NoneType", "v": "None"}],
            },
            {"t": "tuple", "l": 4},
            {"t": "dict", "l": 1},
            {"t": "set", "l": 2},
            {"t": "frozenset", "l": 0},
            {"t": point},
            {"t": "int", "v": str(2**63 - 1)},
        ]

    def test_recursion(self, engine: str) -> None:
        """Recursive calls nest one level each and return in reverse order."""
        trail = record(lambda: fact(4))["trail"]
        assert relative(shape(trail, {"fact"})) == [
            ("fact", 0, "call", "ret", "24"),
            ("fact", 1, "call", "ret", "6"),
            ("fact", 2, "call", "ret", "2"),
            ("fact", 3, "call", "ret", "1"),
        ]

    def test_deep_recursion(self, engine: str) -> None:
        """Depth keeps counting past the initial shadow-stack size (128 frames)."""

        def down(n: int) -> int:
            return 0 if n == 0 else 1 + down(n - 1)

        trail = record(lambda: down(300), trail_calls=400)["trail"]
        rows = relative(shape(trail, {"down"}))
        assert len(rows) == 301
        assert rows[0] == ("down", 0, "call", "ret", "300")
        assert rows[-1] == ("down", 300, "call", "ret", "0")

    def test_generator(self, engine: str) -> None:
        """A generator shows its first run and each resume, each ending in a yield."""
        trail = record(consume)["trail"]
        assert relative(shape(trail, {"consume", "countdown"})) == [
            ("consume", 0, "call", "ret", "6"),
            ("countdown", 1, "call", "yield", "3"),
            ("countdown", 1, "resume", "yield", "2"),
            ("countdown", 1, "resume", "yield", "1"),
            ("countdown", 1, "resume", "ret", "None"),
        ]

    def test_generator_throw(self, engine: str) -> None:
        """gen.throw() resumes the generator by PY_THROW; the exception leaves it."""

        def run() -> None:
            gen = countdown(5)
            next(gen)
            try:  # noqa: SIM105 - the trail must see an except clause in this frame
                gen.throw(KeyError("x"))
            except KeyError:
                pass

        trail = record(run)["trail"]
        assert relative(shape(trail, {"countdown"})) == [
            ("countdown", 0, "call", "yield", "5"),
            ("countdown", 0, "throw", "exc", "KeyError"),
        ]

    def test_coroutine(self, engine: str) -> None:
        """A coroutine suspended in await shows as yield/resume segments."""

        async def child() -> int:
            await asyncio.sleep(0)
            return 41

        async def parent() -> int:
            return await child() + 1

        trail = record(lambda: asyncio.run(parent()))["trail"]
        rows = relative(shape(trail, {"parent", "child"}))
        assert rows[0] == ("parent", 0, "call", "yield", "None")
        assert rows[1] == ("child", 1, "call", "yield", "None")
        # Resuming runs the await chain outside-in: parent resumes, then child.
        assert rows[-2:] == [("parent", 0, "resume", "ret", "42"), ("child", 1, "resume", "ret", "41")]

    def test_handled_exceptions(self, engine: str) -> None:
        """Each swallowed exception is recorded with where it was raised and handled."""
        trail = record(lambda: load(["a", "bad", "bad", "cc"]))["trail"]
        rows = shape(trail, {"load", "parse"})
        handled = [r for r in rows if r[0] == "handled"]
        assert handled == [("handled", "load", "ValueError", f"parse:{parse.__code__.co_firstlineno + 2}")] * 2
        raised = [r for r in rows if r[0] == "parse" and r[3] == "exc"]
        assert [r[4] for r in raised] == ["ValueError", "ValueError"]
        assert rows[0] == ("load", rows[0][1], "call", "ret", "3")
        handled_items = [c for c in trail["calls"] if c.get("ev") == "handled"]
        assert all(c["ln"] == load.__code__.co_firstlineno + 5 for c in handled_items)

    def test_unhandled_unwinds_every_frame(self, engine: str) -> None:
        """An escaping exception ends each user frame it leaves with ``exc`` and its line."""

        def inner() -> None:
            raise TypeError("boom")

        def wrapper() -> None:
            inner()

        trail = record(wrapper)["trail"]
        rows = relative(shape(trail, {"wrapper", "inner"}))
        assert rows == [("wrapper", 0, "call", "exc", "TypeError"), ("inner", 1, "call", "exc", "TypeError")]
        (inner_item,) = [c for c in trail["calls"] if trail["fn"][c["c"]][0].endswith("inner")]
        assert inner_item["ln"] == inner.__code__.co_firstlineno + 1

    def test_ring_wraparound(self, engine: str) -> None:
        """A small ring keeps the newest entries and counts what it overwrote."""

        def run() -> None:
            for i in range(500):
                leaf(i)

        # Without arguments a call is two entries (start, return).
        trail = record(run, ring_size=64, trail_calls=1000, trail_args=False)["trail"]
        assert trail["events"] >= 1000
        assert trail["dropped"] == trail["events"] - 64
        leaves = [c["r"]["v"] for c in trail["calls"] if trail["fn"][c["c"]][0] == "leaf"]
        assert leaves[-1] == "998"
        assert 30 <= len(leaves) <= 32
        assert [int(v) for v in leaves] == list(range(1000 - 2 * len(leaves), 1000, 2))

    def test_trail_calls_limit(self, engine: str) -> None:
        """Only the last ``trail_calls`` calls are decoded."""

        def run() -> None:
            for i in range(50):
                leaf(i)

        trail = record(run, trail_calls=10)["trail"]
        leaves = [c["r"]["v"] for c in trail["calls"] if trail["fn"][c["c"]][0] == "leaf"]
        assert leaves == [str(2 * i) for i in range(40, 50)]

    def test_threads_kept_apart(self, engine: str) -> None:
        """Each thread has its own trail; other live threads get a summary line."""
        started, release = threading.Event(), threading.Event()
        idents: dict[str, int] = {}

        def worker_wait() -> None:
            started.set()
            release.wait(10)

        def worker() -> None:
            idents["worker"] = threading.get_ident()
            fact(3)
            worker_wait()

        tracer.start(Config())
        try:
            thread = threading.Thread(target=worker, name="worker-1")
            thread.start()
            assert started.wait(10)
            outer()
            mine = tracer.failure_fields(threading.get_ident())
            theirs = tracer.decode_trail(idents["worker"], 200)
            release.set()
            thread.join()
        finally:
            tracer.stop()
        my_names = {mine["trail"]["fn"][c["c"]][0] for c in mine["trail"]["calls"]}
        their_names = {theirs["fn"][c["c"]][0] for c in theirs["calls"]}
        assert {"outer", "middle", "leaf"} <= my_names
        assert not my_names & {"fact", "worker.<locals>.worker_wait"}
        assert their_names >= {"fact"} and not their_names & {"outer", "middle"}
        summary = [t for t in mine["threads"] if t["tid"] == idents["worker"]]
        assert summary and summary[0]["th"] == "worker-1"
        assert summary[0]["fn"].endswith("worker_wait")

    def test_ended_threads_do_not_pile_up(self, engine: str) -> None:
        """Rings of finished threads are reused or freed, not kept one per thread."""
        tracer.start(Config(ring_size=1024))
        try:
            for _ in range(30):
                thread = threading.Thread(target=outer)
                thread.start()
                thread.join()
            infos = tracer._state.engine.thread_infos()
        finally:
            tracer.stop()
        # A thread's ring is freed for reuse when its OS thread exits, which can lag
        # join() a little: allow a few in flight, far below one per thread (30).
        assert len(infos) <= 10

    def test_reused_thread_ident_starts_clean(self, engine: str) -> None:
        """A new thread never inherits the trail of an ended one (idents get reused)."""
        seen: dict[str, Any] = {}

        def first() -> None:
            seen["first"] = threading.get_ident()
            fact(3)

        def second() -> None:
            seen["second"] = threading.get_ident()
            outer()
            seen["trail"] = tracer.failure_fields(threading.get_ident())["trail"]

        tracer.start(Config())
        try:
            for target in (first, second):
                thread = threading.Thread(target=target)
                thread.start()
                thread.join()
        finally:
            tracer.stop()
        names = {seen["trail"]["fn"][c["c"]][0] for c in seen["trail"]["calls"]}
        assert "outer" in names and "fact" not in names

    def test_failure_fields_records_nothing_itself(self, engine: str) -> None:
        """Decoding the trail adds no entries to it."""
        tracer.start(Config())
        try:
            outer()
            first = tracer.failure_fields(threading.get_ident())["trail"]["events"]
            second = tracer.failure_fields(threading.get_ident())["trail"]["events"]
        finally:
            tracer.stop()
        assert first == second

    def test_include_exclude(self, engine: str) -> None:
        """An exclude glob matching this file hides its functions from the trail."""
        fields = record(outer, exclude=(f"*{__file__.rpartition('/')[2]}",))
        assert shape(fields["trail"], {"outer", "middle", "leaf"}) == []


class TestLifecycle:
    def test_status_while_running(self, engine: str) -> None:
        """status() names the engine, the tool id and the ring size (rounded to 2**n)."""
        tracer.start(Config(ring_size=1000))
        info = tracer.status()
        assert info == {
            "engine": engine,
            "reason": info["reason"],
            "tool_id": 3,
            "mode": "calls",
            "ring_size": 1024,
            "args": "on",
            "running": True,
            "events": info["events"],
            "ring_bytes": info["ring_bytes"],
            "rings": info["rings"],
            "ring_budget": 64 * 1024 * 1024,
            "codes": info["codes"],
            "library_codes": info["library_codes"],
            "restarts": 0,
        }
        tracer.start(Config())  # idempotent
        assert tracer.status()["tool_id"] == 3

    def test_uninstall_restores_everything(self, engine: str) -> None:
        """stop() frees the id and clears global events, local events and callbacks."""
        tracer.start(Config())
        outer()
        tool = tracer.status()["tool_id"]
        codes = list(tracer._state.codes)
        assert codes and sys.monitoring.get_local_events(tool, outer.__code__) != 0
        tracer.stop()
        monitoring = sys.monitoring
        assert monitoring.get_tool(tool) is None
        assert monitoring.get_events(tool) == 0
        assert all(monitoring.get_local_events(tool, code) == 0 for code in codes)
        for name in EVENT_NAMES:
            assert monitoring.register_callback(tool, getattr(monitoring.events, name), None) is None
        assert tracer.status()["running"] is False
        assert tracer.failure_fields(threading.get_ident()) == {}

    def test_uninstall_clears_local_events_it_never_listed(self, engine: str) -> None:
        """Local events left on code the tracer no longer lists (as after its tables restart):
        on 3.14+ clear_tool_id removes them, so the id's next owner gets none of our events;
        3.12 and 3.13 have no such call, and the next owner does get them."""
        tracer.start(Config())
        tool = tracer.status()["tool_id"]
        stray = compile("pass", "<stray>", "exec")
        sys.monitoring.set_local_events(tool, stray, sys.monitoring.events.PY_RETURN)
        tracer.stop()
        assert sys.monitoring.get_tool(tool) is None
        seen: list[object] = []
        sys.monitoring.use_tool_id(tool, "next-owner")
        try:
            sys.monitoring.register_callback(tool, sys.monitoring.events.PY_RETURN, lambda *args: seen.append(args))
            exec(stray)
        finally:
            sys.monitoring.set_local_events(tool, stray, 0)
            sys.monitoring.register_callback(tool, sys.monitoring.events.PY_RETURN, None)
            sys.monitoring.free_tool_id(tool)
        if sys.version_info >= (3, 14):
            assert hasattr(sys.monitoring, "clear_tool_id") and seen == []
        else:
            assert not hasattr(sys.monitoring, "clear_tool_id") and len(seen) == 1

    def test_restart_after_stop(self, engine: str) -> None:
        """A second session records again from scratch."""
        record(outer)
        trail = record(lambda: fact(2))["trail"]
        assert relative(shape(trail, {"fact", "outer"})) == [
            ("fact", 0, "call", "ret", "2"),
            ("fact", 1, "call", "ret", "1"),
        ]

    def test_takes_next_free_tool_id(self, engine: str) -> None:
        """With id 3 held by someone else the tracer takes 4 and leaves 3 alone."""
        sys.monitoring.use_tool_id(3, "someone-else")
        try:
            tracer.start(Config())
            assert tracer.status()["tool_id"] == 4
            tracer.stop()
            assert sys.monitoring.get_tool(3) == "someone-else"
        finally:
            sys.monitoring.free_tool_id(3)

    def test_no_free_tool_id_degrades(self, engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """With ids 3-5 taken, start() warns and runs crash-only instead of raising."""
        monkeypatch.setattr(selflog, "_warned", set())
        for tool in (3, 4, 5):
            sys.monitoring.use_tool_id(tool, "squatter")
        try:
            tracer.start(Config())
            info = tracer.status()
            assert info["running"] is False and "in use" in info["reason"]
            assert tracer.failure_fields(threading.get_ident()) == {}
        finally:
            for tool in (3, 4, 5):
                sys.monitoring.free_tool_id(tool)
        assert "no-tool-id" in selflog._warned

    def test_crash_mode_is_a_noop(self, engine: str) -> None:
        """trace=crash and trace=off install no call trail."""
        for mode in ("crash", "off"):
            tracer.start(Config(trace=mode))
            assert tracer.status()["running"] is False
            assert sys.monitoring.get_tool(3) is None

    def test_free_threaded_build_runs_crash_only(self, engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """On a free-threaded build the trail is off, with the reason in status()."""
        monkeypatch.setattr(tracer, "free_threaded", lambda: True)
        tracer.start(Config())
        info = tracer.status()
        assert info["running"] is False and "free-threaded" in info["reason"]

    def test_profile_record(self, engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """At exit a profile record lists calls, total and self time per user function."""
        appended: list[dict[str, Any]] = []
        monkeypatch.setattr(store, "append", lambda rec, config=None: appended.append(rec) or True)
        tracer.start(Config())
        fact(5)
        outer()
        tracer._flush_at_exit()
        assert tracer.status()["running"] is False
        (rec,) = [r for r in appended if r["k"] == "profile"]
        rows = {row["f"]: row for row in rec["fns"]}
        assert rows["fact"]["n"] == 5 and rows["leaf"]["n"] == 3 and rows["middle"]["n"] == 1
        for row in rows.values():
            assert 0 <= row["self"] <= row["tot"] or row["f"] == "fact"
        # Recursion is not double counted: fact's total is its outermost call's duration.
        assert rows["fact"]["tot"] <= rows["fact"]["self"] * 2 + 10**6
        selfs = [row["self"] for row in rec["fns"]]
        assert selfs == sorted(selfs, reverse=True)


def test_engines_satisfy_protocol() -> None:
    """Both engine modules define every name of the Engine protocol."""
    from agentlog.runtime import pytracer
    from agentlog.runtime.tracer_engine import Engine

    names = {n for n in vars(Engine) if not n.startswith("_")} | {"NAME"}
    modules = [pytracer]
    if HAVE_C:
        from agentlog import _tracer

        modules.append(_tracer)
    for module in modules:
        assert names <= set(dir(module)), (module, names - set(dir(module)))
        assert set(module.callbacks()) == set(EVENT_NAMES)


def test_class_body_named_as_such(engine: str) -> None:
    """A class statement's body appears as ``class X body``, functions by their qualname."""

    def define() -> None:
        class Invoice:
            def total(self) -> int:
                return 3

        Invoice().total()

    names = [fn[0] for fn in record(define)["trail"]["fn"]]
    prefix = "test_class_body_named_as_such.<locals>.define.<locals>.Invoice"
    assert f"class {prefix} body" in names
    assert f"{prefix}.total" in names


def test_a_file_the_stdlib_links_to_is_library_code(tmp_path: Path) -> None:
    """Debian's /usr/lib/python3.X/sitecustomize.py links to /etc/python3.X/: still the stdlib's,
    by either spelling, while the same file reached from outside the stdlib stays the user's."""
    stdlib, etc = tmp_path / "lib" / "python3.x", tmp_path / "etc"
    stdlib.mkdir(parents=True)
    etc.mkdir()
    (etc / "sitecustomize.py").write_text("pass\n")
    (stdlib / "sitecustomize.py").symlink_to(etc / "sitecustomize.py")
    roots = (f"{stdlib}/",)
    assert tracer.is_user_file(str(stdlib / "sitecustomize.py"), Config(), roots) is False
    assert tracer.is_user_file(str(etc / "sitecustomize.py"), Config(), roots) is True
    # The roots the tracer computes carry both spellings of a linked stdlib folder.
    linked = tmp_path / "linked"
    linked.symlink_to(stdlib)
    assert tracer.is_user_file(str(linked / "sitecustomize.py"), Config(), (f"{linked}/",)) is False
    assert any(root.startswith(os.path.realpath(os.path.dirname(os.__file__))) for root in tracer._library_roots())
