"""The docs are contracts: check them against the code."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from agentlog.capture.failure import build_failure
from agentlog.core.config import Config
from agentlog.store import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[1]
FORMAT = (ROOT / "docs" / "FORMAT.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def documented_keys() -> set[str]:
    return set(re.findall(r"`([a-z_]+)`", FORMAT))


def _nested_failure(tmp_path: Path) -> dict:
    class Holder:
        def __init__(self) -> None:
            self.items = [1, {"a": (2, 3)}]

    def inner(holder: Holder) -> None:
        try:
            raise KeyError("k")
        except KeyError as exc:
            error = ExceptionGroup("group", [ValueError("v")])
            error.add_note("a note")
            raise error from exc

    try:
        inner(Holder())
    except ExceptionGroup as exc:
        return build_failure(exc, "test", thread=threading.current_thread(), config=Config(dir=str(tmp_path)))
    raise AssertionError("unreachable")


def _keys(value: object, into: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            into.add(key)
            if key not in ("loc", "attrs", "a"):  # their keys are user names, not schema keys
                _keys(item, into)
            else:
                for desc in item.values():
                    _keys(desc, into)
    elif isinstance(value, list):
        for item in value:
            _keys(item, into)
    return into


class TestFormatDoc:
    def test_schema_version_matches(self):
        """FORMAT.md states the schema version the code writes."""
        assert f"Schema version: **{SCHEMA_VERSION}**" in FORMAT

    def test_every_failure_key_documented(self, tmp_path, monkeypatch):
        """Every key of a real failure record, call trail included, is documented in FORMAT.md."""
        from agentlog.runtime import tracer

        monkeypatch.setenv("AGENTLOG_ENGINE", "python")
        tracer.start(Config(dir=str(tmp_path)))
        try:
            record = _nested_failure(tmp_path)
        finally:
            tracer.stop()
        assert record["trail"]["calls"], "the tracer recorded no calls"
        missing = _keys(record, set()) - documented_keys()
        assert not missing, f"undocumented keys: {sorted(missing)}"


class TestReadme:
    def test_ci_runs_the_readme_test_command(self):
        """.ci/run calls exactly the test command the README gives."""
        ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
        commands = re.findall(r"^\./run (?:demo|test)$", README, flags=re.MULTILINE)
        assert commands[:2] == ["./run demo", "./run test"]
        assert "\n./run test\n" in ci


class TestCliDoc:
    def test_cli_md_is_current(self):
        """docs/CLI.md equals what docs/make_cli_md.py generates (other Pythons: every option is listed)."""
        import importlib.util
        import sys

        spec = importlib.util.spec_from_file_location("make_cli_md", ROOT / "docs" / "make_cli_md.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        page = (ROOT / "docs" / "CLI.md").read_text(encoding="utf-8")
        generated = module.render()
        if sys.version_info[:2] == module.GENERATOR_PYTHON:
            assert page == generated
        else:
            assert set(re.findall(r"--[a-z][a-z-]+", generated)) <= set(re.findall(r"--[a-z][a-z-]+", page))
