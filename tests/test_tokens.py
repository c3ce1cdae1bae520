"""LLM token accounting: log_llm_call, token_summary and `agentlog tokens`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from support import read_records
from test_session_support import agentlog_cli, isolate

from agentlog.work import session
from agentlog.work.tokens import log_llm_call, token_summary


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Path:
    return isolate(monkeypatch, data_dir)


class TestTokens:
    def test_summary_groups_by_model_with_totals(self, store: Path) -> None:
        """Calls are summed per model, largest first, with a grand total and optional cost."""
        log_llm_call("small", 10, 5)
        log_llm_call("big", 1000, 200, cost=0.25, duration=1.5)
        log_llm_call("big", 500, 100, cost=0.125)
        summary = token_summary()
        assert list(summary["models"]) == ["big", "small"]
        assert summary["models"]["big"] == {"calls": 2, "in": 1500, "out": 300, "cost": 0.375, "dur": 1.5}
        assert summary["models"]["small"]["cost"] is None
        assert (summary["total"]["calls"], summary["total"]["in"], summary["total"]["out"]) == (3, 1510, 305)

    def test_summary_for_one_session(self, store: Path) -> None:
        """token_summary(session) counts only that session's calls."""
        log_llm_call("m", 1, 1)
        with session.start_session() as s:
            log_llm_call("m", 7, 3)
        assert token_summary(s.id)["total"]["in"] == 7 and token_summary()["total"]["in"] == 8
        assert read_records(store, "llm")[1]["sid"] == s.id


class TestTokensCli:
    def test_table(self, data_dir: Path) -> None:
        """`agentlog tokens` prints a row per model and a TOTAL row."""
        code = "from agentlog.work.tokens import log_llm_call as l; l('gpt-x', 100, 20, cost=0.5); l('claude-y', 3, 4)"
        agentlog_cli(["exec", "--", sys.executable, "-c", code], data_dir)
        out = agentlog_cli(["tokens"], data_dir)
        assert out.returncode == 0, out.stderr
        header, first, second, total = out.stdout.splitlines()
        assert header.split() == ["model", "calls", "input", "output", "total", "cost", "time"]
        assert first.split()[:5] == ["gpt-x", "1", "100", "20", "120"]
        assert second.split()[:6] == ["claude-y", "1", "3", "4", "7", "-"]
        assert total.split()[:5] == ["TOTAL", "2", "103", "24", "127"]

    def test_unknown_session(self, data_dir: Path) -> None:
        """`agentlog tokens --session` with an unknown id exits 1."""
        assert agentlog_cli(["tokens", "--session", "zz"], data_dir).returncode == 1
