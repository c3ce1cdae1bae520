"""Value descriptors: shapes, bounds, cycles, hostile objects and redaction."""

from __future__ import annotations

import asyncio
import builtins
import collections
import concurrent.futures
import dataclasses
import datetime
import decimal
import enum
import json
import pathlib
import socket
import sys
import threading
import time
import types
import uuid
from typing import Any, NamedTuple

import pytest

from agentlog.capture import describe as describe_module
from agentlog.capture.describe import MORE_KEY, REPR_THREAD_NAME, Describer, Limits
from agentlog.core.config import Config

GITHUB_TOKEN = "ghp_" + "A1b2C3d4" * 5  # built by concatenation: no literal secret in the repo
MAX_JSON_BYTES = 8 * 1024
FAST_S = 0.5  # a guard against pathological work (a 20 MB copy, a hang), not a benchmark


def dumps(descriptor: dict[str, Any]) -> str:
    return json.dumps(descriptor)


@pytest.fixture
def describer() -> Describer:
    """A Describer with default limits, warmed up so redaction rules are compiled."""
    d = Describer(Limits())
    d.describe("warm up")
    return d


@pytest.fixture
def opted() -> Describer:
    """A Describer allowed to call user-code reprs (``user_repr=True``)."""
    d = Describer(Limits(user_repr=True))
    d.describe("warm up")
    return d


def library_class(name: str, repr_: Any, module: str = "json") -> type:
    """A class that AgentLog takes for library code: its __module__ is a stdlib module."""
    return type(name, (), {"__module__": module, "__repr__": repr_})


def qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def timed(describer: Describer, value: object) -> tuple[dict[str, Any], float]:
    start = time.perf_counter()
    result = describer.describe(value)
    return result, time.perf_counter() - start


class Counting:
    """An object whose every dynamic attribute lookup is counted."""

    def __init__(self) -> None:
        self.lookups = 0

    def __getattr__(self, name: str) -> object:
        object.__setattr__(self, "lookups", object.__getattribute__(self, "lookups") + 1)
        return 42


