# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: profile=False, linetrace=False
"""agentlog._tracer: the C engine of the call trail.

``sys.monitoring`` callbacks are C functions called through vectorcall (see
al_callback.h: no argument parsing, no Python objects allocated per event)
that append fixed-size entries to per-thread ring buffers. The Python side (agentlog/runtime/tracer.py)
owns options, the tool id, the user-code decision and decoding; this module owns
the callbacks, the code/type tables and the rings. Every function here runs with
the GIL held; the free-threaded build is refused by tracer.py.
"""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t, uintptr_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memset

from al_tracer cimport Entry, Frame, PyObject, ThreadState

cdef extern from "al_platform.h":
    int64_t al_ticks() noexcept nogil
    int64_t al_mono_ns() noexcept nogil
    void* al_tls_get() noexcept nogil
    void al_tls_set(void* p) noexcept nogil
    ctypedef void (*al_exit_fn)(void*) noexcept nogil
    void al_exit_init(al_exit_fn fn) noexcept nogil
    void al_on_thread_exit(void* p) noexcept nogil
    PyObject* al_type(PyObject* o) noexcept nogil
    int al_small_int(PyObject* o, int64_t* out) noexcept nogil
    int32_t al_offset(PyObject* o) noexcept nogil
    int32_t al_unwind_offset(PyObject* code, PyObject* exc, int32_t offset) noexcept
    int AL_TICKS_ARE_TSC

cdef extern from "al_memory.h":
    void* al_pages_alloc(size_t n) noexcept nogil
    void al_pages_free(void* p, size_t n) noexcept nogil

cdef extern from "al_frame.h":
    int AL_FRAME_LAYOUT
    int AL_DEBUG_OFFSETS
    ctypedef size_t al_slot  # PyObject* (3.12, 3.13) or a tagged _PyStackRef (3.14+)
    al_slot* al_frame_slots(PyObject* code) noexcept
    PyObject* al_slot_object(al_slot s) noexcept
    void al_frame_layout(Py_ssize_t* out) noexcept
    int al_debug_offsets(uint64_t* out) noexcept
    const size_t* al_dbg_at
    const char* al_ascii_data(PyObject* s) noexcept
    int al_utf8_prefix(PyObject* s, char* out, int cap) noexcept
    PyObject* al_cell_get(PyObject* cell) noexcept

cdef extern from "al_callback.h":
    ctypedef PyObject* (*al_vectorcall)(PyObject*, PyObject**, size_t, PyObject*) noexcept
    object al_callback_new(al_vectorcall fn, const char* name)

cdef extern from "Python.h":
    Py_ssize_t nargs_of "PyVectorcall_NARGS"(size_t nargsf) noexcept
    void incref "Py_INCREF"(PyObject* o) noexcept
    PyObject* py_true "Py_True"
    PyObject* py_false "Py_False"
    int long_check_exact "PyLong_CheckExact"(PyObject* o) noexcept
    int float_check_exact "PyFloat_CheckExact"(PyObject* o) noexcept
    int unicode_check_exact "PyUnicode_CheckExact"(PyObject* o) noexcept
    int bytes_check_exact "PyBytes_CheckExact"(PyObject* o) noexcept
    int list_check_exact "PyList_CheckExact"(PyObject* o) noexcept
    int tuple_check_exact "PyTuple_CheckExact"(PyObject* o) noexcept
    int dict_check_exact "PyDict_CheckExact"(PyObject* o) noexcept
    int anyset_check_exact "PyAnySet_CheckExact"(PyObject* o) noexcept
    int type_check "PyType_Check"(PyObject* o) noexcept
    long long long_as_ll_overflow "PyLong_AsLongLongAndOverflow"(PyObject* o, int* overflow) noexcept
    double float_as_double "PyFloat_AS_DOUBLE"(PyObject* o) noexcept
    Py_ssize_t unicode_length "PyUnicode_GET_LENGTH"(PyObject* o) noexcept
    Py_ssize_t var_size "Py_SIZE"(PyObject* o) noexcept
    Py_ssize_t dict_size "PyDict_GET_SIZE"(PyObject* o) noexcept
    Py_ssize_t set_size "PySet_GET_SIZE"(PyObject* o) noexcept
    const char* bytes_data "PyBytes_AS_STRING"(PyObject* o) noexcept
    PyObject* tuple_item "PyTuple_GET_ITEM"(PyObject* o, Py_ssize_t i) noexcept
    void err_clear "PyErr_Clear"() noexcept
    void PyErr_SetInterrupt() noexcept
    PyObject* PyExc_SystemExit
    int exc_matches "PyErr_GivenExceptionMatches"(PyObject* given, PyObject* exc) noexcept
    unsigned long PyThread_get_thread_ident() noexcept

# Event kinds and value tags: mirrored in agentlog/runtime/tracer_types.py.
cdef enum:
    K_START = 1
    K_RESUME = 2
    K_THROW = 3
    K_RETURN = 4
    K_YIELD = 5
    K_UNWIND = 6
    K_RAISE = 7
    K_RERAISE = 8
    K_HANDLED = 9
    K_ARG = 10            # value entry: an argument of the K_START just before
    K_VALUE = 11          # value entry: the returned/yielded value (text, or one tuple item)
    V_VOID = 0
    V_NONE = 1
    V_BOOL = 2
    V_INT = 3
    V_BIGINT = 4
    V_FLOAT = 5
    V_STR = 6
    V_BYTES = 7
    V_SIZED = 8
    V_OBJ = 9
    V_EXC = 10
    V_TYPE = 11           # a class: payload is the class's own index in the type table
    MISSING = -2          # ptrmap_get: key not present
    NOT_USER = -1         # classifier verdict for library code
    STACK_INIT = 128
    STACK_MAX = 1 << 20   # deeper user frames are recorded but not timed
    LEN_BITS = 40         # V_SIZED payload: type index << 40 | min(len, 2**40 - 1)
    MIN_RING = 16
    RING_START = 1024     # entries a thread's ring starts with (32 KiB); doubles on demand
    MAX_OTHER_CODES = 8192  # library-code verdicts cached before the cache is dropped
    MAX_TYPES = 4096      # type table entries; values of later new types are summarised as V_VOID
    UNWIND_SEARCH = 8     # how far below the top a PY_RETURN may find its frame
    UNTIMED_BIT = 0x40000000  # pop_frame: the code index, and this return was not timed
    PREFIX_BYTES = 16     # text prefix a value entry holds (first 16 bytes of the entry)
    AUX_TEXT = 0x100      # aux flag: a prefix was stored (aux & 0xff bytes of it)
    AUX_UNTIMED = 0x200   # K_RETURN aux flag: the clock was not read; ts is the call's start
    ALWAYS_TIMED = 16     # every code's first calls are timed whatever they are
    SAMPLE_EVERY = 16     # past those, one leaf return in this many is timed (a power of two)
    MAX_ARGS = 4          # argument slots recorded per call
    MAX_TUPLE_ITEMS = 3   # a returned tuple this short is recorded item by item


