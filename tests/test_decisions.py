"""Decisions: log_decision records, and how they show up for a session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import child_env, read_records
from test_session_support import agentlog_cli, isolate

from agentlog.work.decisions import MAX_ALTERNATIVES, MAX_TEXT_CHARS, log_decision


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Path:
    return isolate(monkeypatch, data_dir)


class TestLogDecision:
    def test_fields(self, store: Path) -> None:
        """A decision records what, why and the alternatives."""
        log_decision("retry with backoff", "the API rate-limits", ["fail fast", "cache"])
        (rec,) = read_records(store, "decision")
        assert (rec["what"], rec["why"], rec["alt"]) == (
            "retry with backoff",
            "the API rate-limits",
            ["fail fast", "cache"],
        )

    def test_bounded_and_redacted(self, store: Path) -> None:
        """Long text and many alternatives are cut visibly, and secrets are redacted."""
        secret = "ghp_" + "C" * 36
        log_decision("use " + secret, "w" * 10_000, [str(i) for i in range(25)])
        (rec,) = read_records(store, "decision")
        assert secret not in rec["what"] and len(rec["why"]) == MAX_TEXT_CHARS
        assert len(rec["alt"]) == MAX_ALTERNATIVES and rec["alt_more"] == 25 - MAX_ALTERNATIVES


class TestDecisionsCli:
    def test_show_lists_decisions_newest_first(self, data_dir: Path, tmp_path: Path) -> None:
        """`agentlog show` lists the session's decisions, newest first."""
        code = (
            "import agentlog.work.session as s; from agentlog.work.decisions import log_decision as d\n"
            "with s.start_session(agent='a') as x:\n    d('first', 'r1'); d('second', 'r2', ['alt'])\n"
            "print(x.id)"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], env=child_env(data_dir), cwd=tmp_path, capture_output=True, text=True
        )
        show = agentlog_cli(["show", done.stdout.strip()], data_dir)
        lines = show.stdout.split("decisions:\n", 1)[1].splitlines()
        assert "second | why: r2 | alternatives: alt" in lines[0] and "first | why: r1" in lines[1]
