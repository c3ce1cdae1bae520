"""The pattern index: no lost counts under concurrent processes, rebuilt from records, the 'seen before' line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from support import child_env, read_records, run_python
from test_git import git

from agentlog.history.patterns import INDEX_FILE, LOG_FILE, load_patterns

WORKER = """
import sys
from pathlib import Path
from agentlog.history.patterns import append_occurrence, load_patterns

data_dir, worker, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for i in range(count):
    append_occurrence(data_dir, {"fp": "f" * 16, "id": f"{worker}-{i}", "ts": 1.0 + i, "sid": worker,
                                 "t": "ValueError", "m": "m", "fns": ["app:f"]})
    if i % 10 == 0:
        load_patterns(data_dir)  # folds the log into the index while others append
"""


def test_concurrent_processes_lose_no_count(tmp_path, data_dir):
    """N processes appending and folding at once: the count is exactly N x per-process."""
    data_dir.mkdir()
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    n, each = 8, 60
    env = child_env()
    procs = [subprocess.Popen([sys.executable, str(script), str(data_dir), f"w{k}", str(each)], env=env)
             for k in range(n)]
    assert [p.wait(timeout=120) for p in procs] == [0] * n
    pattern = load_patterns(data_dir)["f" * 16]
    assert pattern["n"] == n * each
    assert pattern["nsess"] == n
    assert (data_dir / LOG_FILE).stat().st_size == 0  # folded


def _crash_three_times(tmp_path, write_script, data_dir):
    write_script("app.py", """
        def total(rows):
            return sum(r["amount"] for r in rows)

        total([{"amount": 1}, {"amt": 2}])
    """)
    for _ in range(3):
        assert run_python(["-m", "agentlog", "app.py"], tmp_path, child_env(data_dir)).returncode == 1
    return read_records(data_dir, "failure")


def test_rebuild_from_records(tmp_path, write_script, data_dir):
    """A missing or corrupt index is rebuilt from the failure records with the same counts."""
    failures = _crash_three_times(tmp_path, write_script, data_dir)
    fp = failures[0]["fp"]
    assert {f["fp"] for f in failures} == {fp}
    assert load_patterns(data_dir)[fp]["n"] == 3
    (data_dir / INDEX_FILE).write_text("{not json")
    assert load_patterns(data_dir)[fp]["n"] == 3  # corrupt: rebuilt
    (data_dir / INDEX_FILE).unlink()
    (data_dir / LOG_FILE).unlink()
    done = run_python(["-m", "agentlog", "patterns", "--rebuild", "--json"], tmp_path, child_env(data_dir))
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout.split("\n", 1)[1])
    assert [(p["fp"], p["n"], p["nsess"]) for p in listed] == [(fp, 3, 3)]
    text = run_python(["-m", "agentlog", "patterns", "KeyError"], tmp_path, child_env(data_dir)).stdout
    assert f"{fp}  x3" in text and "app:total" in text


@pytest.mark.skipif(shutil.which("git") is None, reason="needs a git binary")
def test_context_says_seen_before(tmp_path, write_script, data_dir):
    """The context's failure header says how often, since when, in how many sessions and at which commit."""
    git(tmp_path, "init", "-q")
    (tmp_path / "README").write_text("x")
    git(tmp_path, "add", "README")
    git(tmp_path, "commit", "-qm", "c")
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True,
                         check=True).stdout.strip()
    failures = _crash_three_times(tmp_path, write_script, data_dir)
    context = run_python(["-m", "agentlog", "context"], tmp_path, child_env(data_dir)).stdout
    import time

    day = time.strftime("%Y-%m-%d", time.localtime(failures[0]["ts"]))
    lines = context.splitlines()
    assert lines[1] == f"seen 2 times before (first {day}, 2 sessions); last seen at {sha[:7]}", context
    # A failure never seen before gets no such line.
    shutil.rmtree(data_dir)
    write_script("app.py", "raise KeyError('new')\n")
    assert run_python(["-m", "agentlog", "app.py"], tmp_path, child_env(data_dir)).returncode == 1
    context = run_python(["-m", "agentlog", "context"], tmp_path, child_env(data_dir)).stdout
    assert context.startswith("FAILURE 1/1") and not any(line.startswith("seen ") for line in context.splitlines())


def test_seen_before_counts_sessions_as_of_that_failure(tmp_path, write_script, data_dir):
    """An older failure's history line (MCP get_failure) counts the sessions of its own earlier occurrences only."""
    failures = _crash_three_times(tmp_path, write_script, data_dir)
    shown = {}
    for failure in failures:
        code = ("import sys; from pathlib import Path; from agentlog.integrations.mcp_server import Tools; "
                "print(Tools(Path(sys.argv[1]), Path.cwd()).failure(sys.argv[2]))")
        proc = run_python(["-c", code, str(data_dir), failure["id"]], tmp_path, child_env(data_dir))
        assert proc.returncode == 0, proc.stderr
        shown[failure["id"]] = next((line for line in proc.stdout.splitlines() if line.startswith("seen ")), None)
    first, second, third = (shown[f["id"]] for f in failures)
    assert first is None  # the first occurrence has no history
    assert second.startswith("seen once before (") and ", 1 session)" in second
    assert third.startswith("seen 2 times before (") and ", 2 sessions)" in third