cdef struct PtrMap:
    # Open-addressing pointer -> int32 map (linear probing, load <= 1/2).
    PyObject** keys
    int32_t* vals
    uint64_t mask
    uint64_t used
    int shift


cdef inline uint64_t ptr_hash(PyObject* p, int shift) noexcept nogil:
    return (<uint64_t><uintptr_t>p * <uint64_t>0x9E3779B97F4A7C15) >> shift


cdef inline int32_t ptrmap_get(PtrMap* m, PyObject* key) noexcept nogil:
    cdef uint64_t i
    cdef PyObject* k
    if m.keys == NULL:
        return MISSING
    i = ptr_hash(key, m.shift)
    while True:
        k = m.keys[i]
        if k == key:
            return m.vals[i]
        if k == NULL:
            return MISSING
        i = (i + 1) & m.mask


cdef int ptrmap_init(PtrMap* m, int bits) noexcept nogil:
    cdef uint64_t cap = (<uint64_t>1) << bits
    cdef PyObject** keys = <PyObject**>calloc(cap, sizeof(PyObject*))
    cdef int32_t* vals = <int32_t*>calloc(cap, sizeof(int32_t))
    if keys == NULL or vals == NULL:
        free(keys)
        free(vals)
        return -1
    free(m.keys)
    free(m.vals)
    m.keys = keys
    m.vals = vals
    m.mask = cap - 1
    m.used = 0
    m.shift = 64 - bits
    return 0


cdef int ptrmap_put(PtrMap* m, PyObject* key, int32_t val) noexcept nogil:
    cdef uint64_t i
    cdef PtrMap bigger
    cdef int bits
    if m.keys == NULL and ptrmap_init(m, 10) < 0:
        return -1
    if (m.used + 1) * 2 > m.mask + 1:
        bits = 64 - m.shift + 1
        memset(&bigger, 0, sizeof(PtrMap))
        if ptrmap_init(&bigger, bits) < 0:
            return -1
        for i in range(m.mask + 1):
            if m.keys[i] != NULL:
                ptrmap_put(&bigger, m.keys[i], m.vals[i])
        free(m.keys)
        free(m.vals)
        m[0] = bigger
    i = ptr_hash(key, m.shift)
    while m.keys[i] != NULL and m.keys[i] != key:
        i = (i + 1) & m.mask
    if m.keys[i] == NULL:
        m.used += 1
    m.keys[i] = key
    m.vals[i] = val
    return 0


cdef void ptrmap_free(PtrMap* m) noexcept nogil:
    free(m.keys)
    free(m.vals)
    memset(m, 0, sizeof(PtrMap))


# ---- global state (all guarded by the GIL) ----------------------------------
cdef PtrMap g_codes           # code object -> code index, or NOT_USER
cdef PtrMap g_typemap         # type object -> index into g_types
cdef list g_keep = []         # every code object in g_codes, kept alive so pointers stay unique
cdef list g_types = []        # type table: index -> type object
cdef object g_classify = None  # tracer.py's classifier: code -> index >= 0, or -1
cdef object g_disable = None  # sys.monitoring.DISABLE
cdef bint g_enabled = False
cdef int g_gen = 1            # bumped by configure/after_fork/release: states re-initialise lazily
cdef uint64_t g_ring_cap = 65536   # configured entries per thread: the most a ring grows to
cdef uint64_t g_ring_start = RING_START
cdef uint64_t g_budget = (64 << 20) // sizeof(Entry)  # entries, all rings together (set_ring_budget)
cdef uint64_t g_ring_total = 0     # entries allocated, all rings together
cdef uint64_t g_rings = 0          # rings allocated
cdef uint64_t RING_NEVER = ~(<uint64_t>0)
cdef int g_dead_pending = 0        # set by mark_dead: a thread exited, its ring can go
cdef list g_keep_other = []        # library code objects in g_codes (a cache, dropped when full)
cdef ThreadState* g_states = NULL
cdef int64_t g_cal_ticks = 0  # (ticks, ns) pair taken at configure() for tick -> ns conversion
cdef int64_t g_cal_ns = 0

cdef struct Stats:
    # Per-code profile counters (one cache line per code: push and pop touch one).
    int64_t calls
    int64_t total     # ticks in outermost activations (recursion not counted twice)
    int64_t own       # ticks in the code itself, callees excluded
    int64_t active    # activations currently on some shadow stack
    int64_t mean      # ticks of its timed leaf calls, mean (what an untimed leaf call counts)
    int64_t timed     # leaf calls timed
    int64_t timed_sum # ticks of those

cdef Stats* g_stats = NULL    # indexed by code index
cdef int32_t g_stats_cap = 0

cdef struct ArgSpec:
    # Which frame slots hold a code's first arguments (set once, at classification).
    uint8_t n         # argument slots to read (<= MAX_ARGS)
    uint8_t cells     # bit i: slot i is also a cell variable (holds a cell object)
    uint8_t fold      # a generator expression: one call, never on the shadow stack (tracer_types.folded)

cdef ArgSpec* g_args = NULL   # indexed by code index, same capacity as g_stats
cdef bint g_capture_args = False    # K_ARG entries (needs a known frame layout)
cdef bint g_capture_values = False  # K_VALUE entries (text prefixes, short tuples' items)


cdef inline PyObject* new_none() noexcept:
    incref(<PyObject*>None)
    return <PyObject*>None


cdef inline PyObject* new_disable() noexcept:
    cdef PyObject* d = <PyObject*>g_disable
    incref(d)
    return d


cdef void mark_dead(void* p) noexcept nogil:
    # pthread-key destructor, runs in the exiting thread without the GIL: two stores.
    # Its ring is freed later, under the GIL, by the next thread that records (sweep_dead).
    global g_dead_pending
    (<ThreadState*>p).alive = 0
    g_dead_pending = 1


# ---- ring memory: grown on demand, within a process-wide budget ---------------
# A ring starts at g_ring_start entries and doubles each time it fills, up to the
# configured g_ring_cap, while all rings together stay within g_budget entries.
# When the budget is short, every thread's share is the budget over the rings in
# use (a power of two, at least g_ring_start): a growing thread shrinks the rings
# above that share, and a thread held below g_ring_cap is marked ``reduced``.
# A thread's ring is freed once the thread has exited (its excepthook, the last
# place its trail is read, has run by then).

