"""Tool output isolation: what a step or a command printed, recorded bounded and redacted.

``capture_output`` swaps ``sys.stdout``/``sys.stderr`` for routers that send
each write to the captures of the writing thread (innermost first), so other
threads' output is neither stolen nor mixed in. Only Python-level writes to
``sys.stdout``/``sys.stderr`` are seen; a subprocess writes to the file
descriptors directly (use :func:`run_command` for commands). The routers are
removed when the last capture ends, unless someone replaced them meanwhile.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import time
from types import TracebackType
from typing import IO, Any, TextIO

from agentlog.core.projectdir import working_dir

OUTPUT = "output"
EXEC = "exec"
HEAD_CHARS = 2000
TAIL_CHARS = 6000
# Extra text kept around a cut so a secret straddling it is still recognised and redacted
# (agentlog.core.redact.REDACT_SLACK_CHARS: the longest secret seen whole across a cut).
REDACT_MARGIN = 4096
READ_CHUNK = 65536


def _join_clipped(head: str, tail: str, cut: int) -> str:
    from agentlog.core.redact import redact_cut, redact_text

    head = redact_cut(head, HEAD_CHARS)
    tail = redact_text(tail)[-TAIL_CHARS:] if tail else ""
    return f"{head}\n...[{cut} chars cut]...\n{tail}"


def clip_text(text: str) -> str:
    """``text`` redacted; past HEAD_CHARS + TAIL_CHARS, its head and tail around a cut marker."""
    from agentlog.core.redact import redact_text

    if len(text) <= HEAD_CHARS + TAIL_CHARS:
        return redact_text(text)
    keep_head, keep_tail = HEAD_CHARS + REDACT_MARGIN, TAIL_CHARS + REDACT_MARGIN
    return _join_clipped(text[:keep_head], text[-keep_tail:], len(text) - HEAD_CHARS - TAIL_CHARS)


# --- capture_output -------------------------------------------------------------------------------

_lock = threading.Lock()
_by_thread: dict[int, list[CapturedOutput]] = {}
_active = 0


class _StreamRouter:
    """Stands in for sys.stdout or sys.stderr; sends each write to the writing thread's captures."""

    def __init__(self, original: TextIO | None, which: str) -> None:
        self.original = original
        self.which = which

    def write(self, text: str) -> int:
        for capture in reversed(_by_thread.get(threading.get_ident(), ())):
            capture.buffers[self.which].write(text)
            if not capture.passthrough:
                return len(text)
        return self.original.write(text) if self.original is not None else len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self.original is not None:
            self.original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


def _install() -> None:
    for which in ("stdout", "stderr"):
        if not isinstance(getattr(sys, which), _StreamRouter):
            setattr(sys, which, _StreamRouter(getattr(sys, which), which))


def _uninstall() -> None:
    for which in ("stdout", "stderr"):
        stream = getattr(sys, which)
        if isinstance(stream, _StreamRouter):
            setattr(sys, which, stream.original)


class CapturedOutput:
    """One ``capture_output`` block; ``.stdout`` and ``.stderr`` hold its full text."""

    def __init__(self, name: str, passthrough: bool = True, record: bool = True) -> None:
        self.name = name
        self.passthrough = passthrough
        self.record = record
        self.buffers: dict[str, io.StringIO] = {"stdout": io.StringIO(), "stderr": io.StringIO()}
        self.duration: float | None = None
        self._start = 0.0

    @property
    def stdout(self) -> str:
        return self.buffers["stdout"].getvalue()

    @property
    def stderr(self) -> str:
        return self.buffers["stderr"].getvalue()

    def __enter__(self) -> CapturedOutput:
        global _active
        with _lock:
            if _active == 0:
                _install()
            _active += 1
            _by_thread.setdefault(threading.get_ident(), []).append(self)
        self._start = time.monotonic()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _active
        self.duration = time.monotonic() - self._start
        with _lock:
            stack = _by_thread.get(threading.get_ident(), [])
            if self in stack:
                stack.remove(self)
            if not stack:
                _by_thread.pop(threading.get_ident(), None)
            _active -= 1
            if _active == 0:
                _uninstall()
        if self.record:
            self._write_record(exc)

    def _write_record(self, exc: BaseException | None) -> None:
        from agentlog.store import append, make_record

        out, err = self.stdout, self.stderr
        fields: dict[str, Any] = {
            "name": self.name,
            "dur": round(self.duration or 0.0, 4),
            "out": clip_text(out),
            "err": clip_text(err),
            "lo": len(out),
            "le": len(err),
        }
        if exc is not None:
            fields["exc"] = clip_text(f"{type(exc).__name__}: {exc}")[:HEAD_CHARS]
        append(make_record(OUTPUT, **fields))


