"""Where the failure's values came from: the trail calls that produced or received them.

The values a failure is about are the locals and attribute chains named on the
failing statement of the innermost user frame, the calls made on that statement,
and the values quoted in the exception message. Each is matched against the
recorded summaries of the call trail (numbers, short strings, None, bools,
lengths, types) to find the call that returned it (the producer) or, for an
attribute, the method of the same object that was handed it (the setter, then the
call that produced what the setter got). A link reads::

    rate = None <- load_rate(region='UK') -> None [prices.py:4], called in build_quote

Ambiguity policy (no link is better than a false one):

- A local is linked only to a call its own frame made (a direct child of the
  frame's call in the trail), an attribute or a message value to any call under
  a function still on the failing stack; the candidate under the innermost such
  function wins, then the latest.
- A *weak* value (None, a bool, 0, 1, -1, the empty string, a length or a type
  alone) is linked only when something besides equality points at the call: the
  call is made on the failing statement, its name contains the value's name
  (``rate`` and ``load_rate``), a setter's argument is named after the attribute,
  the value is None from a function that returned something else in another
  call or returned early (from a line before its last), or the frame's source
  shows the local assigned from that function (``result = total(cart)``).
- A local the frame's visible source binds (an assignment, a ``for`` target) is linked
  only to a function called where it is bound: ``for n, expected in CASES`` links
  ``expected`` to nothing, however equal a call's result.
- Nothing is said when nothing matches; redacted values never match.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from agentlog.context.trail import short_value

MAX_LINKS = 3  # origin lines per failure
MAX_VIA = 2  # calls inside a linked call shown under its origin line
MAX_VIA_DEPTH = 4  # levels a returned value is followed down through calls that passed it on
MAX_MESSAGE_VALUES = 4  # values taken from the exception message
MAX_MESSAGE_CHARS = 400  # of the message searched for them
MAX_ARGS_SHOWN = 3
MAX_ARG_CHARS = 40
MAX_STATEMENT_LINES = 8  # a failing statement is looked for within this many source lines
MIN_AFFINITY_CHARS = 3  # names shorter than this say nothing about a function's name
_TRIVIAL_NUMBERS = (0.0, 1.0, -1.0)
_MESSAGE_VALUE_RE = re.compile(
    r"""(?P<q>'[^'\n]{1,60}'|"[^"\n]{1,60}")"""
    r"|(?<![\w.])(?P<n>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\w.])"
    r"|\b(?P<w>None|True|False)\b"
)
_WORD_RE = re.compile(r"[a-z0-9]+")


class Value(NamedTuple):
    """A comparable summary of a recorded value; ``text`` is a string's known prefix."""

    kind: str  # none, bool, num, str, len, type
    data: Any  # bool / float / (type, length) / type name; for str: its length
    text: str | None = None

    def matches(self, other: Value) -> bool:
        if self.kind == "str" and other.kind == "str":
            if self.data != other.data:
                return False
            if self.text is None or other.text is None:
                return self.text is None and other.text is None  # two length-only strings
            return self.text.startswith(other.text) or other.text.startswith(self.text)
        return self.kind == other.kind and self.data == other.data

    @property
    def weak(self) -> bool:
        """True when equality alone is too common to mean anything."""
        if self.kind in ("none", "bool", "len", "type"):
            return True
        if self.kind == "num":
            return self.data in _TRIVIAL_NUMBERS
        return self.data == 0 or self.text is None


def value_of(desc: Any) -> Value | None:
    """The comparable summary of a descriptor (a local, an argument, a return value), or None."""
    if not isinstance(desc, dict) or "red" in desc or "same" in desc:
        return None
    t, v = desc.get("t"), desc.get("v")
    if t == "NoneType":
        return Value("none", None)
    if t == "bool" and v in ("True", "False"):
        return Value("bool", v == "True")
    if t in ("int", "float") and isinstance(v, str):
        try:
            return Value("num", float(v))
        except ValueError:
            return None  # ">= 2**63"
    if t == "str" and isinstance(desc.get("l"), int):
        return Value("str", desc["l"], _literal(v))
    if isinstance(desc.get("l"), int):
        return Value("len", (t, desc["l"]))
    return Value("type", t) if isinstance(t, str) else None