cdef int ring_resize(ThreadState* st, uint64_t cap) noexcept:
    """Move ``st``'s ring (or none) to ``cap`` entries keeping the newest; -1, unchanged, if memory is short."""
    global g_ring_total, g_rings
    cdef Entry* ring = <Entry*>al_pages_alloc(cap * sizeof(Entry))
    cdef uint64_t old = st.mask + 1 if st.ring != NULL else 0
    cdef uint64_t n = st.head - st.base
    cdef uint64_t i
    if ring == NULL:
        return -1
    if n > old:
        n = old
    if n > cap:
        n = cap
    for i in range(st.head - n, st.head):
        ring[i & (cap - 1)] = st.ring[i & st.mask]
    if st.ring != NULL:
        al_pages_free(st.ring, old * sizeof(Entry))
    else:
        g_rings += 1
    st.ring = ring
    st.mask = cap - 1
    st.base = st.head - n
    g_ring_total = g_ring_total - old + cap
    return 0


cdef void ring_free(ThreadState* st) noexcept:
    global g_ring_total, g_rings
    if st.ring != NULL:
        al_pages_free(st.ring, (st.mask + 1) * sizeof(Entry))
        g_ring_total -= st.mask + 1
        g_rings -= 1
    st.ring = NULL
    st.mask = 0
    st.head = 0
    st.base = 0


cdef uint64_t fair_cap() noexcept:
    """The entries each ring may hold now: the budget shared by the rings in use."""
    cdef uint64_t share = g_budget // (g_rings if g_rings else 1)
    cdef uint64_t cap = g_ring_start
    while cap * 2 <= share and cap * 2 <= g_ring_cap:
        cap *= 2
    return cap


cdef void reclaim(ThreadState* me, uint64_t cap) noexcept:
    """Shrink the other rings holding more than ``cap`` entries to ``cap``: their share was reduced."""
    cdef ThreadState* s = g_states
    while s != NULL:
        if s != me and s.ring != NULL and s.mask + 1 > cap and ring_resize(s, cap) == 0:
            s.reduced = 1
            s.grow_at = s.head + cap
        s = s.next


cdef void ring_grow(ThreadState* st) noexcept:
    """The ring is full (head == grow_at): double it if the budget allows, else keep wrapping."""
    cdef uint64_t cap = st.mask + 1
    cdef uint64_t allowed
    if g_dead_pending:
        sweep_dead()
    if cap >= g_ring_cap:
        st.grow_at = RING_NEVER
        return
    allowed = fair_cap()
    if cap * 2 <= allowed:
        if g_ring_total + cap > g_budget:
            reclaim(st, allowed)
        if g_ring_total + cap <= g_budget and ring_resize(st, cap * 2) == 0:
            st.grow_at = RING_NEVER if cap * 2 >= g_ring_cap else st.base + cap * 2
            return
    st.reduced = 1
    if allowed < cap:
        ring_resize(st, allowed)  # our own share shrank: give the rest back
    st.grow_at = st.head + st.mask + 1  # look again after one more lap


cdef void sweep_dead() noexcept:
    """Free the rings and shadow stacks of threads that have exited (their states are reused)."""
    global g_dead_pending
    cdef ThreadState* s = g_states
    g_dead_pending = 0
    while s != NULL:
        if not s.alive and (s.ring != NULL or s.stack != NULL):
            ring_free(s)
            free(s.stack)
            s.stack = NULL
            s.stack_cap = 0
            s.sp = 0
        s = s.next


cdef ThreadState* acquire_state(ThreadState* st) noexcept:
    """Find or (re)initialise the calling thread's state; NULL if memory is short."""
    global g_states
    cdef ThreadState* s
    if g_dead_pending:
        sweep_dead()
    if st != NULL and st.gen == g_gen:
        return st
    if st == NULL:
        s = g_states
        while s != NULL and s.alive:
            s = s.next
        if s == NULL:
            s = <ThreadState*>calloc(1, sizeof(ThreadState))
            if s == NULL:
                return NULL
            s.next = g_states
            g_states = s
        s.alive = 1
        s.gen = 0
        s.ident = PyThread_get_thread_ident()
        al_tls_set(s)
        al_on_thread_exit(s)
        st = s
    st.head = 0
    st.base = 0
    st.reduced = 0
    if st.ring != NULL and st.mask + 1 > g_ring_cap:
        ring_free(st)  # configured smaller since
    if st.ring == NULL:
        if ring_resize(st, g_ring_start) < 0:
            return NULL
        if g_ring_total > g_budget:
            reclaim(st, fair_cap())
    st.grow_at = RING_NEVER if st.mask + 1 >= g_ring_cap else st.mask + 1
    if st.stack == NULL:
        st.stack = <Frame*>malloc(STACK_INIT * sizeof(Frame))
        if st.stack == NULL:
            return NULL
        st.stack_cap = STACK_INIT
    st.sp = 0
    st.paused = 0
    st.gen = g_gen
    return st


cdef inline ThreadState* cur_state() noexcept:
    cdef ThreadState* st = <ThreadState*>al_tls_get()
    if st != NULL and st.gen == g_gen and not g_dead_pending:
        return st
    return acquire_state(st)


cdef int ensure_stats(int32_t idx) noexcept:
    """Grow the per-code tables (profile counters, argument specs) to hold ``idx``."""
    global g_stats, g_stats_cap, g_args
    cdef int32_t cap = g_stats_cap if g_stats_cap else 256
    cdef Stats* p
    cdef ArgSpec* a
    if idx < g_stats_cap:
        return 0
    while cap <= idx:
        cap *= 2
    a = <ArgSpec*>realloc(g_args, cap * sizeof(ArgSpec))
    if a == NULL:
        return -1
    g_args = a
    memset(&a[g_stats_cap], 0, (cap - g_stats_cap) * sizeof(ArgSpec))
    p = <Stats*>realloc(g_stats, cap * sizeof(Stats))
    if p == NULL:
        return -1
    memset(&p[g_stats_cap], 0, (cap - g_stats_cap) * sizeof(Stats))
    g_stats = p
    g_stats_cap = cap
    return 0


cdef void set_arg_spec(int32_t idx, object code):
    """Cold path: which of ``code``'s first slots are arguments, and which of those are cells.

    Arguments come first in a frame's slots (positional, keyword-only, *args,
    **kwargs); co_varnames names them in that order. An argument captured by an
    inner function is a cell variable too: its slot holds the cell. A
    comprehension's or generator expression's code gets none: its one argument
    is the interpreter's ``.0`` (the iterator it was given; pytracer._arg_names).
    """
    cdef int n = code.co_argcount + code.co_kwonlyargcount
    cdef int i
    cdef uint8_t cells = 0
    n += 1 if code.co_flags & 0x04 else 0  # CO_VARARGS
    n += 1 if code.co_flags & 0x08 else 0  # CO_VARKEYWORDS
    if n > MAX_ARGS:
        n = MAX_ARGS
    names = code.co_varnames
    celled = code.co_cellvars
    if not all(name.isidentifier() for name in names[:n]):
        n = 0
    for i in range(n):
        if names[i] in celled:
            cells |= 1 << i
    g_args[idx].n = n
    g_args[idx].cells = cells
    g_args[idx].fold = code.co_name == "<genexpr>"  # tracer_types.FOLDED_CODE_NAME


