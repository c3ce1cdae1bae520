"""Regressions between real runs of a small project, and repro tests generated from real failures."""

from __future__ import annotations

import textwrap
from pathlib import Path

from support import child_env, read_records, run_python
from test_pytest_plugin import pytest_args

LIB = """
    import time

    def work(n):
        time.sleep({delay})
        return n * 2

    def price(qty):
        return {price_expr}
"""
TESTS = """
    from lib import price, work

    def test_work():
        assert work(2) == 4

    def test_price():
        assert price(3) == 30

    def test_other():
        assert True
"""


def _run(project: Path, data_dir: Path, delay: float, price_expr: str) -> str:
    (project / "lib.py").write_text(textwrap.dedent(LIB.format(delay=delay, price_expr=price_expr)))
    (project / "test_lib.py").write_text(textwrap.dedent(TESTS))
    run_python(["-m", "agentlog", "-m", "pytest", *pytest_args(), "test_lib.py"], project, child_env(data_dir))
    return read_records(data_dir, "session_start")[-1]["sid"]


def test_regression_between_real_runs(tmp_path, data_dir):
    """Same code twice: no regression; a test that starts failing and a 3x slower function: regression."""
    env = child_env(data_dir)
    baseline = _run(tmp_path, data_dir, 0.03, "qty * 10")
    tests = [r for r in read_records(data_dir, "tests") if r["sid"] == baseline]
    assert tests and tests[0]["res"]["test_lib.py::test_price"] == "passed"
    sessions = run_python(["-m", "agentlog", "sessions"], tmp_path, env).stdout
    assert run_python(["-m", "agentlog", "baseline", "set", baseline[:10]], tmp_path, env).returncode == 0
    assert run_python(["-m", "agentlog", "sessions"], tmp_path, env).stdout == sessions  # no phantom session
    assert [r["sid"] for r in read_records(data_dir, "baseline")] == [baseline]

    _run(tmp_path, data_dir, 0.03, "qty * 10")
    same = run_python(["-m", "agentlog", "regress"], tmp_path, env)
    assert same.returncode == 0, same.stdout
    assert same.stdout.startswith("# Regression report: no regression")

    _run(tmp_path, data_dir, 0.09, "qty * 10 + 1")
    worse = run_python(["-m", "agentlog", "regress"], tmp_path, env)
    assert worse.returncode == 1, worse.stdout
    broken = worse.stdout.split("## Tests that passed in the baseline and fail now (1)")[1].split("##")[0]
    assert "`test_lib.py::test_price`" in broken and "test_work" not in broken
    slower = worse.stdout.split("## Slower")[1].split("##")[0]
    assert "function work (lib.py)" in slower and "price" not in slower
    assert "## New failures (1)" in worse.stdout and "AssertionError" in worse.stdout


BUGGY = """
    def parse_quantity(text, default=0):
        return int(text) + default

    def load(rows):
        out = []
        for row in rows:
            out.append(parse_quantity(row["qty"], default=row.get("min", 0)))
        return out

    if __name__ == "__main__":
        load([{"qty": "3"}, {"qty": " 4x", "min": 1}])
"""


def test_repro_fails_now_and_passes_once_fixed(tmp_path, data_dir):
    """The written test calls parse_quantity(' 4x', 1): ValueError now; passes after the fix."""
    env = child_env(data_dir)
    (tmp_path / "app.py").write_text(textwrap.dedent(BUGGY))
    assert run_python(["-m", "agentlog", "app.py"], tmp_path, env).returncode == 1
    failure = read_records(data_dir, "failure")[-1]
    (tmp_path / "tests").mkdir()
    out = tmp_path / "tests" / "test_repro_qty.py"
    made = run_python(["-m", "agentlog", "repro", failure["id"], "-o", str(out)], tmp_path, env)
    assert made.returncode == 0, made.stderr
    source = out.read_text()
    assert "parse_quantity(text=' 4x', default=1)" in source and failure["id"] in source
    assert "from the frame's locals" in source
    before = run_python(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(out)], tmp_path, child_env())
    assert before.returncode == 1 and "ValueError" in before.stdout
    (tmp_path / "app.py").write_text(textwrap.dedent(BUGGY).replace("int(text)", "int(text.strip().rstrip('x'))"))
    after = run_python(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(out)], tmp_path, child_env())
    assert after.returncode == 0, after.stdout


