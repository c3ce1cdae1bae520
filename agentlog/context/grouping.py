"""Which recorded failures are one failure: the rule every view shares.

The context, ``agentlog list`` and the MCP ``list_failures`` show a group once:

* the failing cases (parameters, subtests) of one test in one session, led by the first;
* with the worker and child failures its failures absorb: a ``multiprocessing`` Pool,
  ``ProcessPoolExecutor`` or ``Process`` failure in the same session recorded by another
  process just before (within RELATED_WINDOW_S), for a ``CalledProcessError`` the
  Python child whose script or module its message names, and for any failure whose message
  (or a chained exception's) quotes a child's traceback (an ``OSError`` carrying the child's
  stderr, even escaped) the child with a frame it quotes. Each such failure belongs to the
  first later failure that absorbs it; chains (a child's child) end in the outermost.

Of the children one ``CalledProcessError`` absorbs, it names one: the latest whose command
line is the error's command (the child's ``argv`` is its tail) and whose exit status fits the
error's return code, else the latest absorbed. That child (and what is behind it) leads; the
other children are the group's ``others``, mentioned compactly.

A failure of the same run (:func:`same_run`) is not "seen before" by the history line.
"""

from __future__ import annotations

import ast
import bisect
import re
import shlex
from pathlib import Path
from typing import Any, NamedTuple

RELATED_WINDOW_S = 60.0
MAX_PARENT_SCAN = 500  # later failures looked at for a worker's or child's parent
TRACEBACK_HEAD = "Traceback (most recent call last)"
QUOTED_NOTE = "[the child's traceback, shown with the child]"
_LINE_BREAK = re.compile(r"\r?\n|\\n")  # real or escaped (a repr'd stderr)
MAX_CHAIN_SCAN = 5  # chained exceptions whose messages may quote a child's traceback


class Group(NamedTuple):
    """One failure as the views show it."""

    cases: list[dict[str, Any]]  # the failing cases of one test, oldest first; else just the failure
    related: list[dict[str, Any]]  # worker and child failures behind it, oldest first
    others: list[dict[str, Any]]  # other child failures its CalledProcessError does not name, oldest first

    @property
    def lead(self) -> dict[str, Any]:
        """The failure shown in full: the first failing case."""
        return self.cases[0]


def test_base(failure: dict[str, Any]) -> str | None:
    """``tests/t.py::test_x (call)`` for every case of a parametrized test or its subtests."""
    test = failure.get("test")
    if not isinstance(test, str):
        return None
    nodeid, _, phase = test.rpartition(" (")
    return f"{nodeid.split('[', 1)[0]} ({phase}"


def _names_child(message: str, child: dict[str, Any]) -> bool:
    """Whether a ``CalledProcessError`` message names the child's script or module as an argument."""
    argv = [str(a) for a in child.get("argv", [])]
    if not argv or argv[0] in ("-c", ""):
        return False
    cmd, _ = _called_command(message)
    if cmd is not None and any(_names_program(arg, argv[0]) for arg in cmd[1:]):
        return True
    path = Path(argv[0])
    module = path.parent.name if path.stem == "__main__" else path.stem
    return any(f"'{name}'" in message for name in (argv[0], path.name, module))


_CALLED = re.compile(r"Command '(?P<cmd>.*)' (?:returned non-zero exit status (?P<rc>-?\d+)|died with )", re.S)


def _called_command(message: str) -> tuple[list[str] | None, int | None]:
    """(the command, the return code) a ``CalledProcessError`` message states, each None if unreadable."""
    found = _CALLED.match(message)
    if not found:
        return None, None
    text, rc = found.group("cmd"), found.group("rc")
    try:
        cmd = ast.literal_eval(text) if text.startswith("[") else shlex.split(text)
    except (ValueError, SyntaxError):
        cmd = None
    if not isinstance(cmd, list) or not all(isinstance(part, str) for part in cmd):
        cmd = None
    return cmd, int(rc) if rc is not None else None


