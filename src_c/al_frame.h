/* Reading a starting frame's argument slots, for CPython versions whose frame
 * layout this file knows (agentlog._tracer's argument capture).
 *
 * At PY_START the interpreter has bound the arguments into the new frame's
 * localsplus array (defaults filled, *args a tuple, **kwargs a dict, an argument
 * that is also a cell already wrapped by MAKE_CELL) and the frame is the
 * thread's current one: a C callback pushes no frame of its own.
 *
 * _PyInterpreterFrame is internal (Include/internal/pycore_frame.h, needs
 * Py_BUILD_CORE), so the prefix we read is mirrored here and compiled only for
 * the versions it was checked against: offsetof against the installed 3.12.1
 * and 3.13.0 headers gives f_code/f_executable @0, owner @70, localsplus @72
 * (tests/test_frame_layout.py compiles the real header and compares with
 * al_frame_layout()). 3.14 turned the slots into tagged _PyStackRef and moved
 * owner; the free-threaded build changes object headers. Anything else compiles
 * with AL_FRAME_LAYOUT 0: calls are still recorded, without argument values.
 * At run time al_frame_slots() also checks that the frame's code is the event's
 * code (and that it is a Python frame) before handing out its slots.
 *
 * Define AL_NO_FRAME_LAYOUT to build as an unknown version would (tests do).
 */
#ifndef AL_FRAME_H
#define AL_FRAME_H

#include <Python.h>
#include <stddef.h>
#include <stdint.h>

#if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030E0000 && !defined(Py_GIL_DISABLED) \
    && !defined(AL_NO_FRAME_LAYOUT) && SIZEOF_VOID_P == 8
#define AL_FRAME_LAYOUT 1

/* The leading fields of _PyInterpreterFrame in 3.12 and 3.13 (64-bit). */
typedef struct al_iframe {
    PyObject *f_code;            /* 3.12 f_code, 3.13 f_executable (a code object or None) */
    struct al_iframe *previous;
    PyObject *f_funcobj;
    PyObject *f_globals;
    PyObject *f_builtins;
    PyObject *f_locals;
    void *frame_obj;
    void *instr_ptr;             /* 3.12 prev_instr */
    int stacktop;
    uint16_t return_offset;
    char owner;                  /* FRAME_OWNED_BY_THREAD 0, GENERATOR 1, FRAME_OBJECT 2, CSTACK 3 */
    PyObject *localsplus[1];     /* strong references owned by the frame; NULL = unbound */
} al_iframe;

#define AL_OWNED_BY_CSTACK 3

/* The current frame's argument slots if it is a Python frame running ``code``, else NULL.
 * Borrowed for the duration of the callback only (the GIL is held, nothing runs meanwhile). */
static inline PyObject **al_frame_slots(PyObject *code) {
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
    if (f == NULL || f->owner >= AL_OWNED_BY_CSTACK || f->f_code != code) return NULL;
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
static inline PyObject **al_frame_slots(PyObject *code) { (void)code; return NULL; }
static inline void al_frame_layout(Py_ssize_t out[4]) { out[0] = out[1] = out[2] = out[3] = -1; }
#endif

/* Bytes of a str's ASCII text, or NULL if it is not pure ASCII (other kinds keep only their length). */
static inline const char *al_ascii_data(PyObject *s) {
    return PyUnicode_IS_ASCII(s) ? (const char *)PyUnicode_DATA(s) : NULL;
}

/* The object an argument's cell holds (NULL if empty). The slot of an argument that
 * is also a cell variable holds its cell once the prologue's MAKE_CELL ran, which is
 * before PY_START; anything else is taken as the value itself rather than trusted. */
static inline PyObject *al_cell_get(PyObject *slot) { return PyCell_Check(slot) ? PyCell_GET(slot) : slot; }

#endif /* AL_FRAME_H */