def _literal(text: Any) -> str | None:
    """The text a string preview (a repr) holds, or None."""
    if not isinstance(text, str) or text[:1] not in ("'", '"'):
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str) else None


_NOTHING = Value("type", None)  # matches no recorded value


class Subject(NamedTuple):
    """A value the failure is about: ``rate``, ``q.rate``, ``'UK' in the message``."""

    label: str
    value: Value
    scope: str  # local (made by its frame), attr, message
    name: str  # the name that may match a function's or an argument's (last part of a chain)
    shown: str  # the value as the context shows it
    owner_type: str | None = None  # for an attribute: the type of the object it belongs to


class Call(NamedTuple):
    """A trail call item with its position in the call tree."""

    index: int
    item: dict[str, Any]
    parent: int | None


class Link(NamedTuple):
    """One origin line, the trail calls it names, and the lines of the calls its value flowed through."""

    text: str
    calls: tuple[int, ...]
    via: tuple[str, ...] = ()


def _tree(calls: list[dict[str, Any]]) -> list[int | None]:
    """The parent index of every trail item (None at the top); a ``pre`` call adopts the deeper calls before it."""
    parents: list[int | None] = [None] * len(calls)
    stack: list[int] = []
    for i, item in enumerate(calls):
        depth = item.get("d", 0)
        while stack and calls[stack[-1]].get("d", 0) >= depth:
            stack.pop()
        parents[i] = stack[-1] if stack else None
        if item.get("pre"):
            for j in range(i - 1, -1, -1):
                if calls[j].get("d", 0) <= depth:
                    break
                if parents[j] == parents[i] or parents[j] is None:
                    parents[j] = i
        if "ev" not in item:
            stack.append(i)
    return parents


