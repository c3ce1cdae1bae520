"""Outcomes from real sessions: tags, derived outcomes, per-agent and per-task statistics, `agentlog outcomes`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from support import child_env, read_records, run_python

from agentlog.history.outcomes import get_outcome_stats, tag_outcome, tag_session_outcome

APP = """
    import sys

    def parse(text):
        return int(text)

    print(parse(sys.argv[1]))
"""

# An agent's own session: it runs the program (children join its session through the
# environment), the first run fails, the second succeeds, and the agent tags the session.
DRIVER = """
    import subprocess
    import sys

    import agentlog

    def run(arg):
        return subprocess.run([sys.executable, "-m", "agentlog", "app.py", arg]).returncode

    with agentlog.start_session(agent=sys.argv[1], task=sys.argv[2]) as session:
        print(session.id, flush=True)  # before the children write to the same pipe
        codes = [run(a) for a in sys.argv[3:]]
        if codes[-1] == 0:
            agentlog.tag_session_outcome(session, "success", "parse fixed; token=sk-live-0123456789abcdefghij")
    sys.exit(1 if codes[-1] else 0)
"""


def _project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    (tmp_path / "driver.py").write_text(textwrap.dedent(DRIVER), encoding="utf-8")
    return tmp_path


def _run_app(project: Path, data_dir: Path, arg: str, agent: str, task: str) -> str:
    """One `python -m agentlog app.py ARG` with AGENTLOG_AGENT/AGENTLOG_TASK set; its session id."""
    env = child_env(data_dir, AGENTLOG_AGENT=agent, AGENTLOG_TASK=task)
    done = run_python(["-m", "agentlog", "app.py", arg], project, env)
    assert done.returncode == (0 if arg.isdigit() else 1), done.stderr
    return read_records(data_dir, "session_start")[-1]["sid"]


def _records_of(data_dir: Path, sid: str, kind: str) -> list[dict]:
    return [r for r in read_records(data_dir, kind) if r["sid"] == sid]


def test_stats_per_agent_and_task_from_launched_runs(tmp_path, data_dir):
    """Each run is a session: fail, fail, succeed is 1/3 success, 2/3 failures per session, fixed by run 3."""
    project = _project(tmp_path)
    alice = [_run_app(project, data_dir, arg, "alice", "parse") for arg in ("x1", "y2", "3")]
    bob = _run_app(project, data_dir, "4", "bob", "parse")
    _run_app(project, data_dir, "z", "bob", "other")

    stats = get_outcome_stats(by="agent", data_dir=data_dir)
    assert set(stats) == {"alice", "bob"}  # no session without an agent (no phantom sessions)
    assert stats["alice"]["sessions"] == 3
    assert stats["alice"]["outcomes"] == {"failure": 2, "success": 1}
    assert stats["alice"]["success_rate"] == round(1 / 3, 3)
    assert stats["alice"]["failures_per_session"] == round(2 / 3, 2)
    # From the first failure of the task to the end of the first successful run after it.
    first_failure = _records_of(data_dir, alice[0], "failure")[0]["ts"]
    fixed_at = _records_of(data_dir, alice[2], "session_end")[0]["ts"]
    assert stats["alice"]["time_to_fix_s"] == round(fixed_at - first_failure, 1)
    assert stats["alice"]["time_to_fix_s"] > 0
    # bob succeeded at "parse" without failing and failed at "other" without a fix: nothing to time.
    assert (stats["bob"]["sessions"], stats["bob"]["success_rate"], stats["bob"]["time_to_fix_s"]) == (2, 0.5, None)
    assert _records_of(data_dir, bob, "failure") == []

    by_task = get_outcome_stats(by="task", data_dir=data_dir)
    assert set(by_task) == {"parse", "other"}
    assert by_task["parse"]["sessions"] == 4 and by_task["parse"]["success_rate"] == 0.5
    assert by_task["parse"]["failures_per_session"] == 0.5
    assert by_task["parse"]["time_to_fix_s"] == stats["alice"]["time_to_fix_s"]
    assert by_task["other"]["outcomes"] == {"failure": 1}


def test_tagged_agent_sessions_and_a_tag_from_another_process(tmp_path, data_dir):
    """start_session(agent=, task=) sessions whose children fail then pass; tags win over derived outcomes."""
    project = _project(tmp_path)
    env = child_env(data_dir)
    done = run_python(["driver.py", "carol", "ratio", "x", "5"], project, env)
    assert done.returncode == 0, done.stderr
    fixed = done.stdout.split()[0]
    done = run_python(["driver.py", "carol", "report", "y"], project, env)
    assert done.returncode == 1, done.stderr
    open_ended = done.stdout.split()[0]
    # The second session ended "ok" although its last run failed; someone tags it partial later.
    assert _records_of(data_dir, open_ended, "session_end")[0]["out"] == "ok"
    tagger = run_python(["-c", f"import agentlog; agentlog.tag_session_outcome({open_ended!r}, 'partial')"],
                        project, env)
    assert tagger.returncode == 0, tagger.stderr

    # The children's failures joined the agent's sessions.
    assert len(_records_of(data_dir, fixed, "failure")) == 1
    assert len(_records_of(data_dir, open_ended, "failure")) == 1
    stats = get_outcome_stats(by="agent", data_dir=data_dir)
    assert set(stats) == {"carol"}, stats  # the tagging process is no session of its own
    carol = stats["carol"]
    assert carol["sessions"] == 2 and carol["tagged"] == 2
    assert carol["outcomes"] == {"success": 1, "partial": 1}
    assert carol["success_rate"] == 0.5 and carol["failures_per_session"] == 1.0
    tag = _records_of(data_dir, fixed, "outcome")[0]
    failure = _records_of(data_dir, fixed, "failure")[0]
    assert carol["time_to_fix_s"] == round(tag["ts"] - failure["ts"], 1) and carol["time_to_fix_s"] > 0
    assert set(get_outcome_stats(by="task", data_dir=data_dir)) == {"ratio", "report"}
    # The note is redacted before it reaches the disk.
    assert "parse fixed" in tag["note"] and "sk-live" not in (data_dir / "records.jsonl").read_text()


def test_outcomes_command(tmp_path, data_dir):
    """`agentlog outcomes` prints one line per agent (or task) and the same numbers as JSON."""
    project = _project(tmp_path)
    env = child_env(data_dir)
    empty = run_python(["-m", "agentlog", "outcomes"], project, env)
    assert (empty.returncode, empty.stdout) == (0, "No sessions recorded.\n")
    for arg in ("x", "2"):
        _run_app(project, data_dir, arg, "dave", "sum")
    text = run_python(["-m", "agentlog", "outcomes"], project, env)
    assert text.returncode == 0, text.stderr
    line = text.stdout.strip()
    assert line.startswith("dave: 2 sessions (failure 1, success 1); success 50%; 0.5 failures/session;"), line
    as_json = json.loads(run_python(["-m", "agentlog", "outcomes", "--json", "--by", "task"], project, env).stdout)
    assert as_json == get_outcome_stats(by="task", data_dir=data_dir)
    assert as_json["sum"]["time_to_fix_s"] is not None
    bad = run_python(["-m", "agentlog", "outcomes", "--by", "nobody"], project, env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


class TestTagValidation:
    def test_bad_targets_and_outcomes_are_refused(self, tmp_path, monkeypatch):
        """A target that is no session or failure id, an empty outcome, or a session outcome not in the list."""
        monkeypatch.setenv("AGENTLOG_DIR", str(tmp_path / "d"))
        for target, outcome in [("not-an-id", "fixed"), ({"k": "session_start"}, "fixed"), ("0" * 12, " ")]:
            with pytest.raises(ValueError):
                tag_outcome(target, outcome)
        with pytest.raises(ValueError, match="one of success, failure, partial"):
            tag_session_outcome("6b0e7f9f-c629e8a0", "fixed")
        with pytest.raises(ValueError, match="not a session id"):
            tag_session_outcome("0123456789ab", "success")
        with pytest.raises(ValueError, match="by must be"):
            get_outcome_stats(by="pid", data_dir=tmp_path)
        assert not (tmp_path / "d").exists()  # nothing was written
