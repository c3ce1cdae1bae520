"""Git state capture: contents, redaction, and its bounds."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from support import child_env, needs_pth, read_records, run_python

from agentlog.work import git as git_module
from agentlog.work.git import MAX_DIFF_LINES, capture_git_state, head_state

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs a git binary")
SECRET = "ghp_" + "A" * 36


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e", "GIT_CONFIG_GLOBAL": os.devnull}  # fmt: skip
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "app.py").write_text("x = 1\n")
    git(path, "add", "app.py")
    git(path, "commit", "-q", "-m", "first commit")
    return path


class TestCaptureGitState:
    def test_clean_repository(self, repo: Path) -> None:
        """A clean checkout reports root, branch, sha, subject and dirty=False."""
        state = capture_git_state(repo)
        assert state is not None
        assert state["root"] == str(repo.resolve())
        assert (state["branch"], state["subject"], state["dirty"]) == ("main", "first commit", False)
        assert len(state["sha"]) == 40 and state["files"] == [] and state["diff"] == []

    def test_secret_in_diff_is_redacted(self, repo: Path) -> None:
        """Changed and untracked files are listed and a token in the diff is redacted."""
        (repo / "app.py").write_text(f"x = 1\nTOKEN = '{SECRET}'\n")
        (repo / "new.txt").write_text("n\n")
        state = capture_git_state(repo / ".")
        assert state is not None and state["dirty"] is True
        assert state["files"] == ["M app.py", "?? new.txt"] and state["nfiles"] == 2
        diff = "\n".join(state["diff"])
        assert "+TOKEN = " in diff and SECRET not in diff and "[REDACTED:" in diff

    def test_diff_is_bounded(self, repo: Path) -> None:
        """Only the first MAX_DIFF_LINES diff lines are kept."""
        (repo / "app.py").write_text("".join(f"line {i}\n" for i in range(5000)))
        state = capture_git_state(repo)
        assert state is not None and len(state["diff"]) == MAX_DIFF_LINES

    @pytest.mark.parametrize("data_rel", [".agentlog", "sub/logs"])
    def test_agentlog_data_dir_is_not_a_change(
        self, repo: Path, monkeypatch: pytest.MonkeyPatch, data_rel: str
    ) -> None:
        """The data dir inside the repo (default or AGENTLOG_DIR) is left out of files and dirty."""
        monkeypatch.setenv("AGENTLOG_DIR", str(repo / data_rel))
        monkeypatch.setattr("agentlog.core.config._current", None)
        (repo / data_rel).mkdir(parents=True)
        (repo / data_rel / "records.jsonl").write_text("{}\n")
        state = capture_git_state(repo)
        assert state is not None and state["files"] == [] and state["nfiles"] == 0 and state["dirty"] is False
        (repo / "sub" / "other.txt").parent.mkdir(exist_ok=True)
        (repo / "sub" / "other.txt").write_text("x")
        (repo / ".agentlog-notes").write_text("x")  # a sibling sharing the prefix is a change
        state = capture_git_state(repo)
        assert state is not None and state["dirty"] is True
        assert "?? .agentlog-notes" in state["files"]
        assert sorted(state["files"]) == ["?? .agentlog-notes", "?? sub/"]  # sub/ holds other.txt now

    def test_detached_head_has_no_branch(self, repo: Path) -> None:
        """A detached HEAD is reported with branch None."""
        git(repo, "checkout", "-q", "--detach")
        state = capture_git_state(repo)
        assert state is not None and state["branch"] is None and state["sha"]

    def test_outside_a_repository(self, tmp_path: Path) -> None:
        """Outside any repository the result is None."""
        (tmp_path / "plain").mkdir()
        assert capture_git_state(tmp_path / "plain") is None

    def test_without_git_binary(self, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """With no git on PATH the result is None, not an error."""
        monkeypatch.setenv("PATH", str(repo / "no-bin-here"))
        assert capture_git_state(repo) is None

    def test_time_bound(self, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A git that hangs is killed at the deadline: the call returns within the bound."""
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        fake = bin_dir / "git"
        fake.write_text("#!/bin/sh\nexec sleep 30\n")
        fake.chmod(0o755)
        monkeypatch.setenv("PATH", str(bin_dir))
        start = time.monotonic()
        assert capture_git_state(repo, timeout_s=0.3) is None
        assert time.monotonic() - start < 1.5


def _head(path: Path) -> tuple[str | None, str | None, str | None]:
    """(root, branch, sha) as git itself reports them."""
    state = capture_git_state(path)
    assert state is not None
    return state["root"], state["branch"], state.get("sha")


# How a checkout can look on disk: each case turns the fresh repo into one and names the folder to ask.
HEAD_CASES = {
    "loose ref": lambda repo: repo,
    "subfolder": lambda repo: (repo / "sub").mkdir() or repo / "sub",
    "detached": lambda repo: git(repo, "checkout", "-q", "--detach") or repo,
    "packed refs": lambda repo: git(repo, "pack-refs", "--all") or repo,
    "worktree": lambda repo: git(repo, "worktree", "add", "-q", "-b", "b2", "../w") or repo.parent / "w",
}  # fmt: skip


class TestHeadState:
    @pytest.mark.parametrize("case", list(HEAD_CASES))
    def test_matches_git(self, repo: Path, case: str) -> None:
        """Read from .git's files, root, branch and sha are what git says, without running git."""
        where = HEAD_CASES[case](repo)
        expected = _head(where)
        state = head_state(where)
        assert state is not None
        assert (state["root"], state["branch"], state["sha"]) == expected
        assert state["head_only"] is True

    def test_says_nothing_when_the_files_do_not(self, tmp_path: Path) -> None:
        """Outside a repository, and for a branch without a commit, there is no head to read."""
        assert head_state(tmp_path) is None
        unborn = tmp_path / "unborn"
        unborn.mkdir()
        git(unborn, "init", "-q")
        assert head_state(unborn) is None

    def test_no_git_process_outside_a_repository(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """capture_git_state spawns nothing when no .git is at or above the folder."""
        spawned = []
        monkeypatch.setattr(git_module, "_run_parallel", lambda *a: spawned.append(a) or ({}, []))
        monkeypatch.delenv("GIT_DIR", raising=False)
        assert capture_git_state(tmp_path) is None
        assert spawned == []


@needs_pth
class TestSessionStartGit:
    def test_quiet_process_reads_head_noisy_one_runs_git(self, repo: Path, tmp_path: Path) -> None:
        """Activated in a repo: exit with nothing recorded reads the head; a failure gets full git state."""
        data_dir = tmp_path / "data"
        env = child_env(data_dir, AGENTLOG="true", AGENTLOG_TRACE="crash")
        assert run_python(["-c", "pass"], repo, env).returncode == 0
        assert run_python(["-c", "raise ValueError(1)"], repo, env).returncode == 1
        quiet, failing = [r["git"] for r in read_records(data_dir, "session_start")]
        assert quiet == {"root": str(repo), "branch": "main", "sha": _head(repo)[2], "head_only": True}
        assert failing["sha"] == quiet["sha"] and "dirty" in failing and "head_only" not in failing