def _names_program(arg: str, program: str) -> bool:
    """Whether a command's argument ``arg`` starts the child whose ``sys.argv[0]`` is ``program``."""
    path = Path(program)
    if arg == program or (Path(arg).name == path.name and path.name.endswith(".py")):
        return True
    module = path.parent if path.stem == "__main__" else path.with_suffix("")
    return module.as_posix().endswith("/" + arg.replace(".", "/"))


def _is_named(message: str, child: dict[str, Any]) -> bool:
    """Whether the error's command is this child's command line and its return code the child's exit."""
    cmd, rc = _called_command(message)
    argv = [str(a) for a in child.get("argv", [])]
    if cmd is None or not argv or len(cmd) < len(argv):
        return False
    status = child.get("exit", 1 if child.get("src") == "excepthook" else None)
    if rc is not None and isinstance(status, int) and status != rc:
        return False
    tail = cmd[len(cmd) - len(argv):]
    return tail[1:] == argv[1:] and _names_program(tail[0], argv[0])


def _messages(failure: dict[str, Any]) -> str:
    """The messages of the exception and its chain, escapes of a quoted text undone (``\\n``, ``\\"``)."""
    parts, exc, depth = [], failure.get("exc"), 0
    while isinstance(exc, dict) and depth < MAX_CHAIN_SCAN:
        parts.append(str(exc.get("m", "")))
        exc, depth = exc.get("cause") or exc.get("ctx"), depth + 1
    text = "\n".join(parts)
    return text.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\") if "\\" in text else text


def _quotes_traceback(failure: dict[str, Any]) -> bool:
    return 'File "' in _messages(failure)


def quotes_child(parent: dict[str, Any], child: dict[str, Any]) -> bool:
    """Whether the parent's message quotes the child's traceback: one of its frames' ``File "…", line N``."""
    frames = [f for f in (child.get("exc") or {}).get("frames", []) if "file" in f and "ln" in f]
    if not frames:
        return False
    text = _messages(parent)
    return any(f'File "{f["file"]}", line {f["ln"]}' in text for f in frames)


def without_quoted_traceback(message: str) -> str:
    """A parent's message with the child's traceback it quotes (which the child's own record shows)
    replaced by a note; what the message says before and after it stays (pytest's ``assert``)."""
    start = message.find(TRACEBACK_HEAD)
    if start < 0:
        return message
    head = re.sub(r"""\s*b?['"]?\s*$""", "", message[:start])  # the opening quote of a repr'd stderr
    # The head's indent (pytest indents a message); its File and source lines are deeper, and
    # the exception line that ends it is back at the head's indent.
    before = _LINE_BREAK.split(message[:start])[-1]
    indent = len(before) if not before.strip() else 0
    rest = message[start:]
    end, seen_file, line_start = len(rest), False, 0
    for number, found in enumerate([*_LINE_BREAK.finditer(rest), None]):
        line_end = found.start() if found else len(rest)
        line = rest[line_start:line_end]
        depth = len(line) - len(line.lstrip())
        if number and (not line.strip() or depth <= indent):
            ends_it = seen_file and line.strip() and depth == indent  # the exception line
            end = (found.end() if found else line_end) if ends_it else line_start
            break
        seen_file = seen_file or 'File "' in line
        line_start = found.end() if found else line_end
    tail = rest[end:].strip().strip("'\"").strip()
    note = f"{head} {QUOTED_NOTE}" if head else QUOTED_NOTE
    return f"{note}\n{tail}" if tail else note


def _is_worker(failure: dict[str, Any]) -> bool:
    return str(failure.get("src", "")).startswith("mp_")


def _is_called_process_error(failure: dict[str, Any]) -> bool:
    return str(failure.get("exc", {}).get("t", "")).endswith("CalledProcessError")


def _ts(failure: dict[str, Any]) -> float:
    ts = failure.get("ts")
    return float(ts) if isinstance(ts, (int, float)) else 0.0


