"""The call trail in fresh interpreters: engine choice, parity, fork, coverage.py alongside."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from support import PACKAGE_ROOT

HAVE_C = importlib.util.find_spec("agentlog._tracer") is not None
needs_c = pytest.mark.skipif(not HAVE_C, reason="agentlog._tracer not built")

WORKLOAD = """\
def parse(text):
    if text == "bad":
        raise ValueError(text)
    return len(text)


def load(items):
    total = 0
    for item in items:
        try:
            total += parse(item)
        except ValueError:
            pass
    return total


def gen(n):
    for i in range(n):
        yield i * 1.5


def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)


def main():
    load(["a", "bad", "ccc", "bad"])
    list(gen(3))
    fact(4)
    return {}["missing"]
"""

BOOTSTRAP = """\
import json, sys, threading
from agentlog.core.config import Config
from agentlog.runtime import tracer

tracer.start(Config())
import workload
try:
    workload.main()
except KeyError:
    fields = tracer.failure_fields(threading.get_ident())
calls = [
    {k: v for k, v in c.items() if k not in ("ns", "ago")} for c in fields["trail"]["calls"]
]
print(json.dumps({
    "status": tracer.status(),
    "fn": [f[0] for f in fields["trail"]["fn"]],
    "calls": calls,
    "coverage_tool": sys.monitoring.get_tool(sys.monitoring.COVERAGE_ID),
}))
"""


def run(
    code_dir: Path, *args: str, engine: str | None = None, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run python with the repo importable, faulthandler on, in code_dir."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTLOG", "COVERAGE"))}
    full_env.update(
        PYTHONPATH=f"{PACKAGE_ROOT}{os.pathsep}{code_dir}",
        PYTHONFAULTHANDLER="1",
        AGENTLOG_DIR=str(code_dir / ".agentlog"),
    )
    if engine:
        full_env["AGENTLOG_ENGINE"] = engine
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, *args], cwd=code_dir, env=full_env, text=True, capture_output=True, timeout=120
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "workload.py").write_text(WORKLOAD)
    (tmp_path / "bootstrap.py").write_text(BOOTSTRAP)
    return tmp_path


def trail_of(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    return json.loads(proc.stdout.strip().splitlines()[-1])


class TestEngines:
    @needs_c
    def test_fallback_parity(self, project: Path) -> None:
        """Both engines decode the same program into the same trail (durations aside)."""
        c = trail_of(run(project, "bootstrap.py", engine="c"))
        py = trail_of(run(project, "bootstrap.py", engine="python"))
        assert c["status"]["engine"] == "c" and py["status"]["engine"] == "python"
        assert c["fn"] == py["fn"]
        assert c["calls"] == py["calls"]
        assert {"load", "parse", "gen", "fact", "main"} <= set(c["fn"])
        assert any(call.get("ev") == "handled" for call in c["calls"])

    def test_missing_extension_falls_back(self, project: Path) -> None:
        """Without the extension the Python engine runs and status() keeps the ImportError."""
        script = "import sys; sys.modules['agentlog._tracer'] = None\n" + BOOTSTRAP
        (project / "noext.py").write_text(script)
        out = trail_of(run(project, "noext.py"))
        assert out["status"]["engine"] == "python"
        assert out["status"]["reason"].startswith("ImportError")
        assert "main" in out["fn"]

    def test_forced_c_fails_loudly(self, project: Path) -> None:
        """AGENTLOG_ENGINE=c with no extension stops with a clear error."""
        script = "import sys; sys.modules['agentlog._tracer'] = None\n" + BOOTSTRAP
        (project / "noext.py").write_text(script)
        proc = run(project, "noext.py", engine="c", check=False)
        assert proc.returncode == 1
        assert "EngineUnavailable: AGENTLOG_ENGINE=c but the C extension" in proc.stderr


@pytest.mark.parametrize("engine", [pytest.param("c", marks=needs_c), "python"])
class TestProcesses:
    def test_fork_child_starts_fresh(self, project: Path, engine: str) -> None:
        """A forked child's trail holds only what the child ran."""
        (project / "forker.py").write_text(
            textwrap.dedent("""\
            import json, os, threading
            from agentlog.core.config import Config
            from agentlog.runtime import tracer
            import workload
            tracer.start(Config())
            workload.load(["a"])
            pid = os.fork()
            if pid == 0:
                workload.fact(2)
                trail = tracer.failure_fields(threading.get_ident())["trail"]
                names = [trail["fn"][c["c"]][0] for c in trail["calls"]]
                print(json.dumps(names), flush=True)
                os._exit(0)
            os.waitpid(pid, 0)
            trail = tracer.failure_fields(threading.get_ident())["trail"]
            print(json.dumps([trail["fn"][c["c"]][0] for c in trail["calls"]]), flush=True)
        """)
        )
        child, parent = (json.loads(line) for line in run(project, "forker.py", engine=engine).stdout.splitlines())
        assert child == ["fact", "fact"]
        assert "load" in parent and "fact" not in parent

    def test_coexists_with_coverage(self, project: Path, engine: str) -> None:
        """Under ``coverage run`` (sys.monitoring core) both tools get correct results."""
        pytest.importorskip("coverage")
        env = {"COVERAGE_CORE": "sysmon"}
        results = {}
        for name, script in (("with", "bootstrap.py"), ("without", "plain.py")):
            if name == "without":
                (project / "plain.py").write_text(
                    "import workload\ntry:\n    workload.main()\nexcept KeyError:\n    pass\n"
                )
            data = project / f".coverage.{name}"
            run(project, "-m", "coverage", "run", f"--data-file={data}", script, engine=engine, env=env)
            report = project / f"{name}.json"
            run(
                project,
                "-m",
                "coverage",
                "json",
                f"--data-file={data}",
                "-o",
                str(report),
                "--include=workload.py",
                env=env,
            )
            files = json.loads(report.read_text())["files"]
            results[name] = files["workload.py"]["executed_lines"]
        # Coverage sees exactly the lines it sees without AgentLog...
        assert results["with"] == results["without"]
        assert len(results["with"]) >= 20
        # ...and the trail is complete while coverage holds its own tool id.
        out = trail_of(
            run(
                project,
                "-m",
                "coverage",
                "run",
                f"--data-file={project / '.c3'}",
                "bootstrap.py",
                engine=engine,
                env=env,
            )
        )
        assert out["coverage_tool"] == "coverage.py"
        assert out["status"]["tool_id"] == 3
        names = [out["fn"][c["c"]] for c in out["calls"] if "ev" not in c]
        assert names.count("parse") == 4 and names.count("fact") == 4 and names.count("gen") == 4


