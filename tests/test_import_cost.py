"""Import costs: ``import agentlog`` and the activation path may not pull in heavy modules."""

from __future__ import annotations

import subprocess
import sys

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


# What the exit of an activated process that recorded nothing may not import: it writes its
# session start and end records (redacted), which need the writer and the redaction passes'
# `in` checks, not the reader (glob, pathlib, json), nor `re` (the token tables, the name rules).
EXIT_HEAVY = [
    "agentlog.store.reader", "glob", "pathlib", "json", "re", "typing", "functools", "base64",
    "collections", "enum", "agentlog.capture.failure",
]  # fmt: skip
EXIT_PROBE = (
    "import atexit, sys\n"
    "def hook(event, args):\n"
    "    if event == 'import':\n"
    "        print('imported', args[0], file=sys.stderr, flush=True)\n"
    "sys.addaudithook(hook)\n"
    "atexit.register(print, 'exit starts', file=sys.stderr, flush=True)  # runs before AgentLog's (LIFO)\n"
)


def _git_repo(path):
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-C", str(path)]
    for args in (["init", "-q", "-b", "feature/token-refresh"], ["commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run([*git, *args], check=True, capture_output=True)


@needs_pth
@pytest.mark.parametrize("mode", ["crash", "calls"])
def test_exit_of_a_process_that_records_nothing_loads_nothing_heavy(tmp_path, mode):
    """At exit the session records are redacted and written without the reader or any pattern.

    In a git repository (its head is in the start record: a 40-hex sha, a branch with a
    name trigger), with common flags in argv (``--tb=short``: a flag, but not a secret name).
    """
    _git_repo(tmp_path)
    data_dir = tmp_path / ".agentlog"
    env = child_env(data_dir, AGENTLOG="true", AGENTLOG_TRACE=mode)
    heavy = list(EXIT_HEAVY)
    if sys.version_info < (3, 13):  # 3.12 names the main thread through threading, which imports functools
        heavy = [m for m in heavy if m not in ("functools", "collections")]
    elif mode == "crash":  # calls mode imported threading before the program ran
        heavy.append("threading")
    result = run_python(["-c", EXIT_PROBE, "--tb=short", "-q", "-k", "a and b"], tmp_path, env)
    assert result.returncode == 0, result.stderr
    _, marker, after = result.stderr.partition("exit starts\n")
    assert marker, result.stderr
    at_exit = {line.split(" ", 1)[1] for line in after.splitlines() if line.startswith("imported ")}
    assert "agentlog.core.redact" in at_exit, f"the records were not redacted at exit: {sorted(at_exit)}"
    assert [m for m in heavy if m in at_exit] == [], f"imported at exit: {sorted(at_exit)}"
    start, end = read_records(data_dir)
    assert (start["k"], end["k"]) == ("session_start", "session_end")
    assert start["argv"] == ["-c", EXIT_PROBE, "--tb=short", "-q", "-k", "a and b"]
    assert start["git"]["branch"] == "feature/token-refresh" and len(start["git"]["sha"]) == 40


@needs_pth
def test_exit_with_a_secret_in_argv_still_redacts_it(tmp_path):
    """The cheap checks only skip patterns that cannot match: a secret flag compiles its pass and is removed."""
    data_dir = tmp_path / ".agentlog"
    env = child_env(data_dir, AGENTLOG="true", AGENTLOG_TRACE="crash")
    secret = "hunter2-but-longer-Secret9"
    result = run_python(["-c", EXIT_PROBE, f"--password={secret}", "ghp_" + "a1B2" * 9], tmp_path, env)
    assert result.returncode == 0, result.stderr
    at_exit = result.stderr.partition("exit starts\n")[2]
    assert "imported re" in at_exit.splitlines()
    (start, _end) = read_records(data_dir)
    assert start["argv"] == ["-c", EXIT_PROBE, "--password=[REDACTED:name]", "[REDACTED:github_token]"]
    assert secret not in (data_dir / "records.jsonl").read_text()
