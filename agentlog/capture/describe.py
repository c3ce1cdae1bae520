"""Bounded, redacted, cycle-safe value descriptors (docs/FORMAT.md, "Value descriptors").

A :class:`Describer` walks a value carrying the remaining depth and a size
budget. On builtins it never calls the value's own ``repr``/``len``/``__iter__``:
it calls the builtin base type's slots on a slice, so a preview costs what it
shows. Class attributes are read through ``type``'s own descriptors and class
dicts, so no metaclass ``__getattribute__``, ``__getattr__`` or property runs.

Repr policy, decided once per class: an instance of a class from the user's own
code (``__main__``, or a module whose ``__file__`` is user code per
:func:`agentlog.capture.codepaths.is_user_file`) is shown as ``<module.QualName
object>`` plus its attributes, its ``__repr__``/``__str__`` never called unless
:attr:`Limits.user_repr`. A library instance (stdlib, site-packages, builtin and
C-extension modules) keeps its ``repr`` but shows no attributes. Exceptions show
``Type: message`` built from their ``args`` when ``__str__`` is not overridden
(or when it is a user override not allowed to run), plus attributes. Any repr or
overridden ``__str__`` that does run, runs on a helper thread, with a timeout and
a per-record budget, and never for types whose repr may have side effects
(:data:`NO_REPR_CLASSES`). Redaction comes first: a secret-looking name hides
its value unseen (also the second item of a ``(name, value)`` pair), and every
preview and note passes through :func:`agentlog.core.redact.redact_text`.

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
import sys
import threading
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from functools import cache
from itertools import chain, islice
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from agentlog.capture.codepaths import is_user_file
from agentlog.core.redact import (
    REDACT_SLACK_CHARS,
    cannot_be_secret,
    is_secret_name,
    marker,
    redact_text,
    secret_flag,
    short_password,
)

# Text redacted past the preview cut, so a secret straddling the cut is still caught whole.
REDACT_MARGIN_CHARS = REDACT_SLACK_CHARS
MAX_NAME_BYTES = 256  # a bytes key or header name longer than this is not read as a name
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
# Exception args whose str/repr is builtin code: a library __str__ over them is worth running.
_PLAIN_ARG_TYPES = (str, int, float, bool, bytes, complex, type(None))


def _plain_args(args: tuple[Any, ...] | list[Any], depth: int = 2) -> bool:
    """Builtin scalars, or tuples and lists of them (``depth`` levels): their str runs no user code."""
    for arg in args:
        kind = type(arg)
        if kind in _PLAIN_ARG_TYPES:
            continue
        if depth and kind in (tuple, list) and _plain_args(arg, depth - 1):
            continue
        return False
    return True
_DICT_DESCRIPTORS = (types.GetSetDescriptorType, types.MemberDescriptorType)

# Types whose repr timed out once: never repr'd again by this process. Keyed by id (a
# metaclass may make classes unhashable); the value keeps the class, so ids stay unique.
_SLOW_TYPES: dict[int, type] = {}

# type's and the builtins' own descriptors: reading through them runs no metaclass code.
_class_mro: Callable[[type], tuple[type, ...]] = type.__dict__["__mro__"].__get__
_class_dict: Callable[[type], Mapping[str, object]] = type.__dict__["__dict__"].__get__
_class_module: Callable[[type], object] = type.__dict__["__module__"].__get__
_class_qualname: Callable[[type], object] = type.__dict__["__qualname__"].__get__
_class_name: Callable[[type], object] = type.__dict__["__name__"].__get__
_module_dict: Callable[[types.ModuleType], dict[str, object]] = types.ModuleType.__dict__["__dict__"].__get__
_exc_args: Callable[[BaseException], tuple[object, ...]] = BaseException.__dict__["args"].__get__
_MISSING = object()


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
    user_repr: bool = False  # call __repr__/__str__ of user-code classes too (guarded)

    @classmethod
    def from_config(cls, config: object) -> Limits:
        """Limits from a :class:`agentlog.core.config.Config`; fields it lacks (e.g. ``user_repr``) keep defaults."""
        return cls(**{f.name: getattr(config, f.name) for f in fields(cls) if hasattr(config, f.name)})


def _text_or_none(value: object) -> str | None:
    """value as a plain str if it is one (a str subclass is copied by str's own slot)."""
    return str.__str__(value) if issubclass(type(value), str) else None  # type: ignore[arg-type]


def _name_of(value: object) -> str | None:
    """value as a name to redact by: a str, or bytes read as Latin-1 (``b"x-api-key"``, ``{b"password": ...}``)."""
    cls = type(value)
    if issubclass(cls, str):
        return str.__str__(value)  # type: ignore[arg-type]
    if (cls is bytes or cls is bytearray) and len(value) <= MAX_NAME_BYTES:  # type: ignore[arg-type]
        return bytes(value).decode("latin-1")  # type: ignore[arg-type]
    return None


def _named_items(items: Iterator[object], pair: bool) -> Iterator[Entry]:
    """Sequence items, each named by the one before when that is a secret flag (``["--api-token", X]``)
    or, in a ``pair``, a secret name (``("Authorization", X)``, ``(b"x-api-key", X)``)."""
    name = None
    after_p = False
    for i, item in enumerate(items):
        text = _name_of(item)
        if after_p and text is not None and short_password(text):
            name = "password"  # ["mysql", "-p", "S3cret"]: -p is also a port or a pid, so only a password-like value
        yield None, name, item
        secret = text is not None and (secret_flag(text) or (pair and i == 0 and is_secret_name(text)))
        name = text if secret else None
        after_p = text == "-p"


def _class_text(getter: Callable[[type], object], cls: type) -> str | None:
    """A str-valued class attribute through type's own descriptor; None if odd or failing."""
    try:
        return _text_or_none(getter(cls))
    except Exception:  # noqa: BLE001 - a broken class still gets described
        return None


def _mro(cls: type) -> tuple[type, ...]:
    try:
        mro = _class_mro(cls)
    except Exception:  # noqa: BLE001
        return (cls, object)
    return mro if type(mro) is tuple else (cls, object)


def _class_attr(cls: type, name: str) -> object:
    """``name`` from the first class dict along the MRO, never calling a descriptor; or _MISSING."""
    for klass in _mro(cls):
        try:
            namespace = _class_dict(klass)
        except Exception:  # noqa: BLE001
            continue
        found = namespace.get(name, _MISSING)
        if found is not _MISSING:
            return found
    return _MISSING


def _in_mro(cls: type, base: type) -> bool:
    return any(klass is base for klass in _mro(cls))


def type_name(cls: type) -> str:
    """Bare name for builtins, ``module.QualName`` otherwise; never raises ("?" if unreadable)."""
    qualname = _class_text(_class_qualname, cls) or _class_text(_class_name, cls) or "?"
    module = _class_text(_class_module, cls)
    return f"{module}.{qualname}" if module and module != "builtins" else qualname


def _is_user_class(cls: type) -> bool:
    """True if cls comes from the user's own code; unknown origins count as user (nothing runs)."""
    module_name = _class_text(_class_module, cls)
    if module_name is None or module_name == "__main__":
        return True
    module = sys.modules.get(module_name)
    if module is None or not issubclass(type(module), types.ModuleType):
        return True  # exec'd code, a deleted module or a module-impersonating object
    try:
        filename = _text_or_none(_module_dict(module).get("__file__"))
    except Exception:  # noqa: BLE001
        return True
    return filename is not None and is_user_file(filename)  # no __file__: builtin or C module


def _qualified(obj: object) -> str:
    """``module.qualname`` of a function-like object, without calling user code."""
    try:
        module = getattr(obj, "__module__", None)
        name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", "?")
    except Exception:  # noqa: BLE001 - a callable object with a hostile __getattr__
        return "?"
    name = _text_or_none(name) or "?"
    module = _text_or_none(module)
    return f"{module}.{name}" if module and module != "builtins" else name


def _module_name(module: types.ModuleType) -> str:
    """A module's name read from its dict, so lazy modules are not loaded."""
    return _text_or_none(_module_dict(module).get("__name__")) or "?"


def _exc_text(exc: BaseException) -> str:
    """``TypeName: message`` without running the exception's code; unbounded, callers cut it.

    The message is ``BaseException.__str__`` when every arg is a plain builtin
    (their str is builtin code), else omitted.
    """
    name = type_name(type(exc))
    try:
        args = _exc_args(exc)
        plain = _plain_args(args)
        message = BaseException.__str__(exc) if plain else ""
    except Exception:  # noqa: BLE001
        message = ""
    return f"{name}: {message}" if message else name


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
    mro = _mro(cls)
    for klass in mro:
        module = _class_text(_class_module, klass) or ""
        if _class_text(_class_name, klass) in NO_REPR_CLASSES.get(module.partition(".")[0], ()):
            return True
    return _class_attr(cls, "__wrapped__") is not _MISSING and _class_attr(cls, "__getattr__") is not _MISSING


def _is_namedtuple(cls: type) -> bool:
    if not _in_mro(cls, tuple):
        return False
    fields_ = _class_attr(cls, "_fields")
    return type(fields_) is tuple and all(issubclass(type(f), str) for f in fields_)


def _instance_dict(value: object, cls: type) -> dict[Any, object]:
    """The instance ``__dict__`` through the class's builtin descriptor; {} if it has none.

    A ``__dict__`` property (or anything not a builtin descriptor) is not called.
    """
    descriptor = _class_attr(cls, "__dict__")
    if type(descriptor) not in _DICT_DESCRIPTORS:
        return {}
    try:
        inst = descriptor.__get__(value, cls)  # type: ignore[attr-defined]
    except AttributeError:
        return {}
    return inst if issubclass(type(inst), dict) else {}


def _slot_values(value: object, cls: type) -> Iterator[tuple[str, object]]:
    """(name, value) of every set ``__slots__`` member, read through its descriptor."""
    for klass in _mro(cls):
        namespace = _class_dict(klass)
        slots = namespace.get("__slots__", ())
        if issubclass(type(slots), str):
            slots = (slots,)
        elif type(slots) not in (tuple, list):
            continue
        for slot in slots:
            slot = _text_or_none(slot)
            if slot is None or slot in ("__dict__", "__weakref__"):
                continue
            mangled = slot.startswith("__") and not slot.endswith("__")
            key = f"_{(_class_text(_class_name, klass) or '').lstrip('_')}{slot}" if mangled else slot
            member = namespace.get(key)
            if type(member) is types.MemberDescriptorType:
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
    type: lambda c: f"class {type_name(c)}",
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

    __slots__ = ("_ancestors", "_fillers", "_lead", "_reprs_left", "_spent", "limits")

    def __init__(self, limits: Limits | None = None) -> None:
        if limits is None:
            from agentlog.core.config import get_config

            limits = Limits.from_config(get_config())
        self.limits = limits
        self._reprs_left = limits.max_reprs
        self._ancestors: set[int] = set()  # ids on the path from the root: cycles only
        # id(class) -> (class, filler, base): ids, since a metaclass may make classes
        # unhashable; holding the class keeps its id from being reused.
        self._fillers: dict[int, tuple[type, Filler, type]] = {}
        self._spent = 0  # approximate JSON bytes of the value being described
        # id(object) -> attribute names shown before its others (describe_locals' ``lead``).
        self._lead: dict[int, list[str]] = {}

    def describe(self, value: object, name: str | None = None) -> Descriptor:
        """Descriptor of value; a secret-looking ``name`` hides it without looking at it
        (unless it :func:`~agentlog.core.redact.cannot_be_secret`)."""
        self._spent = 0
        return self._node(value, name, self.limits.max_depth)

    def describe_locals(self, f_locals: Mapping[str, object],
                        lead: Mapping[str, Iterable[tuple[str, ...]]] | None = None) -> dict[str, Descriptor]:
        """Descriptors of a frame's locals.

        ``self``/``cls`` get their attributes at full depth. Dunder names and the
        interpreter's own (``.0``, a comprehension's iterator) are skipped; in a
        module frame (its locals are the globals) so are modules,
        functions and classes. At most ``max_locals`` names; the rest are
        counted under :data:`MORE_KEY`. ``lead`` maps a local to attribute paths
        (``order.qty`` -> ``("qty",)``) whose attributes come first, so that the
        ``max_items`` cut never hides them.
        """
        self._lead = {}
        for name, paths in (lead or {}).items():
            if name in f_locals:
                self._add_lead(f_locals[name], paths)
        try:
            return self._describe_locals(f_locals)
        finally:
            self._lead = {}

    def _add_lead(self, value: object, paths: Iterable[tuple[str, ...]]) -> None:
        """Mark each path's attributes along the instance dicts (no getattr: no property runs)."""
        for path in paths:
            obj = value
            for attr in path:
                names = self._lead.setdefault(id(obj), [])
                if attr not in names:
                    names.append(attr)
                inst = _instance_dict(obj, type(obj))
                if attr not in inst:
                    break
                obj = inst[attr]

    def _describe_locals(self, f_locals: Mapping[str, object]) -> dict[str, Descriptor]:
        module_level = "__builtins__" in f_locals
        out: dict[str, Descriptor] = {}
        hidden = 0
        for name, value in f_locals.items():
            if not issubclass(type(name), str) or not name.isidentifier() or (
                name.startswith("__") and name.endswith("__")
            ):
                continue
            if module_level and issubclass(type(value), _DEFINITION_TYPES):
                continue
            if len(out) >= self.limits.max_locals:
                hidden += 1
                continue
            self._spent = 0
            depth = self.limits.max_depth + (name in SELF_NAMES)
            try:
                out[name] = self._node(value, name, depth)
            except Exception:  # noqa: BLE001 - last resort: one local lost, never the record
                out[name] = {"t": type_name(type(value)), "note": "describe failed"}
        if hidden:
            out[MORE_KEY] = {"more": hidden}
        return out

    # -- walking

    def _node(self, value: object, name: str | None, depth: int) -> Descriptor:
        """Describe one value with ``depth`` container levels left below it."""
        cls = type(value)
        d: Descriptor = {"t": type_name(cls)}
        key = id(value)
        if name is not None and not cannot_be_secret(value) and is_secret_name(_text_or_none(name) or ""):
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
        found = self._fillers.get(id(cls))
        if found is None:
            fill: Filler
            base: type = cls
            if _skips_repr(cls):
                fill = Describer._fill_no_repr
            elif _in_mro(cls, enum.Enum):  # before int/str: IntEnum, StrEnum
                fill = Describer._fill_enum
            elif _is_namedtuple(cls):
                fill = Describer._fill_namedtuple
            else:  # object is in the table, so the MRO always ends in a match
                fill, base = next(_BY_TYPE_ID[id(b)] for b in (*_mro(cls), object) if id(b) in _BY_TYPE_ID)
                if fill is Describer._fill_object and _is_user_class(cls):
                    fill = Describer._fill_user_object
            found = (cls, fill, base)
            self._fillers[id(cls)] = found
        return found[1], found[2]

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
        if id(cls) in _SLOW_TYPES:
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
            _SLOW_TYPES[id(cls)] = cls
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
        entries: Iterator[Entry]
        if base is tuple or base is list:
            # A (name, value) pair (dict.items(), a header list) or a command line: redact values by name.
            entries = _named_items(base.__iter__(value), total == 2)
        else:
            entries = ((None, None, item) for item in base.__iter__(value))
        self._add_children(d, "items", entries, total, depth)

    def _fill_map(self, d: Descriptor, value: Any, base: type, depth: int) -> None:
        total = base.__len__(value)
        d["l"] = total
        entries = ((self._key_preview(k), _name_of(k), v) for k, v in base.items(value))
        self._add_children(d, "map", entries, total, depth)

    def _fill_namedtuple(self, d: Descriptor, value: Any, base: type, depth: int) -> None:
        total = tuple.__len__(value)
        d["l"] = total
        entries = ((f, f, v) for f, v in zip(base._fields, tuple.__iter__(value), strict=False))
        self._add_children(d, "attrs", entries, total, depth)

    def _fill_enum(self, d: Descriptor, value: Any, base: type, depth: int) -> None:
        name = _text_or_none(_instance_dict(value, base).get("_name_"))
        qualname = _class_text(_class_qualname, base) or "?"
        self._set_v(d, f"{qualname}.{name}" if name is not None else d["t"])

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
        """A library instance: its guarded repr, no attributes (their internals are noise).

        A library exception also shows its attributes (notes, response, status...).
        """
        cls = type(value)
        if base is BaseException:
            self._set_exc_v(d, value, cls, may_run=True)
            self._add_attrs(d, value, cls, depth)
            return
        text = note = None
        if _class_attr(cls, "__repr__") is not object.__repr__:
            text, note = self._user_text(repr, value, cls)
        self._set_v(d, f"<{d['t']} object>" if text is None else text)
        if note:
            self._add_note(d, note)

    def _fill_user_object(self, d: Descriptor, value: Any, base: type, depth: int) -> None:
        """A user-code instance: a placeholder (its repr only if ``user_repr``) and its attributes."""
        cls = type(value)
        if base is BaseException:
            self._set_exc_v(d, value, cls, may_run=self.limits.user_repr)
        else:
            text = note = None
            if self.limits.user_repr and _class_attr(cls, "__repr__") is not object.__repr__:
                text, note = self._user_text(repr, value, cls)
            self._set_v(d, f"<{d['t']} object>" if text is None else text)
            if note:
                self._add_note(d, note)
        self._add_attrs(d, value, cls, depth)

    def _set_exc_v(self, d: Descriptor, exc: Any, cls: type, may_run: bool) -> None:
        """``v`` of an exception: ``Type: message``.

        An overridden ``__str__`` runs (guarded) only if ``may_run`` and the args
        are plain builtins, or tuples and lists of them (SyntaxError's location,
        CalledProcessError's command); an exception group's builtin ``__str__``
        (``message (N sub-exceptions)``) runs no user code. Otherwise the message
        is built from ``args`` without running any of the exception's or its args' code.
        """
        args = _exc_args(exc)
        note = None
        str_method = _class_attr(cls, "__str__")
        if str_method is BaseExceptionGroup.__str__:
            self._set_v(d, f"{d['t']}: {BaseExceptionGroup.__str__(exc)}")
            return
        overridden = str_method is not BaseException.__str__
        if may_run and overridden and (_plain_args(args) or self.limits.user_repr):
            text, note = self._user_text(str, exc, cls)
            if text is not None:
                self._set_v(d, f"{d['t']}: {text}" if text else d["t"])
                return
        prefix = f"{d['t']}: "
        if len(args) == 1 and issubclass(type(args[0]), str):
            message = args[0]
            head = str.__getitem__(message, slice(0, self.limits.max_str_chars + REDACT_MARGIN_CHARS))
            text = prefix + str.__str__(head) if head else d["t"]
            self._set_v(d, text, len(prefix) + str.__len__(message) if head else None)
        else:
            previews = [self._arg_preview(arg) for arg in islice(args, self.limits.max_items)]
            if len(args) > self.limits.max_items:
                previews.append("...")
            if len(args) == 1:
                self._set_v(d, prefix + previews[0])
            else:
                self._set_v(d, f"{prefix}({', '.join(previews)})" if args else d["t"])
        if note:
            self._add_note(d, note)

    def _arg_preview(self, arg: object) -> str:
        node = self._node(arg, None, 0)
        return node.get("v") or f"<{node['t']}>"

    def _add_attrs(self, d: Descriptor, value: Any, cls: type, depth: int) -> None:
        inst = _instance_dict(value, cls)
        slots = list(_slot_values(value, cls))
        first = [name for name in self._lead.get(id(value), ()) if dict.__contains__(inst, name)]
        entries = chain(
            ((name, name, dict.__getitem__(inst, name)) for name in first),  # used by the failing line
            ((str.__str__(k), str.__str__(k), v) for k, v in dict.items(inst)
             if issubclass(type(k), str) and str.__str__(k) not in first),
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
# The same by id, so looking up a class never calls its metaclass's __hash__/__eq__.
_BY_TYPE_ID: dict[int, tuple[Filler, type]] = {id(base): (fill, base) for base, fill in _BY_TYPE.items()}
