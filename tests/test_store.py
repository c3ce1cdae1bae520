"""The record store: atomic appends, rotation, caps, tolerant reading."""

from __future__ import annotations

import ast
import enum
import json
import stat
import sys
from pathlib import Path

import pytest
from support import child_env, read_records, run_python

from agentlog.core.config import Config
from agentlog.store import SCHEMA_VERSION, append, compactjson, iter_records, make_record
from agentlog.store.paths import record_files
from agentlog.store.writer import fit


@pytest.fixture
def config(data_dir) -> Config:
    return Config(dir=str(data_dir))


class TestAppend:
    def test_envelope_and_modes(self, config, data_dir):
        """Records carry the envelope; the dir is 0700 and files 0600."""
        assert append(make_record("note", text="hello"), config)
        [record] = read_records(data_dir)
        assert record["sv"] == SCHEMA_VERSION and record["k"] == "note" and record["text"] == "hello"
        assert {"sid", "pid", "tid", "th", "ts"} <= record.keys()
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE((data_dir / "records.jsonl").stat().st_mode) == 0o600

    def test_secrets_scrubbed_on_write(self, config, data_dir):
        """The writer redacts secret shapes in any string as a last line of defence."""
        token = "ghp_" + "B" * 36
        append(make_record("note", text=f"using {token}", nested={"password": "pw-value-1"}), config)
        raw = (data_dir / "records.jsonl").read_text()
        assert token not in raw and "pw-value-1" not in raw
        assert "[REDACTED:github_token]" in raw

    def test_unwritable_returns_false(self, tmp_path, capsys):
        """A data dir that cannot exist makes append return False after a warning, never raise."""
        blocker = tmp_path / "file"
        blocker.write_text("x")
        assert append(make_record("note"), Config(dir=str(blocker / "sub"))) is False


class _Color(enum.IntEnum):
    RED = 1


class _Ratio(float):
    def __repr__(self) -> str:
        return "ratio"


class _Odd:
    def __str__(self) -> str:
        return "odd\u2028object"


CIRCULAR: list[object] = []
CIRCULAR.append(CIRCULAR)
JSON_CASES = [
    {"sv": 1, "k": "session_start", "argv": ["-c", "a b"], "git": None, "ok": True, "no": False},
    {"text": "é ü 漢字 \U0001f600 \ud800 \x00\x1f\x7f \\ \" \n\t\r\b\f \u2028"},
    {"f": [0.1, 1e300, -0.0, 1.5e-10, float("nan"), float("inf"), -float("inf"), _Ratio(2.5)]},
    {"i": [0, -1, 2**100, _Color.RED, True]},
    {7: "int key", 2.5: "float key", False: "bool key", None: "none key"},
    {"t": (1, (2, [3, {"d": {}}])), "empty": [], "s": ""},
    {"default": [_Odd(), Path("/tmp/x"), b"bytes", frozenset({3})]},
    "a bare string", 12, None, [],
]  # fmt: skip


class TestCompactJson:
    @pytest.mark.parametrize("value", JSON_CASES, ids=range(len(JSON_CASES)))
    def test_same_text_as_json_dumps(self, value):
        """The writer's encoder writes exactly what json.dumps(compact, ensure_ascii=False, default=str) does."""
        expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
        assert compactjson.dumps(value) == expected
        assert compactjson._json_dumps(value) == expected  # the fallback

    @pytest.mark.parametrize(("value", "error"), [(CIRCULAR, ValueError), ({(1, 2): "tuple key"}, TypeError)])
    def test_same_errors_as_json_dumps(self, value, error):
        """A circular value or a key JSON cannot hold raises what json.dumps raises."""
        with pytest.raises(error):
            json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
        with pytest.raises(error):
            compactjson.dumps(value)

    def test_a_failed_encoding_leaves_no_trace(self):
        """After a circular value failed, the same objects encode fine (no stale circular markers)."""
        inner = {"x": 1}
        with pytest.raises(ValueError):
            compactjson.dumps([inner, CIRCULAR])
        assert compactjson.dumps([inner, inner]) == '[{"x":1},{"x":1}]'

    def test_c_encoder_in_use(self):
        """On CPython the C encoder does the work, without importing json (which imports re)."""
        code = ("import sys; from agentlog.store import compactjson; compactjson.dumps({'a': [1]})\n"
                "print(compactjson._c_encode is not None, 'json' in sys.modules, 're' in sys.modules)")  # fmt: skip
        result = run_python(["-c", code], Path.cwd(), child_env())
        assert result.stdout.split() == ["True", "False", "False"], result.stderr


