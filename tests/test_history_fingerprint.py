"""Fingerprints: stable across moved repositories, shifted lines and changed values; different bugs differ."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support import child_env, read_records, run_python

from agentlog.history.fingerprint import normalize_message

BUGGY = """
    import sys

    def load(path, n):
        raise FileNotFoundError(f"no such file: '{path}' (attempt {n}, id 0x{n * 7919:x})")

    def main():
        load(sys.argv[1], int(sys.argv[2]))

    main()
"""


@pytest.mark.parametrize(("one", "other"), [
    ("invalid literal for int() with base 10: 'abc'", "invalid literal for int() with base 10: 'x y'"),
    ("user 4f2a91c0de not found", "user 77aa00ff12 not found"),
    ("timeout at 2026-11-20T10:22:01Z after 3.5s", "timeout at 2025-01-02 08:00:00 after 12s"),
    ("cannot open /home/a/app/data.csv", "cannot open ../other/data.csv"),
    ("<app.Job object at 0x7f3a2b10>", "<app.Job object at 0x55d1c0>"),
    ("request 123e4567-e89b-12d3-a456-426614174000 failed", "request 00000000-0000-0000-0000-000000000001 failed"),
    ("row_42 has -3 items", "row_7 has 1,024 items"),
])
def test_changing_values_normalise_alike(one, other):
    """Messages that differ only in values (numbers, ids, hex, paths, quoted values, times) normalise alike."""
    assert normalize_message(one) == normalize_message(other)


@pytest.mark.parametrize(("one", "other"), [
    ("list index out of range", "tuple index out of range"),
    ("can't multiply sequence by non-int of type 'float'", "unsupported operand type(s) for +: 'int' and 'str'"),
])
def test_different_messages_stay_apart(one, other):
    """Different wording is a different message."""
    assert normalize_message(one) != normalize_message(other)


def _crash(folder: Path, source: str, *args: str) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(textwrap.dedent(source), encoding="utf-8")
    data_dir = folder / ".agentlog"
    done = run_python(["-m", "agentlog", "app.py", *args], folder, child_env(data_dir))
    assert done.returncode == 1, done.stderr
    record = read_records(data_dir, "failure")[-1]
    assert record["exc"]["t"] != "SyntaxError" and record["fpk"]["fns"], record["exc"]
    return record


def test_same_bug_same_fingerprint_after_move_shift_and_new_values(tmp_path):
    """A moved repository, lines shifted by an edit and other values in the message keep the fingerprint."""
    first = _crash(tmp_path / "repo", BUGGY, "a.csv", "1")
    shifted = BUGGY.replace("import sys\n", "import sys\n\n\n    # a comment\n    import os\n")
    moved = _crash(tmp_path / "elsewhere" / "deeper", shifted, "/data/b.csv", "25")
    assert first["exc"]["m"] != moved["exc"]["m"]
    assert first["exc"]["frames"][0]["ln"] != moved["exc"]["frames"][0]["ln"]
    assert first["fp"] == moved["fp"]
    assert first["fpk"]["fns"] == ["app:load", "app:main", "app:<module>"]


@pytest.mark.parametrize("change", [
    ("raise FileNotFoundError", "raise PermissionError"),  # another exception type
    ("no such file", "file is empty"),  # another message
    ("load(sys.argv[1]", "read(sys.argv[1]"),  # reached through another function
])
def test_different_bug_different_fingerprint(tmp_path, change):
    """Another type, message or function chain is another fingerprint."""
    base = _crash(tmp_path / "a", BUGGY, "a.csv", "1")
    source = BUGGY.replace(*change)
    if change[1].startswith("read("):
        source = source.replace("    def main", "    def read(path, n):\n        load(path, n)\n\n    def main")
    other = _crash(tmp_path / "b", source, "a.csv", "1")
    assert base["fp"] != other["fp"]


def test_hash_error_matches_the_record(tmp_path, write_script, data_dir):
    """agentlog.hash_error(exc) gives the fingerprint the failure record carries."""
    write_script("app.py", """
        import sys
        import agentlog

        def parse(text):
            return int(text)

        try:
            parse("x1")
        except ValueError as exc:
            print(agentlog.hash_error(exc))
        parse("y2")
    """)
    done = run_python(["-m", "agentlog", "app.py"], tmp_path, child_env(data_dir))
    assert done.returncode == 1
    assert done.stdout.strip() == read_records(data_dir, "failure")[-1]["fp"]