class Provenance:
    """Links for one failure record's newest exception."""

    def __init__(self, failure: dict[str, Any]) -> None:
        trail = failure.get("trail") or {}
        self.calls: list[dict[str, Any]] = [c for c in trail.get("calls") or [] if isinstance(c, dict)]
        self.fns: list[Any] = trail.get("fn") or []
        self.parents = _tree(self.calls)
        self.path = self._failing_path()
        self.on_path = {i: n for n, i in enumerate(self.path)}  # call index -> 0 for the innermost

    # -- the trail

    def _failing_path(self) -> list[int]:
        """The newest call that raised or is still running and the calls it is nested in, innermost first."""
        failing = [i for i, c in enumerate(self.calls) if "ev" not in c and c.get("end") in ("exc", None)]
        path: list[int] = []
        node = failing[-1] if failing else None
        while node is not None:
            path.append(node)
            node = self.parents[node]
        return path

    def _fn(self, index: int) -> list[Any]:
        """The call's function entry: [qualname, file, first line, last line], or []."""
        c = self.calls[index].get("c", -1)
        fn = self.fns[c] if isinstance(c, int) and 0 <= c < len(self.fns) else None
        return fn if isinstance(fn, list) else []

    def qualname(self, index: int) -> str:
        fn = self._fn(index)
        return str(fn[0]) if fn else "?"

    def _last_line(self, index: int) -> int | None:
        fn = self._fn(index)
        return fn[3] if len(fn) > 3 else None

    def returned(self, index: int) -> bool:
        """A call that returned a recorded value (not a generator's resume, not a handled exception)."""
        item = self.calls[index]
        return "ev" not in item and item.get("end") == "ret" and "r" in item and not item.get("k")

    def _nearness(self, index: int) -> int:
        """How close a call is to the failure: the larger the nearer (under the innermost failing call
        the largest), -1 under no call of the failing stack."""
        node = self.parents[index]
        while node is not None:
            if node in self.on_path:
                return len(self.path) - self.on_path[node]
            node = self.parents[node]
        return -1

    def frame_call(self, qualname: str) -> int | None:
        """The innermost failing-path call of ``qualname`` (the frame's own call)."""
        return next((i for i in self.path if self.qualname(i) == qualname), None)

    def children(self, parent: int) -> Iterator[int]:
        """The calls made directly by call ``parent``, oldest first."""
        return (i for i in range(parent + 1, len(self.calls)) if self.parents[i] == parent)

    # -- matching

    def _returned_early(self, index: int) -> bool:
        """Returned from a line other than the function's last line with code."""
        line, last = self.calls[index].get("ln"), self._last_line(index)
        return bool(line and last and line != last)

    def _early_or_unusual_none(self, index: int) -> bool:
        """A None from a line before the function's last, or from a function that returned other values."""
        if self._returned_early(index):
            return True
        c = self.calls[index].get("c")
        return any(other.get("c") == c and other.get("end") == "ret" and
                   (value_of(other.get("r")) or Value("none", None)).kind != "none"
                   for other in self.calls if "ev" not in other)

    def _affinity(self, name: str, index: int) -> bool:
        """Whether ``name`` (``rate``) is a word of the called function's name (``load_rate``)."""
        if len(name) < MIN_AFFINITY_CHARS:
            return False
        function = self.qualname(index).rpartition(".")[2].lower()
        return name.lower() in _WORD_RE.findall(function) or name.lower() == function.strip("_")

    def producer_ok(self, subject: Subject, index: int, on_line: set[str]) -> bool:
        """Whether call ``index`` returned the subject's value and, for a weak value, something more
        points at it (``on_line``: functions the statement calls or assigns the subject from)."""
        if not self.returned(index):
            return False
        found = value_of(self.calls[index].get("r"))
        if found is None or not found.matches(subject.value):
            return False
        if not subject.value.weak:
            return True
        function = self.qualname(index).rpartition(".")[2]
        if function in on_line or self._affinity(subject.name, index):
            return True
        return subject.value.kind == "none" and self._early_or_unusual_none(index)

    def producer(self, subject: Subject, frame_call: int | None, on_line: set[str]) -> int | None:
        """The call that returned the subject's value, by the policy in the module docstring.

        ``on_line``: functions called on the failing statement or assigning the subject there.
        """
        if subject.scope == "local":
            return self._local_producer(subject, frame_call, on_line)
        found = [i for i in range(len(self.calls)) if self._nearness(i) >= 0 and self.producer_ok(subject, i, on_line)]
        return max(found, key=lambda i: (self._nearness(i), i), default=None)

    def _local_producer(self, subject: Subject, node: int | None, on_line: set[str]) -> int | None:
        """A call the frame made that returned the local's value; for a parameter, one its caller
        made before the call (and so on up the failing stack while the value was passed on, under
        the name it was passed as: a weak value only under the same name or, an object, as the
        caller's only argument of its type), up to the calls at the top of the trail."""
        end = len(self.calls)
        if node is None:
            return None
        level: int | None = node
        while True:
            children = [i for i in range(end) if self.parents[i] == level and (level is None or i > level)]
            found = [i for i in children if self.producer_ok(subject, i, on_line)]
            if found or level is None:
                return found[-1] if found else None
            args = self.calls[level].get("a") or {}
            passed = [name for name, d in args.items() if (value_of(d) or _NOTHING).matches(subject.value)]
            if subject.name in passed:
                name = subject.name
            elif len(passed) == 1 and (not subject.value.weak or subject.value.kind == "type"):
                name = passed[0]
            else:
                return None
            subject = subject._replace(name=name)
            level, end, on_line = self.parents[level], level, set()

    def setter(self, subject: Subject) -> tuple[int, str] | None:
        """The latest method of the subject's object that was handed its value under the attribute's name."""
        if subject.owner_type is None:
            return None
        owner = subject.owner_type.rpartition(".")[2]
        found = None
        for i, item in enumerate(self.calls):
            args = item.get("a") or {}
            if "ev" in item or not args or (self._nearness(i) < 0 and i not in self.on_path):
                continue
            first, *rest = args.items()
            if first[0] != "self" or first[1].get("t") != subject.owner_type:
                continue
            qualname = self.qualname(i)
            if qualname.rpartition(".")[0].rpartition(".")[2] != owner:
                continue
            method = qualname.rpartition(".")[2]
            named = method in (subject.name, f"set_{subject.name}", f"set{subject.name}")
            for name, desc in rest:
                value = value_of(desc)
                if value and value.matches(subject.value) and (name == subject.name or (named and len(rest) == 1)):
                    found = (i, name)
        return found

    # -- flow inside a call

    def produced(self, index: int) -> Value | None:
        """What call ``index`` returned or yielded (not a handled exception), as a comparable value."""
        item = self.calls[index]
        if "ev" in item or item.get("end") not in ("ret", "yield") or "r" not in item or item.get("k"):
            return None
        return value_of(item["r"])

    def _strong_args(self, index: int) -> list[Value]:
        args = (self.calls[index].get("a") or {}).values()
        return [v for v in map(value_of, args) if v is not None and not v.weak]

    def flow(self, index: int) -> list[int]:
        """The calls inside call ``index`` its value flowed through, most telling first.

        First the call that handed its result back unchanged (the last call made, returning
        what ``index`` returned; followed down while it too passed a result on), then the calls
        whose strong result became a later call's argument or whose strong argument was one of
        the caller's own: equality on the recorded summaries, as for the links themselves.
        """
        chain: list[int] = []
        node = index
        for _ in range(MAX_VIA_DEPTH):
            kids = [i for i in self.children(node) if "ev" not in self.calls[i]]
            result = self.produced(node)
            last = self.produced(kids[-1]) if kids else None
            if result is None or last is None or result.kind in ("none", "type") or not last.matches(result):
                break
            node = kids[-1]
            chain.append(node)
        found: list[int] = []
        made = self.produced(index)
        for parent in (index, *chain):
            kids = [i for i in self.children(parent) if "ev" not in self.calls[i] and i not in chain]
            given = self._strong_args(parent)
            for k, i in enumerate(kids):
                out = self.produced(i)
                feeds = out is not None and not out.weak and any(
                    out.matches(v) for j in kids[k + 1:] + [c for c in chain if c > i] for v in self._strong_args(j))
                # A helper handed the caller's argument counts only if it made a value of the caller's
                # kind (slug(text) -> str: strip_accents(text) -> str, not count_words(text) -> 1).
                takes = (out is not None and made is not None and not out.weak and out.kind == made.kind
                         and any(v.matches(g) for v in self._strong_args(i) for g in given))
                if feeds or takes:
                    found.append(i)
        return list(dict.fromkeys(chain + self._built(index) + found))[:MAX_VIA]

    def latest_alike(self, index: int) -> int | None:
        """The latest call made by call ``index`` whose result is strong and of the same kind as its own."""
        result = self.produced(index)
        if result is None:
            return None
        alike = [i for i in self.children(index) if "ev" not in self.calls[i]
                 and (made := self.produced(i)) is not None and not made.weak and made.kind == result.kind]
        return alike[-1] if alike else None

    def _self_type(self, index: int) -> str | None:
        """The type of a method call's ``self``, or None."""
        first = next(iter((self.calls[index].get("a") or {}).items()), None)
        kind = first[1].get("t") if first and first[0] == "self" and isinstance(first[1], dict) else None
        return kind if isinstance(kind, str) else None

    def _built(self, index: int) -> list[int]:
        """For a method: the call that made its object (the only earlier call of its caller that
        returned that type, when no argument of the caller has it), then the object's
        ``__init__`` inside that call."""
        parent, kind = self.parents[index], self._self_type(index)
        if parent is None or kind is None:
            return []
        makers = [i for i in self.children(parent) if i < index and (self.produced(i) or _NOTHING).matches(
            Value("type", kind))] if kind else []
        handed = ((self.calls[parent].get("a") or {}).values())
        if len(makers) != 1 or any(isinstance(d, dict) and d.get("t") == kind for d in handed):
            return []
        inits = [i for i in self.children(makers[0]) if self.qualname(i).rpartition(".")[2] == "__init__"
                 and self._self_type(i) == kind]
        return [makers[0], *inits[-1:]]

    # -- text

    def call_text(self, index: int, result: bool = True) -> str:
        """``load_rate(region='UK') -> None from line 5 [prices.py:4]``."""
        item = self.calls[index]
        args = []
        for pos, (name, desc) in enumerate((item.get("a") or {}).items()):
            if pos == 0 and name in ("self", "cls"):
                continue
            text = short_value(desc) if "v" in desc or "l" in desc else f"<{desc.get('t', '?')}>"
            args.append(f"{name}={text[: MAX_ARG_CHARS - 1] + '…' if len(text) > MAX_ARG_CHARS else text}")
        more = ", …" if len(args) > MAX_ARGS_SHOWN else ""
        text = f"{self.qualname(index)}({', '.join(args[:MAX_ARGS_SHOWN])}{more})"
        if result and self.returned(index):
            text += f" -> {short_value(item['r'])}"
            if self._returned_early(index):
                text += f" from line {item['ln']}"
        elif result and self.produced(index) is not None:
            text += f" yielded {short_value(item['r'])}"
        fn = self._fn(index)
        if len(fn) > 2:
            text += f" [{os.path.basename(str(fn[1]))}:{fn[2]}]"
        return text

    def caller_text(self, index: int) -> str:
        """``, called in build_quote`` (nothing for a call at the top of the trail)."""
        parent = self.parents[index]
        return f", called in {self.qualname(parent)}" if parent is not None else ""