class TestThreadName:
    def test_main_thread_without_threading(self, tmp_path):
        """The main thread is "MainThread" in a record, and on 3.13+ threading is not imported for it."""
        code = ("import sys; from agentlog.store import make_record; r = make_record('x')\n"
                "print(r['th'], 'threading' in sys.modules)")  # fmt: skip
        result = run_python(["-c", code], tmp_path, child_env())
        assert result.stdout.split() == ["MainThread", str(sys.version_info < (3, 13))], result.stderr

    def test_renamed_main_thread_and_other_threads(self, tmp_path):
        """Threads keep their names: a renamed main thread, a worker, a thread started with _thread."""
        code = (
            "import _thread, sys, time, threading\n"
            "from agentlog.store import make_record\n"
            "threading.current_thread().name = 'boss'\n"
            "out = [make_record('x')['th']]\n"
            "t = threading.Thread(target=lambda: out.append(make_record('x')['th']), name='worker-7')\n"
            "t.start(); t.join()\n"
            "_thread.start_new_thread(lambda: out.append(make_record('x')['th']), ())\n"
            "while len(out) < 3: time.sleep(0.01)\n"
            "print(out)\n"
        )
        result = run_python(["-c", code], tmp_path, child_env())
        names = ast.literal_eval(result.stdout)
        assert names[:2] == ["boss", "worker-7"] and names[2].startswith("Dummy-"), result.stderr


class TestFit:
    def test_small_record_unchanged(self):
        """A record under the cap is encoded as is, one line."""
        line = fit({"sv": 1, "k": "x", "a": "b"}, 1000)
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        assert json.loads(line) == {"sv": 1, "k": "x", "a": "b"}

    def test_oversized_record_drops_largest_fields(self):
        """Over the cap, the largest fields go first and are listed under "cut"."""
        record = {"sv": 1, "k": "x", "big": "y" * 5000, "mid": "z" * 500, "small": 1}
        decoded = json.loads(fit(record, 1000))
        assert decoded["cut"] == ["big"]
        assert decoded["mid"] == "z" * 500 and decoded["small"] == 1


class TestRotation:
    def test_rotates_at_file_cap_and_prunes_at_dir_cap(self, config, data_dir):
        """Files rotate past max_file_bytes; the oldest rotated files go past max_dir_bytes."""
        small = config._replace(max_file_bytes=2000, max_dir_bytes=6000)
        for i in range(200):
            append(make_record("note", i=i, pad="p" * 100), small)
        files = record_files(data_dir)
        assert len(files) > 2
        total = sum(p.stat().st_size for p in files if p.name != "records.jsonl")
        assert total <= 6000
        numbers = [r["i"] for r in iter_records(data_dir)]
        assert numbers == sorted(numbers)
        assert numbers[-1] == 199
        assert numbers[0] > 0  # the oldest were pruned


