/* Platform helpers for agentlog._tracer: a cheap clock and per-thread state.
 *
 * al_ticks(): a monotonic counter read on every recorded event. On x86-64 it
 *   is the TSC (a few ns, invariant on every CPU of the last decade); elsewhere
 *   CLOCK_MONOTONIC in ns. The Cython side converts ticks to ns on the cold
 *   path by calibrating against CLOCK_MONOTONIC (al_mono_ns).
 * al_tls_get()/al_tls_set(): one pointer per OS thread in C thread-local
 *   storage, so finding a thread's ring costs one load.
 * al_on_thread_exit(p): arrange for al_exit_hook(p) to run when the calling
 *   thread exits (a pthread key destructor), so a dead thread's ring can be
 *   reused instead of leaked. No-op where pthreads are unavailable.
 */
#ifndef AL_PLATFORM_H
#define AL_PLATFORM_H

#include <Python.h>
#include <stdint.h>
#include <time.h>

/* Py_TYPE as a plain PyObject* (Cython compares it against cached type pointers). */
static inline PyObject *al_type(PyObject *o) { return (PyObject *)Py_TYPE(o); }

/* Value of an exact int that fits in a machine word, read inline (no call into
 * libpython). Returns 0 and leaves *out alone for big ints. The compact-int
 * accessors are PyUnstable_ API since 3.12 (the int layout changed in 3.12). */
static inline int al_small_int(PyObject *o, int64_t *out) {
    if (!PyUnstable_Long_IsCompact((PyLongObject *)o)) return 0;
    *out = (int64_t)PyUnstable_Long_CompactValue((PyLongObject *)o);
    return 1;
}

/* sys.monitoring passes instruction offsets as small ints. */
static inline int32_t al_offset(PyObject *o) {
    int64_t v = 0;
    if (PyLong_CheckExact(o) && al_small_int(o, &v)) return (int32_t)v;
    return -1;
}

/* Where an exception left a frame, as a traceback prints it. PY_UNWIND's own
 * offset is where the frame lets the exception go: in a coroutine or generator
 * the handler CPython wraps around the body (it has no line), after a `with` or
 * `finally` the re-raise ending it. The traceback entry the frame added when the
 * exception reached it (the exception's newest, PyTraceBack_Here) holds the offset
 * of the raise, or of the call it came out of. */
static inline int32_t al_unwind_offset(PyObject *code, PyObject *exc, int32_t offset) {
    PyObject *tb;
    if (!PyExceptionInstance_Check(exc)) return offset;
    tb = PyException_GetTraceback(exc);
    if (tb == NULL) return offset;
    if (PyTraceBack_Check(tb)) {
        PyTracebackObject *entry = (PyTracebackObject *)tb;
        if (entry->tb_frame != NULL && entry->tb_lasti >= 0) {
            PyCodeObject *owner = PyFrame_GetCode(entry->tb_frame);
            if ((PyObject *)owner == code) offset = entry->tb_lasti;
            Py_DECREF(owner);
        }
    }
    Py_DECREF(tb);
    return offset;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <x86intrin.h>
#define AL_TICKS_ARE_TSC 1
static inline int64_t al_ticks(void) { return (int64_t)__rdtsc(); }
#else
#define AL_TICKS_ARE_TSC 0
static inline int64_t al_ticks(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
#endif

static inline int64_t al_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#if defined(_MSC_VER)
#define AL_THREAD_LOCAL __declspec(thread)
#elif defined(__GNUC__) && defined(__ELF__)
/* initial-exec: one %fs-relative load instead of a __tls_get_addr call per event
 * (the default model for -fPIC code). Costs 8 bytes of the static TLS surplus. */
#define AL_THREAD_LOCAL _Thread_local __attribute__((tls_model("initial-exec")))
#else
#define AL_THREAD_LOCAL _Thread_local
#endif

static AL_THREAD_LOCAL void *al_tls_state = NULL;
static inline void *al_tls_get(void) { return al_tls_state; }
static inline void al_tls_set(void *p) { al_tls_state = p; }

typedef void (*al_exit_fn)(void *);
static al_exit_fn al_exit_hook = NULL;

#if !defined(_WIN32)
#include <pthread.h>
static pthread_key_t al_exit_key;
static int al_exit_key_ok = 0;

static void al_exit_trampoline(void *p) {
    if (p != NULL && al_exit_hook != NULL) al_exit_hook(p);
}

/* Called once at module init (under the GIL). */
static inline void al_exit_init(al_exit_fn fn) {
    al_exit_hook = fn;
    if (!al_exit_key_ok && pthread_key_create(&al_exit_key, al_exit_trampoline) == 0)
        al_exit_key_ok = 1;
}

static inline void al_on_thread_exit(void *p) {
    if (al_exit_key_ok) pthread_setspecific(al_exit_key, p);
}
#else
static inline void al_exit_init(al_exit_fn fn) { al_exit_hook = fn; }
static inline void al_on_thread_exit(void *p) { (void)p; }
#endif

#endif /* AL_PLATFORM_H */