def failing_statement(frame: dict[str, Any]) -> ast.AST | None:
    """The failing statement of a frame as an AST: the source lines its ``st`` span names (the
    whole statement, capture/statements.py), else the shortest run of source lines around the
    failing line that parses."""
    src = [line for line in frame.get("src") or [] if isinstance(line, list) and len(line) == 2]
    span = statement_span(frame)
    if span is not None:
        parsed = _parse("\n".join(str(text) for n, text in src if span[0] <= n <= span[1]))
        if parsed is not None:
            return parsed
    at = next((k for k, (n, _) in enumerate(src) if n == frame.get("ln")), None)
    if at is None:
        return None
    spans = sorted(((start, end) for start in range(at, -1, -1) for end in range(at, len(src))
                    if end - start < MAX_STATEMENT_LINES), key=lambda s: (s[1] - s[0], at - s[0]))
    for start, end in spans:
        parsed = _parse("\n".join(str(text) for _, text in src[start : end + 1]))
        if parsed is not None:
            return parsed
    return None


def statement_span(frame: dict[str, Any]) -> tuple[int, int] | None:
    """The failing statement's first and last line (the frame's ``st`` field), if recorded and sane."""
    span = frame.get("st")
    if (isinstance(span, list) and len(span) == 2 and all(type(n) is int for n in span)
            and span[0] <= frame.get("ln", span[0]) <= span[1]):
        return span[0], span[1]
    return None


