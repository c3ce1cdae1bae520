"""A hostile-record corpus: lines no writer makes, planted among real records. Every reader skips them
(one warning line per file), within bounded memory, and every command and MCP tool still answers."""

from __future__ import annotations

import copy
import json
import shutil

import anyio
import pytest
from d1_support import d1_fixture, miniflare_fixture  # noqa: F401 - fixtures
from hostile_support import record_project
from support import child_env, read_records, run_python
from test_mcp_server import READ_ONLY_TOOLS, call, run, stdio

from agentlog.store.reader import MAX_LINE_BYTES, parse_record

DEEP = 200_000


def _wrong_types(record: dict, path: tuple[str, ...] = ()) -> list[tuple[str, dict]]:
    """(name, copy of the record) with each field, top level, in ``exc`` and in its first frame, of a
    wrong type: a string where a number, list or object belongs, a number where a string or list belongs."""
    cases = []
    target = record
    for key in path:
        target = target[key]
    for key, value in target.items():
        wrong = ([7, ["x"]] if isinstance(value, str) else [{"x": 1}] if isinstance(value, list)
                 else [["x"]] if isinstance(value, dict) else ["7"])
        for w in wrong:
            bad = copy.deepcopy(record)
            place = bad
            for p in path:
                place = place[p]
            place[key] = w
            cases.append((f"{'.'.join(map(str, (*path, key)))}={json.dumps(w)}", bad))
    return cases


def hostile_lines(failure: dict) -> list[tuple[str, bytes]]:
    """(what, line) for every hostile case, built around a real failure record."""
    good = json.dumps(failure)
    inner = next(i for i, f in enumerate(failure["exc"]["frames"]) if f.get("u"))
    wrong = _wrong_types(failure) + _wrong_types(failure, ("exc",)) + _wrong_types(failure, ("exc", "frames", inner))
    cases = [
        ("deep array", b"[" * DEEP + b"]" * DEEP),
        ("deep object", b'{"a":' * DEEP + b"1" + b"}" * DEEP),
        ("deep field in a record", good[:-1].encode() + b', "exc2": ' + b"[" * DEEP + b"]" * DEEP + b"}"),
        ("deep but under the recursion limit", good.replace('"exc": {', '"exc": ' + "[" * 500 + "{", 1).encode()
         + b"]" * 500),
        ("lone surrogate", good.replace('"m": "', '"m": "\\ud800', 1).encode()),
        ("lone surrogate in the kind", good.replace('"k": "failure"', '"k": "fail\\udfffure"').encode()),
        ("line longer than the bound", b'{"sv":1,"k":"failure","x":"' + b"a" * (MAX_LINE_BYTES + 10) + b'"}'),
        ("not an object: list", b"[]"), ("not an object: string", b'"failure"'), ("not an object: number", b"1"),
        ("not an object: null", b"null"), ("not an object: true", b"true"),
        ("NaN time", good.replace(f'"ts": {failure["ts"]}', '"ts": NaN').encode()),
        ("Infinity time", good.replace(f'"ts": {failure["ts"]}', '"ts": Infinity').encode()),
        ("-Infinity in a frame line", good.replace('"ln": ', '"ln": -Infinity, "x": ', 1).encode()),
        ("invalid UTF-8", good.replace('"m": "', '"m": "\xff', 1).encode("latin-1", "replace")
         .replace(b"\xc3\xbf", b"\xff\xfe")),
        ("truncated UTF-8", good.encode()[:-3] + b"\xe2\x82"),
        ("NUL byte", good.replace('"m": "', '"m": "\x00', 1).encode()),
        ("raw control character in a string", good.replace('"m": "', '"m": "\x1b\x07', 1).encode()),
        ("null envelope", good.replace('"sv": 1', '"sv": null').encode()),
        ("null exception", good.replace('"exc": {', '"exc": null, "x": {', 1).encode()),
        ("null frames", good.replace('"frames": [', '"frames": null, "x": [', 1).encode()),
        ("huge integer", good.replace('"pid": ', '"pid": ' + "9" * 5000 + ', "x": ').encode()),
        ("absurd integer", good.replace('"ln": ', '"ln": ' + "9" * 400 + ', "x": ', 1).encode()),
        ("absurd float", good.replace(f'"ts": {failure["ts"]}', '"ts": 1e400').encode()),
        ("time in the far future", good.replace(f'"ts": {failure["ts"]}', '"ts": 9e15').encode()),
        ("negative time", good.replace(f'"ts": {failure["ts"]}', '"ts": -5').encode()),
        ("bool as schema", good.replace('"sv": 1', '"sv": true').encode()),
        ("overlong session id", good.replace(f'"sid": "{failure["sid"]}"', '"sid": "' + "s" * 5000 + '"').encode()),
        ("not JSON", b"{'sv': 1}"),
    ]
    return cases + [(f"wrong type {name}", json.dumps(bad).encode()) for name, bad in wrong]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """(project, a clean data dir, a hostile one: the same records with every hostile line planted between)."""
    project = tmp_path_factory.mktemp("hostile")
    clean = record_project(project)
    failure = read_records(clean, "failure")[-1]
    hostile = project / "hostile-data"
    shutil.copytree(clean, hostile)
    lines = hostile_lines(failure)
    records = hostile / "records.jsonl"
    real = records.read_bytes().split(b"\n")
    with records.open("wb") as fh:
        fh.write(real[0] + b"\n")
        for _, line in lines:
            fh.write(line + b"\n")
        fh.write(b"\n".join(real[1:]))
    return project, clean, hostile, failure, lines


