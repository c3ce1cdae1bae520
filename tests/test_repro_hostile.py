"""`agentlog repro` never turns record text into code: a table of hostile fields, end to end."""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path

import pytest
from support import child_env, read_records, run_python
from test_history_regress_repro import BUGGY

PAYLOAD = "open('PWNED', 'w')"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, dict]:
    """A real failure of app.py (parse_quantity(' 4x', 1) raises ValueError) and its project."""
    project = tmp_path_factory.mktemp("project")
    (project / "app.py").write_text(textwrap.dedent(BUGGY))
    data_dir = project / ".agentlog"
    assert run_python(["-m", "agentlog", "app.py"], project, child_env(data_dir)).returncode == 1
    return project, read_records(data_dir, "failure")[-1]


def _inner(failure: dict) -> dict:
    return next(f for f in failure["exc"]["frames"] if f.get("u"))


def _set_type(f: dict, v: str) -> None:
    f["exc"]["t"] = v


def _set_frame(key: str):
    def change(f: dict, v: object) -> None:
        for frame in f["exc"]["frames"]:
            if frame.get("u"):
                frame[key] = v
    return change


def _set_id(f: dict, v: str) -> None:
    f["id"] = v


HOSTILE = [  # (what, change, value)
    ("newline in the exception type", _set_type, f"ValueError\n    {PAYLOAD}"),
    ("call as the exception type", _set_type, "__import__('os').system"),
    ("keyword in the exception type", _set_type, "builtins.class"),
    ("empty part in the exception type", _set_type, "ValueError..x"),
    ("non-string exception type", _set_type, ["ValueError"]),
    ("newline in the module", _set_frame("mod"), f"app\n{PAYLOAD}"),
    ("import statement as the module", _set_frame("mod"), "app import x; import os"),
    ("newline in the function", _set_frame("f"), f"parse_quantity\n{PAYLOAD}"),
    ("newline in the line number", _set_frame("ln"), f"3\n{PAYLOAD}"),
    ("newline in the file name", _set_frame("file"), f"app.py\n{PAYLOAD}"),
    ("newline in the failure id", _set_id, f"abc123\n{PAYLOAD}"),
    ("path in the failure id", _set_id, "abc123/../../evil"),
]


def _plant(project: Path, failure: dict, name: str) -> tuple[Path, dict]:
    """A data dir holding only ``failure`` (the planted line); the id to ask for."""
    data_dir = project / f"dd_{name}"
    data_dir.mkdir(mode=0o700)
    (data_dir / "records.jsonl").write_text(json.dumps(failure) + "\n")
    return data_dir


@pytest.mark.parametrize(("what", "change", "value"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_field_is_refused_and_never_run(recorded, what, change, value):
    project, original = recorded
    failure = copy.deepcopy(original)
    change(failure, value)
    name = what.replace(" ", "_")
    data_dir = _plant(project, failure, name)
    out = project / f"test_out_{name}.py"
    asked = str(failure["id"]).split("\n")[0]
    made = run_python(["-m", "agentlog", "repro", asked, "-o", str(out)], project, child_env(data_dir))
    assert made.returncode == 1, made.stdout
    errors = [line for line in made.stderr.splitlines() if "corrupt line(s)" not in line]  # or the reader skips it
    assert len(errors) == 1 and errors[0].startswith("agentlog repro: ") and "Traceback" not in made.stderr
    assert not out.exists() and not (project / "PWNED").exists()
    assert not list(project.glob("test_out_*_check.py"))


def test_hostile_message_stays_a_literal(recorded):
    """Free text (the message) may say anything: it is quoted, the test is written and parses."""
    project, original = recorded
    failure = copy.deepcopy(original)
    failure["exc"]["m"] = f'x"""\n{PAYLOAD}\n"""\'\'\'\\'
    data_dir = _plant(project, failure, "message")
    out = project / "test_out_message.py"
    made = run_python(["-m", "agentlog", "repro", failure["id"], "-o", str(out)], project, child_env(data_dir))
    assert made.returncode == 0, made.stderr
    assert not (project / "PWNED").exists()
    compile(out.read_text(), str(out), "exec")
    assert f"\n{PAYLOAD}" not in out.read_text()


def test_program_qualname_with_a_newline(tmp_path, data_dir):
    """The program's own exception class names itself with code: recorded, never run by repro."""
    (tmp_path / "app.py").write_text(textwrap.dedent(f"""
        class Boom(Exception):
            pass

        Boom.__qualname__ = "Boom\\n    {PAYLOAD}"

        def explode(n):
            raise Boom(n)

        if __name__ == "__main__":
            explode(3)
    """))
    env = child_env(data_dir)
    assert run_python(["-m", "agentlog", "app.py"], tmp_path, env).returncode == 1
    failure = read_records(data_dir, "failure")[-1]
    assert "\n" in failure["exc"]["t"]
    made = run_python(["-m", "agentlog", "repro", failure["id"], "-o", "test_boom.py"], tmp_path, env)
    assert made.returncode == 1 and "not a Python name" in made.stderr, made.stderr
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "test_boom.py").exists()
