"""Real projects with injected bugs: the pinned sdists, the one-line edits, the failing tests.

``realprojects/projects.toml`` pins each project's sdist (version, sha256, url);
``realprojects/bugs.toml`` lists the bugs: one edited line in one file of a project, the
test that then fails, and the decisive values (label = regex) a context must hold for the
reader to see the bug. The sdists are fetched with pip (hash-checked), cached outside the
checkout (``<sys.prefix>/agentlog-bench-cache``: ``.venv`` under ``./run``) and unpacked
into temporary directories; no third-party code is committed.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import harness

HERE = Path(__file__).resolve().parent / "realprojects"
DEFAULT_CACHE = Path(sys.prefix) / "agentlog-bench-cache"
FETCH_TIMEOUT_S = 600


@dataclass(frozen=True)
class Project:
    """One pinned sdist."""

    name: str
    version: str
    sha256: str
    url: str
    pytest_args: tuple[str, ...]

    @property
    def archive(self) -> str:
        """The sdist's file name, as the pinned url ends."""
        return self.url.rsplit("/", 1)[1]


@dataclass(frozen=True)
class Bug:
    """One injected bug: the line ``old`` of ``file`` becomes ``new`` (indentation kept).

    With ``after``, the edited line is the first ``old`` below the one line ``after``.
    """

    name: str
    project: str
    kind: str
    file: str
    old: str
    new: str
    test: str
    bug_in: str
    fails_in: str
    decisive: dict[str, str]
    direct: bool
    after: str = ""


def load_projects(folder: Path = HERE) -> dict[str, Project]:
    """The pinned projects by name."""
    raw = tomllib.loads((folder / "projects.toml").read_text(encoding="utf-8"))["projects"]
    return {n: Project(n, p["version"], p["sha256"], p["url"], tuple(p["pytest_args"])) for n, p in raw.items()}


def load_bugs(folder: Path = HERE) -> list[Bug]:
    """The bugs in file order; BenchError when one names no pinned project or repeats a name."""
    projects = load_projects(folder)
    bugs = [Bug(**{**b, "decisive": dict(b["decisive"])}) for b in
            tomllib.loads((folder / "bugs.toml").read_text(encoding="utf-8"))["bug"]]  # fmt: skip
    names = [b.name for b in bugs]
    unknown = sorted({b.project for b in bugs} - set(projects))
    if unknown or len(set(names)) != len(names):
        raise harness.BenchError(f"bugs.toml: unknown projects {unknown} or repeated bug names")
    return bugs


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cached(project: Project, cache: Path = DEFAULT_CACHE) -> Path | None:
    """The cached sdist when it is there with the pinned hash, else None."""
    path = cache / project.archive
    return path if path.is_file() and _sha256(path) == project.sha256 else None


def fetch(project: Project, cache: Path = DEFAULT_CACHE) -> Path:
    """The sdist, downloaded by pip into ``cache`` unless cached; BenchError when it cannot be had."""
    if found := cached(project, cache):
        return found
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ctxbench-pip-") as tmp:
        pinned = Path(tmp) / "requirements.txt"
        pinned.write_text(f"{project.name}=={project.version} --hash=sha256:{project.sha256}\n", encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                               "--require-hashes", "-r", str(pinned), "-d", tmp],
                              capture_output=True, text=True, timeout=FETCH_TIMEOUT_S)  # fmt: skip
        got = Path(tmp) / project.archive
        if done.returncode or not got.is_file() or _sha256(got) != project.sha256:
            why = (done.stderr.strip().splitlines() or ["no sdist with the pinned hash"])[-1]
            raise harness.BenchError(f"cannot fetch {project.archive} ({why})")
        got.replace(cache / project.archive)
    return cache / project.archive


def unpack(archive: Path, dest: Path) -> Path:
    """The sdist's top folder, extracted under ``dest`` (tarfile's ``data`` filter: no links out, no devices)."""
    with tarfile.open(archive) as tar:
        tops = {Path(m.name).parts[0] for m in tar.getmembers()}
        if len(tops) != 1:
            raise harness.BenchError(f"{archive.name}: expected one top folder, found {sorted(tops)}")
        tar.extractall(dest, filter="data")
    return dest / tops.pop()


def apply(bug: Bug, root: Path) -> None:
    """Edit the bug's line in the unpacked project; BenchError unless the line to edit is unambiguous."""
    path = root / bug.file
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = -1
    if bug.after:
        anchors = [i for i, line in enumerate(lines) if line.strip() == bug.after.strip()]
        if len(anchors) != 1:
            raise harness.BenchError(f"{bug.name}: {bug.file} has {len(anchors)} lines {bug.after.strip()!r}, not one")
        start = anchors[0]
    hits = [i for i, line in enumerate(lines) if i > start and line.strip() == bug.old.strip()]
    if not hits or (len(hits) > 1 and not bug.after):
        raise harness.BenchError(f"{bug.name}: {bug.file} has {len(hits)} lines {bug.old.strip()!r}, not one")
    line = lines[hits[0]]
    indent = line[: len(line) - len(line.lstrip())]
    lines[hits[0]] = indent + bug.new.strip() + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def pytest_args(bug: Bug, project: Project) -> list[str]:
    """The arguments after ``python`` that run the bug's failing test: ``-m pytest -x ... TEST``."""
    return ["-m", "pytest", "-x", "-p", "no:cacheprovider", *project.pytest_args, bug.test]
