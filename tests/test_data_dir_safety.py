"""The data dir is the user's alone: nothing planted in it is followed, appended to or blocks a reader."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from support import both, child_env, read_records, run_python

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions, symlinks and FIFOs")

FAILING = "token = 'x'\nraise ValueError('boom')\n"
VICTIM_TEXT = "victim's own text\n"


def _symlink_to_victim(path: Path, victim: Path) -> None:
    path.symlink_to(victim)


def _hardlink_to_victim(path: Path, victim: Path) -> None:
    os.link(victim, path)


def _fifo(path: Path, victim: Path) -> None:
    os.mkfifo(path)


def _directory(path: Path, victim: Path) -> None:
    path.mkdir()


PLANTS = {"symlink": _symlink_to_victim, "hardlink": _hardlink_to_victim, "fifo": _fifo, "dir": _directory}
PLANTED_NAMES = ("records.jsonl", "errors.log")


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_text(VICTIM_TEXT)
    path.chmod(0o600)
    return path


def _launch(tmp_path: Path, data_dir: Path) -> tuple:
    (tmp_path / "prog.py").write_text(FAILING)
    return both(["prog.py"], tmp_path, data_dir)


class TestPlantedFiles:
    @pytest.mark.parametrize("name", PLANTED_NAMES)
    @pytest.mark.parametrize("plant", sorted(PLANTS))
    def test_never_written_through(self, tmp_path, data_dir, victim, plant, name):
        """A symlink, hard link, FIFO or directory planted as a data-dir file: the program runs as under
        python, the victim is untouched, and nothing hangs."""
        data_dir.mkdir(mode=0o700)
        PLANTS[plant](data_dir / name, victim)
        plain, traced = _launch(tmp_path, data_dir)
        assert (traced.returncode, traced.stdout) == (plain.returncode, plain.stdout) == (1, "")
        assert victim.read_text() == VICTIM_TEXT
        if name == "records.jsonl":
            assert "agentlog: warning [data-dir-unwritable]" in traced.stderr
            assert "nothing will be recorded" in traced.stderr
        else:  # errors.log is refused silently; the records still land
            assert [r["exc"]["m"] for r in read_records(data_dir, "failure")] == ["boom"]

    def test_symlinked_data_dir_is_refused(self, tmp_path, victim):
        """A data dir that is a symlink is not followed: nothing lands in its target."""
        target = tmp_path / "elsewhere"
        target.mkdir(mode=0o700)
        link = tmp_path / ".agentlog"
        link.symlink_to(target)
        plain, traced = _launch(tmp_path, link)
        assert (traced.returncode, traced.stdout) == (plain.returncode, plain.stdout)
        assert "is a symlink; AgentLog does not follow it" in traced.stderr
        assert list(target.iterdir()) == []

    @pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
    def test_other_users_record_file_is_refused(self, tmp_path, data_dir):
        """A record file owned by another user is never appended to."""
        data_dir.mkdir(mode=0o700)
        active = data_dir / "records.jsonl"
        active.write_text("")
        active.chmod(0o600)
        os.chown(active, 65534, 65534)
        _plain, traced = _launch(tmp_path, data_dir)
        assert "belongs to another user" in traced.stderr
        assert active.read_text() == ""


class TestPermissions:
    def test_loose_dir_and_file_are_tightened(self, tmp_path, data_dir):
        """A data dir with 0777 and a record file with 0666 are tightened to 0700/0600 and still used."""
        data_dir.mkdir()
        data_dir.chmod(0o777)
        (data_dir / "records.jsonl").write_text("")
        (data_dir / "records.jsonl").chmod(0o666)
        plain, traced = _launch(tmp_path, data_dir)
        assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE((data_dir / "records.jsonl").stat().st_mode) == 0o600
        assert [r["exc"]["m"] for r in read_records(data_dir, "failure")] == ["boom"]
        assert "warning [data-dir-permissions]" in (data_dir / "errors.log").read_text()

    def test_new_files_are_private(self, tmp_path, data_dir):
        """Under a permissive umask, what AgentLog creates is still 0700/0600."""
        (tmp_path / "prog.py").write_text(f"import os\nos.umask(0)\n{FAILING}")
        run_python(["-m", "agentlog", "prog.py"], tmp_path, child_env(data_dir))
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        files = [p for p in data_dir.iterdir() if p.is_file()]
        assert files and {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o600}


class TestReadersNeverBlock:
    @pytest.mark.parametrize("command", [["context"], ["list"], ["sessions"], ["tokens"]])
    @pytest.mark.parametrize("name", ["records.jsonl", "records.00000000000000000001-1.jsonl"])
    def test_fifo_named_like_a_record_file(self, tmp_path, data_dir, command, name):
        """A FIFO where a record file would be is skipped; real records are still read."""
        (tmp_path / "prog.py").write_text(FAILING)
        env = child_env(data_dir)
        run_python(["-m", "agentlog", "prog.py"], tmp_path, env)
        if name == "records.jsonl":
            os.replace(data_dir / name, data_dir / "records.00000000000000000002-1.jsonl")
        os.mkfifo(data_dir / name)
        result = run_python(["-m", "agentlog", *command], tmp_path, env)
        assert result.returncode == 0, result.stderr
        if command == ["context"]:
            assert "ValueError: boom" in result.stdout

    def test_symlinked_record_file_is_not_read(self, tmp_path, data_dir):
        """A rotated-looking symlink to a file outside the data dir is not read into the context."""
        outside = tmp_path / "outside.jsonl"
        (tmp_path / "prog.py").write_text(FAILING)
        env = child_env(data_dir)
        run_python(["-m", "agentlog", "prog.py"], tmp_path, env)
        (data_dir / "records.jsonl").rename(outside)
        (data_dir / "records.jsonl").symlink_to(outside)
        result = run_python(["-m", "agentlog", "list"], tmp_path, env)
        assert result.returncode == 0 and "boom" not in result.stdout

    def test_fifo_in_workspace_and_snapshot_folder(self, tmp_path, data_dir):
        """``snapshot`` skips a FIFO in the workspace (and a .gitignore FIFO) and records the rest."""
        work = tmp_path / "work"
        work.mkdir()
        (work / "a.py").write_text("x = 1\n")
        os.mkfifo(work / "pipe")
        os.mkfifo(work / ".gitignore")
        env = child_env(data_dir)
        for _ in range(2):  # the second run reads the first one's table back
            result = run_python(["-m", "agentlog", "snapshot", str(work)], tmp_path, env)
            assert result.returncode == 0, result.stderr
        (record, second) = read_records(data_dir, "snapshot")
        assert record["n"] == 1 and second["prev"] == record["snap"]