def _parse(text: str) -> ast.AST | None:
    import textwrap

    body = textwrap.dedent(text).strip()
    if not body:
        return None
    body = re.sub(r"^(elif|while)\b", "if", body)
    for candidate in (body, body + " pass"):
        try:
            return ast.parse(candidate)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
    return None


def _chain(node: ast.AST) -> list[str] | None:
    """``q.rate`` -> ["q", "rate"]; None for anything but names and attributes."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(parts)]


def statement_names(tree: ast.AST) -> tuple[list[list[str]], set[str]]:
    """(name and attribute chains read on the statement, in order; names of the functions it calls)."""
    chains: list[list[str]] = []
    called: set[str] = set()
    callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    inner = set()  # nodes that are part of a longer chain
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name:
                called.add(name)
        if isinstance(node, ast.Attribute):
            inner.add(id(node.value))
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Name, ast.Attribute)) or id(node) in inner:
            continue
        chain = _chain(node)
        if chain is None:
            continue
        if id(node) in callees:
            chain = chain[:-1]  # q.total() reads q; a bare f() reads nothing
        if chain and chain not in chains:
            chains.append(chain)
    return chains, called


_FOR_RE = re.compile(r"^\s*(?:async\s+)?for\s+(.+?)\s+in\b(.*)$")
_BIND_RE = re.compile(r"^\s*([A-Za-z_][\w\s,.\[\]*]*?)\s*(?:[-+*/%|&@^]|//|\*\*|>>|<<)?=(?!=)(.*)$")
_CALLED_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def binders(frame: dict[str, Any], name: str) -> set[str] | None:
    """Functions called where the frame's recorded source lines bind the local ``name`` (an
    assignment, a ``for`` target), or None when no recorded line binds it. An empty set: it is
    bound without a call (``for n, expected in [...]``), so no call of the frame made it."""
    target = re.compile(rf"(?<![\w.]){re.escape(name)}\b(?!\s*[.\[])")
    found: set[str] | None = None
    for line in frame.get("src") or []:
        text = str(line[1]) if isinstance(line, list) and len(line) == 2 else ""
        match = _FOR_RE.match(text) or _BIND_RE.match(text)
        if match and target.search(match.group(1)):
            found = (found or set()) | set(_CALLED_RE.findall(match.group(2)))
    return found


def _attr_desc(desc: Any, attrs: list[str]) -> tuple[Any, str | None]:
    """The descriptor at ``desc.a.b`` and the type of the object holding the last attribute."""
    owner = None
    for attr in attrs:
        if not isinstance(desc, dict) or not isinstance(desc.get("attrs"), dict):
            return None, None
        owner = desc.get("t")
        desc = desc["attrs"].get(attr)
    return desc, owner


def subjects(frame: dict[str, Any], message: str) -> tuple[list[Subject], set[str]]:
    """The values the failure is about (see the module docstring) and the functions the statement calls."""
    out: list[Subject] = []
    called: set[str] = set()
    tree = failing_statement(frame)
    locals_ = frame.get("loc") if isinstance(frame.get("loc"), dict) else {}
    roots: list[str] = []
    if tree is not None:
        chains, called = statement_names(tree)
        for whole in chains:
            # The longest part of the chain the record resolves (``user`` when ``user`` is None).
            for chain in (whole[:k] for k in range(len(whole), 0, -1)):
                desc, owner = _attr_desc(locals_.get(chain[0]), chain[1:])
                value = value_of(desc)
                if value is not None:
                    break
            if value is None or any(s.label == ".".join(chain) for s in out):
                continue
            if len(chain) > 1:  # the object too, after the values: where it was made
                roots.append(chain[0])
            scope = "attr" if len(chain) > 1 else "local"
            shown = f"<{value.data}>" if value.kind == "type" else short_value(desc)
            out.append(Subject(".".join(chain), value, scope, chain[-1], shown, owner))
        for root in dict.fromkeys(roots):
            value = value_of(locals_.get(root))
            if value is not None and value.kind == "type" and not any(s.label == root for s in out):
                out.append(Subject(root, value, "local", root, f"<{value.data}>"))
    for match in list(_MESSAGE_VALUE_RE.finditer(message[:MAX_MESSAGE_CHARS]))[:MAX_MESSAGE_VALUES]:
        value = _message_value(match)
        if value is not None and not any(s.value.matches(value) for s in out):
            out.append(Subject(f"{match.group()} (in the message)", value, "message", "", match.group()))
    return out, called


def _message_value(match: re.Match[str]) -> Value | None:
    if match.group("q"):
        text = match.group("q")[1:-1]
        return Value("str", len(text), text)
    if match.group("n"):
        return Value("num", float(match.group("n")))
    word = match.group("w")
    return Value("none", None) if word == "None" else Value("bool", word == "True")


def _named_by(subject: Subject, message: str) -> bool:
    """Whether the message names the subject's value or its type (``'NoneType'``, ``'str'``)."""
    value = subject.value
    if subject.scope == "message":
        return True
    if value.kind == "none":
        return "None" in message
    if value.kind == "num":
        return re.search(rf"(?<![\w.]){re.escape(subject.shown)}(?!\w)", message) is not None
    kind = {"bool": "bool", "str": "str", "len": value.data[0] if value.kind == "len" else None,
            "type": value.data}.get(value.kind)
    return bool(kind) and re.search(rf"\b{re.escape(str(kind).rpartition('.')[2])}\b", message) is not None


