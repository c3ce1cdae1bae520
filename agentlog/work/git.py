"""Git state of the working tree, captured with hard bounds on time and output.

All git commands run in parallel, with ``--no-optional-locks`` (no index
refresh that could wait on a lock), no pager, no prompts, and a shared
deadline. Bound: :func:`capture_git_state` returns within ``timeout_s`` plus
the few milliseconds needed to kill and reap the git processes still running;
parts that did not finish are listed under ``"late"``. Each command's output
is capped at ``MAX_OUTPUT_BYTES``, so a huge diff or status costs no memory.
"""

from __future__ import annotations

import os
import time

from agentlog.core.projectdir import working_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

MAX_DIFF_LINES = 50
MAX_DIFF_LINE_CHARS = 300
MAX_FILES = 50
MAX_OUTPUT_BYTES = 256 * 1024
MAX_SUBJECT_CHARS = 200
REUSE_S = 10.0  # recent_git_state: a crash loop spawns git once per this many seconds
MAX_RECENT_DIRS = 16
# Environment variables that point git at a repository from outside the tree.
_GIT_LOCATION_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR")
_recent: dict[str, tuple[float, dict[str, Any] | None]] = {}
_GIT = (
    "git",
    "--no-optional-locks",
    "--no-pager",
    "-c",
    "core.quotepath=off",
    "-c",
    "color.ui=never",
)
_COMMANDS: dict[str, tuple[str, ...]] = {
    "root": ("rev-parse", "--show-toplevel"),
    "branch": ("symbolic-ref", "--short", "-q", "HEAD"),
    "head": ("log", "-1", "--no-show-signature", "--format=%H%n%s"),
    "status": ("status", "--porcelain=v1", "-z"),
    "diff": ("diff", "HEAD", "--no-color", "--no-ext-diff", "--no-textconv"),
}


