"""Workspace snapshots: ignore rules, hashing, comparison, speed, and the snapshot/diff commands."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from support import read_records
from test_session_support import agentlog_cli, isolate

from agentlog.work import workspace
from agentlog.work.workspace import compare_snapshots, is_ignored, parse_ignore_lines, snapshot_workspace


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Path:
    return isolate(monkeypatch, data_dir)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    for rel, text in {
        "src/a.py": "a", "src/b.py": "b", "README.md": "r", ".gitignore": "*.log\n/out/\n!keep.log\n",
        "x.log": "l", "keep.log": "k", "out/gen.txt": "g", "sub/out/kept.txt": "s",
        "node_modules/m.js": "m", "src/__pycache__/a.cpython-313.pyc": "c", ".git/HEAD": "h",
    }.items():  # fmt: skip
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


class TestIgnoreRules:
    def test_gitignore_semantics(self) -> None:
        """Unanchored, anchored, directory-only, ** and negated patterns behave as in git."""
        rules = parse_ignore_lines(["*.log", "!keep.log", "/build/", "docs/**/*.tmp", "# c", "", "cache/"])
        assert is_ignored(rules, "a/b/x.log", "x.log", False)
        assert not is_ignored(rules, "keep.log", "keep.log", False)
        assert is_ignored(rules, "build", "build", True) and not is_ignored(rules, "src/build", "build", True)
        assert is_ignored(rules, "docs/a/b/c.tmp", "c.tmp", False) and is_ignored(rules, "docs/c.tmp", "c.tmp", False)
        assert is_ignored(rules, "x/cache", "cache", True) and not is_ignored(rules, "x/cache", "cache", False)

    def test_nested_gitignore_is_relative_to_its_directory(self) -> None:
        """An anchored pattern in sub/.gitignore matches only below sub."""
        rules = parse_ignore_lines(["/gen"], base="sub")
        assert is_ignored(rules, "sub/gen", "gen", False) and not is_ignored(rules, "gen", "gen", False)


class TestSnapshot:
    def test_skips_ignored_files(self, store: Path, tree: Path) -> None:
        """Default ignores and .gitignore rules keep files out of the table."""
        snap = snapshot_workspace(tree)
        assert sorted(snap.files) == [".gitignore", "README.md", "keep.log", "src/a.py", "src/b.py", "sub/out/kept.txt"]

    def test_compare_finds_added_removed_modified(self, store: Path, tree: Path) -> None:
        """compare_snapshots reports added, removed and content-modified paths."""
        first = snapshot_workspace(tree)
        (tree / "src/a.py").write_text("changed")
        (tree / "README.md").unlink()
        (tree / "src/c.py").write_text("new")
        os.utime(tree / "src/b.py")  # touched, same content: not modified
        second = snapshot_workspace(tree)
        assert compare_snapshots(first, second) == {
            "added": ["src/c.py"],
            "removed": ["README.md"],
            "modified": ["src/a.py"],
        }
        assert compare_snapshots(first.id, "latest") == compare_snapshots(first, second)

    def test_reuses_hashes_of_unchanged_files(self, store: Path, tree: Path) -> None:
        """A second snapshot reads only files whose size or mtime changed."""
        snapshot_workspace(tree)
        time.sleep(0.01)
        (tree / "src/a.py").write_text("longer content")
        second = snapshot_workspace(tree)
        assert second.stats["hashed"] == 1 and second.stats["modified"] == 1

    def test_record_points_to_stored_table(self, store: Path, tree: Path) -> None:
        """The snapshot record is small and names the file holding the table."""
        snap = snapshot_workspace(tree, ignore=["*.md"])
        (record,) = read_records(store, "snapshot")
        assert record["snap"] == snap.id and record["n"] == len(snap.files) == 5
        assert (store / record["file"]).is_file() and "files" not in record

    def test_load_by_reference(self, store: Path, tree: Path) -> None:
        """Snapshots load by id prefix and latest~N; unknown references raise LookupError."""
        a, b = snapshot_workspace(tree), snapshot_workspace(tree)
        assert workspace.load_snapshot("latest~1").id == a.id and workspace.load_snapshot(b.id[:-1]).id == b.id
        with pytest.raises(LookupError):
            workspace.load_snapshot("latest~5")

    def test_ten_thousand_files_warm_under_a_second(self, store: Path, tmp_path: Path) -> None:
        """A warm snapshot of 10,000 files (100 folders) takes well under a second."""
        root = tmp_path / "big"
        for d in range(100):
            folder = root / f"pkg{d}"
            folder.mkdir(parents=True)
            for f in range(100):
                (folder / f"m{f}.py").write_text(f"value = {d * 100 + f}\n")
        cold = snapshot_workspace(root)
        start = time.perf_counter()
        warm = snapshot_workspace(root)
        elapsed = time.perf_counter() - start
        assert len(warm.files) == 10_000 and warm.stats["hashed"] == 0 and cold.stats["hashed"] == 10_000
        assert elapsed < 1.0, f"warm snapshot took {elapsed:.3f}s"


class TestSnapshotCli:
    def test_snapshot_then_diff(self, data_dir: Path, tree: Path) -> None:
        """`agentlog snapshot` twice and `agentlog diff` list the change."""
        first = agentlog_cli(["snapshot", str(tree)], data_dir)
        assert first.returncode == 0, first.stderr
        assert first.stdout.startswith("snapshot ") and "files=6" in first.stdout
        (tree / "src/a.py").write_text("edited")
        (tree / "src/new.py").write_text("n")
        second = agentlog_cli(["snapshot", str(tree)], data_dir)
        assert "added=1 removed=0 modified=1" in second.stdout
        diff = agentlog_cli(["diff"], data_dir)
        assert diff.returncode == 0, diff.stderr
        assert diff.stdout.splitlines()[1:] == ["A src/new.py", "M src/a.py"]
        old_id = first.stdout.split()[1]
        assert agentlog_cli(["diff", old_id, "latest"], data_dir).stdout == diff.stdout

    def test_diff_unknown_snapshot(self, data_dir: Path, tree: Path) -> None:
        """`agentlog diff` with an unknown id exits 1 with a one-line error."""
        for _ in range(2):
            assert agentlog_cli(["snapshot", str(tree)], data_dir).returncode == 0
        out = agentlog_cli(["diff", "nope", "latest"], data_dir)
        assert out.returncode == 1 and out.stderr.count("\n") == 1 and "nope" in out.stderr

    @pytest.mark.parametrize("stored", [0, 1])
    def test_diff_needs_two_snapshots(self, data_dir: Path, tree: Path, stored: int) -> None:
        """Fewer than two snapshots: a one-line hint to snapshot first, exit 1, nothing created."""
        for _ in range(stored):
            agentlog_cli(["snapshot", str(tree)], data_dir)
        out = agentlog_cli(["diff"], data_dir)
        assert out.returncode == 1 and out.stdout == ""
        assert out.stderr == (
            f"agentlog diff: error: need two snapshots to compare ({stored} stored); run `agentlog snapshot` first\n"
        )
        assert stored or not data_dir.exists()

    def test_diff_of_different_roots_warns(self, data_dir: Path, tree: Path, tmp_path: Path) -> None:
        """Comparing snapshots of two directories works but warns on stderr first."""
        other = tmp_path / "other"
        other.mkdir()
        (other / "x.txt").write_text("x")
        agentlog_cli(["snapshot", str(tree)], data_dir)
        agentlog_cli(["snapshot", str(other)], data_dir)
        out = agentlog_cli(["diff"], data_dir)
        assert out.returncode == 0 and out.stdout.startswith("diff ")
        assert out.stderr.count("\n") == 1 and "warning" in out.stderr
        assert str(tree) in out.stderr and str(other) in out.stderr

    @pytest.mark.parametrize(("kind", "reason"), [("missing", "does not exist"), ("file", "is not a directory")])
    def test_snapshot_of_non_directory_fails(self, data_dir: Path, tmp_path: Path, kind: str, reason: str) -> None:
        """`agentlog snapshot` of a missing path or a file: one-line error, exit 1, nothing stored."""
        target = tmp_path / "target"
        if kind == "file":
            target.write_text("not a directory")
        out = agentlog_cli(["snapshot", str(target)], data_dir)
        assert (out.returncode, out.stdout) == (1, "")
        assert out.stderr == f"agentlog snapshot: error: {target} {reason}\n"
        assert read_records(data_dir, "snapshot") == [] and workspace.snapshot_ids(data_dir) == []

    def test_snapshot_workspace_raises_for_a_file(self, store: Path, tmp_path: Path) -> None:
        """The API raises rather than storing an empty table."""
        (tmp_path / "f").write_text("")
        with pytest.raises(NotADirectoryError):
            snapshot_workspace(tmp_path / "f")
        with pytest.raises(FileNotFoundError):
            snapshot_workspace(tmp_path / "nope")


class TestSnapshotCap:
    def test_oldest_tables_pruned(self, store: Path, tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Only the newest MAX_SNAPSHOTS file tables are kept; the newest still loads as latest."""
        monkeypatch.setattr(workspace, "MAX_SNAPSHOTS", 3)
        snaps = [snapshot_workspace(tree) for _ in range(5)]
        assert workspace.snapshot_ids() == [s.id for s in snaps[-3:]]
        assert workspace.load_snapshot("latest").id == snaps[-1].id
