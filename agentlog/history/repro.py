"""A failing pytest test from a recorded crash: one call of the innermost function that can be replayed.

A frame qualifies when it is a module-level function, or a ``staticmethod`` or
``classmethod`` of a class defined at module level (nested classes included), of
the program's own code, whose every parameter has a reconstructible value: a
complete (not cut, not redacted) int, float, bool, None, str, bytes, or a list,
tuple, set or dict of those, taken from the ``@trace`` record of the failing
call, or else from the frame's locals when the function never rebinds or mutates
that parameter. A classmethod is called on the class its ``cls`` was (a subclass
when it was called through one), which must be defined in the same module.

A plain method is refused: its ``self`` is recorded as a description (type and
attributes one level deep), not as the object, and rebuilding one would mean
guessing its constructor's arguments and whatever state it gathered after, so the
test could fail or pass for reasons other than the bug. Functions defined inside
other functions (``<locals>``) and coroutines are refused too.

The module must be importable without running the program (no top-level calls
outside ``if __name__ == "__main__":``). The written test is run once before it
is kept: it must fail with the recorded exception type, or the next frame out is
tried; nothing is written when none qualifies.

A record is untrusted (a pulled share, a planted line, a program's odd
``__qualname__``): the generated source takes names only after checking them as
dotted identifiers, every other recorded text as a ``repr`` literal or comment,
and it is parsed before it is written or run.
"""

from __future__ import annotations

import ast
import keyword
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

MAX_VALUE_CHARS = 2000  # of one argument's source text
VERIFY_TIMEOUT_S = 60.0
_MUTATORS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update",
                       "setdefault", "popitem", "add", "discard", "difference_update", "intersection_update"})
_SCALARS = {"int": int, "float": float, "bool": bool, "NoneType": type(None), "str": str, "bytes": bytes}
_CONTAINERS = {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}


class ReproError(Exception):
    """No test can be written; the message says why."""


MAX_NAME_CHARS = 200
_FAILURE_ID = re.compile(r"[0-9A-Za-z_]{1,64}")


def dotted_name(value: Any, what: str) -> str:
    """``value`` if it is a dotted Python name (each part an identifier, not a keyword); else ReproError."""
    parts = value.split(".") if isinstance(value, str) and len(value) <= MAX_NAME_CHARS else [""]
    if not all(p.isidentifier() and not keyword.iskeyword(p) for p in parts):
        raise ReproError(f"the record's {what} is not a Python name: {str(value)[:80]!r}")
    return value


def failure_id(failure: dict[str, Any]) -> str:
    """The failure's id if it is safe in a file and function name (letters, digits, _); else ReproError."""
    ident = failure.get("id")
    if not isinstance(ident, str) or not _FAILURE_ID.fullmatch(ident):
        raise ReproError(f"the record's failure id is not an id: {str(ident)[:80]!r}")
    return ident


_NOTHING = object()


def reconstruct(desc: Any) -> Any:
    """The value a descriptor describes completely, or _NOTHING (cut, redacted, or not a plain value)."""
    if not isinstance(desc, dict) or desc.keys() & {"x", "red", "note", "more", "same", "attrs"}:
        return _NOTHING
    kind = desc.get("t")
    if kind in _SCALARS:
        try:
            value = ast.literal_eval(desc.get("v", "None"))
        except (ValueError, SyntaxError):
            return _NOTHING
        return value if type(value) is _SCALARS[kind] and "[REDACTED" not in str(value) else _NOTHING
    if kind in _CONTAINERS:
        items = [reconstruct(d) for d in desc.get("items", [])]
        if _NOTHING in items or len(items) != desc.get("l", len(items)):
            return _NOTHING
        return _CONTAINERS[kind](items)
    if kind == "dict":
        pairs = []
        for key_text, d in desc.get("map", []):
            try:
                key = ast.literal_eval(key_text)
            except (ValueError, SyntaxError):
                return _NOTHING
            value = reconstruct(d)
            if value is _NOTHING:
                return _NOTHING
            pairs.append((key, value))
        return dict(pairs) if len(pairs) == desc.get("l", len(pairs)) else _NOTHING
    return _NOTHING


def _defined(body: list[ast.stmt], name: str, kinds: Any) -> Any:
    """The last top-level definition of ``name`` in ``body`` of one of ``kinds`` (the one that wins)."""
    found = [n for n in body if isinstance(n, kinds) and n.name == name]
    return found[-1] if found else None


def _class_at(tree: ast.Module, path: list[str]) -> ast.ClassDef | None:
    """The class ``A.B`` (a path of names) defined at module level, or None."""
    body: list[ast.stmt] = tree.body
    node = None
    for name in path:
        node = _defined(body, name, ast.ClassDef)
        if node is None:
            return None
        body = node.body
    return node


def _decorators(func: ast.AST) -> set[str]:
    return {ast.unparse(d) for d in func.decorator_list}  # type: ignore[attr-defined]


