"""Memory bounds of the call trail, both engines: ring growth, the ring budget, release, code churn."""

from __future__ import annotations

import gc
import json
import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import child_env, run_python
from test_tracer import engine  # noqa: F401 - the fixture running each test under both engines

from agentlog.core.config import Config
from agentlog.runtime import tracer
from agentlog.runtime.tracer_types import ENTRY_BYTES, RING_START


def leaf(i: int) -> int:
    return i


def calls(n: int) -> None:
    for i in range(n):
        leaf(i)


def ring_of(ident: int) -> tuple[int, bool]:
    running = tracer._state.engine
    assert running is not None
    return running.ring_info(ident)


def memory() -> dict[str, int]:
    return tracer.status()


def wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    """Poll ``condition``: a thread's exit hook may run just after ``join()`` returns."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        calls(1)  # the next recording thread frees dead threads' rings
        time.sleep(0.01)
    return True


@pytest.mark.usefixtures("engine")
class TestGrowth:
    def test_ring_starts_small_and_doubles_keeping_every_entry(self) -> None:
        """A new ring holds RING_START entries; filling it doubles it without losing one."""
        tracer.start(Config(trail_calls=100_000))
        me = threading.get_ident()
        calls(10)
        assert ring_of(me) == (RING_START, False)
        calls(3 * RING_START)  # at least 6 * RING_START entries (more with argument values)
        trail = tracer.failure_fields(me)["trail"]
        expected = RING_START
        while expected < trail["events"]:
            expected *= 2
        assert expected >= 8 * RING_START
        assert ring_of(me) == (expected, False)
        assert trail["dropped"] == 0
        values = [int(c["r"]["v"]) for c in trail["calls"] if trail["fn"][c["c"]][0] == "leaf"]
        assert values == list(range(10)) + list(range(3 * RING_START))

    def test_ring_stops_at_ring_size(self) -> None:
        """ring_size is the most a ring grows to; beyond it the oldest entries go, counted."""
        tracer.start(Config(ring_size=2 * RING_START))
        me = threading.get_ident()
        calls(4 * RING_START)
        assert ring_of(me) == (2 * RING_START, False)
        trail = tracer.failure_fields(me)["trail"]
        assert trail["dropped"] == trail["events"] - 2 * RING_START
        assert "ring" not in trail, "a ring at ring_size was not reduced"


@pytest.mark.usefixtures("engine")
class TestBudget:
    WORKERS = 4

    def test_busy_threads_share_the_budget_and_their_trails_say_so(self) -> None:
        """With a budget for 8 starting rings, 4 busy threads end with equal shares, marked in the trail."""
        budget = 8 * RING_START * ENTRY_BYTES
        tracer.start(Config(ring_budget=budget))
        started = threading.Barrier(self.WORKERS + 1)
        measured = threading.Barrier(self.WORKERS + 1)
        trails: dict[int, dict[str, Any]] = {}

        def work() -> None:
            calls(1)
            started.wait()
            calls(8 * RING_START)
            trails[threading.get_ident()] = tracer.failure_fields(threading.get_ident())["trail"]
            measured.wait()
            measured.wait()

        threads = [threading.Thread(target=work) for _ in range(self.WORKERS)]
        for t in threads:
            t.start()
        started.wait()
        measured.wait()  # every worker is busy-done and alive
        status = memory()
        shares = {ring_of(t.ident)[0] for t in threads}
        measured.wait()
        for t in threads:
            t.join()
        assert status["ring_bytes"] <= budget
        assert len(shares) == 1, f"unequal shares {shares}"
        (share,) = shares
        assert RING_START <= share <= budget // ENTRY_BYTES // self.WORKERS
        for trail in trails.values():
            assert trail["ring"] <= 2 * share  # a share may shrink after its trail was taken
            assert trail["dropped"] > 0

    def test_floor_of_one_starting_ring_per_thread(self) -> None:
        """A budget smaller than the rings in use still leaves every thread its starting ring."""
        tracer.start(Config(ring_budget=ENTRY_BYTES))
        me = threading.get_ident()
        calls(4 * RING_START)
        assert ring_of(me) == (RING_START, True)
        trail = tracer.failure_fields(me)["trail"]
        assert trail["ring"] == RING_START and trail["dropped"] == trail["events"] - RING_START


@pytest.mark.usefixtures("engine")
class TestRelease:
    def test_finished_threads_rings_are_freed(self) -> None:
        """After a pool of threads exits, only the living threads' rings remain."""
        tracer.start(Config())
        calls(1)
        before = memory()["ring_bytes"]
        threads = [threading.Thread(target=calls, args=(4 * RING_START,)) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        gc.collect()
        assert wait_for(lambda: memory()["rings"] == 1), memory()
        assert memory()["ring_bytes"] == before


@pytest.mark.usefixtures("engine")
class TestCodeChurn:
    def test_library_code_verdicts_stay_bounded(self) -> None:
        """exec of new library code in a loop: the verdict cache is dropped when full, the code freed."""
        tracer.start(Config())
        first = compile("x = 1", "<string>", "exec")
        exec(first, {})
        ref = weakref.ref(first)
        del first
        for i in range(10_000):
            exec(compile(f"x = {i}", "<string>", "exec"), {})
        gc.collect()
        assert memory()["library_codes"] <= 8192
        assert ref() is None, "a dropped verdict still keeps its code object alive"

    def test_user_code_tables_restart_past_the_bound(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """exec of new user code in a loop: the code tables restart, the trail keeps working after."""
        monkeypatch.setattr(tracer, "MAX_USER_CODES", 64)
        tracer.start(Config())
        for i in range(1000):
            exec(compile(f"def f{i}():\n    return {i}\nf{i}()\n", __file__, "exec"), {})
        status = memory()
        assert status["codes"] <= 64 and status["restarts"] >= 1000 // 64 - 1
        calls(3)
        trail = tracer.failure_fields(threading.get_ident())["trail"]
        names = [trail["fn"][c["c"]][0] for c in trail["calls"]]
        assert names[-3:] == ["leaf", "leaf", "leaf"]
        assert trail["restarts"] == status["restarts"]

    def test_type_table_stays_bounded(self) -> None:
        """Classes created in a loop and returned: the type table stops growing, the trail still shows calls."""
        tracer.start(Config())

        def make(i: int) -> object:
            return type(f"T{i}", (), {})()

        for i in range(5000):
            make(i)
        engine_module = tracer._state.engine
        assert engine_module is not None
        assert len(engine_module.types()) <= 4096
        trail = tracer.failure_fields(threading.get_ident())["trail"]
        last = trail["calls"][-1]
        assert trail["fn"][last["c"]][0].endswith("make")
        assert "r" not in last, "a value of a type beyond the table has no type to show"


RELEASE_PROGRAM = """
import json, os, sys, threading, time

def step(i):
    return i

def work():
    for i in range(40_000):
        step(i)

def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

from agentlog.runtime import tracer
work()
before = rss()
hold = threading.Event()
ready = threading.Barrier(41)
def run():
    work()
    ready.wait()
    hold.wait()
pool = [threading.Thread(target=run) for _ in range(40)]
for t in pool:
    t.start()
ready.wait()
during, during_rings = rss(), tracer.status()["ring_bytes"]
hold.set()
for t in pool:
    t.join()
deadline = time.monotonic() + 5
while tracer.status()["rings"] > 1 and time.monotonic() < deadline:
    step(0)
    time.sleep(0.01)
print(json.dumps({"before": before, "during": during, "after": rss(), "rings_during": during_rings,
                  "rings_after": tracer.status()["ring_bytes"]}))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads RSS from /proc")
def test_rss_returns_after_a_pool_exits(tmp_path: Path) -> None:
    """A real process under ``python -m agentlog``: 40 busy threads' rings leave RSS once they exit."""
    (tmp_path / "pool.py").write_text(RELEASE_PROGRAM)
    result = run_python(["-m", "agentlog", "pool.py"], tmp_path, child_env(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    sizes = json.loads(result.stdout)
    mib = 1024 * 1024
    assert sizes["rings_during"] >= 40 * mib, "40 threads x 80,000 events: a 1 MiB share each"
    assert sizes["rings_after"] <= 2 * mib
    assert sizes["during"] - sizes["after"] >= sizes["rings_during"] - 8 * mib
    assert sizes["after"] - sizes["before"] <= 8 * mib
