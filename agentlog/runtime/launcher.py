"""Run a script or module as ``__main__`` exactly as plain ``python`` would.

Plain Python's behaviour is the specification: ``sys.argv``, ``sys.path[0]``,
``__main__``'s attributes, the traceback, the exit code and the recursion depth
the program can reach must not change. Exceptions are recorded on their way
out (so a program that replaces ``sys.excepthook`` is still covered) and then
propagate to the interpreter, whose excepthook (ours, chained) trims the
launcher's frames, so SystemExit, KeyboardInterrupt and exit codes stay native.
"""

from __future__ import annotations

import builtins
import importlib.machinery
import os
import sys
import types
from collections.abc import Callable

from agentlog.runtime import hooks


def _raise_recursion_limit() -> None:
    """Give back the frames the launcher occupies below the program's first frame.

    Counted from _run_main down, plus one for the ``run`` callable's own frame.
    """
    depth = 1
    frame = sys._getframe(1)
    while frame is not None:
        depth += 1
        frame = frame.f_back
    sys.setrecursionlimit(sys.getrecursionlimit() + depth)


def _run_main(run: Callable[[], object]) -> int:
    """Run the program; an exception escaping it is recorded, then propagates untouched."""
    hooks.launched = True
    _raise_recursion_limit()
    try:
        run()
    except SystemExit as exc:
        hooks.record_exit(exc)
        raise
    except BaseException as exc:
        hooks.record_unhandled(exc)
        raise
    from agentlog.work.session import note_exit

    note_exit(0)
    return 0


def _fresh_main(**attrs: object) -> types.ModuleType:
    main = types.ModuleType("__main__")
    main.__dict__.update(__builtins__=builtins, __annotations__={}, **attrs)
    sys.modules["__main__"] = main
    return main


def _cannot_open(path: str, err: OSError) -> int:
    program = sys.orig_argv[0] if sys.orig_argv else sys.executable
    print(
        f"{program}: can't open file {os.path.abspath(path)!r}: [Errno {err.errno}] {err.strerror}",
        file=sys.stderr,
    )
    return 2


def run_script(path: str, args: list[str]) -> int:
    """Run ``path`` as ``__main__``; returns 2 (plain Python's code) if it cannot be read."""
    abspath = os.path.abspath(path)
    if os.path.isdir(abspath) or (not abspath.endswith((".py", ".pyw")) and _is_zip(abspath)):
        return _run_path_archive(path, args)
    try:
        with open(abspath, "rb") as fh:  # io.open_code semantics: binary, no decoding
            source = fh.read()
    except OSError as err:
        return _cannot_open(path, err)
    sys.argv = [path, *args]
    if not sys.flags.safe_path:
        sys.path[0] = os.path.dirname(os.path.realpath(abspath))
    loader = importlib.machinery.SourceFileLoader("__main__", abspath)
    main = _fresh_main(__file__=abspath, __loader__=loader, __spec__=None, __package__=None,
                       __cached__=None)
    try:
        code = compile(source, abspath, "exec", dont_inherit=True)
    except SyntaxError as err:
        # Plain python prints a SyntaxError without a "Traceback" header.
        sys.excepthook(type(err), err.with_traceback(None), None)
        return 1
    return _run_main(lambda: exec(code, main.__dict__))


def run_code(code_text: str, args: list[str]) -> int:
    """``python -c CODE``: the code runs as ``__main__`` from ``<string>``, sys.path[0] is ''."""
    sys.argv = ["-c", *args]
    if not sys.flags.safe_path:
        sys.path[0] = ""
    main = _fresh_main(__loader__=importlib.machinery.BuiltinImporter, __spec__=None, __package__=None)
    if sys.version_info >= (3, 13):
        # 3.13's interpreter keeps -c source for tracebacks (and so do our records).
        import linecache

        lines = [line + "\n" for line in code_text.splitlines()]
        linecache.cache["<string>"] = (len(code_text), None, lines, "<string>")
    try:
        code = compile(code_text, "<string>", "exec", dont_inherit=True)
    except SyntaxError as err:
        sys.excepthook(type(err), err.with_traceback(None), None)
        return 1
    return _run_main(lambda: exec(code, main.__dict__))


def _is_zip(path: str) -> bool:
    import zipfile

    return os.path.isfile(path) and zipfile.is_zipfile(path)


def _run_path_archive(path: str, args: list[str]) -> int:
    """A directory or zip file with ``__main__.py``: what the interpreter does for ``python path``."""
    import runpy

    sys.argv = [path, *args]
    sys.path[0] = os.path.abspath(path)  # even under -P: the archive must be importable
    _fresh_main()
    return _run_main(lambda: runpy._run_module_as_main("__main__", alter_argv=False))  # type: ignore[attr-defined]


def run_module(name: str, args: list[str]) -> int:
    """Run ``python -m name`` semantics: runpy sets argv[0] to the module's path."""
    import runpy

    sys.argv = [name, *args]
    _fresh_main()
    # _run_module_as_main is what `python -m` itself calls; it reports "No module named"
    # with sys.exit(msg), like the interpreter (exit 1).
    return _run_main(lambda: runpy._run_module_as_main(name, alter_argv=True))  # type: ignore[attr-defined]