class TestReader:
    def test_skips_corrupt_lines_and_newer_schema(self, config, data_dir, capsys):
        """Torn lines and records of a future schema are skipped; good records survive."""
        append(make_record("note", n=1), config)
        with open(data_dir / "records.jsonl", "ab") as fh:
            fh.write(b'{"sv":1,"k":"note","n":\n')
            fh.write(b"\x00\xff garbage\n")
            fh.write(json.dumps({"sv": SCHEMA_VERSION + 1, "k": "note", "n": 99}).encode() + b"\n")
        append(make_record("note", n=2), config)
        assert [r["n"] for r in iter_records(data_dir, kinds=["note"])] == [1, 2]
        assert "skipped 2 corrupt line(s)" in capsys.readouterr().err
        assert (data_dir / "records.jsonl").read_bytes().count(b"\n") == 5  # nothing deleted

    def test_missing_dir_yields_nothing(self, tmp_path):
        """Reading a data dir that does not exist is not an error."""
        assert list(iter_records(tmp_path / "absent")) == []


class TestConcurrentWriters:
    def test_processes_and_threads_never_interleave(self, tmp_path, data_dir):
        """Four processes with four threads each append 250 records: every line intact, none lost."""
        script = tmp_path / "writer.py"
        script.write_text(
            "import sys, threading\n"
            "from agentlog.store import append, make_record\n"
            "def work(t):\n"
            "    for i in range(250):\n"
            "        append(make_record('note', w=sys.argv[1], t=t, i=i, pad='q' * (i * 7 % 900)))\n"
            "ts = [threading.Thread(target=work, args=(t,)) for t in range(4)]\n"
            "[t.start() for t in ts]; [t.join() for t in ts]\n"
        )
        import subprocess
        import sys

        env = child_env(data_dir)
        procs = [subprocess.Popen([sys.executable, str(script), str(w)], env=env) for w in range(4)]
        assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
        records = read_records(data_dir, "note")
        assert len(records) == 4 * 4 * 250
        keys = {(r["w"], r["t"], r["i"]) for r in records}
        assert len(keys) == 4000


class TestDoctor:
    def test_doctor_reports_engine_and_bounds(self, tmp_path, data_dir):
        """``agentlog doctor`` names the engine, the mode, the ring size and the data dir."""
        out = run_python(["-m", "agentlog", "doctor"], tmp_path, child_env(data_dir, AGENTLOG_TRACE="crash"))
        assert out.returncode == 0
        import importlib.util

        compiled = importlib.util.find_spec("agentlog._tracer") is not None
        expected = "engine: c (compiled extension)" if compiled else "engine: python ("
        assert expected in out.stdout
        assert "mode: crash (from AGENTLOG_TRACE)" in out.stdout
        assert "ring size: up to 65536 entries per thread, 67108864 B for all threads" in out.stdout
        assert str(data_dir) in out.stdout
        assert not data_dir.exists()  # doctor looks, it does not create

    def test_doctor_forced_python_engine(self, tmp_path, data_dir):
        """AGENTLOG_ENGINE=python is reported as the reason for the pure-Python engine."""
        out = run_python(["-m", "agentlog", "doctor"], tmp_path, child_env(data_dir, AGENTLOG_ENGINE="python"))
        assert "engine: python (AGENTLOG_ENGINE=python)" in out.stdout


class TestRecentFiles:
    def test_newest_files_within_budget(self, config, data_dir):
        """max_bytes reads only the newest files that fit, always at least the newest one."""
        small = config._replace(max_file_bytes=1000, max_dir_bytes=10**9)
        for i in range(60):
            append(make_record("note", i=i, pad="p" * 100), small)
        everything = [r["i"] for r in iter_records(data_dir)]
        recent = [r["i"] for r in iter_records(data_dir, max_bytes=2500)]
        assert everything == list(range(60))
        assert recent == everything[-len(recent):] and 0 < len(recent) < 40
        assert [r["i"] for r in iter_records(data_dir, max_bytes=1)][-1] == 59


