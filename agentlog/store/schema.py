"""What a reader accepts: the field types of every record kind (docs/FORMAT.md), checked field by field.

A record is untrusted input (a pulled share, a planted or hand-edited line, another
version's writer): every command reads through :func:`valid_record`, so a field of the
wrong type is a record skipped here rather than a TypeError in a command. Fields a kind
does not list are not checked (readers ignore them); the line's size and nesting are
bounded before it is parsed (``store/reader.py``).
"""

from __future__ import annotations

from typing import Any

from agentlog.store.records import ENVELOPE_STRINGS, MAX_ENVELOPE_CHARS

STR, INT, BOOL, LIST, DICT = (str,), (int,), (bool,), (list,), (dict,)
NUM = (int, float)
OPT_STR, OPT_NUM, OPT_DICT = (str, type(None)), (int, float, type(None)), (dict, type(None))
MAX_TIMESTAMP = 1e10  # year 2286: anything later is not a wall time a writer produced

ENVELOPE = {"sv": INT, "k": STR, "sid": STR, "pid": INT, "tid": INT, "th": STR, "ts": NUM, "cut": LIST}
KINDS: dict[str, dict[str, tuple[type, ...]]] = {
    "failure": {"id": STR, "src": STR, "exit": INT, "exitmsg": STR, "test": STR, "exc": DICT, "argv": LIST,
                "cwd": STR, "py": STR, "git": OPT_DICT, "trail": DICT, "threads": LIST, "traced": LIST,
                "fp": STR, "fpk": DICT},
    "session_start": {"agent": OPT_STR, "task": OPT_STR, "parent": OPT_STR, "argv": LIST, "launcher": STR,
                      "cwd": STR, "git": OPT_DICT},
    "session_end": {"out": STR, "dur": OPT_NUM, "err": OPT_STR},
    "tests": {"res": DICT, "part": INT, "parts": INT, "more": INT},
    "outcome": {"on": STR, "of": STR, "out": STR, "note": STR, "sha": STR},
    "baseline": {"of": STR},
    "snapshot": {"snap": STR, "root": STR, "n": INT, "bytes": INT, "hashed": INT, "dur": NUM, "file": STR,
                 "trunc": INT, "prev": STR, "added": INT, "removed": INT, "modified": INT},
    "output": {"name": STR, "dur": NUM, "out": STR, "err": STR, "lo": INT, "le": INT, "exc": STR},
    "exec": {"cmd": LIST, "cwd": STR, "rc": INT, "dur": NUM, "out": STR, "err": STR, "lo": INT, "le": INT},
    "llm": {"model": STR, "in": INT, "out": INT, "cost": NUM, "dur": NUM},
    "decision": {"what": STR, "why": STR, "alt": LIST, "alt_more": INT},
    "perf": {"label": STR, "rss": INT, "cpu": LIST, "nth": INT, "nof": INT, "dur": NUM, "drss": INT,
             "dcpu": NUM, "exc": STR},
    "profile": {"engine": STR, "fns": LIST, "more": INT},
    "traced": {"fns": LIST},
}
EXCEPTION = {"t": STR, "m": STR, "frames": LIST, "notes": LIST, "cause": DICT, "ctx": DICT, "group": LIST}
FRAME = {"f": STR, "file": STR, "ln": INT, "u": INT, "mod": STR, "src": LIST, "loc": DICT, "loc_cut": INT,
         "rep": INT, "outer": DICT, "moves": DICT, "per": INT, "skipped": INT}
GIT = {"root": STR, "branch": OPT_STR, "sha": STR, "subject": STR, "dirty": BOOL, "nfiles": INT, "files": LIST,
       "diff": LIST, "late": LIST}
DESCRIPTOR = {"t": STR, "v": STR, "l": INT, "x": INT, "items": LIST, "map": LIST, "attrs": DICT, "more": INT,
              "red": STR, "note": STR, "same": STR}