def capture_output(name: str = "output", passthrough: bool = True, record: bool = True) -> CapturedOutput:
    """Capture this thread's stdout and stderr inside a ``with`` block; record them when it ends.

    ``passthrough=False`` keeps the text from reaching the real streams.
    The ``output`` record holds bounded, redacted text and ``exc`` if the block raised.
    """
    return CapturedOutput(name, passthrough, record)


# --- exec -----------------------------------------------------------------------------------------


class HeadTail:
    """The first and last bytes of a stream (``head_bytes``, ``tail_bytes``, each plus a
    redaction margin), and how many bytes passed (thread-safe)."""

    def __init__(self, head_bytes: int = HEAD_CHARS, tail_bytes: int = TAIL_CHARS) -> None:
        self.keep_head = head_bytes + REDACT_MARGIN
        self.keep_tail = tail_bytes + REDACT_MARGIN
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.frozen = False  # set when the recorder stops waiting; later bytes pass through unrecorded
        self.lock = threading.Lock()

    def add(self, chunk: bytes) -> None:
        with self.lock:
            if self.frozen:
                return
            self.total += len(chunk)
            room = self.keep_head - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            self.tail += chunk
            del self.tail[: max(0, len(self.tail) - self.keep_tail)]

    def freeze(self) -> None:
        with self.lock:
            self.frozen = True

    def text(self) -> str:
        with self.lock:
            head, tail, total = bytes(self.head), bytes(self.tail), self.total
        if total <= HEAD_CHARS + TAIL_CHARS:
            return clip_text((head + tail).decode("utf-8", "replace"))
        return _join_clipped(
            head.decode("utf-8", "replace"), tail.decode("utf-8", "replace"), total - HEAD_CHARS - TAIL_CHARS
        )


def _pump(source: IO[bytes], dest: TextIO | None, keep: HeadTail) -> None:
    """Copy a pipe to ``dest`` as it arrives, keeping its head and tail; close the pipe at EOF.

    The pump closes the pipe itself: a pump still reading when the recorder stops
    waiting (a grandchild holds the pipe open) must not have its descriptor closed
    under it and reused.
    """
    try:
        fd = source.fileno()
        binary = getattr(dest, "buffer", None)
        while chunk := os.read(fd, READ_CHUNK):
            keep.add(chunk)
            try:
                if binary is not None:
                    binary.write(chunk)
                    binary.flush()
                elif dest is not None:
                    dest.write(chunk.decode("utf-8", "replace"))
                    dest.flush()
            except (OSError, ValueError):
                dest = binary = None  # the reader went away; keep draining the pipe
    except OSError:
        pass
    finally:
        source.close()


def _record_exec(argv: list[str], rc: int, started: float, out: str, err: str, total: tuple[int, int]) -> None:
    from agentlog.core.redact import redact_argv
    from agentlog.store import append, make_record

    append(
        make_record(
            EXEC,
            cmd=redact_argv(argv),
            cwd=working_dir(),
            rc=rc,
            dur=round(time.monotonic() - started, 4),
            out=out,
            err=err,
            lo=total[0],
            le=total[1],
        )
    )


