"""What both call-trail engines share: event kinds, value tags, ring sizes.

The C engine (``agentlog._tracer``, from ``src_c/tracer.pyx``) and the
pure-Python engine (:mod:`agentlog.runtime.pytracer`) are modules that satisfy
``tracer_engine.Engine``; :mod:`agentlog.runtime.tracer` picks one and decodes what it
recorded. The numbers below are mirrored in ``src_c/tracer.pyx``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # imported on the activation path: no typing, types
    from types import CodeType

# Event kinds (entry field ``kind``).
K_START = 1  # PY_START: a user function/generator/coroutine begins
K_RESUME = 2  # PY_RESUME: a generator/coroutine continues after yield/await
K_THROW = 3  # PY_THROW: resumed by gen.throw()
K_RETURN = 4  # PY_RETURN
K_YIELD = 5  # PY_YIELD (also a coroutine suspending in await)
K_UNWIND = 6  # PY_UNWIND: an exception leaves the frame
K_RAISE = 7  # RAISE: an exception is raised in, or propagates into, the frame
K_RERAISE = 8  # RERAISE: a bare ``raise`` or the end of a ``finally`` re-raises
K_HANDLED = 9  # EXCEPTION_HANDLED: an ``except`` clause caught it
K_ARG = 10  # value entry: one argument of the K_START before it (depth = argument slot)
K_VALUE = 11  # value entry: the value of the K_RETURN/K_YIELD before it, or one tuple item (depth = index)
ENTER_KINDS = frozenset({K_START, K_RESUME, K_THROW})
LEAVE_KINDS = frozenset({K_RETURN, K_YIELD, K_UNWIND})

# Value tags (entry field ``vtag``) and how the payload reads.
V_VOID = 0  # no value
V_NONE = 1
V_BOOL = 2  # payload 0/1
V_INT = 3  # payload is the int
V_BIGINT = 4  # int beyond 64 bits; payload is its sign (+1/-1)
V_FLOAT = 5  # payload is the float
V_STR = 6  # payload is len()
V_BYTES = 7  # payload is len()
V_SIZED = 8  # exact list/tuple/dict/set/frozenset: type index << LEN_BITS | len
V_OBJ = 9  # anything else: type index
V_EXC = 10  # exception events: type index of the exception
V_TYPE = 11  # a class (the value is a type): index of the class itself in the type table. The C engine
#              does not emit it yet (it records a class as V_OBJ of ``type``)
LEN_BITS = 40
PREFIX_BYTES = 16  # text a value entry keeps of a str (UTF-8, whole characters) or a bytes value
MAX_ARGS = 4  # argument slots recorded per call (positional, keyword-only, *args, **kwargs, in that order)
MAX_TUPLE_ITEMS = 3  # a returned tuple this short is recorded item by item
MAX_DEPTH = 65535  # depth field is 16 bits
MIN_RING = 16  # entries; src_c/tracer.pyx uses the same floor
RING_START = 1024  # entries a thread's ring starts with; it doubles on demand up to ring_size
ENTRY_BYTES = 32  # one C ring entry; the ring budget counts entries of this size

# One decoded entry: (ns, kind, code index, bytecode offset, depth, vtag, payload, text).
# Value entries (K_ARG, K_VALUE) have ns, code and offset 0, depth = slot or item index
# and text = the first PREFIX_BYTES of a str (UTF-8, cut at a character boundary; the C engine
# keeps ASCII strings only) or of a bytes value (else None).
RawEntry = tuple[int, int, int, int, int, int, int | float, bytes | None]
# (ident, alive, entries written, entries dropped, depth, top code index or -1)
ThreadInfo = tuple[int, bool, int, int, int, int]

# sys.monitoring events each engine needs; those in LOCAL_EVENT_NAMES are set
# per code object on user code only, the rest globally (RAISE, RERAISE,
# EXCEPTION_HANDLED, PY_UNWIND and PY_THROW cannot be local events).
GLOBAL_EVENT_NAMES = ("PY_START", "PY_THROW", "PY_UNWIND", "RAISE", "RERAISE", "EXCEPTION_HANDLED")
LOCAL_EVENT_NAMES = ("PY_RETURN", "PY_YIELD", "PY_RESUME")
# A generator expression is one trail call, from its start to its return or unwind: its
# per-item yields and resumes are never monitored (set_local_events leaves them out), so
# it costs two events however many items it makes. It is not pushed on an engine's
# shadow stack (its frame is suspended while the consumer runs), so it has no duration
# or profile time of its own: its time counts as its caller's. Comprehensions are
# inlined into their function on 3.12+ and make no events. src_c/tracer.pyx matches the
# same name.
FOLDED_CODE_NAME = "<genexpr>"
FOLDED_EVENT_NAMES = ("PY_RETURN",)


def folded(code: CodeType) -> bool:
    """True for code whose yields and resumes the trail does not follow (generator expressions)."""
    return code.co_name == FOLDED_CODE_NAME


def ring_capacity(ring_size: int) -> int:
    """Entries a ring really holds: ``ring_size`` rounded up to a power of two."""
    capacity = MIN_RING
    while capacity < ring_size:
        capacity <<= 1
    return capacity
