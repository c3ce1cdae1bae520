"""Context v2 end to end: exits as failures, handled exceptions formatted by the program, tests scoped."""

from __future__ import annotations

import textwrap

import pytest
from support import both, child_env, needs_pth, read_records, run_python
from test_pytest_plugin import pytest_args


def _write(tmp_path, name: str, source: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def _context(tmp_path, data, budget: int = 1500) -> str:
    return run_python(["-m", "agentlog", "context", "--max-tokens", str(budget)], tmp_path, child_env(data)).stdout


class TestSystemExit:
    SCRIPT = """
        import sys

        def check(paths):
            missing = [p for p in paths if p.startswith("data/")]
            if missing:
                sys.exit(MODE)
            return paths

        try:
            sys.exit(5)
        except SystemExit:
            pass
        check(["main.py", "data/input.json"])
    """

    def test_nonzero_exit_recorded_output_unchanged(self, tmp_path):
        """sys.exit(3) and sys.exit("msg") in user code are failures with code and frames; output is plain's."""
        for mode, code in (("3", 3), ('"error: no input"', 1)):
            data = tmp_path / f"data{code}"
            _write(tmp_path, "main.py", self.SCRIPT.replace("MODE", mode))
            plain, traced = both(["main.py"], tmp_path, data)
            assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
            assert plain.returncode == code
            [record] = read_records(data, "failure")
            assert record["exit"] == code and record["exc"]["t"] == "SystemExit"
            assert record["exc"]["frames"][0]["f"] == "check" and "missing" in record["exc"]["frames"][0]["loc"]
            text = _context(tmp_path, data, 300)
            assert f"exit code {code}" in text and "missing: list[1]" in text

    def test_caught_exit_traceback_and_sys_exit_unchanged(self, tmp_path):
        """A program printing a caught SystemExit's traceback sees no frame of ours; sys.exit is the builtin."""
        data = tmp_path / "data"
        _write(tmp_path, "main.py", """
            import sys, traceback
            try:
                sys.exit(4)
            except SystemExit:
                traceback.print_exc()
            print(type(sys.exit).__name__, sys.exit.__module__)
            sys.exit(5)
        """)
        plain, traced = both(["main.py"], tmp_path, data)
        assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        assert plain.returncode == 5 and "agentlog" not in traced.stderr
        [record] = read_records(data, "failure")
        assert record["exit"] == 5

    def test_zero_and_runner_exits_not_recorded(self, tmp_path):
        """sys.exit(0), sys.exit(None) and a caught SystemExit are not failures."""
        data = tmp_path / "data"
        _write(tmp_path, "main.py", "import sys\ntry:\n    sys.exit(2)\nexcept SystemExit:\n    pass\nsys.exit(None)\n")
        plain, traced = both(["main.py"], tmp_path, data)
        assert traced.returncode == plain.returncode == 0
        assert read_records(data, "failure") == []


@needs_pth
class TestSystemExitActivated:
    """Under AGENTLOG=true (no launcher) the same exits are failures, seen on their way out of __main__."""

    @pytest.mark.parametrize(("trace", "engine"), [("crash", ""), ("calls", ""), ("calls", "python")])
    def test_nonzero_exit_recorded_output_unchanged(self, tmp_path, trace, engine):
        """sys.exit(3) in user code: a failure with code, frames and locals; output and exit code are plain's."""
        data = tmp_path / "data"
        _write(tmp_path, "main.py", TestSystemExit.SCRIPT.replace("MODE", "3"))
        env = child_env(data, AGENTLOG="true", AGENTLOG_TRACE=trace, AGENTLOG_ENGINE=engine)
        plain = run_python(["main.py"], tmp_path, child_env(tmp_path / "none"))
        traced = run_python(["main.py"], tmp_path, env)
        assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        assert plain.returncode == 3
        [record] = read_records(data, "failure")
        assert (record["exit"], record["src"], record["exc"]["t"]) == (3, "exit", "SystemExit")
        assert [f["f"] for f in record["exc"]["frames"] if f.get("u")] == ["check", "<module>"]
        assert "missing" in record["exc"]["frames"][0]["loc"]
        assert "missing: list[1]" in _context(tmp_path, data, 300)

    def test_launcher_fallback_without_the_watcher(self, tmp_path):
        """Crash mode without the C extension: no exit watcher; the relaunched program's sys.exit is still seen."""
        data = tmp_path / "data"
        _write(tmp_path, "main.py", TestSystemExit.SCRIPT.replace("MODE", "3"))
        data.mkdir(mode=0o700)  # so the warning, noted before any record, has an errors.log to go to
        env = child_env(data, AGENTLOG_ENGINE="python")
        traced = run_python(["-m", "agentlog", "--trace", "crash", "main.py"], tmp_path, env)
        assert traced.returncode == 3
        [record] = read_records(data, "failure")
        assert record["exit"] == 3 and record["exc"]["frames"][0]["f"] == "check"
        assert "exit-watch-no-c" in (data / "errors.log").read_text()

    def test_not_failures(self, tmp_path):
        """Caught, zero, None, a thread's sys.exit and a library's own exit (pytest's) record nothing."""
        data = tmp_path / "data"
        _write(tmp_path, "main.py", """
            import sys, threading
            try:
                sys.exit(2)
            except SystemExit:
                pass
            t = threading.Thread(target=sys.exit, args=(4,))
            t.start(); t.join()
            sys.exit(0 if len(sys.argv) > 1 else None)
        """)
        _write(tmp_path, "test_ok.py", "def test_ok():\n    pass\n")
        env = child_env(data, AGENTLOG="true")
        assert run_python(["main.py"], tmp_path, env).returncode == 0
        assert run_python(["main.py", "zero"], tmp_path, env).returncode == 0
        assert run_python(["-m", "pytest", *pytest_args(), "-k", "nothing"], tmp_path, env).returncode == 5
        assert read_records(data, "failure") == []

    def test_module_main_and_exit_message(self, tmp_path):
        """``python -m pkg`` whose __main__ exits with a message: recorded, message in the record."""
        data = tmp_path / "data"
        (tmp_path / "tool").mkdir()
        _write(tmp_path, "tool/__init__.py", "")
        _write(tmp_path, "tool/__main__.py", """
            import sys
            def main(workers):
                if not workers.isdigit():
                    sys.exit(f"error: workers must be a number, got {workers!r}")
            main("eight")
        """)
        plain = run_python(["-m", "tool"], tmp_path, child_env(tmp_path / "none"))
        traced = run_python(["-m", "tool"], tmp_path, child_env(data, AGENTLOG="true"))
        assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        [record] = read_records(data, "failure")
        assert record["exit"] == 1 and "got 'eight'" in record["exc"]["m"]
        assert record["exc"]["frames"][0]["f"] == "main"


class TestExitMessage:
    """What a library printed as it exited for the program is recorded, redacted, from its frames' locals."""

    ARGPARSE = """
        import argparse

        def parse(argv):
            parser = argparse.ArgumentParser(prog="resize")
            parser.add_argument("--scale", type=float, default=1.0)
            args = parser.parse_args(argv)
            if args.scale < 1:
                parser.error(f"--scale must be >= 1, got {args.scale} (key ghp_abcdefghijklmnopqrstuvwxyz0123)")

        parse(["--scale", "0.05"])
    """
    CLICK = """
        import click

        @click.command()
        @click.option("--count", type=int, required=True)
        def cli(count):
            if count > 3:
                raise click.UsageError(f"count {count} is over the limit of 3")

        cli(["--count", "7"])
    """

    @pytest.mark.parametrize("activation", ["launcher", pytest.param("env", marks=needs_pth)])
    @pytest.mark.parametrize(("source", "code", "said"), [
        (ARGPARSE, 2, "resize: error: --scale must be >= 1, got 0.05 (key [REDACTED:github_token])"),
        (CLICK, 2, "count 7 is over the limit of 3"),
    ], ids=["argparse", "click"])
    def test_library_exit_message(self, tmp_path, activation, source, code, said):
        """argparse's error() and click's UsageError: the message, its secret redacted; output is plain's."""
        data = tmp_path / "data"
        _write(tmp_path, "main.py", source)
        plain = run_python(["main.py"], tmp_path, child_env(tmp_path / "none"))
        if activation == "env":
            traced = run_python(["main.py"], tmp_path, child_env(data, AGENTLOG="true"))
        else:
            traced = run_python(["-m", "agentlog", "main.py"], tmp_path, child_env(data))
        assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        assert plain.returncode == code and said.split(" (key")[0] in plain.stderr
        [record] = read_records(data, "failure")
        assert record["exitmsg"] == said
        assert "ghp_" not in (data / "records.jsonl").read_text()
        text = _context(tmp_path, data, 300)
        assert f"printed as it exited: {said}" in text and f"exit code {code}" in text

    def test_no_message_for_plain_exits(self, tmp_path):
        """sys.exit(3) after the program printed: no exitmsg (the program's own frames say it)."""
        data = tmp_path / "data"
        _write(tmp_path, "main.py", "import sys\nmessage = 'unrelated'\nsys.exit(3)\n")
        run_python(["-m", "agentlog", "main.py"], tmp_path, child_env(data))
        [record] = read_records(data, "failure")
        assert record["exit"] == 3 and "exitmsg" not in record


def test_program_formatting_handled_exception_records_nothing(tmp_path):
    """sys.excepthook(*sys.exc_info()) on a handled exception prints as plain Python and records nothing."""
    data = tmp_path / "data"
    _write(tmp_path, "main.py", """
        import sys
        try:
            1 / 0
        except ZeroDivisionError:
            sys.excepthook(*sys.exc_info())
        print("still running")
    """)
    plain, traced = both(["main.py"], tmp_path, data)
    assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert read_records(data, "failure") == []


def test_failing_test_scoped_and_named(tmp_path):
    """A failing test's trail starts at it, shows no assertion temporaries, and the header names it as typed."""
    data = tmp_path / "data"
    _write(tmp_path, "test_cart.py", """
        class Price:
            def __init__(self, v):
                self.v = v

            def __repr__(self):
                return f"Price({self.v})"

            def __eq__(self, other):
                return self.v == other.v

        def discount(p):
            return Price(p.v - p.v // 10)

        def test_earlier():
            assert discount(Price(100)) == Price(90)

        def test_later():
            got = discount(Price(19))
            assert got == Price(17)
    """)
    env = child_env(data)
    result = run_python(["-m", "agentlog", "-m", "pytest", *pytest_args(), "test_cart.py"], tmp_path, env)
    assert result.returncode == 1
    [record] = read_records(data, "failure")
    trail = record["trail"]
    names = [trail["fn"][c["c"]][0] for c in trail["calls"]]
    assert names[0] == "test_later" and "test_earlier" not in names
    assert "Price.__repr__" not in names and "Price.__eq__" in names
    assert not any(name.startswith("@py") for name in record["exc"]["frames"][0]["loc"])
    text = _context(tmp_path, data)
    assert "cmd='pytest test_cart.py::test_later'" in text
    assert "got: test_cart.Price" in text and "@py_assert" not in text
    [end] = [r for r in read_records(data, "session_end")]
    assert end["out"] == "failed"


def test_unittest_self_shows_test_attributes_only(tmp_path):
    """A TestCase's self shows what setUp set, not unittest's internals."""
    data = tmp_path / "data"
    _write(tmp_path, "test_u.py", """
        import unittest

        class T(unittest.TestCase):
            def setUp(self):
                self.limit = 3

            def test_x(self):
                self.assertLess(5, self.limit)
    """)
    run_python(["-m", "agentlog", "-m", "pytest", *pytest_args(), "test_u.py"], tmp_path, child_env(data))
    [record] = read_records(data, "failure")
    me = next(f for f in record["exc"]["frames"] if f.get("u"))["loc"]["self"]
    assert me["t"] == "test_u.T" and [k for k, _ in me["map"]] == ["'limit'"]


def test_recursion_shows_both_ends(tmp_path):
    """A collapsed recursion shows the outermost copy's locals and how the argument moved."""
    data = tmp_path / "data"
    _write(tmp_path, "main.py", "def f(k):\n    return k + f(k - 2)\n\nf(9)\n")
    run_python(["-m", "agentlog", "main.py"], tmp_path, child_env(data))
    text = _context(tmp_path, data, 600)
    assert "k: 9, 7, 5, 3, 1, -1, …" in text and "outermost copy" in text and "k: int = 9" in text


def test_pool_worker_failure_shown_once_worker_first(tmp_path):
    """A Pool worker's failure leads the parent's, without the RemoteTraceback text or a second entry."""
    data = tmp_path / "data"
    _write(tmp_path, "main.py", """
        from multiprocessing import Pool

        def parse(record):
            key, value = record.split("=")
            return value

        if __name__ == "__main__":
            with Pool(2) as pool:
                pool.map(parse, ["a=1", "c3"])
    """)
    run_python(["-m", "agentlog", "main.py"], tmp_path, child_env(data))
    assert len(read_records(data, "failure")) == 2  # the worker's and the parent's
    text = _context(tmp_path, data)
    assert text.startswith("FAILURE 1/1 ") and "RemoteTraceback" not in text
    assert text.index("in worker pid=") < text.index("at parse (") < text.index("at <module> (")
    assert "record: str[2] = 'c3'" in text and "FAILURE 2/" not in text


def test_parametrized_failures_grouped_first_case_leads(tmp_path):
    """Failing cases of one parametrized test are one failure, led by the first, listing every case."""
    data = tmp_path / "data"
    _write(tmp_path, "test_p.py", """
        import pytest

        @pytest.mark.parametrize("n", [1, 2, 3, 4])
        def test_even(n):
            half = n // 2
            assert half * 2 == n
    """)
    run_python(["-m", "agentlog", "-m", "pytest", *pytest_args(), "test_p.py"], tmp_path, child_env(data))
    assert len(read_records(data, "failure")) == 2
    text = _context(tmp_path, data)
    assert text.startswith("FAILURE 1/1 ") and "cmd='pytest test_p.py::test_even[1]'" in text
    assert "failing cases of this test (2" in text and "2. [3] AssertionError" in text
    assert "n: int = 1" in text.split("call trail")[0] and "FAILURE 2/" not in text


@needs_pth
def test_child_failure_linked_to_called_process_error(tmp_path):
    """A Python child's failure leads the parent's CalledProcessError that names it, counted once."""
    data = tmp_path / "data"
    _write(tmp_path, "child.py", "STOCK = {'a': 1}\n\ndef level(name):\n    return STOCK[name]\n\nlevel('plums')\n")
    _write(tmp_path, "main.py", """
        import subprocess
        import sys

        subprocess.run([sys.executable, "child.py"], check=True)
    """)
    run_python(["-m", "agentlog", "main.py"], tmp_path, child_env(data))
    assert len(read_records(data, "failure")) == 2
    text = _context(tmp_path, data)
    assert text.startswith("FAILURE 1/1 ")
    assert text.index("in child pid=") < text.index("KeyError: 'plums'") < text.index("CalledProcessError")
    assert "name: str[5] = 'plums'" in text


@needs_pth
def test_called_process_error_leads_with_the_child_it_names(tmp_path):
    """Two children fail; only the second's exit is raised: it leads, the first is a compact other."""
    data = tmp_path / "data"
    _write(tmp_path, "child.py", "import sys\n\nSTOCK = {'a': 1}\nfruit = sys.argv[1]\nSTOCK[fruit]\n")
    _write(tmp_path, "main.py", """
        import subprocess
        import sys

        subprocess.run([sys.executable, "child.py", "apples"], capture_output=True)
        subprocess.run([sys.executable, "child.py", "plums"], check=True)
    """)
    run_python(["-m", "agentlog", "main.py"], tmp_path, child_env(data))
    failures = read_records(data, "failure")
    assert [f["argv"] for f in failures[:2]] == [["child.py", "apples"], ["child.py", "plums"]]
    text = _context(tmp_path, data)
    assert text.startswith("FAILURE 1/1 ")
    assert text.count("in child pid=") == 1
    assert text.index(f"in child pid={failures[1]['pid']} (the command the error names)") < text.index(
        "KeyError: 'plums'") < text.index("CalledProcessError")
    others = text.split("other child failures in this run (1, ")[1]
    assert f"pid={failures[0]['pid']} id={failures[0]['id']} cmd='python child.py apples': KeyError: 'apples'" in others
    assert text.count("'apples'") == 1
    listing = run_python(["-m", "agentlog", "list"], tmp_path, child_env(data)).stdout.splitlines()
    assert len(listing) == 1
    assert f"+1 worker or child failure: {failures[1]['id']}; +1 other child failure: {failures[0]['id']}" in listing[0]


def test_xdist_failure_named_and_session_failed(tmp_path):
    """Under xdist the worker's failure names its test, not ``-c``, and the session ends ``failed``."""
    pytest.importorskip("xdist")
    data = tmp_path / "data"
    _write(tmp_path, "test_x.py", "def test_ok():\n    pass\n\ndef test_bad():\n    value = 3\n    assert value == 4\n")
    result = run_python(["-m", "agentlog", "-m", "pytest", *pytest_args(), "-n", "2", "test_x.py"], tmp_path,
                        child_env(data))
    assert result.returncode == 1
    text = _context(tmp_path, data)
    assert "cmd='pytest test_x.py::test_bad'" in text and "value: int = 3" in text
    ends = read_records(data, "session_end")
    assert ends and all(end["out"] == "failed" for end in ends)


class TestListedOnce:
    """``agentlog list`` and the MCP list_failures show a worker's or child's failure only with its parent's."""

    PARSE = """
        def parse(record):
            key, value = record.split("=")
            return value

        if __name__ == "__main__":
    """
    POOL = PARSE + """
            from multiprocessing import Pool
            with Pool(2) as pool:
                pool.map(parse, ["a=1", "c3"])
    """
    EXECUTOR = PARSE + """
            from concurrent.futures import ProcessPoolExecutor
            with ProcessPoolExecutor(2) as pool:
                list(pool.map(parse, ["a=1", "c3"]))
    """
    PARENT = """
        import subprocess
        import sys

        subprocess.run([sys.executable, "child.py"], check=True)
    """

    @pytest.mark.parametrize("source", [POOL, EXECUTOR, pytest.param(PARENT, marks=needs_pth)],
                             ids=["pool", "executor", "child"])
    def test_one_line_per_failure(self, tmp_path, source):
        """Two records, one line (naming the absorbed id); a later unrelated failure is a second line."""
        from agentlog.integrations.mcp_server import Tools

        data = tmp_path / "data"
        _write(tmp_path, "child.py", "def level(name):\n    return {'a': 1}[name]\n\nlevel('plums')\n")
        _write(tmp_path, "main.py", source)
        env = child_env(data)
        run_python(["-m", "agentlog", "main.py"], tmp_path, env)
        records = read_records(data, "failure")
        assert len(records) == 2 and len({r["pid"] for r in records}) == 2
        inner, outer = records
        listing = run_python(["-m", "agentlog", "list", "--dir", str(data)], tmp_path, env).stdout.splitlines()
        assert len(listing) == 1 and listing[0].startswith(outer["id"])
        assert listing[0].endswith(f"(+1 worker or child failure: {inner['id']})")
        assert Tools(data, tmp_path).list_failures().splitlines() == listing
        _write(tmp_path, "later.py", "{}['missing']\n")
        run_python(["-m", "agentlog", "later.py"], tmp_path, env)
        listing = run_python(["-m", "agentlog", "list", "--dir", str(data)], tmp_path, env).stdout.splitlines()
        assert [line.split()[0] for line in listing] == [read_records(data, "failure")[-1]["id"], outer["id"]]
        text = _context(tmp_path, data, 4000)
        assert "FAILURE 2/2 " in text and "FAILURE 3/" not in text

    def test_cases_of_one_test_one_line(self, tmp_path):
        """Two failing parametrized cases: one list line led by the first, counting the other."""
        data = tmp_path / "data"
        _write(tmp_path, "test_p.py", """
            import pytest

            @pytest.mark.parametrize("n", [1, 2, 3])
            def test_even(n):
                assert n % 2 == 0
        """)
        env = child_env(data)
        run_python(["-m", "agentlog", "-m", "pytest", *pytest_args(), "test_p.py"], tmp_path, env)
        first, _ = read_records(data, "failure")
        listing = run_python(["-m", "agentlog", "list", "--dir", str(data)], tmp_path, env).stdout.splitlines()
        assert len(listing) == 1 and listing[0].startswith(first["id"]) and listing[0].endswith("(+1 case)")


def test_seen_before_counts_other_runs_only(tmp_path):
    """The other failing cases of one run are not "seen before", in the context or one failure's view."""
    from agentlog.integrations.mcp_server import Tools

    data = tmp_path / "data"
    _write(tmp_path, "test_p.py", """
        import pytest

        def half(n):
            return n // 2

        @pytest.mark.parametrize("n", [1, 3, 5, 6])
        def test_even(n):
            assert half(n) * 2 == n
    """)
    env = child_env(data)
    for run in (1, 2):
        run_python(["-m", "agentlog", "-m", "pytest", *pytest_args(), "test_p.py"], tmp_path, env)
        failures = read_records(data, "failure")
        assert len(failures) == 3 * run and len({f["fp"] for f in failures}) == 1
        views = [_context(tmp_path, data), *(Tools(data, tmp_path).failure(f["id"]) for f in failures[-3:])]
        for view in views:
            assert ("seen 3 times before (first " in view) == (run == 2), view.splitlines()[:2]
            assert "seen once before" not in view and "seen 2 times" not in view