class TestLimits:
    def test_from_config_copies_matching_fields(self) -> None:
        """Limits.from_config takes the config's bounds and keeps defaults for the rest."""
        limits = Limits.from_config(Config(max_str_chars=7, max_items=2, max_depth=1, repr_timeout_ms=9))
        assert (limits.max_str_chars, limits.max_items, limits.max_depth, limits.repr_timeout_ms) == (7, 2, 1, 9)
        assert limits.max_reprs == Limits().max_reprs

    def test_user_repr_off_by_default_and_read_from_config(self) -> None:
        """user_repr defaults to False and is taken from a config that has it."""
        assert Limits().user_repr is False
        assert Limits.from_config(Config()).user_repr is False
        assert Limits.from_config(types.SimpleNamespace(user_repr=True)).user_repr is True

    def test_describer_without_limits_uses_config(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Describer() reads its limits from the process configuration."""
        from agentlog.core import config

        monkeypatch.setattr(config, "_current", Config(max_str_chars=5))
        assert Describer().describe("abcdefgh")["x"] == 3


class TestScalars:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (7, {"t": "int", "v": "7"}),
            (-2.5, {"t": "float", "v": "-2.5"}),
            (True, {"t": "bool", "v": "True"}),
            (None, {"t": "NoneType", "v": "None"}),
            (1 + 2j, {"t": "complex", "v": "(1+2j)"}),
            (..., {"t": "ellipsis", "v": "Ellipsis"}),
        ],
    )
    def test_shape(self, describer: Describer, value: object, expected: dict[str, Any]) -> None:
        """Scalars are their type and repr."""
        assert describer.describe(value) == expected

    def test_huge_int_shows_bits(self, describer: Describer) -> None:
        """An int past int's 4300-digit repr limit is shown by bit length, fast."""
        result, elapsed = timed(describer, -(10**100_000))
        assert result == {"t": "int", "v": "<-332193-bit int>"}
        assert elapsed < FAST_S

    def test_int_subclass_repr_not_called(self, describer: Describer) -> None:
        """An int subclass is previewed with int's own repr, never the override."""

        class Loud(int):
            def __repr__(self) -> str:
                raise AssertionError("called")

        assert describer.describe(Loud(3)) == {"t": qualified(Loud), "v": "3"}


class TestText:
    def test_short_str(self, describer: Describer) -> None:
        """A short str has its repr and length and no cut."""
        assert describer.describe("it's") == {"t": "str", "l": 4, "v": '"it\'s"'}

    def test_cut_str_keeps_length(self) -> None:
        """A cut str keeps its original length and says how much was cut."""
        result = Describer(Limits(max_str_chars=5)).describe("abcdefghij")
        assert result == {"t": "str", "l": 10, "v": "'abcde'", "x": 5}

    def test_bytes_and_bytearray(self) -> None:
        """bytes and bytearray previews are bytes reprs of the head."""
        d = Describer(Limits(max_str_chars=3))
        assert d.describe(b"\x00\xffab") == {"t": "bytes", "l": 4, "v": "b'\\x00\\xffa'", "x": 1}
        assert d.describe(bytearray(b"hi")) == {"t": "bytearray", "l": 2, "v": "b'hi'"}

    def test_huge_str_bounded_and_fast(self, describer: Describer) -> None:
        """A 20 MB str gives a small descriptor quickly, with its full length."""
        result, elapsed = timed(describer, "a" * 20_000_000)
        assert result["l"] == 20_000_000 and result["x"] == 20_000_000 - 200
        assert len(dumps(result)) < MAX_JSON_BYTES and elapsed < FAST_S

    def test_str_subclass_methods_not_called(self, describer: Describer) -> None:
        """A str subclass is sliced and measured with str's own methods."""

        class Hostile(str):
            def __getitem__(self, key: object) -> str:
                raise AssertionError("called")

            def __len__(self) -> int:
                raise AssertionError("called")

        assert describer.describe(Hostile("ok")) == {"t": qualified(Hostile), "l": 2, "v": "'ok'"}


class TestContainers:
    @pytest.mark.parametrize(
        ("value", "type_name"),
        [
            ([1, 2], "list"),
            ((1, 2), "tuple"),
            ({1, 2}, "set"),
            (frozenset({1, 2}), "frozenset"),
            (collections.deque([1, 2]), "collections.deque"),
            (range(1, 3), "range"),
            ({1: 0, 2: 0}.keys(), "dict_keys"),
        ],
    )
    def test_sequence_shape(self, describer: Describer, value: object, type_name: str) -> None:
        """Sequences and sets have a length and their items described."""
        assert describer.describe(value) == {
            "t": type_name,
            "l": 2,
            "items": [{"t": "int", "v": "1"}, {"t": "int", "v": "2"}],
        }

    @pytest.mark.parametrize(
        ("value", "type_name"),
        [
            ({"a": 1}, "dict"),
            (collections.OrderedDict(a=1), "collections.OrderedDict"),
            (collections.defaultdict(int, a=1), "collections.defaultdict"),
            (collections.Counter("a"), "collections.Counter"),
        ],
    )
    def test_mapping_shape(self, describer: Describer, value: object, type_name: str) -> None:
        """Mappings list [key preview, value descriptor] pairs."""
        assert describer.describe(value) == {"t": type_name, "l": 1, "map": [["'a'", {"t": "int", "v": "1"}]]}

    def test_non_str_keys_are_previewed(self, describer: Describer) -> None:
        """Keys that are not str are previewed, so 1 and '1' stay distinct."""
        result = describer.describe({1: "x", "1": "y", (1, 2): "z"})
        assert [key for key, _ in result["map"]] == ["1", "'1'", "<tuple>"]

    def test_sample_and_more(self, describer: Describer) -> None:
        """Only max_items items are shown and the rest are counted."""
        result = describer.describe(list(range(25)))
        assert len(result["items"]) == 10 and result["more"] == 15 and result["l"] == 25

    @pytest.mark.parametrize(
        "make",
        [
            lambda: list(range(2_000_000)),
            lambda: dict.fromkeys(range(1_000_000)),
            lambda: set(range(1_000_000)),
            lambda: ["x" * 10_000] * 2_000_000,
        ],
    )
    def test_huge_container_bounded_and_fast(self, describer: Describer, make: Any) -> None:
        """Millions of items give a small descriptor quickly."""
        result, elapsed = timed(describer, make())
        assert result["more"] == result["l"] - 10
        assert len(dumps(result)) < MAX_JSON_BYTES and elapsed < FAST_S

    def test_deep_nesting_stops_at_depth(self, describer: Describer) -> None:
        """A 10,000-deep nested list shows max_depth levels, then only a length."""
        nested: list[Any] = []
        for _ in range(10_000):
            nested = [nested]
        result, elapsed = timed(describer, nested)
        innermost = result["items"][0]["items"][0]["items"][0]
        assert innermost == {"t": "list", "l": 1, "note": "depth"}
        assert elapsed < FAST_S

    def test_wide_and_deep_within_size_budget(self, describer: Describer) -> None:
        """A 10x10x10 tree of long strings is cut by the size budget and says so."""
        tree = [[["\x00" * 300] * 10] * 10] * 10
        result = describer.describe(tree)
        assert len(dumps(result)) < MAX_JSON_BYTES
        assert "size" in dumps(result)

    def test_depth_zero_container(self) -> None:
        """With no depth left a container has only its type, length and a note."""
        assert Describer(Limits(max_depth=0)).describe([1, 2]) == {"t": "list", "l": 2, "note": "depth"}

    def test_subclass_overrides_not_called(self, describer: Describer) -> None:
        """Container subclasses are measured and iterated with the builtin's own slots."""

        class Hostile(dict):
            def __iter__(self) -> Any:
                raise AssertionError("called")

            def __len__(self) -> int:
                raise AssertionError("called")

            def items(self) -> Any:
                raise AssertionError("called")

        assert describer.describe(Hostile(a=1))["map"] == [["'a'", {"t": "int", "v": "1"}]]


class TestCycles:
    def test_list_containing_itself(self, describer: Describer) -> None:
        """A list inside itself is a cycle note, not infinite recursion."""
        loop: list[Any] = [1]
        loop.append(loop)
        assert describer.describe(loop)["items"][1] == {"t": "list", "note": "cycle"}

    def test_dict_cycle(self, describer: Describer) -> None:
        """Two dicts pointing at each other end in a cycle note."""
        a: dict[str, Any] = {}
        b = {"a": a}
        a["b"] = b
        assert describer.describe(a)["map"][0][1]["map"][0][1] == {"t": "dict", "note": "cycle"}

    def test_object_attribute_cycle(self, describer: Describer) -> None:
        """An object whose attribute is itself ends in a cycle note."""

        class Node:
            pass

        node = Node()
        node.me = node  # type: ignore[attr-defined]
        assert describer.describe(node)["attrs"]["me"] == {"t": qualified(Node), "note": "cycle"}

    def test_shared_reference_is_not_a_cycle(self, describer: Describer) -> None:
        """The same list reached twice without a loop is described twice."""
        shared = [1]
        result = describer.describe([shared, shared])
        assert result["items"][0] == result["items"][1] == {"t": "list", "l": 1, "items": [{"t": "int", "v": "1"}]}
        assert "cycle" not in dumps(result)


class TestObjects:
    def test_plain_object_placeholder_and_attrs(self, describer: Describer) -> None:
        """An object without its own repr gets a placeholder and its attributes."""

        class Point:
            def __init__(self) -> None:
                self.x = 1

        t = qualified(Point)
        assert describer.describe(Point()) == {"t": t, "v": f"<{t} object>", "attrs": {"x": {"t": "int", "v": "1"}}}

    def test_slots_including_mangled_and_unset(self, describer: Describer) -> None:
        """__slots__ values are read through their descriptors; unset slots are left out."""

        class Slotted:
            __slots__ = ("__hidden", "a", "unset")

            def __init__(self) -> None:
                self.a = 1
                self.__hidden = 2

        assert describer.describe(Slotted())["attrs"] == {
            "__hidden": {"t": "int", "v": "2"},
            "a": {"t": "int", "v": "1"},
        }

    def test_getattr_never_triggered(self, describer: Describer) -> None:
        """Describing an object with __getattr__ never calls it."""
        obj = Counting()
        describer.describe([obj, {"o": obj}])
        assert obj.__dict__["lookups"] == 0

    def test_raising_getattr_harmless(self, describer: Describer) -> None:
        """An object whose __getattr__ raises is still described with its attributes."""

        class Raising:
            def __init__(self) -> None:
                self.ok = 1

            def __getattr__(self, name: str) -> object:
                raise RuntimeError(name)

        assert describer.describe(Raising())["attrs"] == {"ok": {"t": "int", "v": "1"}}

    def test_many_attrs_counted(self, describer: Describer) -> None:
        """Only max_items attributes are shown and the rest are counted."""

        class Wide:
            pass

        wide = Wide()
        for i in range(15):
            setattr(wide, f"a{i}", i)
        result = describer.describe(wide)
        assert len(result["attrs"]) == 10 and result["more"] == 5

    def test_dataclass(self, describer: Describer, opted: Describer) -> None:
        """A user dataclass shows its fields as attributes; its generated repr only if opted in."""

        @dataclasses.dataclass
        class User:
            name: str

        t = qualified(User)
        attrs = {"name": {"t": "str", "l": 3, "v": "'ann'"}}
        assert describer.describe(User("ann")) == {"t": t, "v": f"<{t} object>", "attrs": attrs}
        result = opted.describe(User("ann"))
        assert result["v"].endswith("User(name='ann')") and result["attrs"] == attrs

    def test_namedtuple_fields(self, describer: Describer) -> None:
        """A namedtuple's items are shown under their field names."""

        class Pair(NamedTuple):
            left: int
            right: int

        result = describer.describe(Pair(1, 2))
        assert result["l"] == 2 and result["attrs"] == {"left": {"t": "int", "v": "1"}, "right": {"t": "int", "v": "2"}}

    def test_enum_member(self, describer: Describer) -> None:
        """An IntEnum member shows its name, not its int value."""

        class Color(enum.IntEnum):
            RED = 1

        assert describer.describe(Color.RED)["v"] == "TestObjects.test_enum_member.<locals>.Color.RED"

    def test_exception_value(self, describer: Describer) -> None:
        """An exception shows type and message, plus attributes set on it."""
        exc = KeyError("missing")
        exc.status = 404  # type: ignore[attr-defined]
        assert describer.describe(exc) == {
            "t": "KeyError",
            "v": "KeyError: 'missing'",
            "attrs": {"status": {"t": "int", "v": "404"}},
        }

    @pytest.mark.parametrize(
        ("value", "preview"),
        [
            (json, "<module json>"),
            (json.dumps, "<function json.dumps>"),
            (json.JSONDecoder, "<class json.decoder.JSONDecoder>"),
            (json.JSONDecoder().decode, "<method json.decoder.JSONDecoder.decode>"),
            (len, "<built-in function len>"),
        ],
    )
    def test_definitions_are_short(self, describer: Describer, value: object, preview: str) -> None:
        """Modules, functions, classes and methods are a short reference, no attributes."""
        assert describer.describe(value)["v"] == preview
        assert "attrs" not in describer.describe(value)

    def test_code_and_frame(self, describer: Describer) -> None:
        """Code objects and frames name their function and location."""
        frame = sys._getframe()
        assert describer.describe(frame)["v"].startswith("<frame TestObjects.test_code_and_frame at ")
        assert describer.describe(frame.f_code)["v"].startswith("<code TestObjects.test_code_and_frame at ")

    def test_failure_becomes_marker(self, describer: Describer, monkeypatch: pytest.MonkeyPatch) -> None:
        """A value that breaks the walker becomes a note and its siblings survive."""
        real = describe_module.redact_text

        def redact_text(text: str) -> str:
            if "explode" in text:
                raise RuntimeError("boom")
            return real(text)

        monkeypatch.setattr(describe_module, "redact_text", redact_text)
        result = describer.describe(["explode", 1])
        assert result["items"][0] == {"t": "str", "note": "describe failed: RuntimeError: boom"}
        assert result["items"][1] == {"t": "int", "v": "1"}

    def test_dict_property_never_called(self, describer: Describer) -> None:
        """A __dict__ property is not run: the object is shown without attributes."""
        calls = []

        class Sneaky:
            @property
            def __dict__(self) -> dict[str, Any]:  # type: ignore[override]
                calls.append(1)
                return {"fake": 1}

        t = qualified(Sneaky)
        assert describer.describe(Sneaky()) == {"t": t, "v": f"<{t} object>"}
        assert calls == []


class Spy:
    """A user class whose __repr__ and __str__ record every call, print and fail."""

    calls: list[str] = []

    def __init__(self) -> None:
        self.size = 3

    def __repr__(self) -> str:
        Spy.calls.append("repr")
        print("SIDE EFFECT")
        time.sleep(1)
        raise ValueError("nope")

    __str__ = __repr__


class TestReprPolicy:
    def test_user_repr_not_called_by_default(self, describer: Describer, capsys: pytest.CaptureFixture[str]) -> None:
        """A user class's printing, slow, raising __repr__ is never called: placeholder and attrs, fast."""
        Spy.calls.clear()
        result, elapsed = timed(describer, Spy())
        t = qualified(Spy)
        assert result == {"t": t, "v": f"<{t} object>", "attrs": {"size": {"t": "int", "v": "3"}}}
        assert Spy.calls == [] and capsys.readouterr().out == "" and elapsed < FAST_S

    @pytest.mark.parametrize("repr_", [lambda self: "z" * 5_000_000, lambda self: time.sleep(2)])
    def test_huge_and_slow_user_reprs_not_called(self, describer: Describer, repr_: Any) -> None:
        """Huge and sleeping user reprs cost nothing by default."""
        cls = type("Hostile", (), {"__repr__": repr_})
        result, elapsed = timed(describer, cls())
        assert result == {"t": qualified(cls), "v": f"<{qualified(cls)} object>"} and elapsed < FAST_S

    def test_main_module_is_user_code(self, describer: Describer) -> None:
        """A class from __main__ counts as user code."""
        cls = type("Script", (), {"__module__": "__main__", "__repr__": lambda self: "called"})
        assert describer.describe(cls()) == {"t": "__main__.Script", "v": "<__main__.Script object>"}

    def test_unknown_module_is_user_code(self, describer: Describer) -> None:
        """A class whose module is not imported (exec'd code) gets no repr call."""
        cls = type("Loose", (), {"__module__": "no_such_module_zz", "__repr__": lambda self: "called"})
        assert describer.describe(cls())["v"] == "<no_such_module_zz.Loose object>"

    def test_verdict_cached_per_class(self, describer: Describer, monkeypatch: pytest.MonkeyPatch) -> None:
        """Whether a class is user code is decided once per class, not per instance."""
        seen: list[str] = []
        real = describe_module.is_user_file

        def is_user_file(filename: str) -> bool:
            seen.append(filename)
            return real(filename)

        monkeypatch.setattr(describe_module, "is_user_file", is_user_file)

        class Row:
            pass

        describer.describe([Row(), Row(), Row()])
        assert seen == [__file__]

    def test_user_exception_str_not_called(self, describer: Describer) -> None:
        """A user exception's __str__ is not run: the message comes from its args."""

        class AppError(Exception):
            def __str__(self) -> str:
                raise AssertionError("called")

        exc = AppError("disk full")
        exc.code = 7  # type: ignore[attr-defined]
        t = qualified(AppError)
        assert describer.describe(exc) == {"t": t, "v": f"{t}: disk full", "attrs": {"code": {"t": "int", "v": "7"}}}

    def test_exception_args_not_stringified(self, describer: Describer) -> None:
        """str() of a user object inside any exception's args is never called."""
        Spy.calls.clear()
        t = qualified(Spy)
        assert describer.describe(ValueError(Spy()))["v"] == f"ValueError: <{t} object>"
        assert describer.describe(KeyError(Spy(), 2))["v"] == f"KeyError: (<{t} object>, 2)"
        assert Spy.calls == []

    def test_long_exception_message_cut(self, describer: Describer) -> None:
        """A 5 MB exception message is cut, keeping its full length in x."""
        result, elapsed = timed(describer, RuntimeError("m" * 5_000_000))
        assert result["v"] == "RuntimeError: " + "m" * 186 and result["x"] == 14 + 5_000_000 - 200
        assert elapsed < FAST_S

    @pytest.mark.parametrize(
        ("value", "preview"),
        [
            (datetime.date(2024, 1, 2), "datetime.date(2024, 1, 2)"),
            (decimal.Decimal("1.5"), "Decimal('1.5')"),
            (uuid.UUID(int=1), "UUID('00000000-0000-0000-0000-000000000001')"),
            (pathlib.PurePosixPath("/tmp/x"), "PurePosixPath('/tmp/x')"),
            (concurrent.futures.Future(), None),
        ],
    )
    def test_library_values_repr_without_attrs(self, describer: Describer, value: object, preview: str | None) -> None:
        """Library instances keep their repr and show no attributes."""
        result = describer.describe(value)
        assert "attrs" not in result and "note" not in result
        assert result["v"] == preview if preview else result["v"].startswith("<Future at 0x")

    def test_library_internals_not_expanded(self, describer: Describer) -> None:
        """A ThreadPoolExecutor is a one-line placeholder, not its queues and locks."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            result = describer.describe(pool)
        t = "concurrent.futures.thread.ThreadPoolExecutor"
        assert result == {"t": t, "v": f"<{t} object>"}

    def test_builtin_module_class_is_library(self, describer: Describer) -> None:
        """A class of a module without __file__ (builtin, C extension) is library code."""
        assert describer.describe(library_class("Lock", lambda self: "<lock>", module="_thread")())["v"] == "<lock>"

    def test_library_repr_guarded(self, describer: Describer) -> None:
        """A raising library repr becomes a note, its instance attributes are not shown."""

        def bad(self: object) -> str:
            raise ValueError("nope")

        obj = library_class("Bad", bad)()
        obj.internal = [1, 2]  # type: ignore[attr-defined]
        expected = {"t": "json.Bad", "v": "<json.Bad object>", "note": "repr raised ValueError: nope"}
        assert describer.describe(obj) == expected


class TestUserRepr:
    """With ``user_repr=True`` user reprs run, guarded and capped."""

    def test_raising_repr(self, opted: Describer) -> None:
        """A raising __repr__ becomes a note naming the exception; attrs are still shown."""

        class Bad:
            def __init__(self) -> None:
                self.ok = 1

            def __repr__(self) -> str:
                raise ValueError("nope")

        result = opted.describe(Bad())
        assert result["note"] == "repr raised ValueError: nope"
        assert result["v"].endswith("Bad object>") and result["attrs"] == {"ok": {"t": "int", "v": "1"}}

    def test_base_exception_from_repr_is_a_note(self, opted: Describer) -> None:
        """SystemExit raised by a __repr__ is a note, not an exit."""

        class Exits:
            def __repr__(self) -> str:
                raise SystemExit(3)

        assert opted.describe(Exits())["note"] == "repr raised SystemExit: 3"

    def test_huge_repr_cut(self, opted: Describer) -> None:
        """A 5 MB repr is cut to max_str_chars and the cut is counted."""

        class Huge:
            def __repr__(self) -> str:
                return "z" * 5_000_000

        result = opted.describe(Huge())
        assert result["v"] == "z" * 200 and result["x"] == 5_000_000 - 200

    def test_slow_repr_times_out_then_type_skipped(self, opted: Describer) -> None:
        """A sleeping __repr__ is abandoned after the timeout and its type never repr'd again."""

        calls = []

        class Slow:
            def __repr__(self) -> str:
                calls.append(1)
                time.sleep(2)
                return "late"

        first, elapsed = timed(opted, Slow())
        assert first["note"] == "repr timed out after 50 ms" and elapsed < 1.5
        second, _ = timed(Describer(Limits(user_repr=True)), Slow())
        assert second["note"] == "repr skipped: slow type" and len(calls) == 1

    def test_slow_library_repr_times_out(self, describer: Describer) -> None:
        """A sleeping library repr is guarded by default too."""
        slow = library_class("SlowLib", lambda self: time.sleep(2) or "late")
        result, elapsed = timed(describer, slow())
        assert result["note"] == "repr timed out after 50 ms" and elapsed < 1.5

    def test_recursive_repr(self) -> None:
        """A __repr__ that recurses forever becomes a RecursionError note (given the time to hit the
        recursion limit however busy the machine is: the timeout has its own test)."""

        class Recursive:
            def __repr__(self) -> str:
                return repr(self)

        patient = Describer(Limits(user_repr=True, repr_timeout_ms=10_000))
        assert patient.describe(Recursive())["note"].startswith("repr raised RecursionError")

    def test_repr_budget(self) -> None:
        """Past max_reprs user reprs, the rest are skipped with a note."""

        class Nice:
            def __repr__(self) -> str:
                return "nice"

        d = Describer(Limits(max_reprs=1, user_repr=True))
        assert d.describe(Nice())["v"] == "nice"
        assert d.describe(Nice())["note"] == "repr skipped: budget"

    def test_repr_runs_on_helper_thread(self, opted: Describer) -> None:
        """User reprs run on the named helper thread, not the caller's."""
        seen = []

        class Where:
            def __repr__(self) -> str:
                seen.append(threading.current_thread().name)
                return "w"

        opted.describe(Where())
        assert seen == [REPR_THREAD_NAME]

    def test_user_exception_str_guarded(self, opted: Describer) -> None:
        """An opted-in user exception __str__ runs; if it raises, args give the message and a note."""

        class Friendly(Exception):
            def __str__(self) -> str:
                return "friendly text"

        class Broken(Exception):
            def __str__(self) -> str:
                raise LookupError("bad str")

        assert opted.describe(Friendly("raw"))["v"] == f"{qualified(Friendly)}: friendly text"
        result = opted.describe(Broken("raw"))
        assert result["v"] == f"{qualified(Broken)}: raw" and result["note"] == "str raised LookupError: bad str"


class TestHostileClasses:
    @staticmethod
    def hostile_instance(names: frozenset[str] | None) -> object:
        """An instance whose metaclass raises on reading the given class attributes (None: all)."""

        class Meta(type):
            def __getattribute__(cls, name: str) -> Any:
                if names is None or name in names:
                    raise RuntimeError(f"no {name}")
                return super().__getattribute__(name)

            def __eq__(cls, other: object) -> bool:  # also makes the class unhashable
                raise RuntimeError("no eq")

        class Shady(metaclass=Meta):
            def __init__(self) -> None:
                self.ok = 1

        return Shady()

    @pytest.mark.parametrize("names", [frozenset({"__module__"}), frozenset({"__qualname__", "__mro__"}), None])
    def test_hostile_metaclass_does_not_lose_locals(self, describer: Describer, names: frozenset[str] | None) -> None:
        """A metaclass raising on class attribute reads leaves the instance and the other locals described."""
        t = f"{__name__}.TestHostileClasses.hostile_instance.<locals>.Shady"
        result = describer.describe_locals({"shady": self.hostile_instance(names), "n": 1})
        assert result["shady"] == {"t": t, "v": f"<{t} object>", "attrs": {"ok": {"t": "int", "v": "1"}}}
        assert result["n"] == {"t": "int", "v": "1"}

    def test_odd_class_names_fall_back(self, describer: Describer) -> None:
        """A non-str __module__ is left out of the type name instead of failing."""
        cls = type("Odd", (), {"__module__": 5})
        assert describer.describe(cls())["t"] == "Odd"

    def test_last_resort_keeps_other_locals(self, describer: Describer, monkeypatch: pytest.MonkeyPatch) -> None:
        """Even a failure outside the per-value guard costs one local, not the frame."""

        def is_secret_name(name: str) -> bool:
            if name == "bad":
                raise RuntimeError("boom")
            return False

        monkeypatch.setattr(describe_module, "is_secret_name", is_secret_name)
        result = describer.describe_locals({"bad": 1, "good": 2})
        assert result == {"bad": {"t": "int", "note": "describe failed"}, "good": {"t": "int", "v": "2"}}


class TestNoRepr:
    def test_generator(self, describer: Describer) -> None:
        """A generator is named, not repr'd, and not advanced."""

        def numbers() -> Any:
            yield 1

        gen = numbers()
        result = describer.describe(gen)
        assert result["v"] == "<generator TestNoRepr.test_generator.<locals>.numbers>"
        assert result["note"] == "repr skipped: side effects"
        assert next(gen) == 1

    def test_coroutine(self, describer: Describer) -> None:
        """A coroutine is not repr'd."""

        async def work() -> None:
            await asyncio.sleep(0)

        coro = work()
        try:
            assert describer.describe(coro)["note"] == "repr skipped: side effects"
        finally:
            coro.close()

    def test_open_file_shows_cheap_attrs(self, describer: Describer, tmp_path: Any) -> None:
        """An open file is not repr'd but shows name, mode and closed."""
        path = tmp_path / "f.txt"
        with path.open("w") as fh:
            result = describer.describe(fh)
        assert result["note"] == "repr skipped: side effects"
        assert result["attrs"]["mode"] == {"t": "str", "l": 1, "v": "'w'"}
        assert result["attrs"]["closed"] == {"t": "bool", "v": "False"}

    def test_socket(self, describer: Describer) -> None:
        """A socket is not repr'd."""
        with socket.socket() as sock:
            assert describer.describe(sock)["note"] == "repr skipped: side effects"

    def test_orm_queryset_by_name(self, describer: Describer) -> None:
        """A Django-style QuerySet (or a subclass) is never repr'd."""
        calls = []

        def query_repr(self: object) -> str:
            calls.append(1)
            return "<QuerySet [...]>"

        queryset = type("QuerySet", (), {"__module__": "django.db.models.query", "__repr__": query_repr})
        custom = type("ActiveQuerySet", (queryset,), {"__module__": "shop.models"})
        assert describer.describe(custom())["note"] == "repr skipped: side effects"
        assert calls == []

    def test_transparent_proxy(self, describer: Describer) -> None:
        """An object with __getattr__ and __wrapped__ is a proxy: never repr'd or probed."""

        class Proxy(Counting):
            __wrapped__ = None

            def __repr__(self) -> str:
                raise AssertionError("called")

        proxy = Proxy()
        assert describer.describe(proxy)["note"] == "repr skipped: side effects"
        assert proxy.__dict__["lookups"] == 0


class TestRedaction:
    @pytest.mark.parametrize("name", ["db_password", "GITHUB_TOKEN", "api_key"])
    def test_secret_name(self, describer: Describer, name: str) -> None:
        """A value under a secret-looking name is replaced, keeping only its type."""
        assert describer.describe("hunter2", name=name) == {"t": "str", "v": "[REDACTED:name]", "red": "name"}

    def test_secret_name_hides_without_looking(self, describer: Describer) -> None:
        """A value under a secret name is not repr'd or walked."""
        seen = []

        class Creds:
            def __repr__(self) -> str:
                seen.append(1)
                return "creds"

        result = describer.describe(Creds(), name="credentials")
        assert result["red"] == "name" and "attrs" not in result and seen == []

    def test_secret_key_deep_inside(self, describer: Describer) -> None:
        """A "password" dict key inside a list inside an attribute is redacted."""

        class Service:
            def __init__(self) -> None:
                self.configs = [{"user": "ann", "password": "hunter2-xyz"}]

        result = describer.describe(Service())
        text = dumps(result)
        assert "hunter2" not in text
        entry = result["attrs"]["configs"]["items"][0]["map"][1]
        assert entry == ["'password'", {"t": "str", "v": "[REDACTED:name]", "red": "name"}]

    def test_token_in_str_value(self, describer: Describer) -> None:
        """A GitHub token inside an ordinary string is gone from the descriptor."""
        result = describer.describe(f"url=x&t={GITHUB_TOKEN}", name="note")
        assert GITHUB_TOKEN[:12] not in dumps(result)
        assert result["red"] == "github_token"

    def test_token_straddling_the_cut(self, describer: Describer) -> None:
        """A token that starts just before the preview cut leaves no visible prefix."""
        result = describer.describe("." * 190 + " " + GITHUB_TOKEN + " tail" * 100)
        assert "ghp_" not in dumps(result) and result["l"] == 191 + len(GITHUB_TOKEN) + 500

    def test_token_in_user_repr_and_exception(self, opted: Describer) -> None:
        """Secrets in repr output, exception messages and dict keys are redacted."""

        class Client:
            def __repr__(self) -> str:
                return f"Client({GITHUB_TOKEN})"

        class AppError(Exception):
            pass

        values = [Client(), ValueError(f"bad {GITHUB_TOKEN}"), AppError("x", GITHUB_TOKEN), {GITHUB_TOKEN: 1}]
        result = opted.describe(values)
        assert result["items"][0]["v"].startswith("Client(") and GITHUB_TOKEN[:12] not in dumps(result)

    @pytest.mark.parametrize(
        "value",
        [
            [("Authorization", "Token abcdef0123456789xyz")],
            list({"user": "ann", "password": "abcdef0123456789xyz"}.items()),
            {"user": "ann", "password": "abcdef0123456789xyz"}.items(),
            [["api_key", "abcdef0123456789xyz"]],
            (("password", {"nested": "abcdef0123456789xyz"}),),
        ],
    )
    def test_name_value_pairs(self, describer: Describer, value: object) -> None:
        """The second item of a (secret name, value) pair is redacted by that name."""
        result = describer.describe(value)
        assert "abcdef0123456789xyz" not in dumps(result)
        pair = result["items"][-1]["items"]
        assert pair[0]["v"] != "[REDACTED:name]" and pair[1]["red"] == "name"

    def test_ordinary_pairs_untouched(self, describer: Describer) -> None:
        """Pairs with harmless names, and longer tuples, are shown as they are."""
        assert describer.describe(("user", "ann"))["items"][1] == {"t": "str", "l": 3, "v": "'ann'"}
        assert describer.describe(("password", "a", "b"))["items"][1] == {"t": "str", "l": 1, "v": "'a'"}

    def test_namedtuple_secret_field(self, describer: Describer) -> None:
        """A namedtuple field called password is redacted by name."""
        login = collections.namedtuple("Login", "user password")("ann", "hunter2-xyz")
        assert describer.describe(login)["attrs"]["password"]["red"] == "name"


class TestDescribeLocals:
    def test_every_local_described(self, describer: Describer) -> None:
        """Each local maps to its descriptor, secrets by name redacted."""
        result = describer.describe_locals({"n": 1, "db_password": "hunter2-xyz"})
        assert result == {
            "n": {"t": "int", "v": "1"},
            "db_password": {"t": "str", "v": "[REDACTED:name]", "red": "name"},
        }

    def test_self_attrs_at_full_depth(self) -> None:
        """self shows its attributes even when other values have no depth left."""

        class Box:
            def __init__(self) -> None:
                self.size = 3

        d = Describer(Limits(max_depth=0))
        result = d.describe_locals({"self": Box(), "other": Box()})
        assert result["self"]["attrs"] == {"size": {"t": "int", "v": "3"}}
        assert "attrs" not in result["other"] and result["other"]["note"] == "depth"

    def test_module_frame_keeps_data_only(self, describer: Describer) -> None:
        """Module-level locals drop dunders, modules, functions and classes."""
        f_locals = {
            "__builtins__": builtins,
            "__name__": "__main__",
            "json": json,
            "dumps": dumps,
            "Counting": Counting,
            "rows": [1],
        }
        assert list(describer.describe_locals(f_locals)) == ["rows"]

    def test_function_frame_keeps_local_functions(self, describer: Describer) -> None:
        """In a function frame a local function is kept and only dunders are skipped."""
        assert list(describer.describe_locals({"__class__": object, "helper": dumps})) == ["helper"]

    def test_interpreter_names_hidden(self, describer: Describer) -> None:
        """A comprehension's ``.0`` (its iterator) is the interpreter's, not the program's: not shown, not counted."""
        f_locals = next(dict(sys._getframe().f_locals) for _ in [1])  # a generator expression's locals
        assert ".0" in f_locals
        d = Describer(Limits(max_locals=1))
        assert d.describe_locals(f_locals) == {"_": {"t": "int", "v": "1"}}

    def test_locals_capped_with_more(self) -> None:
        """Past max_locals names the rest are counted under the more entry."""
        d = Describer(Limits(max_locals=3))
        result = d.describe_locals({f"v{i}": i for i in range(5)})
        assert list(result) == ["v0", "v1", "v2", MORE_KEY] and result[MORE_KEY] == {"more": 2}

    def test_real_frame(self, describer: Describer) -> None:
        """A live frame's f_locals (a FrameLocalsProxy) is described."""
        token = GITHUB_TOKEN
        count = 2
        result = describer.describe_locals(sys._getframe().f_locals)
        assert result["count"] == {"t": "int", "v": str(count)} and result["token"]["red"] == "name"
        assert token not in dumps(result)


class TestLibraryExceptionMessages:
    def test_messages_as_python_prints_them(self, describer: Describer) -> None:
        """SyntaxError, CalledProcessError and exception groups keep the message Python shows."""
        import subprocess

        try:
            compile("x = (1,", "<string>", "exec")
        except SyntaxError as exc:
            assert describer.describe(exc)["v"] == "SyntaxError: '(' was never closed (<string>, line 1)"
        error = subprocess.CalledProcessError(1, ["make", "test"])
        # 3.15 dropped the quotes around the command ("Command ['make', 'test'] returned ..."): as Python shows it.
        assert describer.describe(error)["v"] == f"subprocess.CalledProcessError: {error}"
        assert str(error).endswith("returned non-zero exit status 1.") and "['make', 'test']" in str(error)
        group = ExceptionGroup("config invalid", [ValueError("a"), KeyError("b")])
        assert describer.describe(group)["v"] == "ExceptionGroup: config invalid (2 sub-exceptions)"


class TestLeadAttributes:
    """describe_locals(lead=...): the attributes the failing statement uses come first, never cut."""

    @staticmethod
    def _obj(n: int = 15, **extra: object) -> object:
        class Thing:
            pass

        thing = Thing()
        for i in range(n):
            setattr(thing, f"a{i}", i)
        for key, value in extra.items():
            setattr(thing, key, value)
        return thing

    def test_used_attribute_first_and_kept(self) -> None:
        order = self._obj(qty=0)
        plain = Describer().describe_locals({"order": order})["order"]
        assert "qty" not in plain["attrs"] and plain["more"] == 6
        led = Describer().describe_locals({"order": order}, {"order": [("qty",)]})["order"]
        assert list(led["attrs"])[:2] == ["qty", "a0"] and led["more"] == 6
        assert led["attrs"]["qty"] == {"t": "int", "v": "0"}

    def test_nested_path(self) -> None:
        inner = self._obj(rate=1.15)
        outer = self._obj(cfg=inner)
        desc = Describer().describe_locals({"self": outer}, {"self": [("cfg", "rate")]})["self"]
        assert next(iter(desc["attrs"])) == "cfg"
        assert next(iter(desc["attrs"]["cfg"]["attrs"])) == "rate"

    def test_property_not_run_and_missing_attribute_ignored(self) -> None:
        calls = []

        class Lazy:
            @property
            def total(self) -> int:
                calls.append(1)
                return 1

        lazy = Lazy()
        lazy.x = 1  # type: ignore[attr-defined]
        desc = Describer().describe_locals({"lazy": lazy}, {"lazy": [("total", "y"), ("nothing",)]})["lazy"]
        assert calls == [] and list(desc["attrs"]) == ["x"]
