"""Programs of unusual shapes run exactly as under plain python, and their failures are still recorded.

End to end: each case is a real program run with plain ``python`` and with ``python -m agentlog``.
"""

from __future__ import annotations

import subprocess
import sys
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


def _runpy_needs() -> set[str]:
    """Names ``python -m`` itself imports before any module runs (runpy's imports, which differ by
    version: 3.12's importlib imports ``warnings``): plain ``python -m anything`` takes the project's
    file in such a directory, and so does ``python -m agentlog``, identically."""
    probe = ("import sys; before = set(sys.modules); import runpy; "
             "print(' '.join(m for m in set(sys.modules) - before if '.' not in m))")
    proc = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=True)
    return set(proc.stdout.split()) & set(STDLIB_NAMES)


RUNPY_NEEDS = _runpy_needs()


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
    plain = run_python(["main.py"], project, child_env())
    if name in RUNPY_NEEDS:
        # As ``python -m main``: the project's file is imported by runpy itself; where that breaks
        # ``-m``, the error is plain's, else the program's own traceback (no runpy frames) follows.
        plain_m = run_python(["-m", "main"], project, child_env())
        assert (traced.returncode, traced.stdout) == (plain_m.returncode, plain_m.stdout)
        assert traced.stderr in (plain_m.stderr, plain.stderr)
        return
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


def _plain_and_traced(args: list[str], cwd: Path, data_dir: Path) -> tuple[object, object]:
    import subprocess
    import sys

    def run(extra: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        # cwd may be a directory deleted under us: start the child there through a shell-free chdir.
        code = ("import os, sys; os.chdir(sys.argv[1]); os.rmdir(sys.argv[1]) if sys.argv[2] == 'gone' else None; "
                "os.execv(sys.executable, [sys.executable, *sys.argv[3:]])")
        return subprocess.run([sys.executable, "-c", code, str(cwd), "gone" if gone else "-", *extra, *args],
                              env=env, capture_output=True, text=True, timeout=120)

    gone = True
    cwd.mkdir()
    plain = run([], child_env())
    cwd.mkdir()
    traced = run(["-m", "agentlog"], child_env(data_dir))
    return plain, traced


def test_started_in_a_deleted_directory(tmp_path: Path) -> None:
    """The launcher runs where plain python runs, and records there too (the data dir is elsewhere)."""
    script = tmp_path / "prog.py"
    script.write_text("print('ran')\nopen('out.txt', 'w')\n")  # ENOENT: the directory is gone
    plain, traced = _plain_and_traced([str(script)], tmp_path / "gone", tmp_path / "data")
    assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert plain.returncode == 1 and "FileNotFoundError" in plain.stderr
    assert [f["exc"]["t"] for f in read_records(tmp_path / "data", "failure")] == ["FileNotFoundError"]


@pytest.mark.parametrize("data_dir_inside", [False, True], ids=["data-dir-elsewhere", "data-dir-inside"])
def test_a_program_that_deletes_its_working_directory(tmp_path: Path, data_dir_inside: bool) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "main.py").write_text("import os, shutil\nshutil.rmtree(os.getcwd())\nprint('deleted')\n1 / 0\n")
    data_dir = project / ".agentlog" if data_dir_inside else tmp_path / "data"
    traced = run_python(["-m", "agentlog", "main.py"], project, child_env(data_dir))
    assert traced.returncode == 1 and traced.stdout == "deleted\n"
    assert traced.stderr.count("Traceback") == 1
    assert traced.stderr.rstrip().endswith("ZeroDivisionError: division by zero")
    assert [f["exc"]["t"] for f in read_records(data_dir, "failure")] == ["ZeroDivisionError"]


def test_exceptions_in_del_by_the_thousand(tmp_path: Path) -> None:
    """10,000 exceptions in __del__ from one line: the first few recorded, the rest counted, output unchanged."""
    (tmp_path / "main.py").write_text(
        "class D:\n    def __del__(self):\n        raise ValueError('in del')\n\n"
        "class E:\n    def __del__(self):\n        raise KeyError('other place')\n\n"
        "for i in range(10_000):\n    D()\n    E()\nprint('done')\n"
    )
    data_dir = tmp_path / "data"
    plain = run_python(["main.py"], tmp_path, child_env())
    traced = run_python(["-m", "agentlog", "main.py"], tmp_path, child_env(data_dir))
    import re

    def unaddressed(text: str) -> str:
        return re.sub(r" at 0x[0-9a-f]+", "", text)

    assert (traced.returncode, traced.stdout) == (plain.returncode, plain.stdout)
    assert unaddressed(traced.stderr) == unaddressed(plain.stderr)
    kinds = [f["exc"]["t"] for f in read_records(data_dir, "failure")]
    assert sorted(kinds) == ["KeyError"] * 3 + ["ValueError"] * 3
    assert "19994 unraisable exception(s) not recorded" in (data_dir / "errors.log").read_text()


HOSTILE_EXITS = {
    "no-file-descriptors": (
        "import resource\nresource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))\nkeep = []\n"
        "try:\n    while True:\n        keep.append(open(__file__))\nexcept OSError:\n    pass\n1 / 0\n"
    ),
    "meta-path-cleared": "import sys\nsys.meta_path.clear()\nsys.path_hooks.clear()\n1 / 0\n",
    "every-import-refused": (
        "import sys\nclass Block:\n    def find_spec(self, name, path=None, target=None):\n"
        "        raise ImportError('blocked ' + name)\nsys.meta_path.insert(0, Block())\n1 / 0\n"
    ),
    "modules-poisoned": "import sys\nfor name in ('json', 're', 'traceback'):\n    sys.modules[name] = None\n1 / 0\n",
}


@pytest.mark.parametrize("name", HOSTILE_EXITS)
@pytest.mark.parametrize("trace", ["calls", "crash"])
def test_agentlog_failing_at_exit_stays_out_of_the_programs_stderr(tmp_path: Path, name: str, trace: str) -> None:
    (tmp_path / "main.py").write_text(HOSTILE_EXITS[name])
    plain = run_python(["main.py"], tmp_path, child_env())
    traced = run_python(["-m", "agentlog", "--trace", trace, "main.py"], tmp_path, child_env(tmp_path / "data"))
    assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert plain.stderr.rstrip().endswith("ZeroDivisionError: division by zero")


HOOK_CHECKS = {
    "sys.excepthook": "import sys\nprint(sys.excepthook is sys.__excepthook__)\n",
    "sys.unraisablehook": "import sys\nprint(sys.unraisablehook is sys.__unraisablehook__)\n",
    "threading.excepthook": "import threading\nprint(threading.excepthook is threading.__excepthook__)\n",
    "restored": "import sys\nsys.excepthook = sys.__excepthook__\nprint(sys.excepthook is sys.__excepthook__)\n",
}


@pytest.mark.parametrize("check", HOOK_CHECKS)
def test_hooks_look_untouched_and_still_record(tmp_path: Path, check: str) -> None:
    """A program (pytest, IPython style) that checks whether a hook was replaced sees what plain python shows;
    its failure is recorded all the same, restoring the default hook included."""
    (tmp_path / "main.py").write_text(HOOK_CHECKS[check] + "1 / 0\n")
    plain = run_python(["main.py"], tmp_path, child_env())
    traced = run_python(["-m", "agentlog", "main.py"], tmp_path, child_env(tmp_path / "data"))
    assert plain.stdout == "True\n"
    assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert [f["exc"]["t"] for f in read_records(tmp_path / "data", "failure")] == ["ZeroDivisionError"]
