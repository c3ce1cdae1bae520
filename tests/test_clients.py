"""AgentLog against the real clients, pinned in tests/clients/package-lock.json (docs/AGENTS.md "Tested against").

Each client runs on a fresh project where ``agentlog init --all`` ran (clients_support.py), from
its root, from a subdirectory, and after the venv that ran ``init`` moved; it must reach the
failure recorded in the project's ``.agentlog``.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import time
from pathlib import Path

import pytest
from clients_support import BIN, CLIENT_TIMEOUT_S, CLIENTS_DIR, MARKER, NODE, Project, make_project, skip_reason
from model_standins import MessagesStandIn, ResponsesStandIn

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")

TOOLS = {"get_debug_context", "list_failures", "get_failure", "list_sessions", "get_session", "search_errors",
         "token_summary"}
RESOURCES = {"agentlog://failures/latest", "agentlog://sessions", "agentlog://patterns"}
TEMPLATES = {"agentlog://failures/{id}", "agentlog://sessions/{id}"}
# Where today's main fails for a reason the `agents` branch (issue 19) fixes: the server and the
# hook started in a subdirectory read its own empty .agentlog; the configs name the interpreter
# that ran init (gone once the venv moved); no AGENTLOG=true for the agent's commands; no Codex hook.
APP_SERVER_TIMEOUT_S = 60
WHERE = ["root", "subdir", "moved"]


@pytest.fixture(params=WHERE)
def project(request, tmp_path) -> Project:
    return make_project(tmp_path, request.param)


def run_node(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(NODE), *args], cwd=project.cwd, env=project.env(), capture_output=True, text=True,
                          timeout=CLIENT_TIMEOUT_S)


def assert_failure_context(text: str) -> None:
    """The recorded failure's context: exception, frame, and a local only AgentLog captured."""
    assert "ZeroDivisionError" in text and "hit_ratio" in text and MARKER in text, text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_http(project: Project) -> tuple[subprocess.Popen[str], str]:
    """``agentlog mcp --http PORT`` started as a user would, in the client's directory."""
    port = free_port()
    log = project.home / "mcp-http.log"  # a file, not a pipe nobody reads while the clients run
    with log.open("w") as stderr:
        server = subprocess.Popen(["agentlog", "mcp", "--http", str(port)], cwd=project.cwd, env=project.env(),
                                  stdout=subprocess.DEVNULL, stderr=stderr, text=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, f"http://127.0.0.1:{port}/mcp"
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                stop(server)
                raise AssertionError(f"agentlog mcp --http did not start: {log.read_text()}") from None
            time.sleep(0.1)


def stop(server: subprocess.Popen[str]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


class TestTypeScriptSDK:
    """@modelcontextprotocol/sdk's Client (tests/clients/sdk_client.mjs)."""

    def check(self, result: subprocess.CompletedProcess[str]) -> None:
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        assert out["server"]["name"] == "agentlog" and "get_debug_context" in out["instructions"]
        assert set(out["tools"]) == TOOLS  # run_and_capture only with --allow-run
        assert set(out["resources"]) >= RESOURCES and set(out["templates"]) == TEMPLATES
        assert out["prompts"] == ["debug_latest_failure"]
        assert not out["tool"]["isError"]
        for text in (out["tool"]["text"], out["resource"], out["prompt"]):
            assert_failure_context(text)

    def test_stdio_from_project_config(self, project):
        """The server as .mcp.json (written by init) says, started in the client's directory."""
        project.record_failure()
        self.check(run_node(project, str(CLIENTS_DIR / "sdk_client.mjs"), "stdio",
                            str(project.root / ".mcp.json"), "agentlog"))

    @pytest.mark.parametrize("project", ["root", "subdir"], indirect=True)
    def test_streamable_http(self, project):
        project.record_failure()
        server, url = serve_http(project)
        try:
            self.check(run_node(project, str(CLIENTS_DIR / "sdk_client.mjs"), "http", url))
        finally:
            stop(server)


class TestInspectorCLI:
    """The MCP Inspector's CLI (``inspector --cli``), one method per run, as a user scripts it."""

    def inspect(self, project: Project, target: list[str], method: str, *args: str) -> dict:
        result = run_node(project, str(BIN / "inspector"), "--cli", *target, "--method", method, *args)
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout)

    def check(self, project: Project, target: list[str], every_list: bool = True) -> None:
        called = self.inspect(project, target, "tools/call", "--tool-name", "get_debug_context",
                              "--tool-arg", "max_tokens=800")
        assert not called.get("isError")
        assert_failure_context("".join(block["text"] for block in called["content"]))
        read = self.inspect(project, target, "resources/read", "--uri", "agentlog://failures/latest")
        assert_failure_context("".join(content["text"] for content in read["contents"]))
        assert {t["name"] for t in self.inspect(project, target, "tools/list")["tools"]} == TOOLS
        if not every_list:
            return  # each run costs seconds; the SDK's test lists everything over HTTP
        assert {r["uri"] for r in self.inspect(project, target, "resources/list")["resources"]} >= RESOURCES
        assert [p["name"] for p in self.inspect(project, target, "prompts/list")["prompts"]] == ["debug_latest_failure"]

    def test_stdio_from_project_config(self, project):
        project.record_failure()
        self.check(project, ["--config", str(project.root / ".mcp.json"), "--server", "agentlog"])

    @pytest.mark.parametrize("project", ["root", "subdir"], indirect=True)
    def test_streamable_http(self, project):
        project.record_failure()
        server, url = serve_http(project)
        try:
            self.check(project, [url], every_list=False)
        finally:
            stop(server)


def texts(value) -> list[str]:
    """Every string under a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in texts(item)]
    return []


def tool_results(request: dict) -> dict[str, dict]:
    """The tool_result blocks of a Messages API request, by tool_use_id."""
    return {block["tool_use_id"]: block for message in request["messages"] if isinstance(message["content"], list)
            for block in message["content"] if block.get("type") == "tool_result"}


def only_data_dir(project: Project) -> None:
    """Every record went to the project's .agentlog, wherever the client started."""
    assert sorted(project.root.rglob(".agentlog")) == [project.data_dir]
    assert any(project.data_dir.glob("records*.jsonl"))


class TestClaudeCode:
    """``claude -p`` with the Messages API replaced by tests/model_standins.py: CLI, hooks, MCP client real.

    The scripted model runs a failing command with Bash, then calls the agentlog MCP server's
    get_debug_context, then ends the turn. What Claude Code sent after each step must carry the
    failure's context: from AgentLog's PostToolUseFailure hook, then from the MCP tool.
    """

    def run_claude(self, project: Project, command: str) -> list[dict]:
        trusted = {"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True,
                   "enabledMcpjsonServers": ["agentlog"]}
        (project.home / ".claude.json").write_text(json.dumps(
            {"hasCompletedOnboarding": True, "projects": {str(project.root): trusted, str(project.cwd): trusted}}))
        script = [("Bash", {"command": command, "description": "Run the program"}),
                  ("mcp__agentlog__get_debug_context", {"max_tokens": 800})]
        with MessagesStandIn(script) as api:
            env = project.env(ANTHROPIC_BASE_URL=api.url, ANTHROPIC_API_KEY="sk-ant-standin-not-a-real-key",
                              CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_AUTOUPDATER="1")
            result = subprocess.run(
                [str(BIN / "claude"), "-p", "Run the program and find out why it fails.", "--output-format", "json",
                 "--allowedTools", "Bash", "mcp__agentlog__get_debug_context"],
                cwd=project.cwd, env=env, capture_output=True, text=True, timeout=CLIENT_TIMEOUT_S)
            assert result.returncode == 0, result.stdout + result.stderr
            requests = api.agent_requests()
        assert json.loads(result.stdout)["result"] == "Done."
        assert len(requests) == 3, [texts(r["messages"][-1]) for r in requests]
        return requests

    def hook_context(self, requests: list[dict]) -> str:
        """What reached the model beside the failed Bash call's result: the hook's additional context."""
        _, after_bash, _ = requests
        [bash] = tool_results(after_bash).values()
        assert bash["is_error"] and "ZeroDivisionError" in "".join(texts(bash["content"]))
        hook = [text for message in after_bash["messages"] for text in texts(message["content"])
                if "<agentlog_context>" in text and text not in texts(bash["content"])]
        assert hook, "the hook's context did not reach the model"
        assert_failure_context(hook[0])
        return hook[0]

    def check(self, project: Project, command: str) -> str:
        requests = self.run_claude(project, command)
        # Claude Code 2.1.332 reads project settings, hooks included, from <cwd>/.claude only (its
        # debug log names the paths it tries): started in a subdirectory it runs no project hook.
        hook = self.hook_context(requests) if project.cwd == project.root else ""
        [mcp] = [block for key, block in tool_results(requests[2]).items() if key not in tool_results(requests[1])]
        assert not mcp.get("is_error"), mcp
        assert_failure_context("".join(texts(mcp["content"])))
        only_data_dir(project)
        return hook

    def test_failed_command_context_reaches_model(self, project):
        """``python -m agentlog`` fails; the hook and the MCP server hand the model its locals."""
        self.check(project, f"python -m agentlog {os.path.relpath(project.root / 'app.py', project.cwd)}")

    @pytest.mark.parametrize("project", ["root"], indirect=True)
    def test_plain_python_captured_with_no_setup(self, project):
        """``python app.py`` as the agent types it: init's AGENTLOG=true records it; the hook knows its start."""
        hook = self.check(project, "python app.py")
        assert "since the previous command" not in hook


class AppServer:
    """``codex app-server``: JSON-RPC, one JSON object a line on stdio, notifications kept as they come."""

    def __init__(self, project: Project, user_config: str = "", **env: str) -> None:
        codex_home = project.home / ".codex"
        codex_home.mkdir()
        # The trust answer Codex stores when the user trusts the project (it then reads .codex/).
        trust = f'[projects.{json.dumps(str(project.root))}]\ntrust_level = "trusted"\n'
        (codex_home / "config.toml").write_text(user_config + trust, encoding="utf-8")
        self.proc = subprocess.Popen([str(NODE), str(BIN / "codex"), "app-server"], cwd=project.cwd,
                                     env=project.env(CODEX_HOME=str(codex_home), **env), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.notifications: list[dict] = []
        self.next_id = 0
        self.pending = ""
        self.unread = b""  # read from stdout, not yet split into lines
        # A healthy session takes seconds; when its MCP server fails to start, Codex now and then
        # leaves a request unanswered, so the whole session has one deadline.
        self.deadline = time.monotonic() + APP_SERVER_TIMEOUT_S

    def __enter__(self) -> AppServer:
        try:
            self.request("initialize", clientInfo={"name": "agentlog-tests", "title": None, "version": "1.0.0"},
                         capabilities=None)
        except BaseException:
            stop(self.proc)
            raise
        self.notify("initialized")
        return self

    def __exit__(self, *exc: object) -> None:
        stop(self.proc)

    def read(self) -> dict:
        # Lines are split here, not by a buffered readline: select() cannot see lines such a
        # buffer already holds, so a burst of notifications would leave the last one unread.
        while b"\n" not in self.unread:
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, self.deadline - time.monotonic()))
            chunk = os.read(self.proc.stdout.fileno(), 65536) if ready else b""
            assert chunk, f"codex app-server closed its output or timed out ({self.pending} pending)"
            self.unread += chunk
        line, self.unread = self.unread.split(b"\n", 1)
        return json.loads(line)

    def notify(self, method: str) -> None:
        self.proc.stdin.write(json.dumps({"method": method}) + "\n")
        self.proc.stdin.flush()

    def request(self, method: str, **params) -> dict:
        """The result of one request (an error response fails the test with its message)."""
        self.next_id += 1
        self.pending = method
        self.proc.stdin.write(json.dumps({"id": self.next_id, "method": method, "params": params}) + "\n")
        self.proc.stdin.flush()
        while True:
            message = self.read()
            if message.get("id") == self.next_id and "method" not in message:
                assert "error" not in message, f"{method}: {message['error']}"
                return message["result"]
            self.notifications.append(message)

    def wait(self, method: str) -> dict:
        """The params of the first notification ``method``."""
        seen = 0
        while True:
            for message in self.notifications[seen:]:
                if message.get("method") == method:
                    return message["params"]
            seen = len(self.notifications)
            self.notifications.append(self.read())

    def server_status(self, thread: str, name: str) -> dict:
        """The MCP server's entry in ``mcpServerStatus/list`` once it has started or failed to."""
        while True:
            [status] = [s for s in self.request("mcpServerStatus/list", threadId=thread)["data"] if s["name"] == name]
            if status["runtimeStatus"] not in ("notStarted", "starting") or time.monotonic() > self.deadline:
                return status
            time.sleep(0.2)

    def trust_project_hooks(self, cwd: Path) -> None:
        """The user's answer to Codex's hook review: trust the project's hooks as they are now.

        Codex keeps it in the user config as ``[hooks.state."<key>"] trusted_hash``; the hash comes
        from ``hooks/list``, as Codex's own review screen takes it.
        """
        [listing] = self.request("hooks/list", cwds=[str(cwd)])["data"]
        state = {hook["key"]: {"trusted_hash": hook["currentHash"]} for hook in listing["hooks"]
                 if hook["source"] == "project"}
        if state:
            self.request("config/batchWrite", edits=[{"keyPath": "hooks.state", "value": state,
                                                      "mergeStrategy": "upsert"}], reloadUserConfig=True)