class TestLauncher:
    def test_failure_record_carries_trail(self, project: Path) -> None:
        """``python -m agentlog`` writes the trail, other threads and a profile record."""
        (project / "app.py").write_text(
            textwrap.dedent("""\
            import threading
            import workload

            ready, done = threading.Event(), threading.Event()

            def idle():
                ready.set()
                done.wait(10)

            threading.Thread(target=idle, name="idler", daemon=True).start()
            ready.wait(10)
            workload.main()
        """)
        )
        proc = run(project, "-m", "agentlog", "app.py", check=False)
        assert proc.returncode == 1 and "KeyError: 'missing'" in proc.stderr
        records = [json.loads(line) for line in (project / ".agentlog" / "records.jsonl").open()]
        (failure,) = [r for r in records if r["k"] == "failure"]
        trail = failure["trail"]
        names = [trail["fn"][c["c"]][0] for c in trail["calls"] if "ev" not in c]
        assert names.count("parse") == 4 and names.count("fact") == 4 and "main" in names
        last_main = [c for c in trail["calls"] if trail["fn"][c["c"]][0] == "main"][-1]
        assert last_main["end"] == "exc" and last_main["e"] == "KeyError"
        assert [t["th"] for t in failure["threads"]] == ["idler"]
        assert failure["threads"][0]["fn"] == "idle"
        (prof,) = [r for r in records if r["k"] == "profile"]
        assert {row["f"] for row in prof["fns"]} >= {"parse", "load", "fact", "main"}