cdef void clear_stats() noexcept:
    if g_stats_cap:
        memset(g_stats, 0, g_stats_cap * sizeof(Stats))


cdef int32_t classify(PyObject* code) noexcept:
    """Cold path, once per code object: ask tracer.py whether it is user code."""
    cdef int32_t idx = NOT_USER
    if g_classify is None:
        return NOT_USER
    try:
        idx = g_classify(<object>code)
        if idx < 0 or ensure_stats(idx) < 0:
            idx = NOT_USER
            if len(g_keep_other) >= MAX_OTHER_CODES:
                forget_other_codes()
        else:
            set_arg_spec(idx, <object>code)
        if ptrmap_put(&g_codes, code, idx) == 0:
            (g_keep if idx >= 0 else g_keep_other).append(<object>code)
    except KeyboardInterrupt:
        # Never swallow Ctrl-C: re-arm it so the interpreter raises it right after us.
        PyErr_SetInterrupt()
        idx = NOT_USER
    except BaseException:
        idx = NOT_USER
    return idx


cdef void forget_other_codes() noexcept:
    """Drop the cached library-code verdicts (code churn: exec/eval in a loop); user codes stay."""
    global g_codes
    cdef PtrMap kept
    cdef uint64_t i
    memset(&kept, 0, sizeof(PtrMap))
    for i in range(g_codes.mask + 1 if g_codes.keys != NULL else 0):
        if g_codes.keys[i] != NULL and g_codes.vals[i] >= 0 and ptrmap_put(&kept, g_codes.keys[i], g_codes.vals[i]) < 0:
            ptrmap_free(&kept)
            return  # out of memory: keep the full cache
    ptrmap_free(&g_codes)
    g_codes = kept
    g_keep_other.clear()


cdef inline int32_t code_index(PyObject* code) noexcept:
    cdef int32_t idx = ptrmap_get(&g_codes, code)
    if idx == MISSING:
        idx = classify(code)
    return idx


cdef PyObject* g_last_type = NULL  # one-entry cache in front of g_typemap
cdef int32_t g_last_type_idx = -1


cdef inline int32_t type_index(PyObject* tp) noexcept:
    global g_last_type, g_last_type_idx
    cdef int32_t idx
    if tp == g_last_type:
        return g_last_type_idx
    idx = ptrmap_get(&g_typemap, tp)
    if idx == MISSING:
        idx = register_type(tp)
    if idx >= 0:
        g_last_type = tp
        g_last_type_idx = idx
    return idx


cdef int32_t register_type(PyObject* tp) noexcept:
    cdef int32_t idx
    # First sight of this type (rare): one list append on the cold path.
    try:
        idx = len(g_types)
        if idx >= MAX_TYPES:
            return -1  # types created in a loop must not grow the table without bound
        if ptrmap_put(&g_typemap, tp, idx) < 0:
            return -1
        g_types.append(<object>tp)
    except BaseException:
        err_clear()
        return -1
    return idx


cdef inline void summarize(PyObject* v, Entry* e) noexcept:
    """Allocation-free summary of a returned/yielded value."""
    cdef int overflow = 0
    cdef long long n
    cdef double d
    cdef PyObject* tp
    cdef int32_t ti
    cdef Py_ssize_t size = -1
    if v == <PyObject*>None:
        e.vtag = V_NONE
        e.payload = 0
        return
    if v == py_true or v == py_false:
        e.vtag = V_BOOL
        e.payload = v == py_true
        return
    if long_check_exact(v):
        if al_small_int(v, &e.payload):
            e.vtag = V_INT
            return
        n = long_as_ll_overflow(v, &overflow)
        if overflow:
            e.vtag = V_BIGINT
            e.payload = overflow
        else:
            e.vtag = V_INT
            e.payload = n
        return
    if float_check_exact(v):
        d = float_as_double(v)
        e.vtag = V_FLOAT
        memcpy(&e.payload, &d, sizeof(double))
        return
    if unicode_check_exact(v):
        e.vtag = V_STR
        e.payload = unicode_length(v)
        return
    if bytes_check_exact(v):
        e.vtag = V_BYTES
        e.payload = var_size(v)
        return
    if type_check(v):
        ti = type_index(v)
        e.vtag = V_TYPE if ti >= 0 else V_VOID
        e.payload = ti if ti >= 0 else 0
        return
    if list_check_exact(v) or tuple_check_exact(v):
        size = var_size(v)
    elif dict_check_exact(v):
        size = dict_size(v)
    elif anyset_check_exact(v):
        size = set_size(v)
    ti = type_index(al_type(v))
    if ti < 0:
        e.vtag = V_VOID
        e.payload = 0
    elif size >= 0:
        e.vtag = V_SIZED
        if size >= ((<int64_t>1) << LEN_BITS):
            size = ((<int64_t>1) << LEN_BITS) - 1
        e.payload = ((<int64_t>ti) << LEN_BITS) | size
    else:
        e.vtag = V_OBJ
        e.payload = ti


cdef inline void value_entry(Entry* e, uint8_t kind, int32_t index, PyObject* v) noexcept:
    """Fill a value entry: ``v``'s summary plus, for str and bytes, its first bytes.

    A str keeps the UTF-8 of its first whole characters (ASCII ones are copied
    as they are), bytes their first bytes. The prefix is copied (never a pointer
    kept): the value may be gone by the time a failure decodes the ring.
    """
    cdef const char* data = NULL
    cdef int64_t n
    cdef char buf[PREFIX_BYTES]
    summarize(v, e)
    e.kind = kind
    e.depth = <uint16_t>index
    e.aux = 0
    if e.vtag == V_STR:
        data = al_ascii_data(v)
        if data == NULL:
            n = al_utf8_prefix(v, buf, PREFIX_BYTES)
            memcpy(<char*>e, buf, n)
            e.aux = AUX_TEXT | <uint32_t>n
            return
    elif e.vtag == V_BYTES:
        data = bytes_data(v)
    if data != NULL:
        n = e.payload
        if n >= PREFIX_BYTES:
            memcpy(<char*>e, data, PREFIX_BYTES)  # fixed size: two 8-byte moves
            n = PREFIX_BYTES
        else:
            memcpy(<char*>e, data, n)
        e.aux = AUX_TEXT | <uint32_t>n


