"""A failing pytest test from a recorded crash: one call of the innermost function that can be replayed.

A frame qualifies when it is a module-level function of the program's own code
whose every parameter has a reconstructible value: a complete (not cut, not
redacted) int, float, bool, None, str, bytes, or a list, tuple, set or dict of
those, taken from the ``@trace`` record of the failing call, or else from the
frame's locals when the function never rebinds or mutates that parameter. The
module must be importable without running the program (no top-level calls
outside ``if __name__ == "__main__":``). The written test is run once before it
is kept: it must fail with the recorded exception type, or the next frame out is
tried; nothing is written when none qualifies.
"""

from __future__ import annotations

import ast
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


def _function_def(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    return next((n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name),
                None)


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


def _arguments(failure: dict[str, Any], frame: dict[str, Any], func: ast.AST) -> tuple[list[str], list[str]]:
    """(call argument texts, comments) for ``frame``'s function; ReproError naming the first obstacle."""
    args = func.args  # type: ignore[attr-defined]
    traced, local, changed = _traced_args(failure, frame), frame.get("loc") or {}, _changed_names(func)
    texts, comments = [], []
    params = [(a.arg, "pos") for a in args.posonlyargs] + [(a.arg, "kw") for a in args.args]
    params += [(args.vararg.arg, "*")] if args.vararg else []
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
    if not frame.get("u") or not module or "." in name or "<" in name or module.startswith("<"):
        raise ReproError(f"{name or '?'} is not a module-level function of the program")
    try:
        tree = ast.parse(Path(frame["file"]).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError) as exc:
        raise ReproError(f"cannot read {frame['file']}: {exc}") from None
    func = _function_def(tree, name)
    if func is None:
        raise ReproError(f"{name} is no longer defined at the top of {frame['file']}")
    if isinstance(func, ast.AsyncFunctionDef):
        raise ReproError(f"{name} is a coroutine function")
    if _runs_on_import(tree):
        raise ReproError(f"importing {module} would run the program (top-level code outside a __main__ guard)")
    texts, comments = _arguments(failure, frame, func)
    exc = failure["exc"]
    root = os.path.relpath(_root_of(frame), out.parent.resolve())
    ident = re.sub(r"\W", "_", failure.get("id", "x"))
    message = str(exc.get("m", "")).splitlines()[0][:150] if exc.get("m") else ""
    return "\n".join([
        f'"""Reproduces AgentLog failure {failure.get("id")}: {exc["t"]}: {message}',
        "",
        "Written by `agentlog repro`. It fails while the bug is there and passes once it is fixed.",
        '"""',
        "",
        "import sys",
        "from pathlib import Path",
        "",
        f"sys.path.insert(0, str((Path(__file__).parent / {root!r}).resolve()))",
        "",
        f"from {module} import {name}  # noqa: E402",
        "",
        "",
        f"def test_repro_{ident}():",
        f"    # failure {failure.get('id')} raised {exc['t']} in {name}"
        f" ({os.path.basename(frame['file'])}:{frame['ln']}); the arguments:",
        *(f"    {c}" for c in comments),
        f"    {name}({', '.join(texts)})",
        "",
    ])


def _fails_as_recorded(path: Path, exc_type: str) -> bool:
    """Run the test; True if it fails with ``exc_type`` (compared by its last dotted part)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG")}
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
    for frame in [f for f in exc.get("frames", []) if f.get("u")]:
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