def responses_provider(url: str) -> str:
    """User config: the model is the stand-in; commands keep the venv's PATH (see docs/AGENTS.md)."""
    return f"""allow_login_shell = false
model = "gpt-standin"
model_provider = "standin"

[model_providers.standin]
name = "Scripted stand-in"
base_url = "{url}/v1"
wire_api = "responses"
env_key = "STANDIN_API_KEY"

"""


class TestCodex:
    """Codex through ``codex app-server`` (JSON-RPC on stdio)."""

    def test_mcp_server_started_and_called(self, project):
        """A thread in the project starts its MCP servers with no model call; status, tool, resource."""
        project.record_failure()
        with AppServer(project) as codex:
            thread = codex.request("thread/start", cwd=str(project.cwd))["thread"]["id"]
            status = codex.server_status(thread, "agentlog")
            assert status["runtimeStatus"] == "connected", status["toolsError"]
            assert status["serverInfo"]["name"] == "agentlog"
            assert set(status["tools"]) == TOOLS
            assert {r["uri"] for r in status["resources"]} >= RESOURCES
            called = codex.request("mcpServer/tool/call", threadId=thread, server="agentlog", tool="get_debug_context",
                                   arguments={"max_tokens": 800})
            assert not called.get("isError")
            assert_failure_context("".join(block.get("text", "") for block in called["content"]))
            read = codex.request("mcpServer/resource/read", threadId=thread, server="agentlog",
                                 uri="agentlog://failures/latest")
            assert_failure_context("".join(content["text"] for content in read["contents"]))

    @pytest.mark.parametrize("project", ["root"], indirect=True)
    @pytest.mark.parametrize("command", ["python -m agentlog app.py", "python app.py"])
    def test_hook_context_reaches_model(self, project, command):
        """A turn with a scripted Responses API: the command fails; init's PostToolUse hook hands over the locals.

        The user trusted the project and its hooks once; the model runs ``command`` with Codex's
        shell tool, and what Codex sent the model next must carry the failure's context.
        """
        with ResponsesStandIn([("command", {"command": command})]) as api:
            with AppServer(project, responses_provider(api.url), STANDIN_API_KEY="not-a-real-key") as codex:
                codex.trust_project_hooks(project.cwd)
                thread = codex.request("thread/start", cwd=str(project.cwd), approvalPolicy="never",
                                       sandbox="danger-full-access")["thread"]["id"]
                codex.request("turn/start", threadId=thread,
                              input=[{"type": "text", "text": "Run the program.", "text_elements": []}])
                assert codex.wait("turn/completed")["turn"]["status"] == "completed"
            requests = api.agent_requests()
        assert len(requests) == 2
        [output] = [item["output"] for item in requests[1]["input"] if item.get("type") == "function_call_output"]
        assert "ZeroDivisionError" in output and MARKER not in output
        before = texts(requests[0]["input"])  # the hook's context: a message new in the second request
        hook = [text for item in requests[1]["input"] if item.get("type") == "message"
                for text in texts(item["content"]) if text not in before]
        assert hook, "the hook's context did not reach the model"
        assert_failure_context(hook[0])
        only_data_dir(project)