cdef inline void record_args(ThreadState* st, PyObject* code, int32_t idx) noexcept:
    """K_ARG entries for the first arguments of the frame PY_START is starting."""
    cdef ArgSpec spec = g_args[idx]
    cdef al_slot* slots
    cdef PyObject* v
    cdef int i
    if spec.n == 0:
        return
    slots = al_frame_slots(code)
    if slots == NULL:
        return
    for i in range(spec.n):
        v = al_slot_object(slots[i])
        if v != NULL and (spec.cells >> i) & 1:
            v = al_cell_get(v)
        if v != NULL:
            value_entry(ring_next(st), K_ARG, i, v)


cdef inline void record_value(ThreadState* st, Entry* e, PyObject* v) noexcept:
    """K_VALUE entries after a return/yield entry: a text prefix, or a short tuple's items."""
    cdef Py_ssize_t i, n
    if e.vtag == V_STR or e.vtag == V_BYTES:
        value_entry(ring_next(st), K_VALUE, 0, v)
    elif e.vtag == V_SIZED and tuple_check_exact(v):
        n = var_size(v)
        if n <= MAX_TUPLE_ITEMS:
            for i in range(n):
                value_entry(ring_next(st), K_VALUE, i, tuple_item(v, i))


cdef inline Entry* ring_next(ThreadState* st) noexcept:
    # Overwrites the oldest entry once full (drops = head - entries held); grows first if it may.
    cdef Entry* e
    if st.head == st.grow_at:
        ring_grow(st)
    e = &st.ring[st.head & st.mask]
    st.head += 1
    return e


cdef inline void put(ThreadState* st, uint8_t kind, int32_t idx, int32_t offset, int32_t depth,
                     int64_t now) noexcept:
    cdef Entry* e = ring_next(st)
    e.ts = now
    e.kind = kind
    e.code = idx
    e.offset = offset
    e.depth = <uint16_t>(depth if depth < 65535 else 65535)
    e.vtag = V_VOID
    e.payload = 0
    e.aux = 0


cdef inline void push_frame(ThreadState* st, PyObject* code, int32_t idx, int64_t now,
                            int32_t counted) noexcept:
    cdef Frame* f
    cdef void* p
    if st.sp >= st.stack_cap:
        if st.stack_cap >= STACK_MAX:
            return
        p = realloc(st.stack, 2 * st.stack_cap * sizeof(Frame))
        if p == NULL:
            return
        st.stack = <Frame*>p
        st.stack_cap *= 2
    if st.sp > 0:
        st.stack[st.sp - 1].callees = 1
    f = &st.stack[st.sp]
    f.code = code
    f.start = now
    f.child = 0
    f.idx = idx
    f.callees = 0
    st.sp += 1
    if idx < g_stats_cap:
        g_stats[idx].calls += counted
        g_stats[idx].active += 1


cdef inline int32_t pop_frame(ThreadState* st, PyObject* code, int64_t* now, bint may_skip) noexcept:
    """Pop ``code``'s frame (timing it); MISSING if it is not near the top.

    ``now`` gets the clock, read here only when this return is timed: always for a
    frame that had user callees, for a code's first ALWAYS_TIMED calls and for
    unwinds and yields (``may_skip`` false); for other leaf returns, one in
    SAMPLE_EVERY. An untimed return gets ``AUX_UNTIMED`` in ``now`` (its start time
    in the entry, no duration in the trail) and counts its code's sampled mean in the
    profile, in its own time and in its caller's callee time.
    A miss is normal for frames that started before install. Frames above a
    match lost their exit event (should not happen; be robust) and are dropped.
    """
    cdef int32_t i = st.sp - 1
    cdef int32_t low = st.sp - UNWIND_SEARCH
    cdef Frame* f
    cdef Stats* stats = NULL
    cdef int64_t elapsed
    cdef int32_t idx
    while i >= 0 and i >= low and st.stack[i].code != code:
        i -= 1
    if i < 0 or i < low:
        now[0] = al_ticks()
        return MISSING
    f = &st.stack[i]
    st.sp = i
    idx = f.idx
    if idx < g_stats_cap:
        stats = &g_stats[idx]
    if (may_skip and not f.callees and stats != NULL and stats.calls > ALWAYS_TIMED
            and (st.leaves & (SAMPLE_EVERY - 1)) != 0):
        st.leaves += 1
        now[0] = f.start
        elapsed = stats.mean
        stats.own += elapsed
        stats.active -= 1
        if stats.active <= 0:
            stats.active = 0
            stats.total += elapsed
        if i > 0:
            st.stack[i - 1].child += elapsed
        return idx | UNTIMED_BIT
    if may_skip and not f.callees and stats != NULL and stats.calls > ALWAYS_TIMED:
        st.leaves += 1
    now[0] = al_ticks()
    elapsed = now[0] - f.start
    if stats != NULL:
        stats.own += elapsed - f.child
        stats.active -= 1
        if stats.active <= 0:
            # Outermost activation: recursion is not counted twice in total time.
            stats.active = 0
            stats.total += elapsed
        if not f.callees:
            stats.timed += 1
            stats.timed_sum += elapsed
            stats.mean = stats.timed_sum // stats.timed
    if i > 0:
        st.stack[i - 1].child += elapsed
    return idx


# ---- callbacks: vectorcall (callable, args, nargsf, kwnames) ------------------

cdef inline PyObject* enter(uint8_t kind, PyObject** args, Py_ssize_t nargs) noexcept:
    """PY_START / PY_RESUME / PY_THROW: a user frame starts or continues running."""
    cdef PyObject* code
    cdef int32_t idx
    cdef ThreadState* st
    cdef int64_t now
    if nargs < 2 or not g_enabled:
        return new_none()
    code = args[0]
    idx = code_index(code)
    if idx < 0:
        # PY_THROW cannot be disabled; PY_START/PY_RESUME of library code go quiet for good.
        return new_none() if kind == K_THROW else new_disable()
    st = cur_state()
    if st == NULL or st.paused:
        return new_none()
    if g_args[idx].fold:
        # A generator expression (tracer_types.folded): its start is recorded, its
        # yields and resumes are not monitored, and it is never on the shadow stack.
        if kind == K_START:
            put(st, kind, idx, 0, st.sp, al_ticks())
            if g_capture_args:
                record_args(st, code, idx)
            g_stats[idx].calls += 1
        return new_none()
    now = al_ticks()
    # PY_START is always at offset 0; resumes carry the offset of their yield/await.
    put(st, kind, idx, 0 if kind == K_START else al_offset(args[1]), st.sp, now)
    if kind == K_START and g_capture_args:
        record_args(st, code, idx)
    push_frame(st, code, idx, now, kind == K_START)
    return new_none()