def _run_parallel(cwd: str, deadline: float) -> tuple[dict[str, tuple[int, bytes]], list[str]]:
    """Run every command at once; (exit code, capped stdout) per finished one, and the late ones."""
    import selectors
    import subprocess

    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, args in _COMMANDS.items():
            procs[name] = subprocess.Popen(
                [*_GIT, *args],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        chunks: dict[str, list[bytes]] = {name: [] for name in procs}
        sizes = dict.fromkeys(procs, 0)
        with selectors.DefaultSelector() as sel:
            for name, proc in procs.items():
                sel.register(proc.stdout, selectors.EVENT_READ, name)  # type: ignore[arg-type]
            while sel.get_map() and (left := deadline - time.monotonic()) > 0:
                for key, _ in sel.select(left):
                    name = key.data
                    data = os.read(key.fd, 65536)
                    if data and sizes[name] < MAX_OUTPUT_BYTES:
                        chunks[name].append(data)
                        sizes[name] += len(data)
                    if not data or sizes[name] >= MAX_OUTPUT_BYTES:
                        sel.unregister(key.fileobj)
                        if data:
                            procs[name].kill()  # enough output; stop the work
        results: dict[str, tuple[int, bytes]] = {}
        late: list[str] = []
        for name, proc in procs.items():
            try:
                code = proc.wait(max(0.0, deadline - time.monotonic()))
                results[name] = (
                    code if sizes[name] < MAX_OUTPUT_BYTES else 0,
                    b"".join(chunks[name]),
                )
            except subprocess.TimeoutExpired:
                late.append(name)
        return results, late
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _status_files(data: bytes) -> list[str]:
    """Porcelain -z entries as ``"XY path"``; renames keep only the new path."""
    files: list[str] = []
    entries = iter(data.split(b"\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        code = _text(entry[:2]).strip() or "?"
        files.append(f"{code} {_text(entry[3:])}")
        if entry[:1] in (b"R", b"C"):
            next(entries, None)  # the rename source follows as its own entry
    return files


def _data_dir_prefix(root: str) -> str | None:
    """AgentLog's data dir relative to the repository root (``/``-separated), if inside it."""
    from agentlog.core.config import get_config

    try:
        data_dir = os.path.realpath(get_config().data_dir)
        rel = os.path.relpath(data_dir, os.path.realpath(root))
    except (OSError, ValueError):
        return None
    if rel == os.curdir or rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return None
    return rel.replace(os.sep, "/")


def _holds_only(root: str, folder: str, prefix: str) -> bool:
    """Whether the untracked ``folder`` holds nothing but the path down to ``prefix``.

    Git reports an untracked directory as one ``?? dir/`` entry; when the data dir
    is all it holds, the entry is no change of the user's. (An ignored file beside
    the data dir makes it count as a change.)
    """
    parts = prefix[len(folder) :].split("/")
    here = os.path.join(root, folder)
    try:
        for part in parts:
            if [entry.name for entry in os.scandir(here)] != [part]:
                return False
            here = os.path.join(here, part)
    except OSError:
        return False
    return True


def _without_data_dir(files: list[str], root: str, prefix: str | None) -> list[str]:
    """``files`` without the entries inside AgentLog's own data dir (our records are no change)."""
    if not prefix:
        return files
    kept = []
    for entry in files:
        code, _, path = entry.partition(" ")  # "<code> <path>"; codes hold no space
        if path.rstrip("/") == prefix or path.startswith(prefix + "/"):
            continue
        if code == "??" and path.endswith("/") and prefix.startswith(path) and _holds_only(root, path, prefix):
            continue
        kept.append(entry)
    return kept


def _diff_lines(data: bytes) -> list[str]:
    """The first lines of a diff, redacted together (a key's body lines too), then cut."""
    from agentlog.core.redact import REDACT_SLACK_CHARS, redact_lines

    window = MAX_DIFF_LINE_CHARS + REDACT_SLACK_CHARS
    lines = [line[:window] for line in _text(data).splitlines()[:MAX_DIFF_LINES]]
    return [line[:MAX_DIFF_LINE_CHARS] for line in redact_lines(lines)]


def capture_git_state(cwd: str | Path | None = None, timeout_s: float = 1.0) -> dict[str, Any] | None:
    """Repo root, branch, HEAD, dirty flag, changed files and diff head; None outside a repo.

    Paths inside AgentLog's data dir are left out of the changed files (and ``dirty``).

    Never raises; returns None without a git binary or when git answers nothing
    in time. See the module docstring for the time bound.
    """
    deadline = time.monotonic() + timeout_s
    try:
        folder = os.path.abspath(cwd or working_dir())
        if not _maybe_in_repo(folder):
            return None
        results, late = _run_parallel(folder, deadline)
    except (OSError, ValueError):
        return None  # no git binary, or cwd gone
    code, out = results.get("root", (1, b""))
    if code != 0:
        return None
    from agentlog.core.redact import redact_cut

    state: dict[str, Any] = {"root": _text(out).strip()}
    code, out = results.get("branch", (1, b""))
    state["branch"] = _text(out).strip() if code == 0 else None  # None: detached or late
    code, out = results.get("head", (1, b""))
    if code == 0 and out:
        sha, _, subject = _text(out).partition("\n")
        state["sha"] = sha.strip()
        state["subject"] = redact_cut(subject.strip(), MAX_SUBJECT_CHARS)
    if "status" in results:
        root = state["root"]
        files = _without_data_dir(_status_files(results["status"][1]), root, _data_dir_prefix(root))
        state["dirty"] = bool(files)
        state["nfiles"] = len(files)
        state["files"] = files[:MAX_FILES]
    if results.get("diff", (1, b""))[0] == 0:
        state["diff"] = _diff_lines(results["diff"][1])
    if late:
        state["late"] = late
    return state


def _maybe_in_repo(folder: str) -> bool:
    """False only if git cannot find a work tree from ``folder``: no ``.git`` in it or above it.

    Saves the git processes (several milliseconds) outside any repository.
    """
    return bool(any(os.environ.get(name) for name in _GIT_LOCATION_ENV) or _work_tree_root(folder))


def _work_tree_root(folder: str) -> str | None:
    """The nearest folder at or above ``folder`` holding a ``.git`` entry."""
    while True:
        if os.path.lexists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(MAX_OUTPUT_BYTES)
    except OSError:
        return None


def _ref_sha(git_dir: str, ref: str) -> str | None:
    """``ref``'s commit from the loose ref file or ``packed-refs`` (of the main repository for a worktree)."""
    common = (_read(os.path.join(git_dir, "commondir")) or "").strip()
    for folder in (git_dir, os.path.join(git_dir, common)) if common else (git_dir,):
        loose = (_read(os.path.join(folder, ref)) or "").strip()
        if loose:
            return loose
        for line in (_read(os.path.join(folder, "packed-refs")) or "").splitlines():
            sha, _, name = line.partition(" ")
            if name == ref:
                return sha
    return None


def head_state(cwd: str | Path | None = None) -> dict[str, Any] | None:
    """Repo root, branch and HEAD read from ``.git``'s files: no git process, a fraction of a millisecond.

    For the session start record of a process that recorded nothing else (written
    at exit). None outside a repository, with GIT_DIR and the like set, or when the
    files do not say (another ref storage, an unborn branch): then use
    :func:`capture_git_state`.
    """
    if any(os.environ.get(name) for name in _GIT_LOCATION_ENV):
        return None
    root = _work_tree_root(os.path.abspath(cwd or working_dir()))
    if root is None:
        return None
    git_dir = os.path.join(root, ".git")
    if os.path.isfile(git_dir):  # a worktree or submodule: "gitdir: <path>"
        pointer = (_read(git_dir) or "").strip()
        if not pointer.startswith("gitdir:"):
            return None
        git_dir = os.path.join(root, pointer.removeprefix("gitdir:").strip())
    head = (_read(os.path.join(git_dir, "HEAD")) or "").strip()
    if head.startswith("ref: "):
        ref = head.removeprefix("ref: ")
        sha, branch = _ref_sha(git_dir, ref), ref.removeprefix("refs/heads/")
    else:
        sha, branch = head, None
    if not sha or len(sha) not in (40, 64) or any(c not in "0123456789abcdef" for c in sha):
        return None
    return {"root": root, "branch": branch, "sha": sha, "head_only": True}


def recent_git_state(cwd: str | Path | None = None, timeout_s: float = 1.0) -> dict[str, Any] | None:
    """:func:`capture_git_state`, reused for ``REUSE_S`` per directory (session start and failures share it)."""
    key = os.path.abspath(cwd or working_dir())
    now = time.monotonic()
    cached = _recent.get(key)
    if cached is None or now - cached[0] > REUSE_S:
        if len(_recent) >= MAX_RECENT_DIRS:
            _recent.clear()
        cached = _recent[key] = (now, capture_git_state(key, timeout_s=timeout_s))
    return cached[1]