def _cls_path(frame: dict[str, Any], tree: ast.Module, defining: list[str]) -> tuple[list[str], str]:
    """(the class a classmethod ran on, where that came from): its ``cls`` local (``<class app.Sub>``)
    when this module defines that class, else the defining class if ``cls`` was not captured."""
    desc = (frame.get("loc") or {}).get("cls")
    text = desc.get("v", "") if isinstance(desc, dict) and desc.get("t") == "type" else ""
    for module in (frame["mod"], "__main__"):
        prefix = f"<class {module}."
        if text.startswith(prefix) and text.endswith(">"):
            path = text[len(prefix) : -1].split(".")
            if _class_at(tree, path) is not None:
                return path, f"the frame's locals at line {frame['ln']}"
    if not text:
        return defining, "the defining class (cls was not captured)"
    raise ReproError(f"{frame['f']}: its cls was {text}, not a class this module defines")


def _target(tree: ast.Module, frame: dict[str, Any]) -> tuple[Any, str, list[str]]:
    """(function node, the expression to call, comments on the skipped ``cls``) for ``frame``; ReproError
    if it cannot be called without an instance."""
    name = frame["f"]
    parts = name.split(".")
    if "<locals>" in name:
        raise ReproError(f"{name} is defined inside a function: a test cannot import it")
    if "<" in name:
        raise ReproError(f"{name} is not a named function (module code, a lambda or a comprehension)")
    if len(parts) == 1:
        func = _defined(tree.body, name, ast.FunctionDef | ast.AsyncFunctionDef)
        if func is None:
            raise ReproError(f"{name} is no longer defined at the top of {frame['file']}")
        return func, name, []
    cls = _class_at(tree, parts[:-1])
    func = _defined(cls.body, parts[-1], ast.FunctionDef | ast.AsyncFunctionDef) if cls else None
    if func is None:
        raise ReproError(f"{name} is no longer defined in {frame['file']}")
    decorators = _decorators(func)
    if "staticmethod" in decorators:
        return func, name, []
    if "classmethod" in decorators:
        path, source = _cls_path(frame, tree, parts[:-1])
        return func, ".".join([*path, parts[-1]]), [f"#   cls: {'.'.join(path)}, from {source}"]
    what = "a property" if any(d == "property" or d.endswith((".setter", ".getter")) for d in decorators) \
        else "a method"
    raise ReproError(f"{name} is {what}: it needs its {'.'.join(parts[:-1])} instance (self), which the record "
                     "only describes (type and attributes), and rebuilding one would mean guessing its "
                     "constructor's arguments and later state")


def _changed_names(func: ast.AST) -> set[str]:
    """Names the function rebinds, deletes or mutates (``x = ``, ``x += ``, ``x[i] = ``, ``x.append()``)."""
    changed = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            changed.add(node.id)
        elif isinstance(node, ast.Subscript | ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del) \
                and isinstance(node.value, ast.Name):
            changed.add(node.value.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in _MUTATORS and isinstance(node.func.value, ast.Name):
            changed.add(node.func.value.id)
    return changed


def _runs_on_import(tree: ast.Module) -> bool:
    """Top-level statements that do work (calls, loops) outside ``if __name__ == "__main__":``."""
    for node in tree.body:
        if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test):
            continue
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if isinstance(node, ast.Expr | ast.For | ast.While | ast.With | ast.AsyncFor | ast.AsyncWith | ast.Try) \
                and not docstring:
            return True
    return False


def _traced_args(failure: dict[str, Any], frame: dict[str, Any]) -> dict[str, Any]:
    """Argument descriptors of the ``@trace`` record of the call that raised in ``frame``."""
    for fn in failure.get("traced") or []:
        if fn.get("f") == frame["f"] and fn.get("file") == frame["file"]:
            calls = [c for c in fn.get("calls", []) if "exc" in c and "args" in c]
            if calls:
                return calls[-1]["args"]
    return {}


def _arguments(failure: dict[str, Any], frame: dict[str, Any], func: ast.AST,
               skip: int = 0) -> tuple[list[str], list[str]]:
    """(call argument texts, comments) for ``frame``'s function, its first ``skip`` parameters left out
    (a classmethod's ``cls``); ReproError naming the first obstacle."""
    args = func.args  # type: ignore[attr-defined]
    traced, local, changed = _traced_args(failure, frame), frame.get("loc") or {}, _changed_names(func)
    texts, comments = [], []
    params = [(a.arg, "pos") for a in args.posonlyargs] + [(a.arg, "kw") for a in args.args]
    params += [(args.vararg.arg, "*")] if args.vararg else []
    params = params[skip:]
    params += [(a.arg, "kw") for a in args.kwonlyargs] + ([(args.kwarg.arg, "**")] if args.kwarg else [])
    for name, how in params:
        if name in traced:
            desc, source = traced[name], "the @trace record of the failing call"
        elif name in changed:
            raise ReproError(f"{frame['f']} changes its parameter {name!r} before failing (no @trace record)")
        elif name in local:
            desc, source = local[name], f"the frame's locals at line {frame['ln']}"
        else:
            raise ReproError(f"{frame['f']}: parameter {name!r} was not captured")
        value = reconstruct(desc)
        if value is _NOTHING:
            raise ReproError(f"{frame['f']}: {name!r} ({desc.get('t')}) is not a complete plain value")
        text = repr(value)
        if len(text) > MAX_VALUE_CHARS:
            raise ReproError(f"{frame['f']}: {name!r} is too large to inline ({len(text)} chars)")
        prefix = {"pos": "", "kw": f"{name}=", "*": "*", "**": "**"}[how]
        texts.append(prefix + text)
        comments.append(f"#   {name}: from {source}")
    return texts, comments


