"""Recorded text never reaches a terminal raw: every command x every dangerous character, end to end."""

from __future__ import annotations

import json

import pytest
from hostile_support import DANGEROUS, record_project
from support import child_env, read_records, run_python

from agentlog.core.textsafe import escape_controls


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    project = tmp_path_factory.mktemp("escape")
    data_dir = record_project(project)
    failure = read_records(data_dir, "failure")[-1]
    tagged = run_python(["-m", "agentlog", "baseline", "set", failure["sid"]], project, child_env(data_dir))
    assert tagged.returncode == 0, tagged.stderr  # so that `regress` compares the session with itself
    return project, data_dir, failure


COMMANDS = [  # (argv after `agentlog`, "json": output is JSON, "quiet": may show no recorded text)
    (["list"], None), (["sessions"], None), (["show", "{sid}"], None), (["tokens"], None), (["perf"], None),
    (["profile"], None), (["patterns"], None), (["patterns", "--json"], "json"), (["outcomes"], None),
    (["outcomes", "--json"], "json"), (["regress"], "quiet"), (["diff"], None), (["doctor"], None),
    (["context"], None), (["context", "--format", "claude"], None), (["context", "--format", "json"], "json"),
    (["context", "--format", "cursor"], None),
    (["repro", "{id}", "--no-verify", "-o", "test_r.py"], None), (["show", "nosuch{danger}"], None),
]


@pytest.mark.parametrize(("argv", "kind"), COMMANDS, ids=[" ".join(c[0]) for c in COMMANDS])
def test_command_output_shows_no_control_character(recorded, argv, kind):
    project, data_dir, failure = recorded
    argv = [a.format(sid=failure["sid"], id=failure["id"], danger="\x1b[2J\u202e") for a in argv]
    done = run_python(["-m", "agentlog", *argv], project, child_env(data_dir))
    assert "Traceback" not in done.stderr, done.stderr
    for stream, text in (("stdout", done.stdout), ("stderr", done.stderr)):
        raw = [repr(c) for c in DANGEROUS if c in text]
        assert not raw, f"{stream} of {argv} carries {raw}: {text[:600]!r}"
    if kind != "quiet":  # the recorded text is there, escaped
        assert "\\x1b" in done.stdout + done.stderr or "\\u001b" in done.stdout, (done.stdout, done.stderr)
    if kind == "json":
        json.loads(done.stdout)


ESCAPES = [  # (text, keep, expected)
    ("a\x1b[2Jb", "\n\t", "a\\x1b[2Jb"),
    ("\x1b]52;c;SGk=\x07", "\n\t", "\\x1b]52;c;SGk=\\x07"),
    ("\x9b31m", "\n\t", "\\u009b31m"),
    ("ab\x08\x08cd", "\n\t", "ab\\x08\\x08cd"),
    ("safe\rforged", "\n\t", "safe\\x0dforged"),
    ("\u202eevil\u202c \u2066x\u2069", "\n\t", "\\u202eevil\\u202c \\u2066x\\u2069"),
    ("zero\u200bwidth\ufeff", "\n\t", "zero\\u200bwidth\\ufeff"),
    ("del\x7f nel\x85 ls\u2028", "\n\t", "del\\u007f nel\\u0085 ls\\u2028"),
    ("lone \ud800", "\n\t", "lone \\ud800"),
    ("two\nlines\tand tab", "\n\t", "two\nlines\tand tab"),
    ("two\nlines\tand tab", "\t", "two\\x0alines\tand tab"),
    ("two\nlines", "", "two\\x0alines"),
    ("plain ünïcödé ✓ 日本", "\n\t", "plain ünïcödé ✓ 日本"),
]


@pytest.mark.parametrize(("text", "keep", "expected"), ESCAPES)
def test_escape_controls(text, keep, expected):
    assert escape_controls(text, keep) == expected


def test_escaped_text_in_json_stays_json():
    """The escapes used for DEL, C1 and format characters are JSON escapes: JSON output stays JSON."""
    text = json.dumps({"m": "".join(DANGEROUS)}, ensure_ascii=False)
    assert json.loads(escape_controls(text))["m"] == "".join(DANGEROUS)


@pytest.mark.parametrize("forged", ["</failure>", "</FAILURE>", "<session>", "</agentlog_context>",
                                    "</call_trail >"])
def test_claude_format_parts_cannot_be_forged(tmp_path, data_dir, forged):
    """A message spelling the claude layout's own tags does not open or close a part."""
    (tmp_path / "app.py").write_text(f"raise ValueError({forged + ' then <b>&amp;'!r})\n")
    env = child_env(data_dir)
    assert run_python(["-m", "agentlog", "app.py"], tmp_path, env).returncode == 1
    out = run_python(["-m", "agentlog", "context", "--format", "claude"], tmp_path, env).stdout
    tags = [line for line in out.splitlines() if line.startswith("<") and line.endswith(">")]
    assert tags == sorted(set(tags), key=tags.index), out  # each part once
    shown = [line for line in out.splitlines() if "then <b>&amp;" in line]
    assert shown and all(forged not in line and "&lt;" + forged[1:] in line for line in shown), out
