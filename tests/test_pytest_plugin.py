"""The pytest plugin: a failing test under AgentLog becomes a failure record with the test's locals."""

from __future__ import annotations

import textwrap
from importlib.metadata import entry_points

from support import child_env, read_records, run_python

TESTS = textwrap.dedent("""
    import pytest

    def total(prices):
        return sum(prices)

    def test_total():
        prices = [1.5, 2.5]
        expected = 5
        assert total(prices) == expected

    def test_passes():
        assert total([1]) == 1

    @pytest.mark.xfail
    def test_known_bug():
        raise ValueError("expected to fail")

    @pytest.mark.xfail(raises=KeyError)
    def test_wrong_exception():
        raise TypeError("not the expected KeyError")

    def test_skipped():
        pytest.skip("not here")
""")


def pytest_args() -> list[str]:
    """Load the plugin explicitly when it is not installed through its entry point (a source checkout)."""
    installed = any(ep.value == "agentlog.integrations.pytest_plugin" for ep in entry_points(group="pytest11"))
    return ["-q", "-p", "no:cacheprovider", *([] if installed else ["-p", "agentlog.integrations.pytest_plugin"])]


def test_failing_test_recorded_with_locals(tmp_path, data_dir):
    """Only the real failure is recorded (not xfail or skip); exit code and output match plain pytest."""
    (tmp_path / "test_prices.py").write_text(TESTS)
    args = [*pytest_args(), "test_prices.py"]
    plain = run_python(["-m", "pytest", *args], tmp_path, child_env(data_dir))
    traced = run_python(["-m", "agentlog", "-m", "pytest", *args], tmp_path, child_env(data_dir))
    assert traced.returncode == plain.returncode == 1
    assert traced.stdout.splitlines()[-1].split(" in ")[0] == plain.stdout.splitlines()[-1].split(" in ")[0]
    failures = read_records(data_dir, "failure")
    assert [f["test"] for f in failures] == [
        "test_prices.py::test_total (call)",
        "test_prices.py::test_wrong_exception (call)",  # xfail for another exception: a real failure
    ]
    failure = failures[0]
    assert failure["src"] == "pytest"
    listing = run_python(["-m", "agentlog", "list"], tmp_path, child_env(data_dir)).stdout
    assert "test test_prices.py::test_total (call)" in listing
    frame = next(f for f in failure["exc"]["frames"] if f.get("u"))
    assert frame["f"] == "test_total"
    assert frame["loc"]["expected"]["v"] == "5" and frame["loc"]["prices"]["l"] == 2


def test_collection_error_recorded(tmp_path, data_dir):
    """A test file that fails to import is recorded (pytest's exit code 2 is kept)."""
    (tmp_path / "test_broken.py").write_text("import no_such_module_for_agentlog\n")
    args = ["-m", "agentlog", "-m", "pytest", *pytest_args(), "test_broken.py"]
    result = run_python(args, tmp_path, child_env(data_dir))
    assert result.returncode == 2
    [failure] = read_records(data_dir, "failure")
    assert failure["exc"]["t"] == "ModuleNotFoundError" and failure["test"] == "test_broken.py (collect)"


def test_inert_without_agentlog(tmp_path, data_dir):
    """Under plain pytest the plugin records nothing."""
    (tmp_path / "test_prices.py").write_text(TESTS)
    result = run_python(["-m", "pytest", *pytest_args(), "test_prices.py"], tmp_path, child_env(data_dir))
    assert result.returncode == 1
    assert not data_dir.exists()