def test_each_hostile_line_is_rejected(corpus):
    rejected = {what: parse_record(line) is None for what, line in corpus[4]}
    assert all(rejected.values()), [what for what, ok in rejected.items() if not ok]
    assert len(rejected) > 60


COMMANDS = [["context"], ["context", "--format", "json"], ["context", "--format", "claude"], ["list"],
            ["sessions"], ["show", "{sid}"], ["patterns", "--rebuild"], ["outcomes"], ["tokens"], ["perf"],
            ["profile"], ["regress", "--baseline", "{sid}"], ["diff"], ["doctor"], ["export", "--otlp", "out.json"],
            ["repro", "{id}", "--no-verify", "-o", "test_repro_hostile.py"]]


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_every_command_reads_past_hostile_lines(corpus, argv):
    """The command gives the same answer over the hostile data dir as over the clean one, plus one
    warning line for the file; never a traceback."""
    project, clean, hostile, failure, _ = corpus
    argv = [a.format(sid=failure["sid"], id=failure["id"]) for a in argv]
    want = run_python(["-m", "agentlog", *argv], project, child_env(clean))
    (project / "test_repro_hostile.py").unlink(missing_ok=True)
    got = run_python(["-m", "agentlog", *argv], project, child_env(hostile))
    (project / "test_repro_hostile.py").unlink(missing_ok=True)
    assert "Traceback" not in got.stderr and "malformed" not in got.stderr, got.stderr[-2000:]
    assert got.returncode == want.returncode, got.stderr[-2000:]
    warnings = [line for line in got.stderr.splitlines() if "corrupt line(s)" in line]
    assert len(warnings) <= 1 and (not warnings or "records.jsonl" in warnings[0]), got.stderr
    if argv[0] not in ("doctor", "regress", "export", "repro"):  # these name the data dir itself
        assert got.stdout.replace(str(hostile), "") == want.stdout.replace(str(clean), ""), argv


def test_one_warning_line_per_file(corpus):
    project, _, hostile, _, lines = corpus
    got = run_python(["-m", "agentlog", "context"], project, child_env(hostile))
    warnings = [line for line in got.stderr.splitlines() if "corrupt line(s)" in line]
    assert len(warnings) == 1 and f"skipped {len(lines)} corrupt line(s)" in warnings[0], got.stderr