def links(failure: dict[str, Any], exc: dict[str, Any] | None = None) -> list[Link]:
    """Origin lines for the failure's exception (``exc``, default the record's), most telling first."""
    exc = exc if exc is not None else failure.get("exc") or {}
    frames = [f for f in exc.get("frames") or [] if isinstance(f, dict) and f.get("u")]
    if not frames:
        return []
    trail = Provenance(failure)
    if not trail.calls:
        return []
    frame = frames[0]
    message = str(exc.get("m") or "")
    found, on_line = subjects(frame, message)
    # The values the message names first, objects known only by their type last; statement order otherwise.
    found.sort(key=lambda s: (not _named_by(s, message), s.value.kind == "type"))
    frame_call = trail.frame_call(str(frame.get("f")))
    out: list[Link] = []
    used: set[int] = set()
    for subject in found:
        # Weak values may follow the statement's calls only where it assigns them, or says them;
        # a local the visible source binds comes only from a call made where it is bound.
        bound = binders(frame, subject.name) if subject.scope == "local" else None
        evidence = (bound or set()) | (on_line if subject.scope == "message" else set())
        link = _link(trail, subject, frame_call, evidence, used, on_line, bound)
        if link:
            out.append(link)
            used.update(link.calls)
        if len(out) == MAX_LINKS:
            return out
    # Calls made on the failing statement whose results no named value carries (``assert total(x) == 3``):
    # each function's latest call only (an earlier one was made by an earlier pass of a loop).
    if frame_call is not None:
        for i in reversed(list(trail.children(frame_call))):
            function = trail.qualname(i).rpartition(".")[2]
            if function not in on_line or not trail.returned(i):
                continue
            on_line = on_line - {function}
            if i not in used and len(out) < MAX_LINKS:
                out.append(_with_via(trail, Link(f"  origin: {trail.call_text(i)}, called on the failing line", (i,))))
                used.add(i)
    return out