def absorbs(parent: dict[str, Any], failure: dict[str, Any]) -> bool:
    """Whether ``parent``'s failure is the one ``failure`` (a worker's or a child's) surfaced as."""
    if (parent is failure or _is_worker(parent) or parent.get("sid") != failure.get("sid")
            or parent.get("pid") == failure.get("pid")):
        return False
    if not 0 <= _ts(parent) - _ts(failure) <= RELATED_WINDOW_S:
        return False
    if _is_worker(failure):
        return True
    if _is_called_process_error(parent) and _names_child(str(parent["exc"].get("m", "")), failure):
        return True
    return quotes_child(parent, failure)


def _parents(failures: list[dict[str, Any]]) -> dict[int, int]:
    """Index of a failure -> index of the first later failure that absorbs it.

    Only possible parents are looked at: a session's failures outside workers for a
    worker's failure, its ``CalledProcessError`` failures and those quoting a traceback for any other.
    """
    anyone: dict[Any, list[int]] = {}
    callers: dict[Any, list[int]] = {}
    for i, failure in enumerate(failures):
        if not _is_worker(failure):
            anyone.setdefault(failure.get("sid"), []).append(i)
            if _is_called_process_error(failure) or _quotes_traceback(failure):
                callers.setdefault(failure.get("sid"), []).append(i)
    parents = {}
    for i, failure in enumerate(failures):
        pool = (anyone if _is_worker(failure) else callers).get(failure.get("sid"), [])
        start = bisect.bisect_right(pool, i)
        for j in pool[start : start + MAX_PARENT_SCAN]:
            if absorbs(failures[j], failure):
                parents[i] = j
                break
            if _ts(failures[j]) - _ts(failure) > RELATED_WINDOW_S:
                break
    return parents


def _root(index: int, parents: dict[int, int]) -> int:
    while index in parents:
        index = parents[index]
    return index


def _unnamed(failures: list[dict[str, Any]], parents: dict[int, int]) -> set[int]:
    """Children a ``CalledProcessError`` absorbs but does not name (see the module's docstring)."""
    children: dict[int, list[int]] = {}
    for index, parent in sorted(parents.items()):
        if not _is_worker(failures[index]):
            children.setdefault(parent, []).append(index)
    unnamed = set()
    for parent, kids in children.items():
        message = str(failures[parent]["exc"].get("m", ""))
        named = [i for i in kids if _is_named(message, failures[i]) or quotes_child(failures[parent], failures[i])]
        named = named or kids
        unnamed.update(i for i in kids if i != named[-1])
    return unnamed


def group_failures(failures: list[dict[str, Any]]) -> list[Group]:
    """The groups of ``failures`` (oldest first), ordered by each group's newest failure."""
    parents = _parents(failures)
    unnamed = _unnamed(failures, parents)
    behind: dict[int, list[int]] = {}
    apart: dict[int, list[int]] = {}
    for index in sorted(parents):
        chain, root = index, _root(index, parents)
        while chain != root and chain not in unnamed:
            chain = parents[chain]
        (apart if chain != root else behind).setdefault(root, []).append(index)
    by_key: dict[tuple[str, Any] | int, list[int]] = {}
    for index, failure in enumerate(failures):
        if index in parents:
            continue
        base = test_base(failure)
        by_key.setdefault((base, failure.get("sid")) if base else index, []).append(index)
    groups = []
    for members in sorted(by_key.values(), key=lambda m: m[-1]):
        related = sorted(i for m in members for i in behind.get(m, []))
        others = sorted(i for m in members for i in apart.get(m, []))
        groups.append(Group([failures[i] for i in members], [failures[i] for i in related],
                            [failures[i] for i in others]))
    return groups


def same_run(failure: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether two failures come from one run: one session and one process, or cases of one test."""
    if failure.get("sid") != other.get("sid"):
        return False
    base = test_base(failure)
    return failure.get("pid") == other.get("pid") or (base is not None and base == test_base(other))
