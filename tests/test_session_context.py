"""session_blocks: the session around a failure as compact, budget-friendly lines."""

from __future__ import annotations

from typing import Any

from agentlog.context.session import BLOCKS, session_blocks


def rec(kind: str, sid: str, ts: float, **fields: Any) -> dict[str, Any]:
    return {"sv": 1, "k": kind, "sid": sid, "pid": 1, "tid": 1, "th": "MainThread", "ts": ts, **fields}


GIT = {"root": "/r", "branch": "main", "sha": "a" * 40, "subject": "wip", "dirty": True,
       "nfiles": 1, "files": ["M app.py"], "diff": ["--- a/app.py", "+x = 2"]}  # fmt: skip
RECORDS = [
    rec("session_start", "lead", 100.0, agent="claude", task="fix parser", git={"root": "/r", "branch": "old"}),
    rec("decision", "lead", 101.0, what="delegate tests", why="faster"),
    rec("session_start", "sub", 102.0, agent="sub", task="tests", parent="lead"),
    rec("decision", "sub", 103.0, what="patch tokenize", why="off by one", alt=["rewrite"]),
    rec("exec", "sub", 104.0, cmd=["pytest", "-x"], rc=1, dur=2.0, out="ok\nFAILED test_a\n", err="", lo=15, le=0),
    rec("exec", "sub", 104.5, cmd=["ls"], rc=0, dur=0.1, out="", err="", lo=0, le=0),
    rec("llm", "sub", 104.6, model="m", **{"in": 100, "out": 10}),
    rec("perf", "sub", 104.7, label="load", rss=50 * 2**20, cpu=[1.0, 0.5], nth=2, nof=3, dur=0.5),
    rec("failure", "sub", 105.0, git=GIT),
    rec("decision", "sub", 106.0, what="after the failure", why="-"),
]


class TestSessionBlocks:
    def test_failure_in_sub_session(self) -> None:
        """Blocks describe the failure's session, its git state, and what came before it only."""
        blocks = session_blocks(RECORDS[8], RECORDS)
        assert tuple(blocks) == BLOCKS
        assert blocks["session"][0] == "session id=sub agent=sub task=tests"
        assert "failures=1" in blocks["session"][1]
        assert any(line.startswith("parent session id=lead agent=claude") for line in blocks["session"])
        assert blocks["git"][0].startswith("git at=failure branch=main sha=aaaaaaaaaaaa dirty=yes")
        assert blocks["git"][-1] == "+x = 2"
        decisions = blocks["decisions"]
        assert len(decisions) == 2 and "patch tokenize" in decisions[0] and "delegate tests" in decisions[1]
        assert decisions[0].startswith("decision (2.00s before failure)")
        assert blocks["tools"][0].startswith("exec `pytest -x` rc=1") and blocks["tools"][-1] == "  FAILED test_a"
        assert blocks["tokens"] == ["llm model=m calls=1 in=100 out=10 cost=-"]
        assert blocks["perf"][0].startswith("perf label=load pid=1 dur=0.50s rss=50.0MB")

    def test_without_failure_uses_newest_session_and_start_git(self) -> None:
        """With no failure, the newest record's session is described with git from its start."""
        blocks = session_blocks(None, RECORDS[:2])
        assert blocks["session"][0] == "session id=lead agent=claude task=fix parser"
        assert blocks["git"][0].startswith("git at=session start branch=old")

    def test_empty_store(self) -> None:
        """No records give every block, empty."""
        assert session_blocks(None, []) == {name: [] for name in BLOCKS}


class TestFailureInsideSessionEndToEnd:
    def test_context_shows_session_git_and_decisions(self, tmp_path, data_dir) -> None:
        """A crash inside start_session, in a git repo, gives context naming the session, git state and decision."""
        import subprocess
        import textwrap

        from support import child_env, run_python

        from agentlog.context.builder import get_debug_context
        from agentlog.context.tokencount import count_tokens

        repo = tmp_path / "repo"
        repo.mkdir()
        (repo / "app.py").write_text(textwrap.dedent("""
            import agentlog
            def parse(rows):
                return [int(r) for r in rows]
            with agentlog.start_session(agent="claude-code", task="fix the CSV import"):
                agentlog.log_decision("parse with int()", "rows are numeric", alternatives=["float()"])
                parse(["1", "x"])
        """))
        git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
        subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
        subprocess.run([*git, "add", "app.py"], cwd=repo, check=True)
        subprocess.run([*git, "commit", "-qm", "first version"], cwd=repo, check=True)
        with open(repo / "app.py", "a") as fh:
            fh.write("# edited by the agent\n")
        result = run_python(["-m", "agentlog", "app.py"], repo, child_env(data_dir))
        assert result.returncode == 1
        context = get_debug_context(max_tokens=1200, data_dir=data_dir)
        assert count_tokens(context) <= 1200
        assert context.index("ValueError") < context.index("agent=claude-code")
        assert "task=fix the CSV import" in context
        assert "subject: first version" in context and "dirty=yes" in context
        assert "+# edited by the agent" in context
        assert "parse with int()" in context
