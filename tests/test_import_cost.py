"""Import costs: ``import agentlog`` and the activation path may not pull in heavy modules."""

from __future__ import annotations

import pytest
from support import child_env, needs_pth, read_records, run_python

HEAVY = ["typing", "dataclasses", "inspect", "json", "re", "subprocess", "threading", "agentlog.core.config"]
# What an activated process may not have imported when its first line runs: each costs
# milliseconds, and all of it is needed only once a record is written.
ACTIVATION_HEAVY = [
    "typing", "dataclasses", "inspect", "json", "re", "subprocess", "enum", "pathlib", "collections",
    "contextlib", "fnmatch", "tomllib", "selectors", "threading",
    "agentlog.store", "agentlog.core.redact", "agentlog.work.git", "agentlog.capture.failure",
]  # fmt: skip
FIRST_LINE = (
    "import os, sys\n"
    "loaded = [m for m in {heavy!r} if m in sys.modules]\n"
    "print(repr(loaded))\n"
    "print(sorted(os.listdir(os.environ['AGENTLOG_DIR'])) if os.path.isdir(os.environ['AGENTLOG_DIR']) else [])\n"
)


def test_import_agentlog_loads_nothing_heavy(tmp_path):
    """A bare ``import agentlog`` imports none of the modules that make activation cost milliseconds."""
    code = f"import sys\nimport agentlog\nloaded = [m for m in {HEAVY!r} if m in sys.modules]\nprint(repr(loaded))"
    result = run_python(["-c", code], tmp_path, child_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@needs_pth
@pytest.mark.parametrize("mode", ["crash", "calls"])
def test_activation_loads_nothing_heavy_and_writes_nothing(tmp_path, mode):
    """Under ``AGENTLOG=true`` the program's first line sees no heavy module and no record yet.

    The session start record comes at exit, with the time the process started.
    """
    data_dir = tmp_path / "data"
    env = child_env(data_dir, AGENTLOG="true", AGENTLOG_TRACE=mode)
    code = "import time\nstarted = time.time()\n" + FIRST_LINE.format(heavy=ACTIVATION_HEAVY) + "print(started)\n"
    result = run_python(["-c", code], tmp_path, env)
    assert result.returncode == 0, result.stderr
    loaded, files, started = result.stdout.splitlines()
    assert loaded == "[]", f"{mode} mode imported {loaded} before the program ran"
    assert files == "[]", "a record was written before the program's first line"
    start, end = read_records(data_dir)
    assert (start["k"], end["k"], start["sid"]) == ("session_start", "session_end", end["sid"])
    assert start["ts"] <= float(started) <= end["ts"]
    assert start["argv"] == ["-c", code] and start["cwd"] == str(tmp_path)  # as typed (sys.orig_argv)


@needs_pth
def test_session_start_precedes_the_first_record(tmp_path):
    """A failure is the first record written: the deferred session start is written just before it."""
    data_dir = tmp_path / "data"
    env = child_env(data_dir, AGENTLOG="true", AGENTLOG_TRACE="crash")
    result = run_python(["-c", "import os\nos.chdir('/')\nraise ValueError('x')"], tmp_path, env)
    assert result.returncode == 1 and "ValueError: x" in result.stderr
    kinds = [r["k"] for r in read_records(data_dir)]
    assert kinds == ["session_start", "failure", "session_end"]
    start = read_records(data_dir)[0]
    assert start["cwd"] == str(tmp_path), "the start record keeps the cwd the process started in"


@needs_pth
@pytest.mark.parametrize("mode", ["crash", "calls"])
def test_relaunched_program_loads_nothing_heavy(tmp_path, mode):
    """``python -m agentlog prog.py`` re-executes python (runtime/relaunch.py): the program's first line
    sees what it would under ``AGENTLOG=true``, not the launcher's imports."""
    data_dir = tmp_path / "data"
    (tmp_path / "prog.py").write_text(FIRST_LINE.format(heavy=ACTIVATION_HEAVY))
    result = run_python(["-m", "agentlog", "--trace", mode, "prog.py"], tmp_path, child_env(data_dir))
    assert result.returncode == 0, result.stderr
    loaded, files = result.stdout.splitlines()
    assert loaded == "[]", f"{mode} mode imported {loaded} before the program ran"
    assert files == "[]"
