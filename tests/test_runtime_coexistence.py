"""AgentLog's runtime next to the program's own use of the interpreter: tool ids, the recursion limit."""

from __future__ import annotations

import ast
import re

import pytest
from support import child_env, needs_pth, read_records, run_python

ENGINES = ["c", "python"]

CLAIMS_IDS = """
import sys
mon = sys.monitoring
seen = []
for tool_id in {ids}:
    mon.use_tool_id(tool_id, f"mine{{tool_id}}")
    mon.register_callback(tool_id, mon.events.PY_START, lambda code, off, t=tool_id: seen.append((t, code.co_name)))
    mon.set_events(tool_id, mon.events.PY_START)
def work(n):
    return n * 2
work(1)
for tool_id in {ids}:
    mon.set_events(tool_id, 0)
print(sorted({{t for t, name in seen if name == "work"}}), [mon.get_tool(t) for t in {ids}])
def fail(x):
    raise ValueError(x)
fail(work(20))
"""


class TestToolIds:
    @pytest.mark.parametrize("engine", ENGINES)
    @pytest.mark.parametrize("ids", [(3,), (4,), (5,), (3, 4), (3, 4, 5)])
    def test_program_gets_the_ids_it_asks_for(self, tmp_path, data_dir, engine, ids):
        """A program claiming ids 3-5 itself runs as under python; AgentLog moves aside and still records."""
        (tmp_path / "prog.py").write_text(CLAIMS_IDS.format(ids=list(ids)))
        data_dir.mkdir(mode=0o700)  # so the warning, noted before any record, has an errors.log to go to
        env = child_env(data_dir, AGENTLOG_ENGINE=engine)
        plain = run_python(["prog.py"], tmp_path, env)
        traced = run_python(["-m", "agentlog", "prog.py"], tmp_path, env)
        assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        assert plain.stdout.startswith(f"{sorted(ids)} ")
        (failure,) = read_records(data_dir, "failure")
        assert failure["exc"]["m"] == "40"
        trail = failure.get("trail")
        if len(ids) < 3:  # an id was left: the trail restarted there and saw the calls after the move
            names = [trail["fn"][c["c"]][0] for c in trail["calls"] if "ev" not in c]
            assert "fail" in names
        else:
            assert not trail or not trail.get("calls")
        errors = data_dir / "errors.log"
        # The trail holds id 3 (the first free); with the C engine it also watches exits, the
        # pure-Python one leaves that to the exit watcher on id 4 (runtime/exitwatch.py). Only
        # asking for an id AgentLog holds makes it move.
        ours = {3} if engine == "c" else {3, 4}
        assert ("tool-id-yielded" in errors.read_text()) if ours & set(ids) else not errors.exists()

    def test_doctor_states_the_policy(self, tmp_path, data_dir):
        """``agentlog doctor`` says which ids AgentLog takes and that it yields them."""
        result = run_python(["-m", "agentlog", "doctor"], tmp_path, child_env(data_dir))
        line = next(line for line in result.stdout.splitlines() if line.startswith("tool ids:"))
        assert "3, 4, 5" in line and "yield" in line


HOLDS_IDS = """
import sys
def check(asked):
    if asked:
        sys.monitoring.use_tool_id(asked, "mine")
    print([sys.monitoring.get_tool(i) for i in (3, 4, 5)])
    sys.exit(3)
check(int(sys.argv[1]))
"""


@needs_pth
class TestIdsHeld:
    @pytest.mark.parametrize(("engine", "asked", "held"), [
        ("c", 0, ["agentlog", None, None]),
        ("c", 3, ["mine", None, "agentlog"]),
        ("python", 0, ["agentlog", "agentlog-exit", None]),
        ("python", 3, ["mine", "agentlog-exit", "agentlog"]),
    ])
    def test_calls_mode_ids_and_exit_recorded(self, tmp_path, data_dir, engine, asked, held):
        """Calls mode without @trace: the C trail watches exits itself (one id), the pure-Python
        one next to the exit watcher (two); after yielding id 3 the exit is still recorded."""
        (tmp_path / "prog.py").write_text(HOLDS_IDS)
        env = child_env(data_dir, AGENTLOG="true", AGENTLOG_TRACE="calls", AGENTLOG_ENGINE=engine)
        result = run_python(["prog.py", str(asked)], tmp_path, env)
        assert result.returncode == 3 and result.stderr == ""
        assert ast.literal_eval(result.stdout) == held
        [record] = read_records(data_dir, "failure")
        assert (record["exit"], record["exc"]["t"], record["exc"]["frames"][0]["f"]) == (3, "SystemExit", "check")


class TestRecursion:
    @pytest.mark.parametrize("engine", ENGINES)
    @pytest.mark.parametrize("limit", [None, 60, 200])
    def test_overflow_happens_in_the_programs_frame(self, tmp_path, data_dir, engine, limit):
        """Unbounded recursion ends with plain python's traceback, in the program's frame, under either engine."""
        setlimit = f"import sys\nsys.setrecursionlimit({limit})\n" if limit else ""
        (tmp_path / "prog.py").write_text(setlimit + "def f(n):\n    return f(n + 1)\nf(0)\n")
        env = child_env(data_dir, AGENTLOG_ENGINE=engine)
        plain, traced = (run_python(args, tmp_path, env) for args in (["prog.py"], ["-m", "agentlog", "prog.py"]))
        if engine == "python":
            # A Python callback needs a frame of its own: at the limit, the program's last call
            # fails one frame earlier than under plain python, but still in the program's frame.
            plain_err = re.sub(r"repeated (\d+) more", lambda m: f"repeated {int(m[1]) - 1} more", plain.stderr)
        else:
            plain_err = plain.stderr
        assert (traced.returncode, traced.stderr) == (plain.returncode, plain_err)
        assert "agentlog" not in traced.stderr
        (failure,) = read_records(data_dir, "failure")
        assert failure["exc"]["t"] == "RecursionError"
        files = {frame.get("file", "") for frame in failure["exc"]["frames"]}
        assert files == {str(tmp_path / "prog.py")}
