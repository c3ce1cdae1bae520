"""Argument values and return values by value in the call trail, against both engines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_tracer import HAVE_C, engine, record  # noqa: F401 - engine: the both-engines fixture

from agentlog.core.redact import marker
from agentlog.runtime import tracer

# Built by concatenation so no literal here looks like a live credential.
GITHUB = "ghp_" + "A" * 36


def calls_of(trail: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [c for c in trail["calls"] if "ev" not in c and trail["fn"][c["c"]][0].rpartition(".")[2] == name]


def args_of(trail: dict[str, Any], name: str) -> list[dict[str, Any] | None]:
    return [c.get("a") for c in calls_of(trail, name)]


def int_desc(v: int) -> dict[str, str]:
    return {"t": "int", "v": str(v)}


def str_desc(text: str, length: int | None = None) -> dict[str, Any]:
    desc: dict[str, Any] = {"t": "str", "l": len(text) if length is None else length, "v": repr(text)}
    if length is not None and length > len(text):
        desc["x"] = length - len(text)
    return desc


# -- workloads: user code at module level ---------------------------------------------


def validate_rating(confidence: float, threshold: float = 0.7) -> bool:
    return confidence > threshold


def kwonly(a: int, *, b: str, c: int = 3) -> int:
    return a


class Queue:
    def resize(self, n: int) -> None:
        return None


def make_closure(z: int):
    def closure(q: int) -> int:
        return z + q

    return closure


def cellarg(x: str, y: int) -> str:
    def inner() -> str:
        return x

    return inner()


def gen(a: int, b: str):
    yield a
    yield b


def many(a: int, b: int, c: int, d: int, e: int, f: int) -> int:
    return a


def varargs(a: int, *rest: int, **kw: int) -> int:
    return a


def login(user: str, password: str, api_token: str) -> str:
    return user


def give(value: object) -> object:
    return value


def early(n: int) -> str:
    if n < 0:
        return "negative"
    total = n * 2
    return str(total)


@pytest.mark.usefixtures("engine")
class TestArguments:
    def test_function(self) -> None:
        """Positional arguments, defaults included, keep their values."""
        trail = record(lambda: validate_rating(1.5))["trail"]
        (call,) = calls_of(trail, "validate_rating")
        assert call["a"] == {"confidence": {"t": "float", "v": "1.5"}, "threshold": {"t": "float", "v": "0.7"}}
        assert call["r"] == {"t": "bool", "v": "True"}

    def test_keyword_only(self) -> None:
        """Keyword-only arguments follow the positional ones, named from the code object."""
        trail = record(lambda: kwonly(1, b="x"))["trail"]
        assert args_of(trail, "kwonly") == [{"a": int_desc(1), "b": str_desc("x"), "c": int_desc(3)}]

    def test_method_self_by_type(self) -> None:
        """``self`` is recorded by type only."""
        trail = record(lambda: Queue().resize(0))["trail"]
        assert args_of(trail, "resize") == [{"self": {"t": f"{__name__}.Queue"}, "n": int_desc(0)}]

    def test_closures_and_cells(self) -> None:
        """A closure's arguments are read; an argument an inner function captures is dereferenced."""
        trail = record(lambda: (make_closure(10)(5), cellarg("X", 2)))["trail"]
        assert args_of(trail, "closure") == [{"q": int_desc(5)}]
        assert args_of(trail, "cellarg") == [{"x": str_desc("X"), "y": int_desc(2)}]

    def test_generator(self) -> None:
        """A generator's arguments come with its first start; resumptions carry none."""
        trail = record(lambda: list(gen(1, "b")))["trail"]
        calls = calls_of(trail, "gen")
        assert calls[0]["a"] == {"a": int_desc(1), "b": str_desc("b")}
        assert all("a" not in c for c in calls[1:]) and len(calls) == 3

    def test_immortal_and_heap_values(self) -> None:
        """3.14+ slots are tagged references (immortal objects and deferred references carry a
        tag bit): each value reads as itself, whether immortal (None, True, small ints, the empty
        str) or a fresh heap object, and an unbound slot is never mistaken for one."""
        fresh = "".join(["he", "ap"])
        values = [None, True, 7, "", 10**30, fresh, [1, 2], 2.5]
        trail = record(lambda: [give(v) for v in values])["trail"]
        got = [a["value"] for a in args_of(trail, "give")]
        assert [(d["t"], d.get("v")) for d in got] == [
            ("NoneType", "None"), ("bool", "True"), ("int", "7"), ("str", "''"),
            ("int", ">= 2**63"), ("str", "'heap'"), ("list", None), ("float", "2.5")]

    def test_called_from_c(self) -> None:
        """Lambdas called by map() and sorted() (C code) have their arguments too."""
        trail = record(lambda: (list(map(lambda v: v + 1, [4])), sorted([2], key=lambda k: -k)))["trail"]
        assert args_of(trail, "<lambda>")[-2:] == [{"v": int_desc(4)}, {"k": int_desc(2)}]

    def test_first_four_slots(self) -> None:
        """Only the first four argument slots are recorded."""
        trail = record(lambda: many(1, 2, 3, 4, 5, 6))["trail"]
        assert args_of(trail, "many") == [{"a": int_desc(1), "b": int_desc(2), "c": int_desc(3), "d": int_desc(4)}]

    def test_star_args_by_type(self) -> None:
        """*args and **kwargs show type and length."""
        trail = record(lambda: varargs(1, 2, 3, k=4))["trail"]
        star = {"a": int_desc(1), "rest": {"t": "tuple", "l": 2}, "kw": {"t": "dict", "l": 1}}
        assert args_of(trail, "varargs") == [star]

    def test_containers_and_strings(self, engine: str) -> None:  # noqa: F811 - the fixture's value
        """Containers show type and length; long strings a 16-byte prefix and the cut; non-ASCII text its
        first whole characters (UTF-8 bytes), with either engine."""
        trail = record(lambda: (give([1, 2]), give("y" * 30), give("żółw"), give(b"\x00ab"),
                                give("żółw" * 9)))["trail"]
        assert args_of(trail, "give") == [
            {"value": {"t": "list", "l": 2}},
            {"value": str_desc("y" * 16, 30)},
            {"value": str_desc("żółw")},
            {"value": {"t": "bytes", "l": 3, "v": "b'\\x00ab'"}},
            {"value": str_desc("żółwżółwż", 36)},  # whole characters of a 16-byte UTF-8 prefix
        ]

    def test_utf8_prefix_of_whole_characters(self, engine: str) -> None:  # noqa: F811 - the fixture's value
        """4-byte characters, a lone surrogate (shown as '?') and a character that would straddle byte 16."""
        trail = record(lambda: (give("😀" * 5), give("a\ud800b"), give("abcdefghijklmnoé")))["trail"]
        assert args_of(trail, "give") == [
            {"value": str_desc("😀" * 4, 5)},
            {"value": str_desc("a?b")},
            {"value": str_desc("abcdefghijklmno", 16)},
        ]

    def test_classes_by_name(self, engine: str) -> None:  # noqa: F811 - the fixture's value
        """A class passed or returned reads by its qualified name, with either engine."""
        trail = record(lambda: (give(int), give(Queue)))["trail"]
        calls = calls_of(trail, "give")
        assert [c["r"] for c in calls] == [{"t": "type", "v": "<class int>"},
                                           {"t": "type", "v": f"<class {__name__}.Queue>"}]

    def test_switch_off(self) -> None:
        """trail_args=False records calls and return summaries as before: no arguments, no prefixes."""
        trail = record(lambda: give("hello"), trail_args=False)["trail"]
        (call,) = calls_of(trail, "give")
        assert "a" not in call
        assert call["r"] == {"t": "str", "l": 5}


