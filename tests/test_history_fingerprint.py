"""Fingerprints: stable across moved repositories, shifted lines and changed values; different bugs differ."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support import child_env, read_records, run_python

from agentlog.history.fingerprint import fingerprint_key, fingerprint_of, normalize_message

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


CHAINED = """
    import sys

    import agentlog


    class ConfigError(Exception):
        pass


    def read(path):
        with open(path) as fh:
            return fh.read()


    def parse(text):
        return {k: int(v) for k, v in (line.split("=") for line in text.splitlines())}


    def load_config(path):
        try:
            return parse(read(path))
        except (OSError, ValueError) as exc:
            raise ConfigError("cannot load config") from exc


    def validate(item):
        if item == "k":
            raise KeyError(item)
        raise TypeError(f"bad item {item!r}")


    def check(items):
        errors = []
        for item in items:
            try:
                validate(item)
            except (KeyError, TypeError) as exc:
                errors.append(exc)
        raise ExceptionGroup("batch failed", errors)


    def main(mode, arg):
        load_config(arg) if mode == "config" else check(list(arg))


    try:
        main(*sys.argv[1:])
    except BaseException as exc:
        print(agentlog.hash_error(exc))
        raise
"""


@pytest.fixture(scope="module")
def crashes(tmp_path_factory):
    """Each case run once under agentlog: (its failure record, what hash_error printed for the live exception)."""
    folder = tmp_path_factory.mktemp("chained")
    (folder / "bad.ini").write_text("x=1\ny=two\n")
    (folder / "worse.ini").write_text("a=b\n")
    cases = {"missing": ("config", "/nonexistent/app.ini"), "missing2": ("config", "../elsewhere/b.ini"),
             "bad": ("config", "bad.ini"), "bad2": ("config", "worse.ini"),
             "kt": ("group", "kt"), "tk": ("group", "tkk"), "k": ("group", "k")}
    (folder / "app.py").write_text(textwrap.dedent(CHAINED), encoding="utf-8")
    out = {}
    for name, args in cases.items():
        data_dir = folder / f"data-{name}"
        done = run_python(["-m", "agentlog", "app.py", *args], folder, child_env(data_dir))
        assert done.returncode == 1, done.stderr
        out[name] = (read_records(data_dir, "failure")[-1], done.stdout.strip())
    return out


class TestChainsAndGroups:
    """The root cause behind a wrapper and an exception group's members take part in the fingerprint."""

    def test_hash_error_matches_the_record(self, crashes):
        """The live exception's fingerprint is the recorded one, chain and group included."""
        for name, (record, live) in crashes.items():
            assert live == record["fp"], name

    def test_same_wrapper_different_root_causes_differ(self, crashes):
        """ConfigError('cannot load config') from FileNotFoundError vs from ValueError: two fingerprints."""
        missing, bad = crashes["missing"][0], crashes["bad"][0]
        assert missing["exc"]["cause"]["t"] == "FileNotFoundError" and bad["exc"]["cause"]["t"] == "ValueError"
        assert {k: v for k, v in missing["fpk"].items() if k != "c"} == \
            {k: v for k, v in bad["fpk"].items() if k != "c"}  # the wrapper alone collides
        assert missing["fp"] != bad["fp"]
        assert missing["fpk"]["c"] == "FileNotFoundError: [Errno <n>] No such file or directory: <str> @ app:read"
        assert bad["fpk"]["c"].endswith("@ app:parse")

    def test_same_root_cause_with_other_values_is_stable(self, crashes):
        """Another missing path, another bad value: the same fingerprints."""
        assert crashes["missing"][0]["fp"] == crashes["missing2"][0]["fp"]
        assert crashes["bad"][0]["fp"] == crashes["bad2"][0]["fp"]

    def test_group_members_in_any_order_and_number(self, crashes):
        """Members count by kind: order and repeats do not matter, another set of kinds does."""
        kt, tk, k = (crashes[name][0] for name in ("kt", "tk", "k"))
        assert kt["fpk"]["g"] == ["KeyError: <str> @ app:validate", "TypeError: bad item <str> @ app:validate"]
        assert kt["fp"] == tk["fp"]
        assert kt["fp"] != k["fp"] and k["fpk"]["g"] == ["KeyError: <str> @ app:validate"]


def _exc(t: str, m: str, fn: str, **links) -> dict:
    return {"t": t, "m": m, "frames": [{"f": fn, "file": "/r/app.py", "u": 1}], **links}


@pytest.mark.parametrize(("one", "other", "same"), [
    # a context takes part (raise X from None records none: then X alone counts).
    (_exc("E", "failed", "run", ctx=_exc("KeyError", "'a'", "get")), _exc("E", "failed", "run"), False),
    # the root is followed through intermediate wrappers, cause before context.
    (_exc("E", "failed", "run", cause=_exc("W", "w", "mid", ctx=_exc("KeyError", "'a'", "get"))),
     _exc("E", "failed", "run", cause=_exc("W", "w", "mid", ctx=_exc("KeyError", "'b'", "get"))), True),
    (_exc("E", "failed", "run", cause=_exc("W", "w", "mid", ctx=_exc("KeyError", "'a'", "get"))),
     _exc("E", "failed", "run", cause=_exc("W", "w", "mid", ctx=_exc("KeyError", "'a'", "put"))), False),
    (_exc("E", "failed", "run", ctx=_exc("OSError", "disk full", "save")),
     _exc("E", "failed", "run", ctx=_exc("OSError", "permission denied", "save")), False),
    # nested groups are flattened to their leaves.
    (_exc("ExceptionGroup", "g (2 sub-exceptions)", "run",
          group=[_exc("ExceptionGroup", "h", "a", group=[_exc("KeyError", "1", "a")]), _exc("OSError", "x", "b")]),
     _exc("ExceptionGroup", "g (2 sub-exceptions)", "run",
          group=[_exc("OSError", "x", "b"), _exc("KeyError", "2", "a")]),
     True),
])
def test_chain_rules(one, other, same):
    """Table: which chains and groups give the same fingerprint (docs/FORMAT.md, "Fingerprints")."""
    assert (fingerprint_of(fingerprint_key(one, ["/r"])) == fingerprint_of(fingerprint_key(other, ["/r"]))) is same


def test_unchained_fingerprint_is_the_documented_hash():
    """Without chain or group the fingerprint is blake2b-64 of type, message and functions, one per line."""
    import hashlib

    key = fingerprint_key(_exc("ValueError", "bad 3", "parse"), ["/r"])
    assert set(key) == {"t", "m", "fns"}
    text = "ValueError\nbad <n>\napp:parse"
    assert fingerprint_of(key) == hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