def _root_of(frame: dict[str, Any]) -> Path:
    """The import root of ``frame``'s module: its file minus the module's dotted path."""
    path = Path(os.path.realpath(frame["file"]))
    depth = frame["mod"].count(".") + (1 if path.stem == "__init__" else 0)
    return path.parents[depth]


def test_source(failure: dict[str, Any], frame: dict[str, Any], out: Path) -> str:
    """The pytest module reproducing ``failure`` through ``frame``; ReproError if it does not qualify."""
    name, module = frame.get("f", ""), frame.get("mod", "")
    if not frame.get("u") or not isinstance(name, str) or not isinstance(module, str) or not name or not module \
            or module.startswith("<"):
        raise ReproError(f"{name or '?'!r} is not a function of the program's own modules")
    dotted_name(module, "module name")
    if not isinstance(frame.get("file"), str) or type(frame.get("ln")) is not int:
        raise ReproError(f"{name!r}: the record's file or line is not a file name and a number")
    try:
        tree = ast.parse(Path(frame["file"]).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError) as exc:
        raise ReproError(f"cannot read {frame['file']}: {exc}") from None
    func, call, cls_comments = _target(tree, frame)
    dotted_name(call, "function name")
    if isinstance(func, ast.AsyncFunctionDef):
        raise ReproError(f"{name} is a coroutine function")
    if _runs_on_import(tree):
        raise ReproError(f"importing {module} would run the program (top-level code outside a __main__ guard)")
    texts, comments = _arguments(failure, frame, func, skip=len(cls_comments))
    comments = cls_comments + comments
    exc = failure["exc"]
    ident, exc_type = failure_id(failure), dotted_name(exc.get("t"), "exception type")
    root = os.path.relpath(_root_of(frame), out.parent.resolve())
    message = str(exc.get("m") or "")[:150]
    source = "\n".join([
        f'"""Reproduces AgentLog failure {ident}: {exc_type}.',
        "",
        "Written by `agentlog repro`. It fails while the bug is there and passes once it is fixed.",
        '"""',
        f"# the recorded message: {message!r}",
        "",
        "import sys",
        "from pathlib import Path",
        "",
        f"sys.path.insert(0, str((Path(__file__).parent / {root!r}).resolve()))",
        "",
        f"from {module} import {call.split('.', 1)[0]}  # noqa: E402",
        "",
        "",
        f"def test_repro_{ident}():",
        f"    # failure {ident} raised {exc_type} in {call}"
        f" ({os.path.basename(frame['file'])!r}, line {frame['ln']}); the arguments:",
        *(f"    {c}" for c in comments),
        f"    {call}({', '.join(texts)})",
        "",
    ])
    try:
        ast.parse(source)
    except (SyntaxError, ValueError) as exc_:
        raise ReproError(f"{name!r}: the generated test does not parse ({exc_})") from None
    return source


def _fails_as_recorded(path: Path, exc_type: str) -> bool:
    """Run the test; True if it fails with ``exc_type`` (compared by its last dotted part)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG")}
    path = path.resolve()  # pytest runs in the test's folder: a relative path would name another file
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf",
                               "--tb=line", str(path)], capture_output=True, text=True, env=env,
                              cwd=path.parent, timeout=VERIFY_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return False
    short = exc_type.rsplit(".", 1)[-1]
    return done.returncode == 1 and re.search(rf"\b{re.escape(short)}\b", done.stdout) is not None


def write_repro(failure: dict[str, Any], out: Path, verify: bool = True) -> tuple[Path, str]:
    """Write the test for the innermost qualifying frame to ``out``; (path, the frame's function).

    ReproError with every frame's reason when none qualifies.
    """
    reasons = []
    exc = failure["exc"]
    failure_id(failure)
    dotted_name(exc.get("t"), "exception type")
    for frame in [f for f in exc.get("frames", []) if isinstance(f, dict) and f.get("u")]:
        try:
            source = test_source(failure, frame, out)
        except ReproError as why:
            reasons.append(str(why))
            continue
        tmp = out.with_name(f"{out.stem}_check{out.suffix}")
        tmp.write_text(source, encoding="utf-8")
        try:
            ok = not verify or _fails_as_recorded(tmp, exc["t"])
        finally:
            tmp.unlink(missing_ok=True)
        if ok:
            out.write_text(source, encoding="utf-8")
            return out, frame["f"]
        reasons.append(f"{frame['f']}: the call did not fail with {exc['t']} when run")
    raise ReproError("; ".join(reasons) or "the failure has no frame of the program's own code")