@pytest.mark.usefixtures("engine")
class TestRedaction:
    def test_secret_parameter_names(self) -> None:
        """An argument whose name is secret-like is redacted whatever its value."""
        trail = record(lambda: login("bob", "hunter2", "abc"))["trail"]
        assert args_of(trail, "login") == [
            {
                "user": str_desc("bob"),
                "password": {"t": "str", "v": marker("name"), "red": "name"},
                "api_token": {"t": "str", "v": marker("name"), "red": "name"},
            }
        ]

    def test_values_that_cannot_be_secrets(self) -> None:
        """None, booleans and the empty string under secret names are shown; an int (a PIN) is not."""
        trail = record(lambda: (login("bob", "", None), login("bob", True, 0)))["trail"]  # type: ignore[arg-type]
        hidden = {"t": "int", "v": marker("name"), "red": "name"}
        assert args_of(trail, "login") == [
            {"user": str_desc("bob"), "password": {"t": "str", "l": 0, "v": "''"},
             "api_token": {"t": "NoneType", "v": "None"}},
            {"user": str_desc("bob"), "password": {"t": "bool", "v": "True"}, "api_token": hidden},
        ]

    def test_secret_shaped_prefixes(self) -> None:
        """A string argument or result that starts like a secret never shows any of it."""
        trail = record(lambda: give(GITHUB))["trail"]
        (call,) = calls_of(trail, "give")
        redacted = {"t": "str", "l": len(GITHUB), "v": repr(marker("github_token")), "red": "github_token", "x": 24}
        assert call["a"] == {"value": redacted}
        assert call["r"] == redacted
        assert GITHUB[:8] not in repr(trail)


