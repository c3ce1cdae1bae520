# Data layout of agentlog._tracer (src_c/tracer.pyx cimports it). Kept in sync with agentlog/runtime/tracer_types.py
# (event kinds and value tags) and documented in docs/FORMAT.md.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

cdef extern from "Python.h":
    ctypedef struct PyObject


cdef struct Entry:
    # One ring-buffer slot: 32 bytes, no Python objects (nothing kept alive, nothing to free).
    # Event entries (K_START ... K_HANDLED) use every field. Value entries (K_ARG: an
    # argument of the K_START before them; K_VALUE: the value of the K_RETURN/K_YIELD
    # before them, or one item of the tuple it returned) reuse the first 16 bytes
    # (ts, code, offset) for a text prefix: see value_entry() in tracer.pyx.
    int64_t ts        # al_ticks() when the event fired
    int32_t code      # index into the code table (tracer.py's classifier owns it)
    int32_t offset    # bytecode offset of the event; mapped to a line on the cold path
    int64_t payload   # value summary: int value, double bits, length, or type index
    uint16_t depth    # user-call depth of the frame the event belongs to (0 = outermost);
                      # value entries: argument slot or tuple item index
    uint8_t kind      # K_* event kind
    uint8_t vtag      # V_* tag saying how to read payload
    uint32_t aux      # value entries: bytes of text prefix stored (0-16); K_RETURN: AUX_UNTIMED


cdef struct Frame:
    # Shadow-stack entry, one per active user frame on this thread.
    PyObject* code    # borrowed: the code table keeps every code object alive
    int64_t start     # ticks at PY_START / PY_RESUME / PY_THROW
    int64_t child     # ticks spent in user callees (for self time)
    int32_t idx       # code index
    int32_t callees   # a user callee was pushed above it: its return is always timed


cdef struct ThreadState:
    Entry* ring       # owned (al_pages_alloc), capacity mask + 1 entries; NULL until the first event
    uint64_t mask     # capacity - 1 (capacity is a power of two; grows on demand, see ring_grow)
    uint64_t head     # entries ever written in this generation (slot = head & mask)
    uint64_t base     # entries before this one are gone (a resize kept only the newest)
    uint64_t grow_at  # head at which ring_grow runs next (RING_NEVER: at the configured size)
    int reduced       # the ring budget held this ring below the configured size
    Frame* stack      # owned shadow stack
    int32_t sp        # frames on the shadow stack
    int32_t stack_cap
    unsigned long ident   # PyThread_get_thread_ident() of the owner
    int alive         # cleared by the pthread-key destructor when the owner exits
    int paused        # set while AgentLog itself runs user code (failure capture)
    int gen           # g_gen when this state was (re)initialised
    uint32_t leaves   # leaf returns past ALWAYS_TIMED calls seen (1 in SAMPLE_EVERY is timed)
    ThreadState* next # registry of every state ever allocated (never freed: TLS points here)
