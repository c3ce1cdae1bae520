"""Integrity and bounds through real processes: one record per failure, every line under the cap."""

from __future__ import annotations

from collections import Counter

import pytest
from support import child_env, read_records, run_python

from agentlog.store.records import MAX_ENVELOPE_CHARS, bound_envelope

MANY_THREADS = """
import threading
N = {n}
barrier = threading.Barrier(N)
def work(i):
    barrier.wait()
    raise ValueError(f"thread {{i}}")
threads = [threading.Thread(target=work, args=(i,), name=f"w{{i}}") for i in range(N)]
for t in threads: t.start()
for t in threads: t.join()
"""


class TestOneFailureOneRecord:
    @pytest.mark.parametrize("hook", ["default", "replaced"])
    def test_many_threads_failing_at_once(self, tmp_path, data_dir, hook):
        """150 threads raising together: exactly one record per thread, under either threading.excepthook.

        In a git repository, so each record takes long enough (git state) for the threads to overlap.
        """
        import subprocess

        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
        n = 150
        prefix = "import threading\nthreading.excepthook = lambda args: None\n" if hook == "replaced" else ""
        (tmp_path / "prog.py").write_text(prefix + MANY_THREADS.format(n=n))
        result = run_python(["-m", "agentlog", "prog.py"], tmp_path, child_env(data_dir))
        assert result.returncode == 0, result.stderr
        messages = Counter(r["exc"]["m"] for r in read_records(data_dir, "failure"))
        assert messages == Counter({f"thread {i}": 1 for i in range(n)})


class TestEnvelopeBounds:
    @pytest.mark.parametrize(
        ("record", "changed"),
        [
            ({"k": "x", "sid": "s", "th": "MainThread"}, False),
            ({"k": "x", "sid": "s" * MAX_ENVELOPE_CHARS, "th": "t"}, False),
            ({"k": "x", "sid": "s" * (MAX_ENVELOPE_CHARS + 1), "th": "t"}, True),
            ({"k": "x", "sid": "s", "th": "t" * 200_000}, True),
            ({"k": "k" * 1000, "sid": "s", "th": "t"}, True),
            ({"k": "x", "sid": None, "th": 7}, False),
        ],
    )
    def test_bound_envelope(self, record, changed):
        """Only overlong envelope strings are cut, to exactly MAX_ENVELOPE_CHARS, ending in an ellipsis."""
        bounded = bound_envelope(record)
        assert (bounded is not record) == changed
        for key in ("k", "sid", "th"):
            value = bounded[key]
            if isinstance(value, str):
                assert len(value) <= MAX_ENVELOPE_CHARS
                assert value == record[key] or (value.endswith("…") and record[key].startswith(value[:-1]))

    def test_huge_thread_name_and_session_id(self, tmp_path, data_dir):
        """A 200 KB thread name and a 100 KB AGENTLOG_SESSION: every line stays under 64 KB, one session id."""
        (tmp_path / "prog.py").write_text(
            "import threading\n"
            "def boom():\n    raise KeyError('k')\n"
            "t = threading.Thread(target=boom, name='n' * 200_000)\nt.start(); t.join()\n"
            "raise ValueError('main')\n"
        )
        env = child_env(data_dir, AGENTLOG_SESSION="s" * 100_000)
        result = run_python(["-m", "agentlog", "prog.py"], tmp_path, env)
        assert result.returncode == 1
        lines = [p.read_bytes().splitlines() for p in data_dir.glob("records*.jsonl")]
        assert max(len(line) for chunk in lines for line in chunk) < 64 * 1024
        records = read_records(data_dir)
        assert sorted(r["exc"]["t"] for r in records if r["k"] == "failure") == ["KeyError", "ValueError"]
        assert len({r["sid"] for r in records}) == 1
        assert all(len(r["th"]) <= MAX_ENVELOPE_CHARS and "cut" not in r for r in records)


# The command's own peak resident memory (VmHWM belongs to the new image, unlike ru_maxrss,
# which a child inherits from the test process that forked it).
PEAK_PROBE = """
import atexit, re, sys
def peak():
    status = open("/proc/self/status").read()
    sys.stderr.write("peak_kb=" + re.search(r"VmHWM:\\s+(\\d+)", status).group(1) + "\\n")
atexit.register(peak)
from agentlog.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _peak_mb(argv: list[str], cwd, env) -> tuple[int, float]:
    """(exit status, peak resident MB) of ``agentlog argv``."""
    import re

    result = run_python(["-c", PEAK_PROBE, *argv], cwd, env)
    return result.returncode, int(re.search(r"peak_kb=(\d+)", result.stderr).group(1)) / 1024


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/status"), reason="needs Linux /proc")
class TestStreamingReaders:
    def test_tokens_and_show_memory_is_bounded(self, tmp_path, data_dir):
        """``tokens`` and ``show`` on 80 MB of records stay far below what parsing it all would take."""
        import json

        data_dir.mkdir(mode=0o700)
        sid = "65000000-big"
        blob = "x" * 20_000
        with (data_dir / "records.jsonl").open("w") as fh:
            fh.write(json.dumps({"sv": 1, "k": "session_start", "sid": sid, "pid": 1, "tid": 1, "th": "M",
                                 "ts": 1_700_000_000, "argv": ["a"], "cwd": "/"}) + "\n")
            for i in range(4000):
                fh.write(json.dumps({"sv": 1, "k": "failure", "sid": sid, "pid": 1, "tid": 1, "th": "M",
                                     "ts": 1_700_000_001 + i, "id": f"{i:012x}",
                                     "exc": {"t": "E", "m": blob, "frames": []}}) + "\n")
            fh.write(json.dumps({"sv": 1, "k": "llm", "sid": sid, "pid": 1, "tid": 1, "th": "M",
                                 "ts": 1_700_009_000, "model": "m", "in": 5, "out": 7}) + "\n")
        (data_dir / "records.jsonl").chmod(0o600)
        env = child_env(data_dir)
        for argv in (["tokens"], ["tokens", "--session", "6500"], ["show", "6500"]):
            rc, peak = _peak_mb(argv, tmp_path, env)
            assert rc == 0, argv
            assert peak < 50, (argv, peak)  # measured: 15 MB streamed, 98 MB when the store was listed whole
