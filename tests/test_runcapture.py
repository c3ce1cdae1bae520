"""``run_and_capture`` (the MCP tool behind ``--allow-run``): bounded output, nothing outlives it or the server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agentlog.integrations.runcapture import OUTPUT_HEAD_BYTES, OUTPUT_TAIL_BYTES, run_and_capture
from tests.support import child_env


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead; it only waits for a parent that may be gone.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def _wait_dead(pid: int, seconds: float = 10) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize(
    ("lines", "dropped"),
    [(5, False), (OUTPUT_TAIL_BYTES // 40, True), (2_000_000, True)],
    ids=["short", "over-the-token-budget", "flood-80MB"],
)
def test_output_is_head_and_tail_and_says_what_was_dropped(tmp_path: Path, lines: int, dropped: bool) -> None:
    (tmp_path / "flood.py").write_text(textwrap.dedent(f"""
        import sys
        print("FIRST LINE")
        for i in range({lines}):
            sys.stdout.write(f"line {{i}} " + "x" * 30 + "\\n")
        print("LAST LINE")
        raise SystemExit(3)
    """))
    text = run_and_capture("flood.py", tmp_path, tmp_path / "data", timeout_s=120, max_tokens=4000)
    assert "exit code 3" in text and "LAST LINE" in text
    assert ("bytes of output not shown" in text) is dropped, text[:500]
    if dropped:
        assert "FIRST LINE" in text  # the head is kept too
        assert len(text.encode()) < OUTPUT_HEAD_BYTES + OUTPUT_TAIL_BYTES + 4096
    assert not list(tmp_path.glob("**/output"))


def test_what_a_run_leaves_running_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "daemon.pid"
    (tmp_path / "spawn.py").write_text(textwrap.dedent(f"""
        import subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        print("spawned")
    """))
    start = time.monotonic()
    text = run_and_capture("spawn.py", tmp_path, tmp_path / "data", timeout_s=60)
    assert "exit code 0" in text and "spawned" in text
    assert time.monotonic() - start < 30  # not held open by the daemon's inherited pipe
    assert _wait_dead(int(pid_file.read_text()))


@pytest.mark.parametrize("how", ["exit", "sigterm", "sigkill"])
def test_a_run_dies_with_the_server(tmp_path: Path, how: str) -> None:
    """However the process serving the tool ends, the program it was running ends too."""
    pid_file = tmp_path / "program.pid"
    (tmp_path / "slow.py").write_text(f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
                                      "time.sleep(300)\n")
    server = textwrap.dedent(f"""
        import threading, time, os, signal
        from pathlib import Path
        from agentlog.integrations.runcapture import run_and_capture
        threading.Thread(target=run_and_capture, args=("slow.py", Path({str(tmp_path)!r}),
                         Path({str(tmp_path / "data")!r}), 300), daemon=True).start()
        while not os.path.exists({str(pid_file)!r}):
            time.sleep(0.05)
        time.sleep(0.2)
        {"raise SystemExit(0)" if how == "exit" else "time.sleep(300)"}
    """)
    proc = subprocess.Popen([sys.executable, "-c", server], env=child_env())
    end = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < end and proc.poll() is None
        time.sleep(0.05)
    program = int(pid_file.read_text())
    if how != "exit":
        proc.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
    proc.wait(timeout=60)
    assert _wait_dead(program), f"the program outlived the server ({how})"


def test_a_run_dies_when_the_mcp_client_disconnects(tmp_path: Path) -> None:
    """A client that goes away mid-run (its stdio closed) leaves no program running."""
    import anyio
    from mcp import Client, StdioServerParameters

    pid_file = tmp_path / "program.pid"
    (tmp_path / "slow.py").write_text(f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
                                      "time.sleep(300)\n")
    params = StdioServerParameters(command=sys.executable, args=["-m", "agentlog", "mcp", "--allow-run"],
                                   env=child_env(tmp_path / "data"), cwd=str(tmp_path))

    async def body() -> None:
        async with Client(params, cache=None) as client, anyio.create_task_group() as group:
            group.start_soon(client.call_tool, "run_and_capture", {"command": "slow.py", "timeout_s": 300})
            while not pid_file.exists() or not pid_file.read_text():
                await anyio.sleep(0.05)
            group.cancel_scope.cancel()  # the client gives up and disconnects

    async def bounded() -> None:
        with anyio.fail_after(90):
            await body()

    anyio.run(bounded)
    assert _wait_dead(int(pid_file.read_text()), 30), "the program outlived its client's session"
