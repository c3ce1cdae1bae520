/* Reading a starting frame's argument slots, for CPython versions whose frame
 * layout this file knows (agentlog._tracer's argument capture).
 *
 * At PY_START the interpreter has bound the arguments into the new frame's
 * localsplus array (defaults filled, *args a tuple, **kwargs a dict, an argument
 * that is also a cell already wrapped by MAKE_CELL) and the frame is the
 * thread's current one: a C callback pushes no frame of its own.
 *
 * _PyInterpreterFrame is internal (Include/internal/pycore_frame.h, needs
 * Py_BUILD_CORE), so the prefix we read is mirrored here, one layout per minor
 * version, compiled only for the versions it was checked against (64-bit, GIL
 * builds; tests/test_frame_layout.py compiles the real headers and compares):
 *
 *   version    code @  owner @  localsplus @  slots
 *   3.12, 3.13    0       70        72        PyObject *        (3.12.1, 3.13.0 headers)
 *   3.14, 3.15    0       74        80        _PyStackRef       (3.14.10, 3.15.2 headers)
 *
 * 3.14 made the slots (and f_executable) tagged references: a PyObject * with
 * its low bit set when the reference is deferred or the object immortal
 * (Py_TAG_REFCNT), the bits 1 for an unbound slot (PyStackRef_NULL), and low
 * bits 11 for a tagged int (Py_INT_TAG, not an object). We only mask the tag
 * off and look: no reference is taken or released, nothing is written.
 * Owners >= 3 are not Python frames (3.12/3.13 CSTACK 3; 3.14 INTERPRETER 3,
 * CSTACK 4; 3.15 INTERPRETER 3).
 *
 * Since 3.13 CPython publishes these offsets for out-of-process debuggers in
 * _Py_DebugOffsets, the first member of _PyRuntime (cookie "xdebugpy", the
 * runtime's PY_VERSION_HEX). al_debug_offsets() reads them so the tracer can
 * compare them with this file's at start (a patch release that moved a field
 * turns argument capture off instead of misreading memory). At run time
 * al_frame_slots() also checks that the frame's code is the event's code (and
 * that it is a Python frame) before handing out its slots.
 *
 * Anything else (3.16+, free-threaded, 32-bit) compiles with AL_FRAME_LAYOUT 0:
 * calls are still recorded, without argument values.
 * Define AL_NO_FRAME_LAYOUT to build as an unknown version would, and
 * AL_TEST_FRAME_SKEW=N to pad N bytes before localsplus, a deliberately wrong
 * layout the start-up check must catch (tests do both).
 */
#ifndef AL_FRAME_H
#define AL_FRAME_H

#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifndef AL_TEST_FRAME_SKEW
#define AL_TEST_FRAME_SKEW 0
#endif

#if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x03100000 && !defined(Py_GIL_DISABLED) \
    && !defined(AL_NO_FRAME_LAYOUT) && SIZEOF_VOID_P == 8
#define AL_FRAME_LAYOUT 1

#if PY_VERSION_HEX < 0x030E0000
#define AL_TAGGED_SLOTS 0
typedef PyObject *al_slot;       /* a strong reference owned by the frame; NULL = unbound */
#else
#define AL_TAGGED_SLOTS 1
typedef uintptr_t al_slot;       /* _PyStackRef: a PyObject * with tag bits */
#endif

/* The leading fields of _PyInterpreterFrame (64-bit, GIL build). */
typedef struct al_iframe {
    al_slot f_code;              /* 3.12 f_code, 3.13+ f_executable (a code object or None) */
    struct al_iframe *previous;
    al_slot f_funcobj;
    PyObject *f_globals;
    PyObject *f_builtins;
    PyObject *f_locals;
    void *frame_obj;
    void *instr_ptr;             /* 3.12 prev_instr */
#if PY_VERSION_HEX < 0x030E0000
    int stacktop;
#else
    void *stackpointer;
#endif
    uint16_t return_offset;
    char owner;
#if PY_VERSION_HEX >= 0x030E0000
    uint8_t visited;
#endif
#if AL_TEST_FRAME_SKEW
    char al_test_skew[AL_TEST_FRAME_SKEW];
#endif
    al_slot localsplus[1];
} al_iframe;

#define AL_FIRST_NON_PYTHON_OWNER 3

/* The object a slot refers to, borrowed; NULL if unbound or not an object. */
static inline PyObject *al_slot_object(al_slot s) {
#if AL_TAGGED_SLOTS
    if (s & 2) return NULL;                      /* Py_INT_TAG (3) or an invalid tag (2) */
    return (PyObject *)(s & ~(uintptr_t)1);      /* drop Py_TAG_REFCNT; PyStackRef_NULL is 1 */
#else
    return s;
#endif
}

/* The current frame's argument slots if it is a Python frame running ``code``, else NULL.
 * Borrowed for the duration of the callback only (the GIL is held, nothing runs meanwhile). */
static inline al_slot *al_frame_slots(PyObject *code) {
    al_iframe *f;
#if PY_VERSION_HEX < 0x030D0000
    PyThreadState *ts = _PyThreadState_UncheckedGet();
    if (ts == NULL || ts->cframe == NULL) return NULL;
    f = (al_iframe *)ts->cframe->current_frame;
#else
    PyThreadState *ts = PyThreadState_GetUnchecked();
    if (ts == NULL) return NULL;
    f = (al_iframe *)ts->current_frame;
#endif
    if (f == NULL || f->owner >= AL_FIRST_NON_PYTHON_OWNER || al_slot_object(f->f_code) != code) return NULL;
    return f->localsplus;
}

