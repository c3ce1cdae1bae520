"""Bounded, redacted, cycle-safe value descriptors (docs/FORMAT.md, "Value descriptors").

A :class:`Describer` walks a value carrying the remaining depth and a size
budget. On builtins it never calls the value's own ``repr``/``len``/``__iter__``:
it calls the builtin base type's slots on a slice, so a preview costs what it
shows. A user ``__repr__`` (or an exception's ``__str__``) runs only on a helper
thread, with a timeout and a per-record budget, and never for types whose repr
may have side effects (:data:`NO_REPR_CLASSES`). Redaction comes first: a
secret-looking name hides its value unseen, and every preview and note passes
through :func:`agentlog.redact.redact_text`.

BaseException policy: anything a user ``__repr__``/``__str__`` raises, including
``SystemExit`` and ``KeyboardInterrupt``, is raised on the helper thread, where
it cannot mean "stop the program" (signals reach only the main thread), so it
becomes a note. A real Ctrl-C arrives in the describing thread while it waits
and propagates untouched; per node only ``Exception`` is caught.
"""

from __future__ import annotations

import collections
import enum
import io
import os
import queue
import re
import threading
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from functools import cache
from itertools import chain, islice
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from agentlog.redact import is_secret_name, marker, redact_text

# Text redacted past the preview cut, so a secret straddling the cut is still caught whole.
REDACT_MARGIN_CHARS = 256
# Approximate JSON bytes of one descriptor besides its preview (keys, braces, type name).
NODE_JSON_BYTES = 24
# describe_locals: the entry that counts names not shown, as {"more": N}.
MORE_KEY = "..."
# Locals whose attributes are shown without spending a depth level.
SELF_NAMES = frozenset({"self", "cls"})
REPR_THREAD_NAME = "agentlog-repr"

# Types never repr'd because repr may query a database, consume data or do I/O.
# Matched against every class in the MRO: root module name -> class names.
NO_REPR_CLASSES: dict[str, frozenset[str]] = {
    "builtins": frozenset({"generator", "coroutine", "async_generator"}),
    "_io": frozenset({"_IOBase"}),
    "_socket": frozenset({"socket"}),
    "django": frozenset({"QuerySet", "RawQuerySet", "Query", "LazyObject", "SimpleLazyObject"}),
    "sqlalchemy": frozenset({"Query"}),
    "werkzeug": frozenset({"LocalProxy"}),
}
# Besides those, any type defining both __getattr__ and __wrapped__ (a transparent proxy).

_SCALAR_TYPES = (bool, float, complex, type(None), type(...), type(NotImplemented))
_SEQUENCE_TYPES = (list, tuple, set, frozenset, range, collections.deque)
_SEQUENCE_TYPES += (type({}.keys()), type({}.values()), type({}.items()))
_GENERATOR_TYPES = (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)
_FILE_ATTRS = ("name", "mode", "closed")
_DEFINITION_TYPES = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)

# Types whose user repr timed out once: never repr'd again by this process.
_SLOW_TYPES: set[type] = set()


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on the descriptors of one failure record."""

    max_str_chars: int = 200  # characters of a preview or note
    max_items: int = 10  # items, entries or attributes shown per container
    max_depth: int = 3  # container levels shown below the described value
    repr_timeout_ms: int = 50  # wall time allowed to one user __repr__
    max_reprs: int = 200  # user __repr__ calls per Describer
    max_value_bytes: int = 6 * 1024  # approximate JSON size of one described value
    max_locals: int = 50  # names per describe_locals call

    @classmethod
    def from_config(cls, config: object) -> Limits:
        """Limits from a :class:`agentlog.config.Config`; fields it lacks keep defaults."""
        return cls(**{f.name: getattr(config, f.name) for f in fields(cls) if hasattr(config, f.name)})


def _type_name(cls: type) -> str:
    """Bare name for builtins, ``module.QualName`` otherwise."""
    module = getattr(cls, "__module__", None)
    qualname = getattr(cls, "__qualname__", None)
    if not isinstance(qualname, str):
        qualname = cls.__name__
    return f"{module}.{qualname}" if isinstance(module, str) and module != "builtins" else qualname


def _qualified(obj: object) -> str:
    """``module.qualname`` of a function-like object, without calling user code."""
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", "?")
    name = name if isinstance(name, str) else "?"
    return f"{module}.{name}" if isinstance(module, str) and module != "builtins" else name


def _module_name(module: types.ModuleType) -> str:
    """A module's name read from its dict, so lazy modules are not loaded."""
    name = object.__getattribute__(module, "__dict__").get("__name__")
    return name if isinstance(name, str) else "?"


