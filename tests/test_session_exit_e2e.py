"""End to end: how a run's session starts and ends, through real processes (QA findings 12, 21, 22).

The start record names the program as typed (not the launcher's path, not ``['-m']``) and the
launcher apart; the end record's outcome carries the exit status once it is known, and a run that
crashed inside a ``start_session`` block, or ended with a non-zero status, is no success in
``outcomes`` or ``regress``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support import child_env, needs_pth, read_records, run_python

from agentlog.history.outcomes import get_outcome_stats
from agentlog.history.regression import compare_to_baseline, set_baseline


def _run(tmp_path: Path, data_dir: Path, args: list[str], **env: str):
    return run_python(args, tmp_path, child_env(data_dir, **env))


def _sessions(data_dir: Path) -> list[tuple[dict, dict | None]]:
    """(start, end) per session, in start order."""
    ends = {r["sid"]: r for r in read_records(data_dir, "session_end")}
    return [(s, ends.get(s["sid"])) for s in read_records(data_dir, "session_start")]


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__main__.py").write_text("import sys\nprint(sys.argv[1:])\n")
    (tmp_path / "ok.py").write_text("print('fine')\n")
    (tmp_path / "exits.py").write_text("import sys\nsys.exit(int(sys.argv[1]))\n")
    return tmp_path


class TestArgvAsTyped:
    @pytest.mark.parametrize(
        ("args", "argv"),
        [
            (["-m", "agentlog", "ok.py", "a"], ["ok.py", "a"]),
            (["-m", "agentlog", "--trace", "crash", "-m", "pkg", "x"], ["-m", "pkg", "x"]),
            (["-X", "dev", "-m", "agentlog", "-c", "print(1)", "q"], ["-c", "print(1)", "q"]),
        ],
    )
    def test_launcher(self, app: Path, data_dir: Path, args: list[str], argv: list[str]) -> None:
        """Under the launcher the session's argv is the program's command line; the launcher is noted apart."""
        assert _run(app, data_dir, args).returncode == 0
        [(start, _end)] = _sessions(data_dir)
        assert start["argv"] == argv and start["launcher"] == "agentlog"

    @needs_pth
    @pytest.mark.parametrize(
        ("args", "argv"),
        [(["-m", "pkg", "y"], ["-m", "pkg", "y"]), (["ok.py", "z"], ["ok.py", "z"])],
    )
    def test_activation(self, app: Path, data_dir: Path, args: list[str], argv: list[str]) -> None:
        """Under AGENTLOG=true the argv is what followed the interpreter (not ``['-m', 'y']``); no launcher."""
        assert _run(app, data_dir, args, AGENTLOG="true").returncode == 0
        [(start, _end)] = _sessions(data_dir)
        assert start["argv"] == argv and "launcher" not in start

    @needs_pth
    def test_launcher_inside_an_activated_process(self, app: Path, data_dir: Path) -> None:
        """AGENTLOG=true python -m agentlog ok.py (the launcher runs in-process): still ['ok.py']."""
        assert _run(app, data_dir, ["-m", "agentlog", "ok.py"], AGENTLOG="true").returncode == 0
        [(start, end)] = _sessions(data_dir)
        assert start["argv"] == ["ok.py"] and start["launcher"] == "agentlog"
        assert end["out"] == "exit 0"  # the in-process launcher saw the program return


class TestExitStatus:
    @pytest.mark.parametrize(("code", "outcome", "derived"), [(0, "exit 0", "success"), (3, "failed", "failure")])
    def test_sys_exit(self, app: Path, data_dir: Path, code: int, outcome: str, derived: str) -> None:
        """sys.exit(N) in the program: the end record says the status; a non-zero one is no success."""
        assert _run(app, data_dir, ["-m", "agentlog", "exits.py", str(code)]).returncode == code
        [(_start, end)] = _sessions(data_dir)
        assert end["out"] == outcome
        stats = get_outcome_stats(data_dir=data_dir)["(none)"]
        assert stats["outcomes"] == {derived: 1}

    @needs_pth
    @pytest.mark.parametrize(
        ("source", "env", "outcome", "derived"),
        [
            ("print('done')\n", {}, "exit 0", "success"),
            ("raise SystemExit(4)\n", {}, "failed", "failure"),
            ("import sys\nsys.excepthook = lambda *a: None\n{}['k']\n", {}, "failed", "failure"),
            ("print('done')\n", {"AGENTLOG_ENGINE": "python", "AGENTLOG_TRACE": "crash"}, "exit", "success"),
        ],
        ids=["returns", "raise-systemexit", "own-excepthook", "no-exit-watcher"],
    )
    def test_relaunched_program(self, app: Path, data_dir: Path, source: str, env: dict[str, str], outcome: str,
                                derived: str) -> None:
        """Relaunched into a fresh interpreter, a program that returns ends ``exit 0``: the exit watcher
        saw no SystemExit and no unhandled exception left it. Without the watcher (pure-Python engine
        in crash mode) a ``raise SystemExit`` could go unseen, so the status stays unknown (``exit``)."""
        (app / "prog.py").write_text("import sys\nprint(sys.orig_argv)\n" + source)
        done = _run(app, data_dir, ["-m", "agentlog", "prog.py"], **env)
        assert "agentlog" not in done.stdout.splitlines()[0]  # relaunched: no launcher in this interpreter
        [(_start, end)] = _sessions(data_dir)
        assert end["out"] == outcome
        assert get_outcome_stats(data_dir=data_dir)["(none)"]["outcomes"] == {derived: 1}

    def test_non_zero_exit_without_a_failure(self, app: Path, data_dir: Path) -> None:
        """A library's own non-zero exit (argparse rejecting json.tool's option) records no failure, yet
        the session ends ``exit 2``, a failure in outcomes, not a success."""
        done = _run(app, data_dir, ["-m", "agentlog", "-m", "json.tool", "--no-such-option"])
        assert done.returncode == 2
        assert read_records(data_dir, "failure") == []
        [(_start, end)] = _sessions(data_dir)
        assert end["out"] == f"exit {done.returncode}"
        assert get_outcome_stats(data_dir=data_dir)["(none)"]["outcomes"] == {"failure": 1}


SESS = """
    import agentlog

    def mean(values, weights):
        return sum(v * w for v, w in zip(values, weights)) / sum(weights)

    with agentlog.start_session(agent="claude-code", task="fix mean"):
        agentlog.log_llm_call(model="claude-sonnet-4", input_tokens=1200, output_tokens=300)
        print(mean([1], [0]))
