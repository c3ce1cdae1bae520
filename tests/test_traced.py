"""``@agentlog.trace``: no wrapper, redacted bounded args and results, last K calls kept."""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentlog import store
from agentlog.core.config import Config
from agentlog.runtime import traced, tracer
from agentlog.runtime.traced import trace

HAVE_C = importlib.util.find_spec("agentlog._tracer") is not None


@pytest.fixture
def running(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Iterator[None]:
    """The tracer (and with it @trace recording) on for the test."""
    monkeypatch.setenv("AGENTLOG_DIR", str(data_dir))
    tracer.start(Config())
    yield
    tracer.stop()


def calls_of(fn_name: str) -> list[dict[str, Any]]:
    """Recorded calls of the most recently decorated function named ``fn_name``."""
    for fn in reversed(traced.snapshot()):
        if fn["f"] == fn_name or fn["f"].endswith("." + fn_name):
            return fn["calls"]
    return []


class TestIdentity:
    def test_function_returned_unchanged(self) -> None:
        """The decorator returns the very same function with the same signature."""

        def original(a: int, b: str = "x", *args: int, c: bool = False, **kw: Any) -> int:
            return a

        before = inspect.signature(original)
        assert trace(original) is original
        assert trace(max_calls=3)(original) is original
        assert inspect.signature(original) == before
        assert not hasattr(original, "__wrapped__")

    def test_no_wrapper_frame(self, running: None) -> None:
        """The traced function's caller is the real caller: no frame in between."""

        @trace
        def who_called() -> str:
            return sys._getframe(1).f_code.co_name

        assert who_called() == "test_no_wrapper_frame"

    def test_non_function_ignored(self) -> None:
        """Objects without a code object are returned as they are."""
        assert trace(len) is len


class TestRecording:
    def test_args_and_result(self, running: None) -> None:
        """Each call keeps described args (incl. *args, **kwargs) and its result."""

        @trace
        def add(a: int, b: int, *more: int, scale: int = 1, **opts: Any) -> int:
            return (a + b + sum(more)) * scale

        add(1, 2, 3, scale=2, mode="x")
        (call,) = calls_of("add")
        assert call["args"]["a"] == {"t": "int", "v": "1"}
        assert call["args"]["scale"]["v"] == "2"
        assert call["args"]["more"]["t"] == "tuple"
        assert call["args"]["opts"]["t"] == "dict"
        assert call["r"] == {"t": "int", "v": "12"}
        assert call["n"] == 1 and call["ns"] >= 0 and call["tid"] == threading.get_ident()

    def test_secrets_redacted(self, running: None) -> None:
        """Secret-looking argument names and values never reach the record."""

        @trace
        def login(user: str, password: str, headers: dict[str, str]) -> str:
            return "ok"

        login("bob", "hunter2-secret", {"Authorization": "Bearer abcdefghijklmnop1234567890"})
        (call,) = calls_of("login")
        text = repr(call)
        assert "hunter2" not in text and "abcdefghijklmnop1234567890" not in text
        assert "red" in call["args"]["password"]
        assert call["args"]["user"]["v"] == "'bob'"

    @pytest.mark.parametrize(
        ("name", "hidden"), [("get_token", True), ("read_password", True), ("check_password", False)]
    )
    def test_secret_function_result_hidden(self, running: None, name: str, hidden: bool) -> None:
        """A function named for returning a secret has its result hidden; checking one does not."""

        def fn() -> str:
            return "Zq8-result-77"

        fn.__code__ = fn.__code__.replace(co_name=name, co_qualname=name)
        trace(fn)
        fn()
        (call,) = calls_of(name)
        assert ("Zq8-result-77" not in repr(call)) is hidden
        assert (call["r"].get("red") == "name") is hidden

    def test_exception_recorded(self, running: None) -> None:
        """A call that raises keeps the exception instead of a result."""

        @trace
        def fail(x: int) -> None:
            raise KeyError(x)

        with pytest.raises(KeyError):
            fail(7)
        assert (traced._c_filter is not None) == HAVE_C  # PY_UNWIND filtered in C when built
        (call,) = calls_of("fail")
        assert call["exc"]["t"] == "KeyError" and "r" not in call

    def test_exception_recorded_without_c_filter(self, monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
        """The pure-Python PY_UNWIND path records exceptions too."""
        monkeypatch.setenv("AGENTLOG_ENGINE", "python")
        monkeypatch.setenv("AGENTLOG_DIR", str(data_dir))

        @trace
        def fail_py(x: int) -> None:
            raise KeyError(x)

        tracer.start(Config())
        try:
            with pytest.raises(KeyError):
                fail_py(7)
            assert traced._c_filter is None
        finally:
            tracer.stop()
        (call,) = calls_of("fail_py")
        assert call["exc"]["t"] == "KeyError"

    def test_last_k_calls_kept(self, running: None) -> None:
        """max_calls bounds memory: the newest calls survive, the total is counted."""

        @trace(max_calls=3)
        def echo(x: int) -> int:
            return x

        for i in range(10):
            echo(i)
        calls = calls_of("echo")
        assert [c["r"]["v"] for c in calls] == ["7", "8", "9"]
        assert [c["n"] for c in calls] == [8, 9, 10]

    def test_options_off(self, running: None) -> None:
        """args=False and result=False record neither."""

        @trace(args=False, result=False)
        def quiet(x: int) -> int:
            return x

        quiet(1)
        (call,) = calls_of("quiet")
        assert "args" not in call and "r" not in call

    def test_methods(self, running: None) -> None:
        """Instance, static and class methods are traced in place."""

        class Box:
            @trace
            def get(self, k: str) -> str:
                return k

            @staticmethod
            @trace
            def make(n: int) -> int:
                return n

            @classmethod
            @trace
            def build(cls, n: int) -> int:
                return n

        Box().get("a")
        Box.make(2)
        Box.build(3)
        assert calls_of("Box.get")[0]["r"]["v"] == "'a'"
        assert calls_of("Box.make")[0]["args"] == {"n": {"t": "int", "v": "2"}}
        assert calls_of("Box.build")[0]["r"]["v"] == "3"

    def test_async_function(self, running: None) -> None:
        """An async function is one call from first run to return, across awaits."""

        @trace
        async def fetch(n: int) -> int:
            await asyncio.sleep(0)
            return n * 2

        asyncio.run(fetch(21))
        (call,) = calls_of("fetch")
        assert call["args"]["n"]["v"] == "21" and call["r"]["v"] == "42"

    def test_generator(self, running: None) -> None:
        """A generator is one call; its result is the StopIteration value."""

        @trace
        def numbers(n: int) -> Iterator[int]:
            yield from range(n)
            return None

        assert list(numbers(3)) == [0, 1, 2]
        (call,) = calls_of("numbers")
        assert call["args"]["n"]["v"] == "3" and call["r"]["t"] == "NoneType"

    def test_in_failure_fields_and_exit_record(self, running: None, monkeypatch: pytest.MonkeyPatch) -> None:
        """Traced calls appear in failure_fields and in a ``traced`` record at exit."""

        @trace
        def step(x: int) -> int:
            return x + 1

        step(1)
        assert any(fn["f"].endswith("step") for fn in tracer.failure_fields(threading.get_ident())["traced"])
        appended: list[dict[str, Any]] = []
        monkeypatch.setattr(store, "append", lambda rec, config=None: appended.append(rec) or True)
        tracer._flush_at_exit()
        (rec,) = [r for r in appended if r["k"] == "traced"]
        assert any(fn["f"].endswith("step") for fn in rec["fns"])

    def test_not_recording_when_stopped(self) -> None:
        """Without a running tracer nothing is recorded and no tool id is held."""

        @trace
        def idle(x: int) -> int:
            return x

        idle(1)
        assert calls_of("idle") == []
        assert sys.monitoring.get_tool(3) is None and sys.monitoring.get_tool(4) is None


class TestToolId:
    def test_id_claimed_only_when_something_is_decorated(self, tmp_path: Path, data_dir: Path) -> None:
        """Without @trace the second tool id stays free; the first decorated function claims it."""
        from support import child_env, run_python

        code = (
            "import sys\n"
            "from agentlog.core.config import Config\n"
            "from agentlog.runtime import tracer\n"
            "tracer.start(Config())\n"
            "ids = lambda: [sys.monitoring.get_tool(i) for i in (3, 4)]\n"
            "print(ids())\n"
            "import agentlog\n"
            "@agentlog.trace\n"
            "def f(x):\n"
            "    return x\n"
            "f(1)\n"
            "print(ids())\n"
        )
        result = run_python(["-c", code], tmp_path, child_env(data_dir, AGENTLOG_ENGINE="python"))
        assert result.returncode == 0, result.stderr
        before, after = result.stdout.splitlines()
        assert before == "['agentlog', None]"
        assert after == "['agentlog', 'agentlog-trace']"
