"""'last fixed in <sha>, came back' in a real git repository: fail, commit a fix, pass, reintroduce, fail."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from support import child_env, read_records, run_python
from test_git import git

from agentlog.capture.errorhash import correlate_error
from agentlog.history.correlate import history_line

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs a git binary")

BUGGY = "def ratio(a, b):\n    return a / b\n\n\nprint(ratio(1, {b}))\n"


def _commit(repo: Path, b: int, message: str) -> str:
    (repo / "app.py").write_text(BUGGY.format(b=b))
    git(repo, "add", "app.py")
    git(repo, "commit", "-qm", message)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()


def _run(repo: Path, data_dir: Path, script: str = "app.py") -> int:
    return run_python(["-m", "agentlog", script], repo, child_env(data_dir)).returncode


def test_fixed_in_a_commit_then_came_back(tmp_path, data_dir):
    """correlate_error and the context name the commit whose run passed, once the bug is back."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    bug = _commit(repo, 0, "ratio")
    assert _run(repo, data_dir) == 1
    first = read_records(data_dir, "failure")[-1]
    fp = first["fp"]
    # Another program running to success at the same commit fixes nothing.
    (repo / "other.py").write_text("print('ok')\n")
    assert _run(repo, data_dir, "other.py") == 0
    assert correlate_error(fp, data_dir)["fixed"] is False

    fix = _commit(repo, 2, "fix: no division by zero")
    assert _run(repo, data_dir) == 0
    info = correlate_error(fp, data_dir)
    assert (info["fixed"], info["fixed_in"], info["came_back"]) == (True, fix, False)
    assert history_line(info) == f"fixed in {fix[:7]}"

    again = _commit(repo, 0, "refactor (reintroduces the bug)")
    assert _run(repo, data_dir) == 1
    info = correlate_error(fp, data_dir)
    assert (info["count"], info["fixed_in"], info["came_back"]) == (2, fix, True)
    assert [c["sha"] for c in info["commits"]] == [bug, again]
    assert history_line(info) == f"last fixed in {fix[:7]}, came back"
    context = run_python(["-m", "agentlog", "context"], repo, child_env(data_dir))
    assert context.returncode == 0, context.stderr
    day = time.strftime("%Y-%m-%d", time.localtime(first["ts"]))
    assert context.stdout.splitlines()[1] == (
        f"seen once before (first {day}, 1 session); last seen at {bug[:7]}; last fixed in {fix[:7]}, came back")

    # Fixed again, this time said with a tag: the tag's commit is the fix and the bug is not back.
    tagged = _commit(repo, 4, "fix again")
    newest = read_records(data_dir, "failure")[-1]["id"]
    done = run_python(["-c", f"import agentlog; agentlog.tag_outcome({newest!r}, 'fixed')"], repo, child_env(data_dir))
    assert done.returncode == 0, done.stderr
    info = correlate_error(fp, data_dir)
    assert (info["fixed_in"], info["came_back"]) == (tagged, False)
