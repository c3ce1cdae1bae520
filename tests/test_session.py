"""Sessions: API, crossing process boundaries, and the sessions/show commands."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support import child_env, read_records
from test_session_support import agentlog_cli, isolate

from agentlog.work import session
from agentlog.work import summary as session_summary
from agentlog.work.decisions import log_decision


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Path:
    return isolate(monkeypatch, data_dir)


class TestStartSession:
    def test_start_and_end_write_linked_records(self, store: Path) -> None:
        """start_session writes a start record and end_session an end record with the outcome."""
        s = session.start_session(agent="claude", task="fix the parser")
        assert os.environ[session.SESSION_ENV] == s.id
        session.end_session(outcome="success")
        start, end = read_records(store)
        assert (start["k"], start["sid"], start["agent"], start["task"]) == (
            "session_start",
            s.id,
            "claude",
            "fix the parser",
        )
        assert (end["k"], end["sid"], end["out"]) == ("session_end", s.id, "success")
        assert end["dur"] >= 0

    def test_context_manager_records_error_and_restores_environment(self, store: Path) -> None:
        """The with-block ends the session as error on an exception and restores the previous env."""
        with pytest.raises(ValueError), session.start_session(agent="a", task="t"):
            raise ValueError("boom")
        assert session.SESSION_ENV not in os.environ
        end = read_records(store, "session_end")[0]
        assert end["out"] == "error" and end["err"] == "ValueError: boom"

    def test_nested_session_links_to_parent(self, store: Path) -> None:
        """A session started inside another names it as parent; the outer one is current again after."""
        with session.start_session(agent="lead") as outer:
            with session.start_session(agent="sub") as inner:
                assert inner.parent == outer.id
                assert session.current_session() is inner
                assert os.environ[session.PARENT_SESSION_ENV] == outer.id
            assert session.current_session() is outer
        starts = read_records(store, "session_start")
        assert starts[1]["parent"] == outer.id

    def test_ending_outer_abandons_open_inner(self, store: Path) -> None:
        """Ending an outer session first ends the sessions still open inside it."""
        outer = session.start_session(agent="lead")
        session.start_session(agent="sub")
        session.end_session("ok", session=outer)
        assert [r["out"] for r in read_records(store, "session_end")] == ["abandoned", "ok"]

    def test_explicit_parent_id(self, store: Path) -> None:
        """parent_session_id links to a session of another process."""
        with session.start_session(agent="sub", parent_session_id="feedbeef-1") as s:
            assert s.parent == "feedbeef-1"

    def test_records_carry_the_session_id(self, store: Path) -> None:
        """Records written inside a session carry its id."""
        with session.start_session() as s:
            log_decision("x", "y")
        assert read_records(store, "decision")[0]["sid"] == s.id


class TestEnsureSessionStarted:
    def test_new_session_gets_start_record_with_agent_from_env(
        self, store: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A process without a session creates one and records agent, task, argv and cwd."""
        monkeypatch.setenv(session.AGENT_ENV, "codex")
        monkeypatch.setenv(session.TASK_ENV, "add tests")
        session.ensure_session_started(["prog.py", "--flag"])
        (start,) = read_records(store)
        assert start["sid"] == os.environ[session.SESSION_ENV]
        assert (start["agent"], start["task"], start["argv"]) == ("codex", "add tests", ["prog.py", "--flag"])
        assert start["cwd"] == os.getcwd()

    def test_inherited_session_is_joined_silently(self, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A process that inherited AGENTLOG_SESSION writes no start record."""
        monkeypatch.setenv(session.SESSION_ENV, "00000000-aaaa")
        session.ensure_session_started(["x"])
        assert not store.exists() or read_records(store) == []
        assert session.current_session().id == "00000000-aaaa"

    def test_session_created_earlier_in_this_process_still_starts(self, store: Path) -> None:
        """An id this process created before the call gets its start record, once."""
        sid = session.current_session_id()
        session.ensure_session_started(["x"])
        session.ensure_session_started(["x"])
        assert [(r["k"], r["sid"]) for r in read_records(store)] == [("session_start", sid)]

    def test_never_raises(self, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A failure while starting is reported, not raised."""
        monkeypatch.setattr(session, "_write_start", lambda *a: 1 / 0)
        session.ensure_session_started(["x"])


def _run_script(code: str, data_dir: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=child_env(data_dir), cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


class TestImplicitSessionEnd:
    def test_clean_exit_ends_with_exit(self, data_dir: Path, tmp_path: Path) -> None:
        """The session a process started gets session_end out=exit at exit, with its duration."""
        code = "import agentlog.work.session as s\ns.ensure_session_started(['prog'])\n"
        done = _run_script(code, data_dir, tmp_path)
        assert done.returncode == 0, done.stderr
        start, end = read_records(data_dir)
        assert (start["k"], end["k"], end["sid"], end["out"]) == ("session_start", "session_end", start["sid"], "exit")
        assert end["dur"] >= 0
        out = agentlog_cli(["sessions"], data_dir)
        assert "outcome=exit" in out.stdout

    def test_noted_failure_ends_with_failed(self, data_dir: Path, tmp_path: Path) -> None:
        """After note_failure for the session, the process's crash ends it as failed."""
        code = """
            import os
            import agentlog.work.session as s
            s.ensure_session_started(['prog'])
            s.note_failure('some-other-session')
            s.note_failure(os.environ[s.SESSION_ENV])
            raise RuntimeError('boom')
        """
        done = _run_script(code, data_dir, tmp_path)
        assert done.returncode == 1
        assert [r["out"] for r in read_records(data_dir, "session_end")] == ["failed"]

    def test_explicit_end_is_not_repeated(self, data_dir: Path, tmp_path: Path) -> None:
        """A session ended with end_session gets no second end record at exit."""
        code = "import agentlog.work.session as s\ns.ensure_session_started(['p'])\ns.end_session('done')\n"
        _run_script(code, data_dir, tmp_path)
        assert [r["out"] for r in read_records(data_dir, "session_end")] == ["done"]

    def test_joined_session_and_forked_child_write_no_end(self, data_dir: Path, tmp_path: Path) -> None:
        """Only the process that wrote the start record ends the session; a fork's exit does not."""
        code = """
            import os, sys
            import agentlog.work.session as s
            s.ensure_session_started(['p'])
            pid = os.fork()
            if pid == 0:
                sys.exit(0)  # runs atexit handlers in the child
            os.waitpid(pid, 0)
        """
        _run_script(code, data_dir, tmp_path)
        assert len(read_records(data_dir, "session_end")) == 1
        env = child_env(data_dir, AGENTLOG_SESSION="6b000000-outer")
        subprocess.run([sys.executable, "-c", "import agentlog.work.session as s; s.ensure_session_started(['x'])"],
                       env=env, cwd=tmp_path, check=True, timeout=120)  # fmt: skip
        assert len(read_records(data_dir, "session_end")) == 1

    def test_note_failure_is_cheap_and_never_raises(self, store: Path) -> None:
        """note_failure takes any value, and the default is the current session."""
        session.note_failure(object())  # type: ignore[arg-type]
        session.note_failure(None)
        sid = session.current_session_id()
        session.note_failure()
        assert sid in session._failed


class TestSessionAcrossProcesses:
    def test_two_processes_write_at_once_without_losing_lines(self, data_dir: Path, tmp_path: Path) -> None:
        """Two processes of one session appending concurrently leave every line whole."""
        script = tmp_path / "writer.py"
        script.write_text(
            textwrap.dedent("""
            import sys
            from agentlog.work.decisions import log_decision
            for i in range(300):
                log_decision(f"{sys.argv[1]}-{i}", "r" * 3000)
        """)
        )
        env = child_env(data_dir, AGENTLOG_SESSION="6b000000-shared")
        procs = [subprocess.Popen([sys.executable, str(script), name], env=env, cwd=tmp_path) for name in ("a", "b")]
        assert [p.wait(120) for p in procs] == [0, 0]
        records = read_records(data_dir, "decision")
        assert len(records) == 600
        assert {r["sid"] for r in records} == {"6b000000-shared"}
        assert {r["what"] for r in records} == {f"{n}-{i}" for n in "ab" for i in range(300)}

    def test_spawned_child_joins_the_session(self, store: Path, tmp_path: Path) -> None:
        """A multiprocessing spawn child inherits the session and its records carry the same id."""
        script = tmp_path / "parent.py"
        script.write_text(textwrap.dedent("""
            import multiprocessing
            from agentlog.work import session
            from agentlog.work import summary as session_summary
            from agentlog.work.decisions import log_decision

            def child(text):
                log_decision(text, "from a spawned child")

            if __name__ == "__main__":
                with session.start_session(agent="parent") as s:
                    proc = multiprocessing.get_context("spawn").Process(target=child, args=("child",))
                    proc.start()
                    proc.join(120)
                print(s.id, proc.exitcode)
        """))
        result = subprocess.run([sys.executable, str(script)], env=child_env(store), cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        parent_sid, exitcode = result.stdout.split()
        assert exitcode == "0", result.stderr
        (decision,) = read_records(store, "decision")
        assert decision["sid"] == parent_sid and decision["what"] == "child"
        (start,) = read_records(store, "session_start")
        assert start["pid"] != decision["pid"]

    def test_sub_agent_process_links_to_parent(self, store: Path, tmp_path: Path) -> None:
        """A child process that starts its own session records the parent's id as parent."""
        with session.start_session(agent="lead") as s:
            env = child_env(store, AGENTLOG_SESSION=s.id, AGENTLOG_PARENT_SESSION="")
            code = "import agentlog.work.session as s; s.start_session(agent='sub').end('ok')"
            subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, check=True, timeout=120)
        sub = next(r for r in read_records(store, "session_start") if r["agent"] == "sub")
        assert sub["parent"] == s.id


class TestSessionSummaries:
    def test_counts_failures_and_links_children(self) -> None:
        """summarize_sessions counts failure records and lists child sessions."""
        records = [
            {"k": "session_start", "sid": "p", "ts": 1.0, "agent": "a"},
            {"k": "session_start", "sid": "c", "ts": 2.0, "parent": "p"},
            {"k": "failure", "sid": "c", "ts": 3.0},
            {"k": "session_end", "sid": "p", "ts": 5.0, "out": "ok"},
        ]
        infos = session_summary.summarize_sessions(records)
        assert infos["p"].children == ["c"] and infos["c"].failures == 1
        assert infos["p"].duration == 4.0 and infos["p"].outcome == "ok"

    def test_baseline_tag_is_no_session(self) -> None:
        """A baseline tag, under its own id (older data) or the tagged session's, adds no session and
        does not move the tagged session's last activity."""
        records = [
            {"k": "session_start", "sid": "p", "ts": 1.0},
            {"k": "session_end", "sid": "p", "ts": 2.0, "out": "exit 0"},
            {"k": "baseline", "sid": "tagger", "ts": 9.0, "of": "p"},
            {"k": "baseline", "sid": "p", "ts": 10.0, "of": "p"},
        ]
        infos = session_summary.summarize_sessions(records)
        assert list(infos) == ["p"] and infos["p"].last == 2.0 and infos["p"].records == 2

    def test_resolve_by_prefix(self) -> None:
        """A unique prefix resolves; an ambiguous or unknown one raises LookupError."""
        infos = session_summary.summarize_sessions([{"sid": s, "ts": 1.0} for s in ("abc-1", "abc-2", "abd-1")])
        assert session_summary.resolve_session(infos, "abd").id == "abd-1"
        for ref in ("abc", "zzz"):
            with pytest.raises(LookupError):
                session_summary.resolve_session(infos, ref)

    def test_resolve_by_random_part(self) -> None:
        """A prefix of the part after the '-' resolves, so ids sharing a time prefix need few characters."""
        ids = ("6b0e8b0b-c79a7fc5", "6b0e8b0b-b8da2bf4", "6b0e8b0c-c7e11ee5")
        infos = session_summary.summarize_sessions([{"sid": s, "ts": 1.0} for s in ids])
        assert session_summary.resolve_session(infos, "b8da").id == ids[1]
        assert session_summary.resolve_session(infos, " c79a ").id == ids[0]
        with pytest.raises(LookupError, match=r"'c7' is ambiguous: 2 sessions match \(6b0e8b0b-c79a7fc5, 6b0e8b0c"):
            session_summary.resolve_session(infos, "c7")


class TestSessionCli:
    def test_sessions_lists_agent_task_failures_and_parent(self, data_dir: Path, tmp_path: Path) -> None:
        """`agentlog sessions` prints one labelled line per session, children naming their parent."""
        code = textwrap.dedent("""
            import agentlog.work.session as s
            from agentlog.store import append, make_record
            with s.start_session(agent="lead", task="refactor") as lead:
                with s.start_session(agent="sub", task="run tests"):
                    append(make_record("failure"))
            print(lead.id)
        """)
        done = subprocess.run(
            [sys.executable, "-c", code], env=child_env(data_dir), cwd=tmp_path, capture_output=True, text=True
        )
        lead = done.stdout.strip()
        out = agentlog_cli(["sessions"], data_dir)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert len(lines) == 2
        assert lines[0].startswith(lead) and "agent=lead task=refactor" in lines[0] and "outcome=ok" in lines[0]
        assert "agent=sub" in lines[1] and "failures=1" in lines[1] and f"parent={lead}" in lines[1]

        show = agentlog_cli(["show", lead[:12]], data_dir)
        assert show.returncode == 0, show.stderr
        assert f"session id={lead} agent=lead task=refactor" in show.stdout
        tree = show.stdout.split("tree:\n", 1)[1].splitlines()
        assert tree[0].startswith(f"  {lead}") and tree[1].startswith("    ") and "agent=sub" in tree[1]

    def test_show_by_random_part_of_runs_of_one_second(self, data_dir: Path, tmp_path: Path) -> None:
        """Runs started together share their time prefix; 4 characters after the '-' name one (QA 20)."""
        script = tmp_path / "boom.py"
        script.write_text("raise SystemExit(0)\n")
        for _ in range(3):
            run = subprocess.run([sys.executable, "-m", "agentlog", str(script)], env=child_env(data_dir),
                                 cwd=tmp_path, capture_output=True, text=True)
            assert run.returncode == 0, run.stderr
        ids = [line.split()[0] for line in agentlog_cli(["sessions"], data_dir).stdout.splitlines()]
        assert len(ids) == 3
        for sid in ids:
            part = sid.split("-")[1][:4]
            if sum(other.split("-")[1].startswith(part) for other in ids) > 1:
                continue  # a 1-in-65536 collision: 4 characters are not enough this time
            show = agentlog_cli(["show", part], data_dir)
            assert show.returncode == 0, show.stderr
            assert f"session id={sid} " in show.stdout
        # the time prefix the ids share: 6+ characters unless a 256 s boundary fell between the runs
        shared = "".join(c[0] for c in itertools.takewhile(lambda c: len(set(c)) == 1, zip(*ids, strict=True)))
        assert len(shared) >= 1
        ambiguous = agentlog_cli(["show", shared], data_dir)
        assert ambiguous.returncode == 1 and "is ambiguous: 3 sessions match" in ambiguous.stderr
        assert ids[0] in ambiguous.stderr and len(ambiguous.stderr.strip().splitlines()) == 1

    @pytest.mark.parametrize(("command", "value"), [("sessions", "-3"), ("sessions", "0"), ("perf", "-1")])
    def test_limit_must_be_positive(self, data_dir: Path, command: str, value: str) -> None:
        """--limit takes a count >= 1; anything else is a usage error (exit 2)."""
        out = agentlog_cli([command, "--limit", value], data_dir)
        assert out.returncode == 2 and "must be >= 1" in out.stderr

    def test_show_unknown_session_is_one_line_error(self, data_dir: Path) -> None:
        """`agentlog show` with an unknown id exits 1 with one line on stderr."""
        out = agentlog_cli(["show", "nope"], data_dir)
        assert out.returncode == 1
        assert out.stderr.strip() == "agentlog show: no session matches 'nope'"
