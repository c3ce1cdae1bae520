"""Tool output isolation: capture_output under threads, and `agentlog exec`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support import child_env, read_records
from test_session_support import agentlog_cli, isolate

from agentlog.core.redact import redact_argv
from agentlog.work.tools import HEAD_CHARS, TAIL_CHARS, capture_output, clip_text, run_command


def _start_exec(data_dir: Path, argv: list[str], new_group: bool = False) -> subprocess.Popen[bytes]:
    """``agentlog exec -- argv`` running in the background, with default signal dispositions.

    A shell's background job (``cmd &``, some CI runners) starts with SIGINT ignored,
    which the exec process and its command would inherit; the tests need it live.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "agentlog", "exec", "--", *argv],
        cwd=data_dir.parent, env=child_env(data_dir), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=new_group,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip


def _wait_for_pid(pidfile: Path, proc: subprocess.Popen[bytes]) -> int:
    """The command's pid, once it has written it (its signal handlers are then in place)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if pidfile.exists() and pidfile.read_text():
            return int(pidfile.read_text())
        time.sleep(0.02)
    raise AssertionError("the command did not start")


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie counts as gone), after at most 2 s."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return False
        except OSError:
            return False
        time.sleep(0.05)
    return True


SECRET = "ghp_" + "B" * 36


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Path:
    return isolate(monkeypatch, data_dir)


class TestCaptureOutput:
    def test_captures_and_passes_through(self, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """The block's output is captured, still reaches the real streams, and is recorded."""
        with capture_output("step") as out:
            print("to stdout")
            print("to stderr", file=sys.stderr)
        assert (out.stdout, out.stderr) == ("to stdout\n", "to stderr\n")
        assert capsys.readouterr() == ("to stdout\n", "to stderr\n")
        (record,) = read_records(store, "output")
        assert (record["name"], record["out"], record["err"], record["lo"]) == (
            "step",
            "to stdout\n",
            "to stderr\n",
            10,
        )

    def test_no_passthrough(self, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """passthrough=False keeps the text from the real streams."""
        with capture_output("quiet", passthrough=False) as out:
            print("hidden")
        assert out.stdout == "hidden\n" and capsys.readouterr().out == ""

    def test_streams_restored_after_last_capture(self, store: Path) -> None:
        """sys.stdout is the original object again once no capture is active."""
        before = sys.stdout
        with capture_output("a"), capture_output("b"):
            assert sys.stdout is not before
        assert sys.stdout is before

    def test_nested_captures_both_see_inner_output(self, store: Path) -> None:
        """Output inside a nested capture reaches the inner and the outer capture."""
        with capture_output("outer", passthrough=False) as outer:
            print("one")
            with capture_output("inner") as inner:
                print("two")
        assert (outer.stdout, inner.stdout) == ("one\ntwo\n", "two\n")

    def test_threads_do_not_steal_each_others_output(self, store: Path) -> None:
        """Concurrent captures in several threads each get exactly their own thread's lines."""
        results: dict[int, str] = {}
        barrier = threading.Barrier(4)

        def work(n: int) -> None:
            with capture_output(f"t{n}", passthrough=False, record=False) as out:
                barrier.wait()
                for i in range(200):
                    print(f"thread {n} line {i}")
            results[n] = out.stdout

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for n in range(4):
            assert results[n] == "".join(f"thread {n} line {i}\n" for i in range(200))

    def test_uncaptured_thread_output_is_not_taken(self, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A thread without a capture writes to the real stream while another thread captures."""
        with capture_output("main", passthrough=False) as out:
            t = threading.Thread(target=print, args=("from other thread",))
            t.start()
            t.join()
        assert out.stdout == "" and capsys.readouterr().out == "from other thread\n"

    def test_exception_and_secret_recorded(self, store: Path) -> None:
        """A raising block is recorded with its exception, and secrets in output are redacted."""
        with pytest.raises(RuntimeError), capture_output("failing", passthrough=False):
            print(f"token {SECRET}")
            raise RuntimeError("tool failed")
        (record,) = read_records(store, "output")
        assert record["exc"] == "RuntimeError: tool failed"
        assert SECRET not in record["out"] and "[REDACTED:github_token]" in record["out"]


class TestBounds:
    def test_clip_keeps_head_and_tail(self) -> None:
        """Long text keeps its head and tail around a marker giving the cut size."""
        text = "H" * HEAD_CHARS + "M" * 50_000 + "T" * TAIL_CHARS
        clipped = clip_text(text)
        assert clipped.startswith("H" * HEAD_CHARS + "\n...[50000 chars cut]...\n") and clipped.endswith(
            "T" * TAIL_CHARS
        )

    def test_redact_argv_hides_flag_values(self) -> None:
        """Values after secret-named flags and token-shaped arguments are redacted."""
        argv = ["deploy", "--password", "hunter2hunter2", "--api-key=abc", "-v", SECRET]
        assert redact_argv(argv) == [
            "deploy", "--password", "[REDACTED:name]", "--api-key=[REDACTED:name]", "-v", "[REDACTED:github_token]"
        ]  # fmt: skip


class TestExecCli:
    def test_passes_output_and_exit_code_and_records(self, data_dir: Path) -> None:
        """`agentlog exec` streams the command's output, returns its exit code, and records it."""
        code = "import sys; print('out line'); print('err line', file=sys.stderr); sys.exit(3)"
        done = agentlog_cli(["exec", "--", sys.executable, "-c", code], data_dir)
        assert (done.returncode, done.stdout, done.stderr) == (3, "out line\n", "err line\n")
        (record,) = read_records(data_dir, "exec")
        assert record["cmd"][1:] == ["-c", code] and record["rc"] == 3
        assert (record["out"], record["err"]) == ("out line\n", "err line\n") and record["dur"] > 0
        assert read_records(data_dir, "session_end")[0]["out"] == "exit 3"

    def test_large_output_recorded_bounded(self, data_dir: Path) -> None:
        """Output larger than the bound is passed through whole but recorded as head and tail."""
        code = "print('x' * 100000)"
        done = agentlog_cli(["exec", "--", sys.executable, "-c", code], data_dir)
        assert done.returncode == 0 and len(done.stdout) == 100001
        (record,) = read_records(data_dir, "exec")
        assert record["lo"] == 100001 and len(record["out"]) < HEAD_CHARS + TAIL_CHARS + 100
        assert "chars cut]" in record["out"]

    def test_missing_command(self, data_dir: Path) -> None:
        """A command that does not exist gives one error line and exit 127."""
        done = agentlog_cli(["exec", "--", "no-such-command-xyz"], data_dir)
        assert done.returncode == 127
        assert done.stderr == "agentlog exec: error: command not found: no-such-command-xyz\n"
        assert read_records(data_dir, "exec")[0]["rc"] == 127

    def test_not_runnable_is_one_clean_line(self, data_dir: Path, tmp_path: Path) -> None:
        """A file that is not executable: exit 126 and one line naming it once, no errno repr."""
        target = tmp_path / "data.txt"
        target.write_text("not a program\n")
        done = agentlog_cli(["exec", "--", str(target)], data_dir)
        assert done.returncode == 126
        assert done.stderr == f"agentlog exec: error: cannot run {target}: Permission denied\n"
        assert read_records(data_dir, "exec")[0]["rc"] == 126

    def test_background_grandchild_does_not_block(self, data_dir: Path) -> None:
        """A grandchild holding the output pipes open does not keep exec waiting."""
        start = time.monotonic()
        done = agentlog_cli(["exec", "--", "sh", "-c", "sleep 4 & echo done"], data_dir)
        elapsed = time.monotonic() - start
        assert done.returncode == 0 and done.stdout == "done\n"
        assert elapsed < 2.5, f"exec took {elapsed:.2f}s"
        (record,) = read_records(data_dir, "exec")
        assert record["rc"] == 0 and record["out"] == "done\n"
        assert read_records(data_dir, "session_end")[0]["out"] == "ok"

    @pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
    def test_terminating_signal_is_forwarded_and_recorded(self, data_dir: Path, tmp_path: Path, signame: str) -> None:
        """SIGTERM/SIGHUP to exec reach the command; exec records it, ends the session, exits 128+N."""
        signum = getattr(signal, signame)
        pidfile = tmp_path / "child.pid"
        code = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(30)"
        proc = _start_exec(data_dir, [sys.executable, "-c", code])
        child = _wait_for_pid(pidfile, proc)
        start = time.monotonic()
        proc.send_signal(signum)
        rc = proc.wait(timeout=10)
        assert rc == 128 + signum and time.monotonic() - start < 5
        assert not _alive(child)
        (record,) = read_records(data_dir, "exec")
        assert record["rc"] == -signum
        assert read_records(data_dir, "session_end")[0]["out"] == f"exit {128 + signum}"

    def test_lone_sigint_is_forwarded_after_a_delay(self, data_dir: Path, tmp_path: Path) -> None:
        """`kill -INT <exec>` (not a terminal Ctrl-C) reaches the command after the delay; no rc 0."""
        pidfile = tmp_path / "child.pid"
        code = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(30)"
        proc = _start_exec(data_dir, [sys.executable, "-c", code])
        child = _wait_for_pid(pidfile, proc)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130
        assert not _alive(child)
        assert read_records(data_dir, "exec")[0]["rc"] == -signal.SIGINT

    def test_group_sigint_is_not_delivered_twice(self, data_dir: Path, tmp_path: Path) -> None:
        """Ctrl-C (SIGINT to the process group) reaches the command once, not again from exec."""
        pidfile = tmp_path / "child.pid"
        code = (
            "import os, signal, sys, time\n"
            "hits = []\n"
            "signal.signal(signal.SIGINT, lambda *a: hits.append(1))\n"
            f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
            "while not hits: time.sleep(0.01)\n"
            "time.sleep(0.3)\n"
            "sys.exit(len(hits))\n"
        )
        proc = _start_exec(data_dir, [sys.executable, "-c", code], new_group=True)
        _wait_for_pid(pidfile, proc)
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=10) == 1  # the command saw one SIGINT
        assert read_records(data_dir, "exec")[0]["rc"] == 1

    def test_signal_handlers_restored(self, store: Path) -> None:
        """run_command leaves the process's signal handlers as it found them."""
        before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
        assert run_command(["true"]) == 0
        assert {s: signal.getsignal(s) for s in before} == before

    def test_joins_inherited_session(self, data_dir: Path) -> None:
        """Inside an inherited session, exec records under it and writes no session records."""
        agentlog_cli(["exec", "--", "true"], data_dir, AGENTLOG_SESSION="6b000000-outer")
        assert [(r["k"], r["sid"]) for r in read_records(data_dir)] == [("exec", "6b000000-outer")]


TERMINAL_PROBE = (
    "import os, sys\n"
    "size = os.get_terminal_size(1)\n"
    "print(sys.stdout.isatty(), sys.stderr.isatty(), size.columns, size.lines)\n"
    "print('\\x1b[31mred\\x1b[0m', file=sys.stderr)\n"
    "print('done')\n"
)


def _read_until_eof(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: every slave end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX ptys")
class TestExecUnderATerminal:
    def test_command_gets_a_terminal_and_is_recorded(self, data_dir: Path, tmp_path: Path) -> None:
        """Under a terminal the command's stdout and stderr are terminals of the same size; output still recorded."""
        import fcntl
        import pty
        import struct
        import termios

        ends = [pty.openpty() for _ in range(2)]
        for _master, slave in ends:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 31, 97, 0, 0))
        argv = [sys.executable, "-m", "agentlog", "exec", "--", sys.executable, "-c", TERMINAL_PROBE]
        proc = subprocess.Popen(argv, cwd=tmp_path, env=child_env(data_dir), stdin=subprocess.DEVNULL,
                                stdout=ends[0][1], stderr=ends[1][1])
        for _master, slave in ends:
            os.close(slave)
        out, err = (_read_until_eof(master) for master, _slave in ends)
        assert proc.wait(timeout=60) == 0
        assert out.replace(b"\r\n", b"\n") == b"True True 97 31\ndone\n"
        assert err.replace(b"\r\n", b"\n") == b"\x1b[31mred\x1b[0m\n"
        (record,) = read_records(data_dir, "exec")
        assert record["out"] == "True True 97 31\ndone\n"
        assert "red" in record["err"] and "\r" not in record["err"]

    def test_pipes_stay_pipes(self, data_dir: Path) -> None:
        """Without a terminal, the command gets pipes, as before."""
        code = "import sys; print(sys.stdout.isatty(), sys.stderr.isatty())"
        done = agentlog_cli(["exec", "--", sys.executable, "-c", code], data_dir)
        assert done.stdout == "False False\n"