def test_an_overlong_line_is_skipped_in_bounded_memory(tmp_path):
    """A 200 MB line is passed over in chunks: the reader's peak memory grows by far less than the line."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    script = ("import resource, sys\nfrom pathlib import Path\nfrom agentlog.store.reader import iter_records\n"
              "n = len(list(iter_records(Path(sys.argv[1]), warn=False)))\n"
              "print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)")
    empty = run_python(["-c", script, str(data_dir)], tmp_path, child_env())
    with (data_dir / "records.jsonl").open("wb") as fh:
        fh.write(b'{"sv":1,"k":"note","x":"')
        chunk = b"a" * (1 << 20)
        for _ in range(200):
            fh.write(chunk)
        fh.write(b'"}\n{"sv":1,"k":"note","sid":"s","ts":1.0}\n')
    big = run_python(["-c", script, str(data_dir)], tmp_path, child_env())
    count, peak = map(int, big.stdout.split())
    assert count == 1, big.stderr
    assert peak - int(empty.stdout.split()[1]) < 40, (empty.stdout, big.stdout)  # MiB


def test_mcp_tools_answer_over_hostile_records(corpus):
    """Every read-only tool answers over the hostile data dir (no error), and it still answers after them."""
    project, _, hostile, failure, _ = corpus
    arguments = {"get_failure": {"id": failure["id"]}, "get_session": {"id": failure["sid"]},
                 "search_errors": {"query": "msg"}}

    async def body():
        async with stdio(project, hostile) as client:
            for tool in sorted(READ_ONLY_TOOLS):
                is_error, text = await call(client, tool, **arguments.get(tool, {}))
                assert not is_error, (tool, text)
                assert "\ud800" not in text
            with anyio.fail_after(20):
                assert (await client.list_tools()).tools  # still answering

    run(body)




@pytest.mark.parametrize("text", ["a\ud800b", "\udfff", "ok \U0001f600 \ud83d", "\x1b[2J\udcff"])
def test_mcp_results_are_valid_utf8(text):
    """The one place tool results are produced makes them encodable: a lone surrogate (which stopped the
    server's writer for good) becomes its visible escape, in results and in error messages alike."""
    from mcp.server.mcpserver.exceptions import ToolError

    from agentlog.integrations.mcp_server import _safely

    result = _safely("t", lambda: text, ToolError)
    assert result.encode("utf-8").decode("utf-8").startswith(text.encode("utf-8", "backslashreplace").decode())

    def fails() -> str:
        raise LookupError(text)

    with pytest.raises(ToolError) as raised:
        _safely("t", fails, ToolError)
    str(raised.value).encode("utf-8")


def test_pull_skips_hostile_shared_records(corpus, miniflare, d1, tmp_path):
    """A share whose rows hold the hostile lines: pull imports the real records, counts the rest as
    unreadable, and every reader works on the result."""
    from test_d1 import agentlog, client

    project, clean, _, failure, lines = corpus
    shared = agentlog(clean, project, d1, "share", failure["sid"])
    assert shared.returncode == 0, shared.stderr
    real = [r for r in read_records(clean) if r["sid"] == failure["sid"]]
    rows = [(f"~hostile{i:03}", line.decode("utf-8", "surrogateescape").encode("utf-8", "replace").decode())
            for i, (_, line) in enumerate(lines) if len(line) < 1_000_000]  # D1 caps a row's size
    d1_client = client(d1)
    for key, body in rows:
        d1_client.query("INSERT INTO agentlog_records VALUES (?, ?, ?, ?, ?)", [key, failure["sid"], 1.0, "x", body])
    theirs = tmp_path / "teammate"
    pulled = agentlog(theirs, tmp_path, d1, "pull", shared.stdout.strip())
    assert pulled.returncode == 0 and "Traceback" not in pulled.stderr, pulled.stderr
    assert f"imported {len(real)} records, 0 already here, {len(rows)} unreadable skipped" in pulled.stdout
    listed = agentlog(theirs, tmp_path, d1, "list")
    assert listed.returncode == 0 and failure["id"] in listed.stdout and not listed.stderr


def test_pattern_log_and_snapshot_tables_too(corpus, tmp_path):
    """The other files readers parse: hostile lines in patterns.log are skipped; a snapshot table nested
    too deep costs `diff` one error line, never a traceback."""
    project, clean, _, _, lines = corpus
    data = tmp_path / "data"
    shutil.copytree(clean, data)
    (data / "patterns.json").unlink(missing_ok=True)
    log = b"\n".join(line for _, line in lines if len(line) < 1_000_000)
    control = b'{"fp":"abcd1234abcd1234","id":"x","ts":1.0,"sid":"s","t":"KeyError","m":"boom","fns":[]}'
    (data / "patterns.log").write_bytes(log + b'\n{"fp": ["x"], "n": "7"}\n{"fp": "f", "t": 1}\n' + control + b"\n")
    got = run_python(["-m", "agentlog", "patterns"], project, child_env(data))
    assert got.returncode == 0 and not got.stderr and "KeyError: boom" in got.stdout, got.stderr
    table = max((data / "snapshots").glob("*.json"))
    table.write_bytes(b"[" * DEEP + b"]" * DEEP)
    diff = run_python(["-m", "agentlog", "diff"], project, child_env(data))
    assert diff.returncode == 1 and len(diff.stderr.splitlines()) == 1 and "Traceback" not in diff.stderr, diff.stderr
