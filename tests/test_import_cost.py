"""`import agentlog` with AGENTLOG unset must stay cheap: it may not pull in heavy modules."""

from __future__ import annotations

from support import child_env, run_python

HEAVY = ["typing", "dataclasses", "inspect", "json", "re", "subprocess", "threading", "agentlog.core.config"]


def test_import_agentlog_loads_nothing_heavy(tmp_path):
    """A bare ``import agentlog`` imports none of the modules that make activation cost milliseconds."""
    code = f"import sys\nimport agentlog\nloaded = [m for m in {HEAVY!r} if m in sys.modules]\nprint(repr(loaded))"
    result = run_python(["-c", code], tmp_path, child_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
