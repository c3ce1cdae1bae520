"""Value provenance, unit by unit: what is matched, what is not, which call wins."""

from __future__ import annotations

from agentlog.context.provenance import Value, links, value_of


def _num(v: str) -> dict:
    return {"t": "float" if "." in v else "int", "v": v}


NONE = {"t": "NoneType", "v": "None"}


def _record(calls: list[dict], line: str, loc: dict, message: str = "boom", fns: list | None = None) -> dict:
    """A failure in ``run`` (fn 0) whose failing line is ``line``, with ``calls`` made under it."""
    fns = fns or [["run", "/p/app.py", 1, 20], ["make", "/p/app.py", 30, 32], ["noop", "/p/app.py", 40, 41],
                  ["other", "/p/app.py", 50, 52], ["Box.set_size", "/p/app.py", 60, 61],
                  ["get_size", "/p/app.py", 70, 74]]
    trail = {"fn": fns, "calls": [{"c": 0, "d": 0, "end": "exc", "e": "TypeError", "ln": 10}, *calls]}
    frame = {"f": "run", "file": "/p/app.py", "ln": 10, "u": 1, "src": [[9, "    pass"], [10, line]], "loc": loc}
    return {"exc": {"t": "TypeError", "m": message, "frames": [frame]}, "trail": trail}


def _call(c: int, r: dict, ln: int, **args: dict) -> dict:
    return {"c": c, "d": 1, "end": "ret", "ln": ln, "r": r, **({"a": args} if args else {})}


def test_summaries_compare_like_the_values():
    assert value_of(_num("3")).matches(value_of(_num("3.0")))
    assert not value_of({"t": "bool", "v": "True"}).matches(value_of(_num("1")))
    long = {"t": "str", "l": 40, "v": "'abcdefghijklmnop'", "x": 24}
    assert value_of(long).matches(value_of({"t": "str", "l": 40, "v": "'abcdefghijklmnopqrstuvwxyz'", "x": 14}))
    assert not value_of(long).matches(value_of({"t": "str", "l": 41, "v": "'abcdefghijklmnop'", "x": 25}))
    assert value_of({"t": "str", "l": 3, "v": "[REDACTED:name]", "red": "name"}) is None
    assert Value("num", 0.0).weak and Value("none", None).weak and not Value("num", 7.5).weak


def test_latest_producer_wins_and_strong_values_need_no_name():
    calls = [_call(1, _num("7.5"), 32), _call(3, _num("7.5"), 52), _call(2, NONE, 41)]
    found = links(_record(calls, "    return total * factor", {"factor": _num("7.5"), "total": _num("2")}))
    assert [link.text for link in found] == ["  origin: factor = 7.5 <- other() -> 7.5 [app.py:50], called in run"]


def test_a_none_from_a_procedure_is_not_linked():
    """noop() returns None from its last line every time: nothing says it made ``value``."""
    calls = [_call(2, NONE, 41), _call(2, NONE, 41)]
    assert links(_record(calls, "    return value.upper()", {"value": NONE})) == []


def test_a_none_from_a_function_that_usually_returns_a_value_is_linked():
    calls = [_call(3, _num("4"), 52), _call(2, NONE, 41), _call(3, NONE, 52)]
    found = links(_record(calls, "    return value.upper()", {"value": NONE}))
    assert [link.text for link in found] == ["  origin: value = None <- other() -> None [app.py:50], called in run"]


def test_weak_values_need_a_name_or_the_statement_to_point_at_the_call():
    """0 came back from two calls; only get_size's name matches ``size``."""
    calls = [_call(1, _num("0"), 32), _call(5, _num("0"), 72), _call(3, _num("0"), 52)]
    found = links(_record(calls, "    return 10 / size", {"size": _num("0")}))
    assert [link.text for link in found] == [
        "  origin: size = 0 <- get_size() -> 0 from line 72 [app.py:70], called in run"]
    assert links(_record(calls, "    return 10 / count", {"count": _num("0")})) == []


def test_a_setter_needs_the_same_type_and_the_attribute_name():
    box = {"t": "app.Box", "attrs": {"size": _num("0")}}
    setter = {"c": 4, "d": 1, "end": "ret", "ln": 61, "r": NONE,
              "a": {"self": {"t": "app.Box"}, "size": _num("0")}}
    found = links(_record([setter], "    return 10 / box.size", {"box": box}))
    assert [link.text for link in found] == [
        "  origin: box.size = 0 <- set by Box.set_size(size=0) [app.py:60], called in run"]
    other_type = {**setter, "a": {"self": {"t": "app.Crate"}, "size": _num("0")}}
    assert links(_record([other_type], "    return 10 / box.size", {"box": box})) == []
    other_name = {**setter, "a": {"self": {"t": "app.Box"}, "width": _num("0"), "height": _num("0")}}
    assert links(_record([other_name], "    return 10 / box.size", {"box": box})) == []


def test_values_in_the_message_are_matched_and_redacted_ones_never():
    calls = [_call(3, {"t": "str", "l": 5, "v": "'zebra'"}, 52),
             _call(1, {"t": "str", "l": 6, "v": "[REDACTED:name]", "red": "name"}, 32)]
    found = links(_record(calls, "    raise KeyError(key)", {}, message="'zebra' and 'secret'"))
    assert [link.text for link in found] == [
        "  origin: 'zebra' (in the message) <- other() -> 'zebra' [app.py:50], called in run"]
