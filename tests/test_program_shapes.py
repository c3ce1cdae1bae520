"""Programs of unusual shapes run exactly as under plain python, and their failures are still recorded.

End to end: each case is a real program run with plain ``python`` and with ``python -m agentlog``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import child_env, read_records, run_python

# Common standard library names a project might use for a file of its own.
STDLIB_NAMES = (
    "abc", "argparse", "ast", "base64", "bisect", "calendar", "collections", "contextlib", "copy", "csv",
    "dataclasses", "datetime", "decimal", "enum", "functools", "glob", "hashlib", "heapq", "hmac", "html",
    "http", "inspect", "io", "itertools", "json", "logging", "math", "operator", "os", "pathlib", "pickle",
    "platform", "pprint", "queue", "random", "re", "secrets", "select", "shutil", "signal", "socket",
    "sqlite3", "string", "struct", "subprocess", "tempfile", "textwrap", "threading", "time", "token",
    "tokenize", "traceback", "types", "typing", "uuid", "warnings", "weakref", "zlib",
)
# Names ``python -m`` itself needs before any module runs (runpy's imports): plain
# ``python -m anything`` breaks in such a directory, and so does ``python -m agentlog``, identically.
RUNPY_NEEDS = {"types"}


@pytest.mark.parametrize("imports", [False, True], ids=["untouched", "imported"])
@pytest.mark.parametrize("name", STDLIB_NAMES)
def test_a_file_named_like_the_stdlib_changes_nothing(tmp_path: Path, name: str, imports: bool) -> None:
    project, data_dir = tmp_path / "project", tmp_path / "data"
    project.mkdir()
    (project / f"{name}.py").write_text(f"print('the project own {name}')\n")
    body = f"import {name}\n" if imports else ""
    (project / "main.py").write_text(f"print('start')\n{body}def fail():\n    return 1 / 0\nfail()\n")
    env = child_env(data_dir)
    traced = run_python(["-m", "agentlog", "main.py"], project, env)
    if name in RUNPY_NEEDS:
        plain_m = run_python(["-m", "main"], project, child_env())
        assert (traced.returncode, traced.stdout, traced.stderr) == (
            plain_m.returncode, plain_m.stdout, plain_m.stderr)
        return
    plain = run_python(["main.py"], project, child_env())
    assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    failures = read_records(data_dir, "failure")
    kinds = [f["exc"]["t"] for f in failures]
    assert kinds[:1] == ["ZeroDivisionError"], _errors_log(data_dir)
    # Anything else recorded is what plain python reported too (the program's threading.py
    # has no _shutdown: "Exception ignored on threading shutdown").
    assert all(f"{kind}:" in plain.stderr for kind in kinds[1:]), kinds
    assert "fail" in [frame["f"] for frame in failures[0]["exc"]["frames"]]  # the failure itself, in full


def _errors_log(data_dir: Path) -> str:
    log = data_dir / "errors.log"
    return log.read_text() if log.exists() else "(no errors.log)"