# After the command exits, how long to wait for its output pipes to close. A background
# grandchild (``sh -c 'sleep 60 & echo hi'``) keeps them open; its later output is not recorded.
PIPE_GRACE_S = 0.2
# SIGINT reaching only ``agentlog exec`` (``kill -INT``, not a terminal's Ctrl-C, which reaches
# the whole process group) is forwarded if the command is still running this long after it.
SIGINT_FORWARD_DELAY_S = 0.5
_FORWARDED = ("SIGTERM", "SIGHUP")


def _launch_error(argv: list[str], exc: OSError) -> tuple[int, str]:
    """Shell-style exit code and a one-line reason for a command that could not start."""
    name = argv[0]
    if isinstance(exc, FileNotFoundError) and not (os.sep in name and os.path.lexists(name)):
        return 127, f"command not found: {name}"
    why = exc.strerror or type(exc).__name__
    if isinstance(exc, FileNotFoundError):  # the file exists: its #! interpreter does not
        why += " (bad interpreter?)"
    return 126, f"cannot run {name}: {why}"


class _SignalForwarder:
    """While a command runs: forward SIGTERM and SIGHUP to it, and a lone SIGINT after a delay.

    Handlers are installed only in the main thread and only for signals not
    ignored (``nohup`` stays in force); the previous handlers come back on exit.
    They go in before the command starts: a signal arriving while it starts is
    forwarded once :meth:`attach` names the command.
    """

    def __init__(self) -> None:
        self.proc: Any = None
        self.received: list[int] = []
        self.saved: dict[int, Any] = {}
        self.timer: threading.Timer | None = None

    def attach(self, proc: Any) -> None:
        """The command to forward to; signals that came before it are forwarded now."""
        self.proc = proc
        early, self.received = self.received, []
        for signum in early:
            self._on_signal(signum, None)

    def _send(self, signum: int) -> None:
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(OSError):  # already gone
                os.kill(self.proc.pid, signum)

    def _on_signal(self, signum: int, frame: Any) -> None:
        import signal

        self.received.append(signum)
        if self.proc is None:
            return  # not started yet: attach() forwards it
        if signum != signal.SIGINT:
            self._send(signum)
        elif self.timer is None:
            # A terminal's Ctrl-C reached the command too; only a SIGINT sent to us alone
            # leaves it running, and then it gets one after the delay.
            self.timer = threading.Timer(SIGINT_FORWARD_DELAY_S, self._forward_sigint)
            self.timer.daemon = True
            self.timer.start()

    def _forward_sigint(self) -> None:
        import signal

        self.timer = None
        self._send(signal.SIGINT)

    def __enter__(self) -> _SignalForwarder:
        import signal

        if threading.current_thread() is not threading.main_thread():
            return self
        for name in (*_FORWARDED, "SIGINT"):
            signum = getattr(signal, name, None)
            if signum is None:
                continue
            previous = signal.getsignal(signum)
            if previous is signal.SIG_IGN:
                continue
            try:
                signal.signal(signum, self._on_signal)
            except (OSError, ValueError):
                continue
            self.saved[signum] = previous
        return self

    def __exit__(self, *exc_info: object) -> None:
        import signal

        if self.timer is not None:
            self.timer.cancel()
        for signum, previous in self.saved.items():
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)

    def exit_signal(self) -> int | None:
        """The SIGTERM or SIGHUP that ended our wait, if one came: we exit 128 + it."""
        import signal

        terminating = {getattr(signal, name) for name in _FORWARDED if hasattr(signal, name)}
        return next((s for s in self.received if s in terminating), None)