def _link(trail: Provenance, subject: Subject, frame_call: int | None, on_line: set[str],
          used: set[int], called: set[str], bound: set[str] | None = None) -> Link | None:
    """The origin line of one subject; ``called``: the functions the failing statement calls;
    ``bound``: for a local the source binds, the functions called where it is bound."""
    head = f"  origin: {subject.label}" + (f" = {subject.shown}" if subject.scope != "message" else "")
    setter = trail.setter(subject) if subject.scope == "attr" else None
    if setter is not None:
        index, arg = setter
        text = f"{head} <- set by {trail.call_text(index, result=False)}{trail.caller_text(index)}"
        handed = Subject(arg, subject.value, "attr", arg, subject.shown)
        parent = trail.parents[index]
        before = None
        if parent is not None:
            source = [i for i in trail.children(parent) if i < index and trail.producer_ok(handed, i, set())]
            before = source[-1] if source else None
        if before is not None:
            text += f", from {trail.call_text(before)}"
            return _with_via(trail, Link(text, (index, before)))
        return Link(text, (index,))
    index = trail.producer(subject, frame_call, on_line)
    if index is None or index in used:
        return None
    if bound is not None and trail.qualname(index).rpartition(".")[2] not in bound:
        return None  # equal, but the source binds the local from something else
    function = trail.qualname(index).rpartition(".")[2]
    where = ", called on the failing line" if trail.parents[index] == frame_call and function in called \
        else trail.caller_text(index)
    return _with_via(trail, Link(f"{head} <- {trail.call_text(index)}{where}", (index,)))


def _with_via(trail: Provenance, link: Link) -> Link:
    """``link`` with the calls inside its last named call that the value flowed through, or
    else the latest call inside it that made a value of the same kind."""
    via = tuple(f"    via {trail.call_text(i)}" for i in trail.flow(link.calls[-1]))
    if not via:
        made = trail.latest_alike(link.calls[-1])
        via = (f"    inside it: {trail.call_text(made)}",) if made is not None else ()
    return link._replace(via=via)