cdef inline PyObject* leave(uint8_t kind, PyObject** args, Py_ssize_t nargs) noexcept:
    """PY_RETURN / PY_YIELD / PY_UNWIND: a user frame stops running."""
    cdef PyObject* code
    cdef int32_t idx
    cdef ThreadState* st
    cdef int64_t now
    cdef Entry* e
    if nargs < 3 or not g_enabled:
        return new_none()
    code = args[0]
    if kind == K_UNWIND:
        # Global and not disableable: filter library code before touching any state.
        idx = code_index(code)
        if idx < 0:
            return new_none()
    st = cur_state()
    if st == NULL or st.paused:
        return new_none()
    idx = pop_frame(st, code, &now, kind == K_RETURN)
    if idx == MISSING:
        idx = code_index(code)
        if idx < 0:
            return new_none() if kind == K_UNWIND else new_disable()
    e = ring_next(st)
    e.ts = now
    e.aux = 0
    if idx & UNTIMED_BIT:
        idx &= ~UNTIMED_BIT
        e.aux = AUX_UNTIMED
    e.kind = kind
    e.code = idx
    e.offset = al_offset(args[1])
    e.depth = <uint16_t>(st.sp if st.sp < 65535 else 65535)
    if kind == K_UNWIND:
        e.offset = al_unwind_offset(code, args[2], e.offset)
        e.payload = type_index(al_type(args[2]))
        e.vtag = V_EXC if e.payload >= 0 else V_VOID
    else:
        summarize(args[2], e)
        if g_capture_values:
            record_value(st, e, args[2])
    return new_none()


cdef inline PyObject* exc_event(uint8_t kind, PyObject** args, Py_ssize_t nargs) noexcept:
    """RAISE / RERAISE / EXCEPTION_HANDLED inside a user frame (global events: keep tiny)."""
    cdef PyObject* code
    cdef int32_t idx
    cdef int32_t depth
    cdef int32_t tidx
    cdef ThreadState* st
    cdef Entry* e
    if nargs < 3 or not g_enabled:
        return new_none()
    code = args[0]
    idx = code_index(code)
    if idx < 0:
        return new_none()
    st = cur_state()
    if st == NULL or st.paused:
        return new_none()
    tidx = type_index(al_type(args[2]))
    if kind == K_RAISE and st.head > st.base:
        # RAISE fires again in every frame an exception propagates into; right after
        # the callee's PY_UNWIND of the same type it says nothing new: skip it.
        e = &st.ring[(st.head - 1) & st.mask]
        if e.kind == K_UNWIND and e.payload == tidx:
            return new_none()
    depth = st.sp - 1 if st.sp > 0 and st.stack[st.sp - 1].code == code else st.sp
    put(st, kind, idx, al_offset(args[1]), depth, al_ticks())
    e = &st.ring[(st.head - 1) & st.mask]
    e.payload = tidx
    e.vtag = V_EXC if tidx >= 0 else V_VOID
    return new_none()


cdef PyObject* on_py_start(PyObject* cb, PyObject** args, size_t nargsf, PyObject* kw) noexcept:
    return enter(K_START, args, nargs_of(nargsf))


cdef PyObject* on_py_resume(PyObject* cb, PyObject** args, size_t nargsf, PyObject* kw) noexcept:
    return enter(K_RESUME, args, nargs_of(nargsf))


cdef PyObject* on_py_throw(PyObject* cb, PyObject** args, size_t nargsf, PyObject* kw) noexcept:
    return enter(K_THROW, args, nargs_of(nargsf))


cdef PyObject* on_py_return(PyObject* cb, PyObject** args, size_t nargsf, PyObject* kw) noexcept:
    return leave(K_RETURN, args, nargs_of(nargsf))


cdef PyObject* on_py_yield(PyObject* cb, PyObject** args, size_t nargsf, PyObject* kw) noexcept:
    return leave(K_YIELD, args, nargs_of(nargsf))


cdef object g_trail_exit_handler = None  # set_trail_exit_handler: exits seen by the trail's own tool


cdef PyObject* on_py_unwind(PyObject* cb, PyObject** args, size_t nargsf, PyObject* kw) noexcept:
    cdef Py_ssize_t nargs = nargs_of(nargsf)
    # Before the library filter: __main__'s <module> may be code the trail does not record.
    if nargs >= 3 and g_trail_exit_handler is not None and exc_matches(args[2], PyExc_SystemExit):
        call_unwind_handler(g_trail_exit_handler, args)
    return leave(K_UNWIND, args, nargs)


def set_trail_exit_handler(handler):
    """Let the trail's PY_UNWIND callback hand ``SystemExit`` unwinds to ``handler(code, offset, exc)``
    (None: stop), so the exit watcher (agentlog/runtime/exitwatch.py) needs no tool id of its own."""
    global g_trail_exit_handler
    g_trail_exit_handler = handler


cdef PyObject* on_raise(PyObject* cb, PyObject** args, size_t nargsf, PyObject* kw) noexcept:
    return exc_event(K_RAISE, args, nargs_of(nargsf))


cdef PyObject* on_reraise(PyObject* cb, PyObject** args, size_t nargsf, PyObject* kw) noexcept:
    return exc_event(K_RERAISE, args, nargs_of(nargsf))


cdef PyObject* on_exception_handled(PyObject* cb, PyObject** args, size_t nargsf, PyObject* kw) noexcept:
    return exc_event(K_HANDLED, args, nargs_of(nargsf))


cdef dict g_callbacks = {
    "PY_START": al_callback_new(on_py_start, "PY_START"),
    "PY_RESUME": al_callback_new(on_py_resume, "PY_RESUME"),
    "PY_THROW": al_callback_new(on_py_throw, "PY_THROW"),
    "PY_RETURN": al_callback_new(on_py_return, "PY_RETURN"),
    "PY_YIELD": al_callback_new(on_py_yield, "PY_YIELD"),
    "PY_UNWIND": al_callback_new(on_py_unwind, "PY_UNWIND"),
    "RAISE": al_callback_new(on_raise, "RAISE"),
    "RERAISE": al_callback_new(on_reraise, "RERAISE"),
    "EXCEPTION_HANDLED": al_callback_new(on_exception_handled, "EXCEPTION_HANDLED"),
}
al_exit_init(mark_dead)

NAME = "c"


def frame_layout():
    """Offsets al_frame.h assumes (code, owner, localsplus, thread state's frame), or None."""
    cdef Py_ssize_t out[4]
    if not AL_FRAME_LAYOUT:
        return None
    al_frame_layout(out)
    return {"code": out[0], "owner": out[1], "localsplus": out[2], "tstate_frame": out[3]}


