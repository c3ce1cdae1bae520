/* A minimal callable type whose instances are called through the vectorcall
 * protocol straight into a C function.
 *
 * sys.monitoring invokes callbacks with _PyObject_VectorcallTstate(). A builtin
 * function (METH_FASTCALL) would add cfunction_vectorcall_FASTCALL in between,
 * with a recursion-depth check on every event; this type skips that layer. The
 * interpreter already guards against recursion around monitoring callbacks
 * (they run with tstate->tracing set, so they trigger no further events).
 */
#ifndef AL_CALLBACK_H
#define AL_CALLBACK_H

#include <Python.h>
#include <stddef.h>

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;  /* the C callback */
    const char *name;           /* static string, for repr */
} AlCallback;

static PyObject *al_callback_repr(PyObject *self) {
    return PyUnicode_FromFormat("<agentlog._tracer callback %s>", ((AlCallback *)self)->name);
}

static PyTypeObject AlCallbackType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "agentlog._tracer.Callback",
    .tp_basicsize = sizeof(AlCallback),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(AlCallback, vectorcall),
    .tp_call = PyVectorcall_Call,  /* required with Py_TPFLAGS_HAVE_VECTORCALL */
    .tp_repr = al_callback_repr,
};

/* vectorcallfunc minus the const on args (Cython cannot spell PyObject *const *);
 * the two are ABI-identical. */
typedef PyObject *(*al_vectorcall)(PyObject *, PyObject **, size_t, PyObject *);

/* New reference to a callback calling fn, or NULL with an exception set. */
static PyObject *al_callback_new(al_vectorcall fn, const char *name) {
    AlCallback *cb;
    if (!(AlCallbackType.tp_flags & Py_TPFLAGS_READY) && PyType_Ready(&AlCallbackType) < 0)
        return NULL;
    cb = PyObject_New(AlCallback, &AlCallbackType);
    if (cb == NULL) return NULL;
    cb->vectorcall = (vectorcallfunc)fn;
    cb->name = name;
    return (PyObject *)cb;
}

#endif /* AL_CALLBACK_H */