FUNCTION = {"f": STR, "file": STR, "ln": INT, "n": INT, "calls": LIST, "tot": INT, "self": INT}
PATTERN_LINE = {"fp": STR, "id": OPT_STR, "ts": OPT_NUM, "sid": OPT_STR, "sha": OPT_STR, "t": OPT_STR,
                "m": OPT_STR, "fns": (list, type(None)), "agent": STR, "task": STR, "test": STR}  # patterns.log
MAX_NUMBER = 2.0**64
MAX_EXCEPTIONS = 64  # chained and grouped exceptions checked in one record


def _fields(obj: Any, table: dict[str, tuple[type, ...]]) -> bool:
    """``obj`` is a dict whose listed fields, where present, have exactly their types (JSON makes no
    subclasses; so a bool is not an int), numbers finite and below MAX_NUMBER."""
    if type(obj) is not dict:
        return False
    for key, value in obj.items():
        types = table.get(key)
        if types is None:
            continue
        kind = type(value)
        if kind not in types or ((kind is int or kind is float) and not -MAX_NUMBER < value < MAX_NUMBER):
            return False
    return True




def _all(items: Any, table: dict[str, tuple[type, ...]]) -> bool:
    return all(_fields(item, table) for item in items)


def _exception(exc: Any) -> bool:
    """An exception and its chain and group members, frames and their locals' descriptors."""
    pending, seen = [exc], 0
    while pending:
        exc = pending.pop()
        seen += 1
        if seen > MAX_EXCEPTIONS or not _fields(exc, EXCEPTION) or not isinstance(exc.get("t"), str):
            return False
        frames = exc.get("frames", [])
        if not _all(frames, FRAME) or not all(isinstance(n, str) for n in exc.get("notes", [])):
            return False
        if not all(_all((f.get("loc") or {}).values(), DESCRIPTOR) for f in frames):
            return False
        pending += [exc[k] for k in ("cause", "ctx") if k in exc] + list(exc.get("group", []))
    return True


def _failure(record: dict[str, Any]) -> bool:
    return (("exc" not in record or _exception(record["exc"]))
            and all(isinstance(a, str) for a in record.get("argv", []))
            and _all(record.get("traced", []), FUNCTION))


def _strings(*keys: str) -> Any:
    return lambda record: all(isinstance(item, str) for key in keys for item in record.get(key, []))


DEEPER = {  # kinds whose nested parts commands read: checked below the top level too
    "failure": _failure,
    "session_start": _strings("argv"),
    "exec": _strings("cmd"),
    "decision": _strings("alt"),
    "profile": lambda record: _all(record.get("fns", []), FUNCTION),
    "traced": lambda record: _all(record.get("fns", []), FUNCTION),
    "tests": lambda record: all(isinstance(v, str) for v in record.get("res", {}).values()),
    "perf": lambda record: all(_number(x) for x in record.get("cpu", [])),
}


def _number(value: Any) -> bool:
    return type(value) in NUM and -MAX_NUMBER < value < MAX_NUMBER


def valid_record(record: Any) -> bool:
    """True if ``record`` is a dict with a well-typed envelope and, for a kind it knows, well-typed fields."""
    if not _fields(record, ENVELOPE) or type(record.get("sv")) is not int or not isinstance(record.get("k"), str):
        return False
    if not 0 <= record.get("ts", 0) <= MAX_TIMESTAMP:
        return False
    if any(len(record.get(key, "")) > MAX_ENVELOPE_CHARS for key in ENVELOPE_STRINGS):
        return False  # longer than any writer makes them (store/records.py)
    kind = record["k"]
    if kind in KINDS and not _fields(record, KINDS[kind]):
        return False
    if record.get("git") is not None and not _fields(record["git"], GIT):
        return False
    check = DEEPER.get(kind)
    return check is None or bool(check(record))


def valid_pattern_line(line: Any) -> bool:
    """True if ``line`` (a parsed line of ``patterns.log``) has well-typed fields and string functions."""
    return _fields(line, PATTERN_LINE) and all(type(f) is str for f in line.get("fns") or [])