def debug_offset_positions():
    """Where this build reads _Py_DebugOffsets' fields (free_threaded, thread state's frame,
    frame's code, localsplus, owner), or None where it reads none."""
    if not AL_DEBUG_OFFSETS:
        return None
    return tuple(al_dbg_at[i] for i in range(5))


def published_layout():
    """The running CPython's own frame offsets from ``_Py_DebugOffsets`` (3.13+), or why not.

    A dict shaped like :func:`frame_layout` plus ``version`` and ``free_threaded``,
    or a string saying why the offsets could not be read.
    """
    cdef uint64_t out[6]
    cdef int rc = al_debug_offsets(out)
    if rc == -1:
        return "this CPython version publishes no _Py_DebugOffsets this build knows"
    if rc == -2:
        return "_PyRuntime (where CPython publishes its offsets) is not an exported symbol here"
    if rc == -3:
        return "_PyRuntime does not start with the _Py_DebugOffsets cookie"
    return {"version": out[0], "free_threaded": out[1], "tstate_frame": out[2], "code": out[3],
            "localsplus": out[4], "owner": out[5]}


def _layout_problem():
    """None if argument slots can be read on this interpreter, else why not (checked once, at import)."""
    import sys
    compiled = frame_layout()
    if compiled is None:
        build = f"CPython {sys.version_info.major}.{sys.version_info.minor}"
        build += " free-threaded" if "t" in getattr(sys, "abiflags", "") else ""
        return (f"the C engine was built without a frame layout for {build} (verified layouts: "
                "CPython 3.12 to 3.15, GIL builds)")
    if not AL_DEBUG_OFFSETS:
        return None  # 3.12: nothing published to compare with; the per-call code check remains
    published = published_layout()
    if isinstance(published, str):
        return f"cannot verify the frame layout: {published}"
    if published["version"] >> 16 != sys.hexversion >> 16 or published["free_threaded"]:
        return f"_Py_DebugOffsets describes another build (version {published['version']:#x})"
    for field in ("tstate_frame", "code", "localsplus", "owner"):
        if published[field] != compiled[field]:
            return (f"CPython {sys.version.split()[0]} puts the frame's {field} at offset {published[field]}, "
                    f"this build expects {compiled[field]} (_Py_DebugOffsets)")
    return None


# Argument values need the frame layout of the CPython this was compiled for (al_frame.h),
# confirmed against the offsets the running interpreter publishes.
ARGS_OFF_REASON = _layout_problem()
ARGS_SUPPORTED = ARGS_OFF_REASON is None
cdef bint g_layout_ok = ARGS_SUPPORTED


cdef PyObject* on_empty(PyObject* cb, PyObject** args, size_t nargsf, PyObject* kw) noexcept:
    return new_none()


cdef object g_empty = al_callback_new(on_empty, "empty")


def empty_callback():
    """A C callback that does nothing: the benchmarks' floor for a monitored call."""
    return g_empty


# ---- cold-path API (the Engine protocol in agentlog/runtime/tracer_types.py) ----

def callbacks():
    """Event name -> callback object, for ``sys.monitoring.register_callback``."""
    return dict(g_callbacks)


def configure(int ring_size, classify, disable, bint capture_args=True):
    """Start a fresh recording session: empty tables, rings re-created lazily per thread.

    ``capture_args`` records the first arguments of every call (where the frame
    layout is known: ARGS_SUPPORTED).
    """
    global g_ring_cap, g_ring_start, g_classify, g_disable, g_gen, g_enabled, g_cal_ticks, g_cal_ns
    global g_capture_args, g_capture_values
    cdef uint64_t cap = MIN_RING
    while cap < <uint64_t>ring_size:
        cap <<= 1
    g_enabled = False
    g_ring_cap = cap
    g_ring_start = RING_START if RING_START < cap else cap
    g_classify = classify
    g_disable = disable
    g_capture_args = capture_args and g_layout_ok
    g_capture_values = capture_args
    _clear_tables()
    for tp in (list, tuple, dict, set, frozenset):
        type_index(<PyObject*>tp)
    g_gen += 1
    g_cal_ticks = al_ticks()
    g_cal_ns = al_mono_ns()
    g_enabled = True


cdef void _clear_tables() noexcept:
    global g_last_type, g_last_type_idx
    ptrmap_free(&g_codes)
    ptrmap_free(&g_typemap)
    g_last_type = NULL
    g_last_type_idx = -1
    g_keep.clear()
    g_keep_other.clear()
    g_types.clear()
    clear_stats()


def release():
    """Stop recording and free every ring (thread states stay: TLS slots point at them)."""
    global g_enabled, g_classify, g_gen
    cdef ThreadState* s = g_states
    g_enabled = False
    g_classify = None
    g_gen += 1
    while s != NULL:
        ring_free(s)
        free(s.stack)
        s.stack = NULL
        s.stack_cap = 0
        s.sp = 0
        s.head = 0
        s = s.next
    _clear_tables()


def after_fork():
    """In a forked child: only the calling thread survives; start its trail afresh."""
    global g_gen, g_dead_pending
    cdef unsigned long me = PyThread_get_thread_ident()
    cdef ThreadState* s = g_states
    while s != NULL:
        if s.ident != me:
            s.alive = 0
        s = s.next
    g_dead_pending = 1
    g_gen += 1
    clear_stats()


def set_paused(bint paused):
    """Pause/resume recording on the calling thread; returns the previous setting."""
    cdef ThreadState* st
    cdef bint previous
    if not g_enabled:
        return False
    st = cur_state()
    if st == NULL:
        return False
    previous = st.paused
    st.paused = paused
    return previous


cdef double ns_per_tick() noexcept:
    cdef int64_t t1, n1, deadline
    if not AL_TICKS_ARE_TSC:
        return 1.0
    t1 = al_ticks()
    n1 = al_mono_ns()
    if n1 - g_cal_ns < 2000000:
        # Too short a baseline for a stable ratio: spin 2 ms (cold path only).
        deadline = n1 + 2000000
        while n1 < deadline:
            n1 = al_mono_ns()
        t1 = al_ticks()
    if t1 == g_cal_ticks:
        return 1.0
    return <double>(n1 - g_cal_ns) / <double>(t1 - g_cal_ticks)


cdef ThreadState* find_state(unsigned long ident) noexcept:
    cdef ThreadState* s = g_states
    cdef ThreadState* found = NULL
    while s != NULL:
        if s.ident == ident and s.gen == g_gen and s.ring != NULL:
            if s.alive:
                return s
            found = s
        s = s.next
    return found


cdef inline uint64_t held(ThreadState* s) noexcept:
    """Entries the ring holds now (the newest ones)."""
    cdef uint64_t n = s.head - s.base
    return n if n < s.mask + 1 else s.mask + 1


