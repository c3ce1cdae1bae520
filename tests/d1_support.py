"""A real local D1 for the tests: miniflare (tests/d1, installed by ./run test) and a fault-injecting proxy.

The launcher runs in its own process group (miniflare's workerd child is orphaned if only
node is killed), so teardown signals the whole group.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from http_support import RecordingServer

D1_DIR = Path(__file__).parent / "d1"
TOKEN = "d1-test-token-9f8e7d6c5b4a"
ACCOUNT = "test-account"
DATABASE = "test-database"
START_TIMEOUT_S = 60


def skip_reason() -> str | None:
    if shutil.which("node") is None:
        return "the D1 tests need node (>= 20) and npm: install them, then ./run test installs miniflare"
    if not (D1_DIR / "node_modules" / "miniflare").is_dir():
        return "miniflare is not installed: run ./run test (it runs npm ci in tests/d1), or npm ci --prefix tests/d1"
    return None


def _read_url(proc: subprocess.Popen[str]) -> str:
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(START_TIMEOUT_S):
        raise RuntimeError(f"miniflare did not start within {START_TIMEOUT_S} s")
    line = proc.stdout.readline().strip()
    if not line.startswith("http://"):
        raise RuntimeError(f"miniflare did not start: {line!r} {proc.stderr.read() if proc.poll() is not None else ''}")
    return line


def stop_group(proc: subprocess.Popen[str]) -> None:
    """SIGTERM the launcher's process group (workerd included), SIGKILL if it lingers."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 5  # workerd outlives node by ~1.5 s
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session", name="miniflare")
def miniflare_fixture() -> Iterator[str]:
    """The base URL of a running miniflare serving tests/d1/worker.mjs."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    proc = subprocess.Popen(["node", str(D1_DIR / "launch.mjs")], cwd=D1_DIR, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "D1_TOKEN": TOKEN}, start_new_session=True)
    try:
        yield _read_url(proc)
    finally:
        stop_group(proc)


class D1Proxy(RecordingServer):
    """Forwards every request to miniflare unchanged, keeping it, unless a fault answers instead."""

    def __init__(self, upstream: str) -> None:
        super().__init__()
        self.upstream = upstream

    def respond(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        keep = {k: v for k, v in headers.items() if k in ("authorization", "content-type")}
        request = urllib.request.Request(self.upstream + path, data=body, headers=keep, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return reply.status, {"Content-Type": "application/json"}, reply.read()
        except urllib.error.HTTPError as exc:
            return exc.code, {"Content-Type": "application/json"}, exc.read()

    @property
    def api_url(self) -> str:
        return f"{self.url}/client/v4"


def d1_env(proxy: D1Proxy, token: str = TOKEN) -> dict[str, str]:
    """The environment ``agentlog sync/share/pull`` read their D1 settings from."""
    return {"CLOUDFLARE_ACCOUNT_ID": ACCOUNT, "CLOUDFLARE_API_TOKEN": token,
            "AGENTLOG_D1_DATABASE_ID": DATABASE, "AGENTLOG_D1_API_URL": proxy.api_url}


@pytest.fixture(name="d1")
def d1_fixture(miniflare: str) -> Iterator[D1Proxy]:
    """A proxy in front of miniflare, the database emptied of AgentLog's tables first."""
    from agentlog.integrations.d1_client import D1Client, D1Settings

    with D1Proxy(miniflare) as proxy:
        client = D1Client(D1Settings(ACCOUNT, DATABASE, TOKEN, proxy.api_url))
        client.batch([(f"DROP TABLE IF EXISTS {t}", []) for t in ("agentlog_records", "agentlog_shares",
                                                                  "agentlog_meta")])
        proxy.seen.clear()
        yield proxy