def test_repro_refuses_without_a_replayable_frame(tmp_path, data_dir):
    """Objects and redacted values cannot be replayed: a reason, exit 1, no file."""
    env = child_env(data_dir)
    (tmp_path / "app.py").write_text(textwrap.dedent("""
        class Conn:
            pass

        def send(conn, api_key):
            raise ConnectionError("refused")

        if __name__ == "__main__":
            send(Conn(), "sk-live-secret")
    """))
    assert run_python(["-m", "agentlog", "app.py"], tmp_path, env).returncode == 1
    failure = read_records(data_dir, "failure")[-1]
    out = tmp_path / "test_repro.py"
    made = run_python(["-m", "agentlog", "repro", failure["id"], "-o", str(out)], tmp_path, env)
    assert made.returncode == 1
    assert "cannot write a test" in made.stderr and "'conn'" in made.stderr
    assert not out.exists() and "Traceback" not in made.stderr


def test_correlate_says_fixed_then_came_back(tmp_path, data_dir):
    """A test fails, passes in a later run, fails again: two occurrences, fixed once, came back."""
    from agentlog.capture.errorhash import correlate_error
    from agentlog.history.correlate import history_line

    _run(tmp_path, data_dir, 0, "qty * 10 + 1")
    fp = read_records(data_dir, "failure")[-1]["fp"]
    _run(tmp_path, data_dir, 0, "qty * 10")
    info = correlate_error(fp, data_dir)
    assert (info["count"], info["came_back"]) == (1, False)
    _run(tmp_path, data_dir, 0, "qty * 10 + 1")
    info = correlate_error(fp[:8], data_dir)
    assert (info["count"], info["nsess"], info["came_back"]) == (2, 2, True)
    assert history_line(info).endswith(", came back")
    assert correlate_error("0" * 16, data_dir) is None


MONEY = """
    import sys


    class Money:
        symbols = {"$": 100}

        def __init__(self, cents):
            self.cents = cents

        @staticmethod
        def parse_amount(text, sep="."):
            whole, frac = text.split(sep)
            return int(whole) * 100 + int(frac)

        @classmethod
        def from_text(cls, text):
            symbol, amount = text[0], text[1:]
            return cls(cls.parse_amount(amount) * cls.symbols[symbol] // 100)

        def split(self, parts):
            return self.cents // parts


    class Euro(Money):
        symbols = {"€": 100}


    if __name__ == "__main__":
        case = sys.argv[1]
        if case == "static":
            Money.parse_amount("12")
        elif case == "class":
            Euro.from_text("$5.00")
        else:
            Money(500).split(0)
"""


def _repro_of(tmp_path: Path, data_dir: Path, case: str) -> tuple[int, str, Path]:
    """Crash app.py CASE under agentlog, then `agentlog repro` it: (exit code, stderr, the test's path)."""
    env = child_env(data_dir)
    assert run_python(["-m", "agentlog", "app.py", case], tmp_path, env).returncode == 1
    failure = read_records(data_dir, "failure")[-1]
    out = Path("tests", f"test_repro_{case}.py")  # relative to the project, as an agent would type it
    made = run_python(["-m", "agentlog", "repro", failure["id"], "-o", str(out)], tmp_path, env)
    return made.returncode, made.stderr, tmp_path / out


def test_repro_static_and_class_methods(tmp_path, data_dir):
    """A staticmethod is called on its class; a classmethod on the class cls was (here a subclass)."""
    (tmp_path / "app.py").write_text(textwrap.dedent(MONEY))
    (tmp_path / "tests").mkdir()
    tests = {}
    for case, call in [("static", "Money.parse_amount(text='12', sep='.')"),
                       ("class", "Euro.from_text(text='$5.00')")]:
        code, stderr, out = _repro_of(tmp_path, data_dir, case)
        assert code == 0, stderr
        source = out.read_text()
        assert f"    {call}\n" in source, source
        tests[case] = out
    assert "#   cls: Euro, from the frame's locals" in tests["class"].read_text()
    for out, error in [(tests["static"], "ValueError"), (tests["class"], "KeyError")]:
        before = run_python(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(out)], tmp_path, child_env())
        assert before.returncode == 1 and error in before.stdout, before.stdout
    fixed = textwrap.dedent(MONEY).replace('whole, frac = text.split(sep)', 'whole, _, frac = text.partition(sep)')
    fixed = fixed.replace("int(frac)", "int(frac or 0)")
    fixed = fixed.replace('symbols = {"€": 100}', 'symbols = {"€": 100, "$": 92}')
    (tmp_path / "app.py").write_text(fixed)
    for out in tests.values():
        after = run_python(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(out)], tmp_path, child_env())
        assert after.returncode == 0, after.stdout


def test_repro_refuses_a_method_that_needs_its_instance(tmp_path, data_dir):
    """Money(500).split(0): self cannot be rebuilt from its description, so no test is written."""
    (tmp_path / "app.py").write_text(textwrap.dedent(MONEY))
    (tmp_path / "tests").mkdir()
    code, stderr, out = _repro_of(tmp_path, data_dir, "method")
    assert code == 1 and not out.exists() and "Traceback" not in stderr
    assert "Money.split is a method: it needs its Money instance (self)" in stderr, stderr