def set_ring_budget(int64_t budget_bytes):
    """Bound all rings together to ``budget_bytes`` (each ring keeps at least its starting size)."""
    global g_budget
    g_budget = <uint64_t>(budget_bytes if budget_bytes > 0 else 0) // sizeof(Entry)


def ring_info(unsigned long ident):
    """(entries the thread's ring can hold now, whether the budget held it below ring_size)."""
    cdef ThreadState* st = find_state(ident)
    if st == NULL:
        return 0, False
    return st.mask + 1, bool(st.reduced)


def memory():
    """(bytes in rings, rings allocated, budget bytes, library-code verdicts cached, user codes)."""
    if g_dead_pending:
        sweep_dead()
    return (g_ring_total * sizeof(Entry), g_rings, g_budget * sizeof(Entry), len(g_keep_other), len(g_keep))


def thread_infos():
    """[(ident, alive, written, dropped, depth, top code index or -1)] for this session."""
    cdef ThreadState* s = g_states
    out = []
    while s != NULL:
        if s.gen == g_gen and s.ring != NULL:
            out.append((
                s.ident, bool(s.alive), s.head,
                s.head - held(s),
                s.sp, s.stack[s.sp - 1].idx if s.sp > 0 else -1,
            ))
        s = s.next
    return out


def entries(unsigned long ident, int max_calls):
    """The tail of a thread's ring holding its last ``max_calls`` calls, oldest first.

    Returns (entries, written, dropped); each entry is
    (ns, kind, code, offset, depth, vtag, payload, text) with payload an int, or
    a float for V_FLOAT. Value entries (K_ARG, K_VALUE) have ns, code and offset
    0, depth = argument slot or item index, and text = the bytes of their prefix
    (None if there is none); event entries have text None.
    """
    cdef ThreadState* st = find_state(ident)
    cdef uint64_t n, start, i
    cdef int calls = 0
    cdef Entry* e
    cdef double scale
    cdef double d
    cdef object payload
    if st == NULL:
        return [], 0, 0
    n = held(st)
    start = st.head
    while start > st.head - n:
        start -= 1
        e = &st.ring[start & st.mask]
        if e.kind == K_START or e.kind == K_RESUME or e.kind == K_THROW:
            calls += 1
            if calls >= max_calls:
                break
    scale = ns_per_tick()
    out = []
    for i in range(start, st.head):
        e = &st.ring[i & st.mask]
        if e.vtag == V_FLOAT:
            memcpy(&d, &e.payload, sizeof(double))
            payload = d
        else:
            payload = e.payload
        if e.kind == K_ARG or e.kind == K_VALUE:
            text = (<char*>e)[:e.aux & 0xff] if e.aux & AUX_TEXT else None
            out.append((0, e.kind, 0, 0, e.depth, e.vtag, payload, text))
            continue
        out.append((
            -1 if e.aux & AUX_UNTIMED else g_cal_ns + <int64_t>((e.ts - g_cal_ticks) * scale),
            e.kind, e.code, e.offset, e.depth, e.vtag, payload, None,
        ))
    return out, st.head, st.head - n


def profile():
    """[(code index, calls, total ns, self ns)] for every code that ran."""
    cdef double scale = ns_per_tick()
    cdef int32_t i
    out = []
    for i in range(g_stats_cap):
        if g_stats[i].calls or g_stats[i].own:
            out.append((i, g_stats[i].calls, <int64_t>(g_stats[i].total * scale),
                        <int64_t>(g_stats[i].own * scale)))
    return out


def types():
    """The type table: V_SIZED/V_OBJ/V_EXC payloads index into it."""
    return list(g_types)


# ---- PY_UNWIND filter for @agentlog.trace (agentlog/runtime/traced.py) ----------
# PY_UNWIND cannot be a local event, so @trace's tool sees every unwinding frame of
# the process. This callback drops the ones that are not @trace'd in C and calls
# the Python handler only for traced code objects.

cdef PtrMap g_traced                # @trace'd code objects (values unused)
cdef list g_traced_keep = []        # keeps their pointers unique
cdef object g_traced_handler = None


cdef PyObject* on_traced_unwind(PyObject* cb, PyObject** args, size_t nargsf, PyObject* kw) noexcept:
    if nargs_of(nargsf) < 3 or g_traced_handler is None or ptrmap_get(&g_traced, args[0]) == MISSING:
        return new_none()
    return pass_unwind(g_traced_handler, args)


cdef void call_unwind_handler(object handler, PyObject** args) noexcept:
    """Hand a PY_UNWIND event to a Python ``handler(code, offset, exc)``; never raises."""
    try:
        handler(<object>args[0], <object>args[1], <object>args[2])
    except KeyboardInterrupt:
        PyErr_SetInterrupt()
    except BaseException:
        pass  # the handler reports its own errors; a callback must not raise


cdef PyObject* pass_unwind(object handler, PyObject** args) noexcept:
    call_unwind_handler(handler, args)
    return new_none()


cdef object g_traced_unwind = al_callback_new(on_traced_unwind, "PY_UNWIND(trace)")


def traced_unwind_callback(handler):
    """The PY_UNWIND callback for @trace's tool; ``handler(code, offset, exc)`` sees only
    code objects passed to :func:`add_traced_code`."""
    global g_traced_handler
    g_traced_handler = handler
    return g_traced_unwind


def add_traced_code(code):
    """Let PY_UNWIND events of ``code`` through to the @trace handler."""
    if ptrmap_get(&g_traced, <PyObject*>code) == MISSING and ptrmap_put(&g_traced, <PyObject*>code, 0) == 0:
        g_traced_keep.append(code)


# ---- PY_UNWIND filter for exits (agentlog/runtime/exitwatch.py) -----------------
# A SystemExit leaving __main__ never reaches sys.excepthook. PY_UNWIND is global
# only, so this callback sees every unwinding frame of the process and drops all
# but a SystemExit's in C: exception-heavy code pays one type check per unwind.

cdef object g_exit_handler = None


cdef PyObject* on_exit_unwind(PyObject* cb, PyObject** args, size_t nargsf, PyObject* kw) noexcept:
    if nargs_of(nargsf) < 3 or g_exit_handler is None or not exc_matches(args[2], PyExc_SystemExit):
        return new_none()
    return pass_unwind(g_exit_handler, args)


cdef object g_exit_unwind = al_callback_new(on_exit_unwind, "PY_UNWIND(exit)")


def exit_unwind_callback(handler):
    """The PY_UNWIND callback for the exit watcher's tool: ``handler(code, offset, exc)``
    sees only unwinds of a ``SystemExit`` (or a subclass)."""
    global g_exit_handler
    g_exit_handler = handler
    return g_exit_unwind
