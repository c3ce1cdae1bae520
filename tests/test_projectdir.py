"""A relative data dir is the project's, wherever a command starts in it (issue 19)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import child_env, read_records, run_python

from agentlog.core.projectdir import project_root, resolve_data_path


@pytest.fixture
def tree(tmp_path) -> Path:
    (tmp_path / "repo/pkg/sub/deep").mkdir(parents=True)
    return tmp_path


@pytest.mark.parametrize(("markers", "existing", "start", "expected"), [
    ((), (), "repo/pkg/sub", "repo/pkg/sub"),  # no project: the working directory, as always
    (("repo/.git",), (), "repo/pkg/sub/deep", "repo"),  # the repository's top
    (("repo/pkg/pyproject.toml",), (), "repo/pkg/sub", "repo/pkg"),  # the nearest pyproject.toml
    (("repo/.git", "repo/pkg/pyproject.toml"), (), "repo/pkg/sub", "repo/pkg"),  # nearest marker is the root
    (("repo/.git", "repo/pkg/pyproject.toml"), ("repo",), "repo/pkg/sub", "repo"),  # monorepo's existing dir
    (("repo/.git",), ("repo/pkg",), "repo/pkg/sub/deep", "repo/pkg"),  # the nearest existing one
    (("repo/pkg/pyproject.toml",), ("repo",), "repo/pkg/sub", "repo/pkg"),  # not above the project
    ((), ("",), "repo/pkg", "repo/pkg"),  # a stray one above, outside any project: ignored
    (("repo/.git",), ("",), "repo/pkg", "repo"),  # nor above the repository's top
])
def test_resolution(tree, markers, existing, start, expected):
    for marker in markers:
        path = tree / marker
        path.mkdir() if marker.endswith(".git") else path.write_text("")
    for folder in existing:
        (tree / folder / ".agentlog").mkdir()
    assert resolve_data_path(".agentlog", str(tree / start)) == str(tree / expected / ".agentlog")
    nearest = next((tree / m).parent for m in sorted(markers, key=len, reverse=True)) if markers else tree / start
    assert project_root(str(tree / start)) == str(nearest)


def test_absolute_and_custom_names(tree):
    (tree / "repo/.git").mkdir()
    assert resolve_data_path("/x/../y/.rec", str(tree / "repo/pkg")) == "/y/.rec"
    assert resolve_data_path("logs/rec", str(tree / "repo/pkg")) == str(tree / "repo/logs/rec")


def test_home_is_not_every_projects(tree, monkeypatch):
    """A dotfiles repository in ~ does not make ~/.agentlog the data dir of markerless folders below it."""
    monkeypatch.setenv("HOME", str(tree))
    (tree / ".git").mkdir()
    (tree / ".agentlog").mkdir()
    assert resolve_data_path(".agentlog", str(tree / "repo/pkg")) == str(tree / "repo/pkg/.agentlog")
    assert resolve_data_path(".agentlog", str(tree)) == str(tree / ".agentlog")


def test_a_subdirectory_run_records_into_the_project(tree):
    """``cd sub && python -m agentlog app.py`` and AGENTLOG=true there: the project's records, not sub's."""
    repo = tree / "repo"
    (repo / "pyproject.toml").write_text("[project]\nname = 'r'\n")
    sub = repo / "pkg/sub"
    (sub / "app.py").write_text("def f(x):\n    return 1 / x\n\nf(0)\n")
    env = child_env()
    assert run_python(["-m", "agentlog", "app.py"], sub, env).returncode == 1
    assert run_python(["app.py"], sub, {**env, "AGENTLOG": "true"}).returncode == 1
    assert not (sub / ".agentlog").exists()
    failures = [r for r in read_records(repo / ".agentlog") if r["k"] == "failure"]
    assert len(failures) == 2
    listed = run_python(["-m", "agentlog", "list"], repo / "pkg", env)
    assert listed.stdout.count("ZeroDivisionError") == 2, listed.stdout
    assert sorted(os.listdir(repo)) == [".agentlog", "pkg", "pyproject.toml"]


@pytest.mark.parametrize(("env", "agent"), [
    ({"CLAUDECODE": "1"}, "claude-code"),
    ({"CLAUDE_CODE_SESSION_ID": "s"}, "claude-code"),
    ({"CODEX_SANDBOX": "seatbelt"}, "codex"),
    ({"CODEX_THREAD_ID": "t"}, "codex"),
    ({"GEMINI_CLI": "1"}, "gemini-cli"),
    ({"CURSOR_AGENT": "1"}, "cursor"),
    ({"CLAUDECODE": "1", "AGENTLOG_AGENT": "my-bot"}, "my-bot"),
    ({}, "-"),
])
def test_sessions_say_which_agent_started_them(tmp_path, env, agent):
    """A session started under an agent's command environment names that agent (issue 19)."""
    (tmp_path / "app.py").write_text("raise SystemExit(3)\n")
    base = {k: v for k, v in child_env().items()
            if k not in ("CLAUDECODE", "CLAUDE_CODE_SESSION_ID", "CODEX_SANDBOX", "CODEX_THREAD_ID", "CODEX_CI",
                         "CODEX_SANDBOX_NETWORK_DISABLED", "GEMINI_CLI", "CURSOR_AGENT")}
    assert run_python(["app.py"], tmp_path, {**base, **env, "AGENTLOG": "true"}).returncode == 3
    sessions = run_python(["-m", "agentlog", "sessions"], tmp_path, base)
    assert f" agent={agent} " in sessions.stdout, sessions.stdout