@pytest.mark.usefixtures("engine")
class TestReturnLine:
    def test_line_returned_from(self) -> None:
        """``ln`` is the line that returned; ``fn`` carries each function's last line."""
        trail = record(lambda: (early(-1), early(2)))["trail"]
        first, second = calls_of(trail, "early")
        start = early.__code__.co_firstlineno
        assert (first["ln"], second["ln"]) == (start + 2, start + 4)
        assert trail["fn"][first["c"]][3] == start + 4


@pytest.mark.skipif(not HAVE_C, reason="agentlog._tracer not built")
def test_engines_agree(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    """Both engines decode to the same trail (durations aside)."""
    monkeypatch.setenv("AGENTLOG_DIR", str(data_dir))

    def workload() -> None:
        validate_rating(0.2)
        kwonly(1, b="x" * 20)
        Queue().resize(3)
        cellarg("X", 2)
        list(gen(1, "b"))
        varargs(1, 2, k=3)
        give((1, "two", None))
        for value in (None, False, 0, "", 10**30, [3]):
            give(value)
        give((7,))
        login("bob", "hunter2", GITHUB)
        login("", None, "")
        early(-1)

    trails = []
    for name in ("c", "python"):
        monkeypatch.setenv("AGENTLOG_ENGINE", name)
        trail = record(workload)["trail"]
        tracer.stop()
        for call in trail["calls"]:
            call.pop("ns", None)
            call.pop("ago", None)
        trails.append((trail["fn"], trail["calls"]))
    assert trails[0] == trails[1]



class TestDoctor:
    def test_switch_named(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """doctor says argument capture is off, and by which option."""
        from agentlog.commands import doctor

        monkeypatch.setenv("AGENTLOG_TRAIL_ARGS", "0")
        assert "argument values: off (trail_args / AGENTLOG_TRAIL_ARGS is off)" in doctor.report_lines()

    def test_free_threaded_named(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """On a free-threaded build doctor says there is no call trail, so no arguments either."""
        from agentlog.commands import doctor

        monkeypatch.setattr(tracer, "free_threaded", lambda: True)
        lines = doctor.report_lines()
        assert f"engine: none ({tracer.FREE_THREADED_REASON})" in lines
        assert "argument values: off (no call trail)" in lines
