"""``agentlog mcp`` end to end: the mcp SDK's own client against the server as a subprocess."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client, MCPError, StdioServerParameters  # pinned in the test extra
from support import child_env, run_python

from agentlog.context.tokencount import count_tokens
from agentlog.integrations.mcp_server import NOTE_TOKENS, redaction_note

CRASH = textwrap.dedent("""
    def divide(total, parts):
        api_key = "hunter2-not-shown"
        return total / parts

    divide(10, 0)
""")
READ_ONLY_TOOLS = {"get_debug_context", "list_failures", "get_failure", "list_sessions", "get_session",
                   "search_errors", "token_summary"}
TIMEOUT_S = 90


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "crash.py").write_text(CRASH, encoding="utf-8")
    return tmp_path


def record_crash(project: Path, data_dir: Path) -> None:
    """Another process records a failure (the server is running meanwhile)."""
    result = run_python(["-m", "agentlog", "crash.py"], project, child_env(data_dir))
    assert result.returncode == 1 and "ZeroDivisionError" in result.stderr


def stdio(project: Path, data_dir: Path, *flags: str) -> Client:
    params = StdioServerParameters(command=sys.executable, args=["-m", "agentlog", "mcp", *flags],
                                   env=child_env(data_dir), cwd=str(project))
    return Client(params, cache=None)


def text_of(result) -> str:
    return "".join(block.text for block in result.content)


async def call(client: Client, tool: str, **arguments) -> tuple[bool, str]:
    result = await client.call_tool(tool, arguments)
    return result.is_error, text_of(result)


def run(body) -> None:
    """Run a test's async body, failing (not hanging) after TIMEOUT_S."""

    async def bounded():
        with anyio.fail_after(TIMEOUT_S):
            await body()

    anyio.run(bounded)