def _exc_text(exc: BaseException) -> str:
    """``TypeName: message``; unbounded, callers bound and redact it."""
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - a user __str__ failing must not hide the type
        message = "<str() failed>"
    return f"{_type_name(type(exc))}: {message}" if message else _type_name(type(exc))


def _bytes_repr(text: str) -> str:
    return repr(text.encode("latin-1"))


@cache
def _marker_re() -> re.Pattern[str]:
    prefix, _, suffix = marker("\0").partition("\0")
    return re.compile(f"{re.escape(prefix)}(.+?){re.escape(suffix)}")


def _redaction_kind(text: str) -> str:
    """The kind named by the first redaction marker in text."""
    found = _marker_re().search(text)
    return found.group(1) if found else "pattern"


def _skips_repr(cls: type) -> bool:
    """True for types in :data:`NO_REPR_CLASSES` (any base) and for transparent proxies."""
    mro = cls.__mro__
    for klass in mro:
        module = getattr(klass, "__module__", None)
        root = module.partition(".")[0] if isinstance(module, str) else ""
        if klass.__name__ in NO_REPR_CLASSES.get(root, ()):
            return True
    return any("__wrapped__" in k.__dict__ for k in mro) and any("__getattr__" in k.__dict__ for k in mro)


def _is_namedtuple(cls: type) -> bool:
    fields_ = getattr(cls, "_fields", None) if issubclass(cls, tuple) else None
    return isinstance(fields_, tuple) and all(isinstance(f, str) for f in fields_)


def _slot_values(value: object, cls: type) -> Iterator[tuple[str, object]]:
    """(name, value) of every set ``__slots__`` member, read through its descriptor."""
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if not isinstance(slot, str) or slot in ("__dict__", "__weakref__"):
                continue
            mangled = slot.startswith("__") and not slot.endswith("__")
            key = f"_{klass.__name__.lstrip('_')}{slot}" if mangled else slot
            member = klass.__dict__.get(key)
            if isinstance(member, types.MemberDescriptorType):
                try:
                    yield slot, member.__get__(value, klass)
                except AttributeError:  # declared but never assigned
                    continue


# ------------------------------------------------------------ guarded user calls


class _Call:
    """One user ``repr``/``str`` call handed to the helper thread."""

    __slots__ = ("done", "error", "func", "text", "value")

    def __init__(self, func: Callable[[object], str], value: object) -> None:
        self.func = func
        self.value = value
        self.text: str | None = None
        self.error: str | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self.text = str.__str__(self.func(self.value))  # a plain str, never a subclass
        except BaseException as exc:  # noqa: BLE001 - user code raised it here; see module doc
            self.error = _exc_text(exc)
        finally:
            self.value = None
            self.done.set()


class _ReprThread:
    """A daemon thread running user calls; abandoned (left to finish alone) on a timeout."""

    def __init__(self) -> None:
        self.abandoned = False
        self._calls: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        threading.Thread(target=self._serve, name=REPR_THREAD_NAME, daemon=True).start()

    def _serve(self) -> None:
        try:
            while not self.abandoned:
                self._calls.get().run()
        finally:
            self.abandoned = True

    def call(self, func: Callable[[object], str], value: object, timeout_s: float) -> _Call | None:
        """The finished call, or None (and this thread abandoned) if it timed out."""
        job = _Call(func, value)
        self._calls.put(job)
        if job.done.wait(timeout_s):
            return job
        self.abandoned = True
        return None


_helper: _ReprThread | None = None
_helper_lock = threading.Lock()


def _run_guarded(func: Callable[[object], str], value: object, timeout_s: float) -> _Call | None:
    """Run ``func(value)`` on the helper thread; None on timeout. One call at a time."""
    global _helper
    with _helper_lock:
        if _helper is None or _helper.abandoned:
            _helper = _ReprThread()  # RuntimeError at interpreter shutdown
        helper = _helper
        try:
            return helper.call(func, value, timeout_s)
        except BaseException:
            helper.abandoned = True  # interrupted while waiting: the call may still run
            raise