class TestTornWrites:
    def test_record_after_torn_tail_survives(self, config, data_dir):
        """After a torn last line (no newline), the next record is still readable."""
        append(make_record("note", n=1), config)
        with open(data_dir / "records.jsonl", "ab") as fh:
            fh.write(b'{"sv":1,"k":"note","n":')  # a write cut short by a full disk
        append(make_record("note", n=2), config)
        assert [r["n"] for r in iter_records(data_dir, kinds=["note"])] == [1, 2]

    def test_write_failure_warns_once_and_returns_false(self, config, monkeypatch, capsys):
        """A failing write (disk full) is one loud warning, a False return, and no exception."""
        import errno
        import os

        from agentlog.core import selflog
        from agentlog.store import writer

        def full(fd, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "write", full)
        monkeypatch.setattr(selflog, "_warned", set())
        monkeypatch.setattr(writer, "_ready_dirs", set())
        assert append(make_record("note"), config) is False
        assert append(make_record("note"), config) is False
        err = capsys.readouterr().err
        assert err.count("agentlog: warning [write-failed]") == 1 and "No space left on device" in err


class TestClear:
    @pytest.mark.parametrize(
        "plant",
        [
            lambda d: (d / "snapshots").mkdir() or (d / "snapshots" / "notes.txt").write_text("mine"),
            lambda d: (d / "records_backup_mine.jsonl").write_text("mine"),
            lambda d: (d / "records.jsonl").mkdir() or (d / "records.jsonl" / "mydata.txt").write_text("mine"),
        ],
    )
    def test_refuses_foreign_files(self, config, data_dir, tmp_path, plant):
        """clear deletes nothing when the data dir holds anything AgentLog would not have written."""
        append(make_record("note"), config._replace(dir=str(tmp_path / "other")))
        data_dir.mkdir()
        plant(data_dir)
        before = sorted(str(p) for p in data_dir.rglob("*"))
        result = run_python(["-m", "agentlog", "clear"], tmp_path, child_env(data_dir))
        assert result.returncode == 1
        assert result.stderr.count("\n") == 1 and "did not write" in result.stderr
        assert sorted(str(p) for p in data_dir.rglob("*")) == before

    def test_clears_own_files(self, config, data_dir, tmp_path):
        """Records, rotated files, errors.log and snapshots are AgentLog's: clear removes them."""
        small = config._replace(max_file_bytes=300)
        for i in range(10):
            append(make_record("note", i=i, pad="x" * 100), small)
        (data_dir / "errors.log").write_text("x")
        env = child_env(data_dir)
        assert run_python(["-m", "agentlog", "snapshot", str(tmp_path)], tmp_path, env).returncode == 0
        result = run_python(["-m", "agentlog", "clear"], tmp_path, env)
        assert result.returncode == 0, result.stderr
        assert not data_dir.exists()

    def test_symlinked_data_dir_refused(self, data_dir, tmp_path):
        """A data dir that is a symlink is not deleted through."""
        real = tmp_path / "real"
        real.mkdir()
        data_dir.symlink_to(real)
        result = run_python(["-m", "agentlog", "clear"], tmp_path, child_env(data_dir))
        assert result.returncode == 1 and "symbolic link" in result.stderr
        assert real.exists()

    def test_data_dir_is_a_file(self, data_dir, tmp_path):
        """Read commands on a data dir that is a file: one error line, exit 1."""
        data_dir.write_text("x")
        for command in ("context", "list", "clear", "sessions"):
            result = run_python(["-m", "agentlog", command], tmp_path, child_env(data_dir))
            assert result.returncode == 1, command
            assert result.stderr.strip().splitlines() == [
                f"agentlog {command}: error: the data dir is not a directory: {data_dir}"
            ]


def test_tiny_dir_cap_keeps_newest_records(config, data_dir):
    """Even a data dir cap smaller than one file keeps the newest rotated file and the active one."""
    tiny = config._replace(max_file_bytes=1, max_dir_bytes=1)
    for i in range(5):
        append(make_record("note", i=i), tiny)
    assert [r["i"] for r in iter_records(data_dir)][-1] == 4
    assert len(record_files(data_dir)) <= 2