"""
FIRST = """
    data = {"v": [1, 2]}
    print(data["w"])
"""


def test_crash_inside_a_child_session_is_the_runs_failure(tmp_path: Path, data_dir: Path) -> None:
    """A run that crashed inside a start_session block failed as a whole: its own session ends
    ``failed``, outcomes count no success and no time to fix, and regress (default: the newest
    run) sees the crash and the child session's tokens."""
    (tmp_path / "first.py").write_text(textwrap.dedent(FIRST))
    (tmp_path / "sess.py").write_text(textwrap.dedent(SESS))
    assert _run(tmp_path, data_dir, ["-m", "agentlog", "first.py"]).returncode == 1
    [(base, _)] = _sessions(data_dir)
    set_baseline(base["sid"], data_dir)
    done = _run(tmp_path, data_dir, ["-m", "agentlog", "sess.py"])
    assert done.returncode == 1 and "ZeroDivisionError" in done.stderr

    sessions = {s["sid"]: (s, e) for s, e in _sessions(data_dir)}
    child = next(s for s, _ in sessions.values() if s.get("agent") == "claude-code")
    run_start, run_end = sessions[child["parent"]]
    assert run_start["argv"] == ["sess.py"] and run_end["out"] == "failed"
    assert sessions[child["sid"]][1]["out"] == "error"

    stats = get_outcome_stats(data_dir=data_dir)
    assert stats["(none)"]["outcomes"] == {"failure": 2} and stats["(none)"]["time_to_fix_s"] is None
    comparison = compare_to_baseline(data_dir=data_dir)
    assert comparison["session"] == run_start["sid"]
    assert [f["t"] for f in comparison["new_failures"]] == ["ZeroDivisionError"]
    assert [f["t"] for f in comparison["gone_failures"]] == ["KeyError"]
    assert comparison["tokens"]["session"] == 1500 and comparison["regression"]
    report = run_python(["-m", "agentlog", "regress"], tmp_path, child_env(data_dir))
    assert report.returncode == 1 and "REGRESSION" in report.stdout and "session 1500" in report.stdout
    shown = run_python(["-m", "agentlog", "sessions"], tmp_path, child_env(data_dir)).stdout
    assert f"{run_start['sid']} agent=- task=- " in shown and shown.count("outcome=failed") == 2