class TestStdio:
    def test_tools_resources_prompt_while_another_process_records(self, project, data_dir):
        """Every tool, resource and the prompt, on an empty store and after another process records."""

        async def body():
            async with stdio(project, data_dir, "--allow-run") as client:
                assert "get_debug_context" in client.instructions and "ALREADY" in client.instructions
                tools = {t.name: t for t in (await client.list_tools()).tools}
                assert set(tools) == READ_ONLY_TOOLS | {"run_and_capture"}
                for name in READ_ONLY_TOOLS:
                    hints = tools[name].annotations
                    assert hints.read_only_hint and not hints.destructive_hint, name
                assert tools["run_and_capture"].annotations.destructive_hint
                assert "without re-running" in tools["get_debug_context"].description
                # The schemas publish the bounds the tools enforce.
                props = tools["get_debug_context"].input_schema["properties"]
                assert props["format"]["enum"] == ["text", "json", "markdown", "claude", "cursor", "codex"]
                assert (props["max_tokens"]["minimum"], props["max_tokens"]["maximum"]) == (50, 100_000)
                for name in ("list_failures", "list_sessions", "search_errors"):
                    limit = tools[name].input_schema["properties"]["limit"]
                    assert (limit["minimum"], limit["maximum"]) == (1, 200), name
                assert tools["get_failure"].input_schema["properties"]["max_tokens"]["maximum"] == 100_000
                timeout = tools["run_and_capture"].input_schema["properties"]["timeout_s"]
                assert (timeout["minimum"], timeout["maximum"]) == (1, 600)

                # Empty store: answers, not errors.
                assert await call(client, "get_debug_context") == (False, "No failures recorded.\n"
                                                                          "(redacted: nothing in this result)\n")
                assert (await call(client, "list_failures"))[1].startswith("No failures recorded.")
                assert (await call(client, "list_sessions"))[1].startswith("No sessions recorded.")
                assert (await call(client, "token_summary"))[1].startswith("No LLM calls recorded.")
                assert (await call(client, "search_errors", query="ZeroDivisionError"))[1].startswith("No recorded")

                await anyio.to_thread.run_sync(record_crash, project, data_dir)

                error, context = await call(client, "get_debug_context", max_tokens=800)
                assert not error and "ZeroDivisionError: division by zero" in context
                assert "parts: int = 0" in context and "hunter2" not in context
                assert re.search(r"\(redacted: \d+ name\)", context)
                assert count_tokens(context) <= 800
                error, listing = await call(client, "list_failures", limit=5)
                failure_id = listing.split()[0]
                assert not error and "ZeroDivisionError" in listing and "crash.py" in listing
                error, one = await call(client, "get_failure", id=failure_id, max_tokens=300)
                assert not error and f"id={failure_id}" in one and "parts: int = 0" in one
                error, found = await call(client, "search_errors", query="zerodivision divide")
                fingerprints, failures_found = found.split("failures (newest first):\n")
                assert not error and failures_found.startswith(failure_id)
                fingerprint = fingerprints.splitlines()[1].split()[0]
                assert re.search(rf"^{fingerprint}  x1  .*ZeroDivisionError: division by zero$", fingerprints, re.M)
                error, by_fp = await call(client, "search_errors", query=fingerprint[:8])
                assert not error and failure_id in by_fp
                error, sessions = await call(client, "list_sessions")
                assert not error and "failures=1" in sessions
                error, session = await call(client, "get_session", id=sessions.split()[0])
                assert not error and "tree:" in session
                error, claude = await call(client, "get_debug_context", max_tokens=400, format="claude")
                assert not error and claude.startswith("<agentlog_context>")

                resources = {r.uri for r in (await client.list_resources()).resources}
                assert resources == {"agentlog://failures/latest", "agentlog://sessions", "agentlog://patterns"}
                templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
                assert templates == {"agentlog://failures/{id}", "agentlog://sessions/{id}"}
                reads = {uri: (await client.read_resource(uri)).contents[0].text for uri in [
                    "agentlog://failures/latest", f"agentlog://failures/{failure_id}", "agentlog://sessions",
                    f"agentlog://sessions/{sessions.split()[0]}", "agentlog://patterns"]}
                assert all("ZeroDivisionError" in reads[u] for u in list(reads)[:2])
                assert reads["agentlog://patterns"].startswith(f"{fingerprint}  x1  ")
                assert "failures=1" in reads["agentlog://sessions"]

                prompt = await client.get_prompt("debug_latest_failure", {})
                assert "root cause" in prompt.messages[0].content.text
                assert "ZeroDivisionError" in prompt.messages[0].content.text

                error, ran = await call(client, "run_and_capture", command="python crash.py", timeout_s=60,
                                        max_tokens=1200)
                assert not error and "exit code 1; 1 new failure(s) recorded" in ran
                assert "ZeroDivisionError" in ran.split("context of the failure(s) it recorded:")[1]
                assert "hunter2" not in ran

        run(body)

    def test_bad_input_is_an_error_result(self, project, data_dir):
        """Unknown ids, bad budgets, formats and commands are error results; the server keeps serving."""

        async def body():
            record_crash(project, data_dir)
            async with stdio(project, data_dir, "--allow-run") as client:
                cases = [
                    ("get_failure", {"id": "nope"}, "no failure with id 'nope' (list_failures shows the ids)"),
                    ("get_failure", {"id": ""}, "id is empty: list_failures shows the ids"),
                    ("get_debug_context", {"max_tokens": -5},
                     "max_tokens must be an integer from 50 to 100000, got -5"),
                    ("get_debug_context", {"max_tokens": "lots"},
                     "max_tokens must be an integer from 50 to 100000, got 'lots'"),
                    ("get_debug_context", {"format": "yaml"},
                     "format must be one of text, json, markdown, claude, cursor, codex, got 'yaml'"),
                    ("get_debug_context", {"failure_id": "nope"}, "no failure with id 'nope'"),
                    ("get_debug_context", {"failure_id": " "}, "failure_id is empty: omit it for the newest failure"),
                    ("get_debug_context", {"failure_id": 12}, "failure_id must be a failure id or unique prefix"),
                    ("get_session", {"id": "zzz"}, "no session matches 'zzz'"),
                    ("get_session", {}, "id is required"),
                    ("list_failures", {"limit": 0}, "limit must be an integer from 1 to 200, got 0"),
                    ("list_failures", {"since": "not-a-time"}, "no failure with id 'not-a-time'"),
                    ("search_errors", {"query": "  "}, "query is empty"),
                    ("search_errors", {"query": ["a"]}, "query must be a non-empty string, got ['a']"),
                    ("token_summary", {"session": "nope"}, "no session matches 'nope'"),
                    ("run_and_capture", {"command": "ls -la"}, "runs this Python with"),
                    ("run_and_capture", {"command": "crash.py", "timeout_s": 0},
                     "timeout_s must be a number of seconds from 1 to 600, got 0"),
                ]
                for tool, arguments, message in cases:
                    error, text = await call(client, tool, **arguments)
                    assert error and message in text, (tool, text)
                    # One sentence: one line, no validation dump or documentation URL.
                    assert "\n" not in text.strip() and "http" not in text, (tool, text)
                with pytest.raises(MCPError):
                    await client.read_resource("agentlog://failures/nope")
                assert not (await call(client, "list_failures"))[0]

        run(body)

    def test_run_and_capture_is_bounded(self, project, data_dir):
        """A command that outlives timeout_s is killed and reported as such."""
        (project / "slow.py").write_text("import time\nprint('started', flush=True)\ntime.sleep(60)\n")

        async def body():
            async with stdio(project, data_dir, "--allow-run") as client:
                start = time.monotonic()
                error, text = await call(client, "run_and_capture", command="slow.py", timeout_s=2)
                assert not error and "killed after the 2 s timeout" in text and "started" in text
                assert time.monotonic() - start < 30

        run(body)

    def test_run_and_capture_says_it_runs_arbitrary_code(self, project, data_dir):
        """The tool's description says what --allow-run permits, and -c can indeed start any program (QA 26)."""
        marker = project / "ran-a-shell"

        async def body():
            async with stdio(project, data_dir, "--allow-run") as client:
                tools = {t.name: t for t in (await client.list_tools()).tools}
                description = tools["run_and_capture"].description
                assert "Arbitrary code execution" in description and "unsandboxed" in description
                code = f"import os; os.system('touch {marker}')"
                error, text = await call(client, "run_and_capture", command=f'-c "{code}"')
                assert not error and "exit code 0" in text, text

        run(body)
        assert marker.exists()
        help_text = run_python(["-m", "agentlog", "mcp", "--help"], project, child_env())
        assert "arbitrary code execution" in " ".join(help_text.stdout.split())

    def test_run_and_capture_needs_allow_run(self, project, data_dir):
        """Without --allow-run the server offers no tool that executes anything."""

        async def body():
            async with stdio(project, data_dir) as client:
                names = {t.name for t in (await client.list_tools()).tools}
                assert names == READ_ONLY_TOOLS
                error, _ = await call(client, "run_and_capture", command="crash.py")
                assert error

        run(body)

    @pytest.mark.parametrize("corruption", ["file", "garbage"])
    def test_corrupt_store(self, project, data_dir, corruption):
        """A data dir that is a file, or records that are garbage: clear errors or skipped lines, no crash."""
        if corruption == "file":
            data_dir.write_text("not a directory")
        else:
            data_dir.mkdir()
            (data_dir / "records.jsonl").write_text(
                'not json\n{"sv": 1, "k": "failure", "ts": 5, "exc": "not a dict"}\n{"sv": 1, "k": "session",'
                ' "ts": "x"}\n', encoding="utf-8")

        async def body():
            async with stdio(project, data_dir) as client:
                for tool in sorted(READ_ONLY_TOOLS - {"get_failure", "get_session", "search_errors"}):
                    error, text = await call(client, tool)
                    if corruption == "file":
                        assert error and "cannot read AgentLog's data dir" in text, (tool, text)
                    else:
                        assert not error, (tool, text)
                error, text = await call(client, "get_debug_context")
                assert corruption == "file" or text.startswith("No failures recorded.")

        run(body)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TestHttp:
    def test_streamable_http_on_localhost(self, project, data_dir):
        """``--http PORT`` serves the same tools on 127.0.0.1; a failure recorded meanwhile is seen."""
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "agentlog", "mcp", "--http", str(port)], cwd=project,
                                  env=child_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()
                    time.sleep(0.1)

            async def body():
                async with Client(f"http://127.0.0.1:{port}/mcp", cache=None) as client:
                    assert {t.name for t in (await client.list_tools()).tools} == READ_ONLY_TOOLS
                    assert (await call(client, "get_debug_context"))[1].startswith("No failures recorded.")
                    await anyio.to_thread.run_sync(record_crash, project, data_dir)
                    error, text = await call(client, "get_debug_context", max_tokens=500)
                    assert not error and "ZeroDivisionError" in text
                    latest = await client.read_resource("agentlog://failures/latest")
                    assert "parts: int = 0" in latest.contents[0].text

            run(body)
        finally:
            server.terminate()
            server.wait(timeout=30)
        assert server.stdout.read() == b""  # nothing but protocol, and HTTP has none on stdout


    @pytest.mark.parametrize("port", ["0", "65536", "70000", "http"])
    def test_port_out_of_range_is_one_line(self, project, port):
        result = run_python(["-m", "agentlog", "mcp", "--http", port], project, child_env())
        assert result.returncode == 2
        assert result.stderr == f"agentlog mcp: --http takes a port from 1 to 65535, got {port!r}\n"

    def test_port_in_use_is_one_line(self, project):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            result = run_python(["-m", "agentlog", "mcp", "--http", str(port)], project, child_env())
        assert result.returncode == 1
        assert result.stderr == f"agentlog mcp: cannot serve on 127.0.0.1:{port}: address already in use\n"


