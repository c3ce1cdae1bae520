"""``unittest.main()`` under AgentLog, end to end: the failing tests are the failures, the runner's exit is not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import child_env, needs_pth, read_records, run_python

SUITE = '''\
import sys
import unittest


def split_bill(total, people):
    return round(total / people, 2)


class Bill(unittest.TestCase):
    def test_split(self):
        self.assertEqual(split_bill(10, 3), 3.34)

    def test_cases(self):
        for people in range(1, 4):
            with self.subTest(people=people):
                self.assertEqual(split_bill(10, people) * people, 10)

    def test_ok(self):
        self.assertTrue(True)


if __name__ == "__main__":
    unittest.main()
'''

TIMING = re.compile(r"Ran (\d+) tests? in [\d.]+s")


def _run(tmp_path: Path, how: str) -> tuple[list[dict], str]:
    (tmp_path / "test_bill.py").write_text(SUITE, encoding="utf-8")
    data = tmp_path / "data"
    env = child_env(data)
    plain = run_python(["test_bill.py"], tmp_path, env)
    if how == "launcher":
        proc = run_python(["-m", "agentlog", "test_bill.py"], tmp_path, env)
    else:
        proc = run_python(["test_bill.py"], tmp_path, child_env(data, AGENTLOG="true"))
    assert (proc.returncode, proc.stdout) == (plain.returncode, plain.stdout) == (1, "")
    assert TIMING.sub("", proc.stderr) == TIMING.sub("", plain.stderr)
    context = run_python(["-m", "agentlog", "context", "--max-tokens", "1500"], tmp_path, env)
    assert context.returncode == 0, context.stderr
    return read_records(data, "failure"), context.stdout


@pytest.mark.parametrize("how", ["launcher", pytest.param("AGENTLOG=true", marks=needs_pth)])
def test_failing_tests_recorded_not_the_runner_exit(tmp_path: Path, how: str) -> None:
    """Each failing test (and subtest) is one failure via=unittest; unittest.main()'s SystemExit(1) is none."""
    failures, context = _run(tmp_path, how)
    # 10 / 3 rounds to 3.33: test_split fails, and of the subtests only people=3 (1 and 2 split evenly).
    assert sorted((f["src"], f["exc"]["t"], f["test"]) for f in failures) == [
        ("unittest", "AssertionError", "__main__.Bill.test_cases[people=3] (call)"),
        ("unittest", "AssertionError", "__main__.Bill.test_split (call)"),
    ]
    lines = context.splitlines()
    assert "via=unittest" in lines[0] and "cmd='python test_bill.py'" in lines[0] and "pytest" not in lines[0]
    assert lines[1].startswith("AssertionError: ")
    assert "SystemExit" not in context


def test_under_pytest_recorded_once_by_pytest(tmp_path: Path) -> None:
    """The same TestCase run by pytest is recorded by the pytest plugin only (pytest has its own result object)."""
    (tmp_path / "test_bill.py").write_text(SUITE, encoding="utf-8")
    data = tmp_path / "data"
    proc = run_python(["-m", "agentlog", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_bill.py"],
                      tmp_path, child_env(data))
    assert proc.returncode == 1, proc.stdout
    failures = read_records(data, "failure")
    assert sorted((f["src"], f["test"]) for f in failures) == [
        ("pytest", "test_bill.py::Bill::test_cases (call)"),
        ("pytest", "test_bill.py::Bill::test_split (call)"),
    ]


def test_program_exit_after_unittest_still_recorded(tmp_path: Path) -> None:
    """Only unittest's own verdict is left out: the program's sys.exit(4) after a run is still a failure."""
    script = SUITE.replace("    unittest.main()", "    unittest.main(exit=False)\n    sys.exit(4)")
    (tmp_path / "test_bill.py").write_text(script, encoding="utf-8")
    data = tmp_path / "data"
    proc = run_python(["-m", "agentlog", "test_bill.py"], tmp_path, child_env(data))
    assert proc.returncode == 4
    exits = [f for f in read_records(data, "failure") if f["src"] == "exit"]
    assert [f["exit"] for f in exits] == [4]