/* Offsets this build assumes: (code, owner, localsplus, thread state -> frame). */
static inline void al_frame_layout(Py_ssize_t out[4]) {
    out[0] = offsetof(al_iframe, f_code);
    out[1] = offsetof(al_iframe, owner);
    out[2] = offsetof(al_iframe, localsplus);
#if PY_VERSION_HEX < 0x030D0000
    out[3] = offsetof(PyThreadState, cframe);
#else
    out[3] = offsetof(PyThreadState, current_frame);
#endif
}

#else
#define AL_FRAME_LAYOUT 0
typedef PyObject *al_slot;
static inline PyObject *al_slot_object(al_slot s) { return s; }
static inline al_slot *al_frame_slots(PyObject *code) { (void)code; return NULL; }
static inline void al_frame_layout(Py_ssize_t out[4]) { out[0] = out[1] = out[2] = out[3] = -1; }
#endif

/* Where _Py_DebugOffsets keeps the fields we compare, per version (offsetof in the
 * real headers, checked by tests/test_frame_layout.py): free_threaded,
 * thread_state.current_frame, interpreter_frame.executable, .localsplus, .owner. */
#if PY_VERSION_HEX >= 0x030D0000 && PY_VERSION_HEX < 0x030E0000
#define AL_DEBUG_OFFSETS 1
static const size_t al_dbg_at[5] = {16, 184, 240, 256, 264};
#elif PY_VERSION_HEX >= 0x030E0000 && PY_VERSION_HEX < 0x030F0000
#define AL_DEBUG_OFFSETS 1
static const size_t al_dbg_at[5] = {16, 208, 264, 280, 288};
#elif PY_VERSION_HEX >= 0x030F0000 && PY_VERSION_HEX < 0x03100000
#define AL_DEBUG_OFFSETS 1
static const size_t al_dbg_at[5] = {16, 208, 328, 344, 352};
#else
#define AL_DEBUG_OFFSETS 0   /* 3.12 publishes none; later versions are unknown */
static const size_t al_dbg_at[5] = {0, 0, 0, 0, 0};
#endif

#if AL_DEBUG_OFFSETS
#ifdef _WIN32
#include <windows.h>
static void *al_runtime_address(void) {
    HMODULE dll = NULL;
    if (!GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            (LPCSTR)&Py_IsInitialized, &dll))
        return NULL;
    return (void *)GetProcAddress(dll, "_PyRuntime");
}
#else
#include <dlfcn.h>
static void *al_runtime_address(void) { return dlsym(RTLD_DEFAULT, "_PyRuntime"); }
#endif
#endif

/* The running interpreter's published layout: out = {version, free_threaded,
 * tstate->current_frame, frame executable, localsplus, owner}. Returns 0, or
 * -1 if this version publishes none we know how to read, -2 if _PyRuntime
 * cannot be found, -3 if its cookie is not "xdebugpy". Reads only. */
static inline int al_debug_offsets(uint64_t out[6]) {
#if AL_DEBUG_OFFSETS
    const char *rt = (const char *)al_runtime_address();
    int i;
    if (rt == NULL) return -2;
    if (memcmp(rt, "xdebugpy", 8) != 0) return -3;
    memcpy(&out[0], rt + 8, sizeof(uint64_t));
    for (i = 0; i < 5; i++) memcpy(&out[i + 1], rt + al_dbg_at[i], sizeof(uint64_t));
    return 0;
#else
    (void)out;
    return -1;
#endif
}

/* Bytes of a str's ASCII text, or NULL if it is not pure ASCII (other kinds keep only their length). */
static inline const char *al_ascii_data(PyObject *s) {
    return PyUnicode_IS_ASCII(s) ? (const char *)PyUnicode_DATA(s) : NULL;
}

/* The UTF-8 encoding of the longest prefix of whole characters of a non-ASCII str that
 * fits in cap bytes, from its first cap characters, into out; returns the bytes written.
 * A lone surrogate becomes '?' (as str.encode("utf-8", "replace")). No allocation: the
 * str's own UCS1/2/4 data is read. */
static inline int al_utf8_prefix(PyObject *s, char *out, int cap) {
    int kind = PyUnicode_KIND(s), n = 0, need;
    const void *data = PyUnicode_DATA(s);
    Py_ssize_t i, len = PyUnicode_GET_LENGTH(s);
    Py_UCS4 c;
    for (i = 0; i < len && i < cap; i++) {
        c = PyUnicode_READ(kind, data, i);
        if (c >= 0xD800 && c <= 0xDFFF) c = '?';
        need = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        if (n + need > cap) break;
        if (need == 1) { out[n++] = (char)c; continue; }
        if (need == 2) { out[n++] = (char)(0xC0 | (c >> 6)); }
        else if (need == 3) { out[n++] = (char)(0xE0 | (c >> 12)); out[n++] = (char)(0x80 | ((c >> 6) & 0x3F)); }
        else {
            out[n++] = (char)(0xF0 | (c >> 18)); out[n++] = (char)(0x80 | ((c >> 12) & 0x3F));
            out[n++] = (char)(0x80 | ((c >> 6) & 0x3F));
        }
        out[n++] = (char)(0x80 | (c & 0x3F));
    }
    return n;
}

/* The object an argument's cell holds (NULL if empty). The slot of an argument that
 * is also a cell variable holds its cell once the prologue's MAKE_CELL ran, which is
 * before PY_START; anything else is taken as the value itself rather than trusted. */
static inline PyObject *al_cell_get(PyObject *slot) { return PyCell_Check(slot) ? PyCell_GET(slot) : slot; }

#endif /* AL_FRAME_H */