def _forget_helper() -> None:
    """In a forked child the helper thread does not exist; start afresh."""
    global _helper, _helper_lock
    _helper = None
    _helper_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helper)


# ------------------------------------------------------------------ the walker

Descriptor = dict[str, Any]
Filler = Callable[["Describer", Descriptor, Any, type, int], None]
# (label, name to redact by or None, value) for each child of a container.
Entry = tuple[Any, str | None, object]

_REF_LABELS: dict[type, Callable[[Any], str]] = {
    type: lambda c: f"class {_type_name(c)}",
    types.ModuleType: lambda m: f"module {_module_name(m)}",
    types.FunctionType: lambda f: f"function {_qualified(f)}",
    types.BuiltinFunctionType: lambda f: f"built-in function {_qualified(f)}",
    types.MethodType: lambda m: f"method {_qualified(m.__func__)}",
    types.CodeType: lambda c: f"code {c.co_qualname} at {c.co_filename}:{c.co_firstlineno}",
    types.FrameType: lambda f: f"frame {f.f_code.co_qualname} at {f.f_code.co_filename}:{f.f_lineno}",
}


class Describer:
    """One per failure record: holds the repr budget, the size budget and the type cache.

    Not thread-safe. Types whose repr timed out are remembered process-wide.
    """

    __slots__ = ("_ancestors", "_fillers", "_reprs_left", "_spent", "limits")

    def __init__(self, limits: Limits | None = None) -> None:
        if limits is None:
            from agentlog.config import get_config

            limits = Limits.from_config(get_config())
        self.limits = limits
        self._reprs_left = limits.max_reprs
        self._ancestors: set[int] = set()  # ids on the path from the root: cycles only
        self._fillers: dict[type, tuple[Filler, type]] = {}
        self._spent = 0  # approximate JSON bytes of the value being described

    def describe(self, value: object, name: str | None = None) -> Descriptor:
        """Descriptor of value; a secret-looking ``name`` hides it without looking at it."""
        self._spent = 0
        return self._node(value, name, self.limits.max_depth)

    def describe_locals(self, f_locals: Mapping[str, object]) -> dict[str, Descriptor]:
        """Descriptors of a frame's locals.

        ``self``/``cls`` get their attributes at full depth. Dunder names are
        skipped; in a module frame (its locals are the globals) so are modules,
        functions and classes. At most ``max_locals`` names; the rest are
        counted under :data:`MORE_KEY`.
        """
        module_level = "__builtins__" in f_locals
        out: dict[str, Descriptor] = {}
        hidden = 0
        for name, value in f_locals.items():
            if not isinstance(name, str) or (name.startswith("__") and name.endswith("__")):
                continue
            if module_level and issubclass(type(value), _DEFINITION_TYPES):
                continue
            if len(out) >= self.limits.max_locals:
                hidden += 1
                continue
            self._spent = 0
            depth = self.limits.max_depth + (name in SELF_NAMES)
            out[name] = self._node(value, name, depth)
        if hidden:
            out[MORE_KEY] = {"more": hidden}
        return out

    # -- walking

    def _node(self, value: object, name: str | None, depth: int) -> Descriptor:
        """Describe one value with ``depth`` container levels left below it."""
        cls = type(value)
        d: Descriptor = {"t": _type_name(cls)}
        key = id(value)
        if name is not None and is_secret_name(name):
            d["v"] = marker("name")
            d["red"] = "name"
        elif key in self._ancestors:
            d["note"] = "cycle"
        else:
            self._ancestors.add(key)
            try:
                fill, base = self._resolve(cls)
                fill(self, d, value, base, depth)
            except Exception as exc:  # noqa: BLE001 - a bad value becomes a marker, not a lost record
                d = {"t": d["t"]}
                self._add_note(d, f"describe failed: {_exc_text(exc)}")
            finally:
                self._ancestors.discard(key)
        self._spent += NODE_JSON_BYTES + len(encode_basestring_ascii(d.get("v", "")))
        return d

    def _resolve(self, cls: type) -> tuple[Filler, type]:
        """The filler for a type and the base class it handles, cached per type."""
        found = self._fillers.get(cls)
        if found is None:
            if _skips_repr(cls):
                found = (Describer._fill_no_repr, cls)
            elif issubclass(cls, enum.Enum):  # before int/str: IntEnum, StrEnum
                found = (Describer._fill_enum, cls)
            elif _is_namedtuple(cls):
                found = (Describer._fill_namedtuple, cls)
            else:  # object is in the table, so the MRO always ends in a match
                found = next((_BY_TYPE[b], b) for b in cls.__mro__ if b in _BY_TYPE)
            self._fillers[cls] = found
        return found

    def _add_children(self, d: Descriptor, key: str, entries: Iterator[Entry], total: int, depth: int) -> None:
        """Describe up to ``max_items`` entries into ``d[key]``; count the rest in ``more``."""
        if depth <= 0:
            if total:
                self._add_note(d, "depth")
            return
        shown: list[tuple[Any, Descriptor]] = []
        for label, name, child in islice(entries, self.limits.max_items):
            if self._spent >= self.limits.max_value_bytes:
                self._add_note(d, "size")
                break
            shown.append((label, self._node(child, name, depth - 1)))
        if shown:
            if key == "items":
                d[key] = [node for _, node in shown]
            elif key == "map":
                d[key] = [[label, node] for label, node in shown]
            else:
                d[key] = dict(shown)
        if total > len(shown):
            d["more"] = total - len(shown)

    # -- text

    def _clean(self, text: str) -> tuple[str, str | None, bool]:
        """Redact text's head and cut it: (shown, redaction kind or None, was cut)."""
        n = self.limits.max_str_chars
        head = text[: n + REDACT_MARGIN_CHARS]
        clean = redact_text(head)
        kind = _redaction_kind(clean) if clean != head else None
        return clean[:n], kind, len(clean) > n or len(text) > len(head)

    def _set_v(
        self,
        d: Descriptor,
        text: str,
        total: int | None = None,
        render: Callable[[str], str] | None = None,
    ) -> None:
        """Set the preview ``v`` (and ``x``, ``red``) from text of original length ``total``."""
        shown, kind, cut = self._clean(text)
        d["v"] = render(shown) if render else shown
        if cut:
            d["x"] = (len(text) if total is None else total) - self.limits.max_str_chars
        if kind:
            d.setdefault("red", kind)

    def _add_note(self, d: Descriptor, note: str) -> None:
        shown, kind, _ = self._clean(note)
        d["note"] = f"{d['note']}; {shown}" if "note" in d else shown
        if kind:
            d.setdefault("red", kind)

    def _key_preview(self, key: object) -> str:
        node = self._node(key, None, 0)
        return node.get("v") or f"<{node['t']}>"

    def _user_text(self, func: Callable[[object], str], value: object, cls: type) -> tuple[str | None, str | None]:
        """Guarded ``func(value)`` (repr or str): (text, None) or (None, note)."""
        label = func.__name__
        if cls in _SLOW_TYPES:
            return None, f"{label} skipped: slow type"
        if self._reprs_left <= 0:
            return None, f"{label} skipped: budget"
        self._reprs_left -= 1
        timeout_ms = self.limits.repr_timeout_ms
        try:
            call = _run_guarded(func, value, timeout_ms / 1000)
        except RuntimeError:  # no new threads at interpreter shutdown
            return None, f"{label} skipped: no helper thread"
        if call is None:
            _SLOW_TYPES.add(cls)
            return None, f"{label} timed out after {timeout_ms} ms"
        if call.error is not None:
            return None, f"{label} raised {call.error}"
        return call.text, None

    # -- fillers: (describer, descriptor to fill, value, base type handled, depth)

    def _fill_text(self, d: Descriptor, value: Any, base: type, depth: int) -> None:
        total = base.__len__(value)
        d["l"] = total
        head = base.__getitem__(value, slice(0, self.limits.max_str_chars + REDACT_MARGIN_CHARS))
        if base is str:
            self._set_v(d, head, total, repr)
        else:
            self._set_v(d, bytes(head).decode("latin-1"), total, _bytes_repr)

    def _fill_int(self, d: Descriptor, value: Any, base: type, depth: int) -> None:
        bits = int.bit_length(value)
        # Digits beyond a preview are waste, and past 4300 digits int.__repr__ raises.
        if bits > 3 * self.limits.max_str_chars:
            d["v"] = f"<{'-' if int.__lt__(value, 0) else ''}{bits}-bit int>"
        else:
            self._set_v(d, int.__repr__(value))

    def _fill_scalar(self, d: Descriptor, value: Any, base: type, depth: int) -> None:
        self._set_v(d, base.__repr__(value))

    def _fill_seq(self, d: Descriptor, value: Any, base: type, depth: int) -> None:
        total = base.__len__(value)
        d["l"] = total
        entries = ((None, None, item) for item in base.__iter__(value))
        self._add_children(d, "items", entries, total, depth)

    def _fill_map(self, d: Descriptor, value: Any, base: type, depth: int) -> None:
        total = base.__len__(value)
        d["l"] = total
        entries = ((self._key_preview(k), k if issubclass(type(k), str) else None, v) for k, v in base.items(value))
        self._add_children(d, "map", entries, total, depth)

    def _fill_namedtuple(self, d: Descriptor, value: Any, base: type, depth: int) -> None:
        total = tuple.__len__(value)
        d["l"] = total
        entries = ((f, f, v) for f, v in zip(base._fields, tuple.__iter__(value), strict=False))
        self._add_children(d, "attrs", entries, total, depth)

    def _fill_enum(self, d: Descriptor, value: Any, base: type, depth: int) -> None:
        name = object.__getattribute__(value, "__dict__").get("_name_")
        self._set_v(d, f"{base.__qualname__}.{name}" if isinstance(name, str) else d["t"])

    def _fill_ref(self, d: Descriptor, value: Any, base: type, depth: int) -> None:
        self._set_v(d, f"<{_REF_LABELS[base](value)}>")

    def _fill_no_repr(self, d: Descriptor, value: Any, base: type, depth: int) -> None:
        if issubclass(base, _GENERATOR_TYPES):
            self._set_v(d, f"<{d['t']} {_qualified(value)}>")
        else:
            self._set_v(d, f"<{d['t']} object>")
        self._add_note(d, "repr skipped: side effects")
        if issubclass(base, io.IOBase):
            found = []
            for attr in _FILE_ATTRS:
                try:
                    found.append((attr, attr, getattr(value, attr)))
                except Exception:  # noqa: BLE001 - detached, closed, or a subclass without it
                    continue
            self._add_children(d, "attrs", iter(found), len(found), depth)

    def _fill_object(self, d: Descriptor, value: Any, base: type, depth: int) -> None:
        cls = type(value)
        note = None
        if base is BaseException:
            text, note = self._user_text(str, value, cls)
            self._set_v(d, f"{d['t']}: {text}" if text else d["t"])
        else:
            text = None
            if cls.__repr__ is not object.__repr__:
                text, note = self._user_text(repr, value, cls)
            self._set_v(d, f"<{d['t']} object>" if text is None else text)
        if note:
            self._add_note(d, note)
        try:
            inst = object.__getattribute__(value, "__dict__")  # never __getattr__
        except AttributeError:
            inst = {}
        inst = inst if issubclass(type(inst), dict) else {}
        slots = list(_slot_values(value, cls))
        entries = chain(
            ((k, k, v) for k, v in dict.items(inst) if issubclass(type(k), str)),
            ((k, k, v) for k, v in slots),
        )
        self._add_children(d, "attrs", entries, dict.__len__(inst) + len(slots), depth)


# Builtin bases, looked up along the MRO; their own slots are called, never overrides.
_BY_TYPE: dict[type, Filler] = {
    str: Describer._fill_text,
    bytes: Describer._fill_text,
    bytearray: Describer._fill_text,
    int: Describer._fill_int,
    **dict.fromkeys(_SCALAR_TYPES, Describer._fill_scalar),
    **dict.fromkeys(_SEQUENCE_TYPES, Describer._fill_seq),
    dict: Describer._fill_map,
    collections.OrderedDict: Describer._fill_map,
    **dict.fromkeys(_REF_LABELS, Describer._fill_ref),
    BaseException: Describer._fill_object,
    object: Describer._fill_object,
}