def _terminal_for(stream: TextIO) -> tuple[int, int] | None:
    """(master, slave) of a new pty shaped like ``stream``'s terminal, or None if it is not one.

    The command writes to the slave, so it sees a terminal (colours, progress bars,
    its width); we read the master, pass it through and record it. The slave does
    not turn "\n" into "\r\n", so the record holds what the command wrote.
    """
    try:
        if os.name != "posix" or not stream.isatty():
            return None
        import fcntl
        import pty
        import termios

        master, slave = pty.openpty()
    except (OSError, ValueError, AttributeError, ImportError):
        return None
    try:
        size = fcntl.ioctl(stream.fileno(), termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(slave, termios.TIOCSWINSZ, size)
        attrs = termios.tcgetattr(slave)
        attrs[1] &= ~termios.ONLCR
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
    except (OSError, termios.error):
        pass  # a default-sized terminal is still a terminal
    return master, slave


def _output_ends() -> tuple[list[Any], list[IO[bytes] | None], list[int]]:
    """(what the command writes to, what we read, slaves to close once it started), stdout then stderr."""
    import subprocess

    targets: list[Any] = []
    readers: list[IO[bytes] | None] = []
    slaves: list[int] = []
    for stream in (sys.stdout, sys.stderr):
        pair = _terminal_for(stream) if stream is not None else None
        if pair is None:
            targets.append(subprocess.PIPE)
            readers.append(None)  # the Popen pipe
        else:
            master, slave = pair
            targets.append(slave)
            readers.append(os.fdopen(master, "rb", buffering=0))
            slaves.append(slave)
    return targets, readers, slaves


def run_command(argv: list[str]) -> int:
    """Run a command, streaming its output through; record it; return a shell-style exit code.

    127 if the command is not found, 126 if it cannot be run, 128+N if signal N killed it.
    SIGTERM and SIGHUP sent to this process are forwarded to the command, which is then
    recorded as usual; the return value is 128+N for them. A SIGINT sent to this process
    alone is forwarded after ``SIGINT_FORWARD_DELAY_S`` if the command is still running.
    Output still arriving ``PIPE_GRACE_S`` after the command exited (from a background
    process it left behind) is passed through while this process lives, but not recorded.
    Where our stdout or stderr is a terminal, the command's is a pty of the same size
    (``_terminal_for``), so it prints as it would without AgentLog.
    """
    import subprocess

    started = time.monotonic()
    targets, readers, slaves = _output_ends()
    with _SignalForwarder() as forwarder:
        try:
            proc = subprocess.Popen(argv, stdout=targets[0], stderr=targets[1])
        except OSError as exc:
            for reader in readers:
                if reader is not None:
                    reader.close()
            rc, why = _launch_error(argv, exc)
            _record_exec(argv, rc, started, "", f"agentlog exec: error: {why}", (0, 0))
            print(f"agentlog exec: error: {why}", file=sys.stderr)
            return rc
        finally:
            for slave in slaves:  # the command holds them now; at its exit the masters read EOF
                os.close(slave)
        keeps = (HeadTail(), HeadTail())
        sources = [reader or pipe for reader, pipe in zip(readers, (proc.stdout, proc.stderr), strict=True)]
        pumps = [
            threading.Thread(target=_pump, args=(source, dest, keep), daemon=True)
            for source, dest, keep in zip(sources, (sys.stdout, sys.stderr), keeps, strict=True)
        ]
        for pump in pumps:
            pump.start()
        forwarder.attach(proc)
        try:
            rc = proc.wait()
        except KeyboardInterrupt:  # handlers not ours (not the main thread): the child got it too
            rc = proc.wait()
    deadline = time.monotonic() + PIPE_GRACE_S
    for pump in pumps:
        pump.join(max(0.0, deadline - time.monotonic()))
    for keep in keeps:
        keep.freeze()
    _record_exec(argv, rc, started, keeps[0].text(), keeps[1].text(), (keeps[0].total, keeps[1].total))
    signum = forwarder.exit_signal()
    if signum is not None:
        return 128 + signum
    return rc if rc >= 0 else 128 - rc