class TestSubdirectory:
    def test_server_started_in_a_subdirectory_reads_the_project(self, tmp_path):
        """A client that starts ``agentlog mcp`` in a subdirectory (Claude Code, Codex started there)
        serves the project's records, not an empty ``sub/.agentlog``."""
        project = tmp_path / "proj"
        (project / "src/pkg").mkdir(parents=True)
        (project / "pyproject.toml").write_text("[project]\nname = 'proj'\n")
        (project / "crash.py").write_text(CRASH, encoding="utf-8")
        record_crash(project, project / ".agentlog")
        sub = project / "src/pkg"

        async def body():
            params = StdioServerParameters(command=sys.executable, args=["-m", "agentlog", "mcp"],
                                           env=child_env(), cwd=str(sub))
            async with Client(params, cache=None) as client:
                error, listing = await call(client, "list_failures")
                assert not error and "ZeroDivisionError" in listing, listing

        run(body)
        assert not (sub / ".agentlog").exists()


class TestRedactionNote:
    def test_names_kinds_and_stays_short(self):
        """The note counts markers by kind, names at most three, and fits the room kept for it."""
        text = "[REDACTED:name] [REDACTED:name] " + " ".join(f"[REDACTED:kind_{i}]" for i in range(9))
        note = redaction_note(text)
        assert note.startswith("(redacted: 2 name, 1 kind_") and note.endswith(", 7 more kinds)")
        assert count_tokens(note) <= NOTE_TOKENS
        assert redaction_note("plain") == "(redacted: nothing in this result)"


class TestWithoutTheExtra:
    def test_prints_install_command_and_exits_2(self, tmp_path):
        """Without the mcp SDK, ``agentlog mcp`` says how to install it and exits 2."""
        code = "import sys; sys.modules['mcp'] = None; from agentlog.cli import main; sys.exit(main(['mcp']))"
        result = run_python(["-c", code], tmp_path, child_env(tmp_path / "d"))
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.strip() == ("agentlog mcp: the MCP SDK is not installed; install it with: "
                                         "pip install 'agentlog[mcp]'")

    def test_core_imports_without_the_sdk(self, tmp_path):
        """The package, the server module and the formats import with the SDK missing."""
        code = ("import sys; sys.modules['mcp'] = None\n"
                "import agentlog, agentlog.integrations.mcp_server, agentlog.context.formats\n"
                "print(agentlog.get_formatted_context('markdown', 100))")
        result = run_python(["-c", code], tmp_path, child_env(tmp_path / "d"))
        assert result.returncode == 0, result.stderr
        assert "No failures recorded." in result.stdout
