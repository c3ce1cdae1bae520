"""``agentlog hook claude`` fed Claude Code hook events shaped as Claude Code sends them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import child_env, run_python

from agentlog.context.tokencount import count_tokens
from agentlog.integrations.agentsetup import CLAUDE_HOOK_EVENTS
from agentlog.integrations.claude_hook import HOOK_TOKENS, MAX_COMMAND_S, STATE_FILE, command_failed, hook_output

CRASH = "def load(rows):\n    return rows[5]\n\nload([1, 2, 3])\n"


def event(project: Path, name: str, **fields) -> dict:
    """A hook event as Claude Code writes it to the hook's stdin (docs: code.claude.com/docs/en/hooks)."""
    base = {"session_id": "abc123", "transcript_path": str(project / "t.jsonl"), "cwd": str(project),
            "permission_mode": "default", "hook_event_name": name, "tool_name": "Bash",
            "tool_input": {"command": "python -m agentlog crash.py", "description": "Run it", "timeout": 120000},
            "tool_use_id": "toolu_01"}
    return {**base, **fields}


FAILED = {"error": "Exit code 1\nTraceback (most recent call last):\n  ...\nIndexError: list index out of range"}
SUCCEEDED = {"tool_response": {"stdout": "ok\n", "stderr": "", "interrupted": False, "isImage": False,
                               "noOutputExpected": False}}


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "crash.py").write_text(CRASH)
    return tmp_path


def hook(project: Path, payload: dict | str):
    stdin = payload if isinstance(payload, str) else json.dumps(payload)
    return run_python(["-m", "agentlog", "hook", "claude"], project, child_env(), stdin=stdin)


def agent_env(**extra: str) -> dict[str, str]:
    """An agent's environment: this interpreter's bin (with the ``agentlog`` script) first on PATH."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return child_env(PATH=path, **extra)


def crash(project: Path) -> None:
    result = run_python(["-m", "agentlog", "crash.py"], project, child_env())
    assert result.returncode == 1


class TestHookEndToEnd:
    def test_failed_command_with_new_failure(self, project):
        """A failed Bash call during which a failure was recorded gets that failure as additionalContext."""
        crash(project)
        result = hook(project, event(project, "PostToolUseFailure", **FAILED))
        assert result.returncode == 0, result.stderr
        output = json.loads(result.stdout)
        specific = output["hookSpecificOutput"]
        assert specific["hookEventName"] == "PostToolUseFailure"
        context = specific["additionalContext"]
        assert "IndexError: list index out of range" in context and "rows: list[3] = [1, 2, 3]" in context
        assert count_tokens(context) <= HOOK_TOKENS
        # The same failure is handed over once: the next failed command that records nothing gets nothing.
        again = hook(project, event(project, "PostToolUseFailure", **FAILED))
        assert again.returncode == 0 and again.stdout == ""
        # Its state file is AgentLog's own: ``agentlog clear`` deletes it with the rest.
        assert (project / ".agentlog" / STATE_FILE).stat().st_mode & 0o777 == 0o600
        cleared = run_python(["-m", "agentlog", "clear"], project, child_env())
        assert cleared.returncode == 0 and not (project / ".agentlog").exists(), cleared.stderr

    def test_counts_only_the_failures_of_this_command(self, project):
        """Failures recorded before the Bash call started (earlier runs) are not counted as its own (QA 13)."""
        crash(project)
        crash(project)  # two earlier failing runs, never handed over (no hook ran for them)
        assert hook(project, event(project, "PreToolUse", tool_use_id="toolu_02")).stdout == ""
        crash(project)  # what this command did
        result = hook(project, event(project, "PostToolUseFailure", tool_use_id="toolu_02", **FAILED))
        context = json.loads(result.stdout)["hookSpecificOutput"]["additionalContext"]
        assert context.startswith("AgentLog recorded 1 failure(s) while this command ran;"), context
        # Without its start (no PreToolUse entry) the window is since the previous hook call, and says so.
        crash(project)
        result = hook(project, event(project, "PostToolUseFailure", tool_use_id="toolu_03", **FAILED))
        context = json.loads(result.stdout)["hookSpecificOutput"]["additionalContext"]
        assert context.startswith("AgentLog recorded 1 failure(s) since the previous command (when this one "
                                  "started is unknown"), context

    def test_success_prints_nothing(self, project):
        """A successful Bash call prints nothing, even if a failure was recorded meanwhile (a handled crash)."""
        crash(project)
        result = hook(project, event(project, "PostToolUse", **SUCCEEDED))
        assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
        # ... and that failure is not handed to a later, unrelated failed command.
        assert hook(project, event(project, "PostToolUseFailure", **FAILED)).stdout == ""

    def test_failure_with_nothing_recorded(self, project):
        """A failed command that recorded no failure (not Python, or not under AgentLog) prints nothing."""
        result = hook(project, event(project, "PostToolUseFailure", error="Exit code 127\nmake: not found"))
        assert result.returncode == 0 and result.stdout == ""
        assert not (project / ".agentlog").exists()  # nothing was created either

    def test_interrupted_command(self, project):
        crash(project)
        result = hook(project, event(project, "PostToolUseFailure", error="Interrupted", is_interrupt=True))
        assert result.returncode == 0 and result.stdout == ""

    @pytest.mark.parametrize("stdin", ["", "not json", "[1, 2]"])
    def test_bad_input(self, project, stdin):
        """Not a hook event: one line on stderr, exit 1 (non-blocking for Claude Code), nothing on stdout."""
        result = hook(project, stdin)
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr.startswith("agentlog hook: ") and result.stderr.count("\n") == 1

    def test_bounded_time(self, project):
        """A hook whose stdin never ends gives up after its time limit, silently, exit 0."""
        import subprocess
        import sys

        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "agentlog", "hook", "claude"], cwd=project, env=child_env(),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdin.write(b'{"hook_event_name": "PostToolUseFailure", ')  # and then nothing, stdin left open
        proc.stdin.flush()
        try:
            proc.wait(timeout=60)
        finally:
            proc.kill()
            proc.stdin.close()
        assert proc.returncode == 0 and proc.stdout.read() == b"" and time.monotonic() - start < 30
        proc.stdout.close()
        proc.stderr.close()

    def test_installed_command_runs(self, project):
        """The command ``agentlog init --claude`` writes into .claude/settings.json is this hook."""
        run_python(["-m", "agentlog", "init", "--claude"], project, child_env())
        settings = json.loads((project / ".claude/settings.json").read_text())
        assert sorted(settings["hooks"]) == sorted(CLAUDE_HOOK_EVENTS)
        command = settings["hooks"]["PostToolUseFailure"][0]["hooks"][0]["command"]
        crash(project)
        result = subprocess.run(command, shell=True, cwd=project, env=agent_env(), capture_output=True, text=True,
                                input=json.dumps(event(project, "PostToolUseFailure", **FAILED)), timeout=60)
        assert "IndexError" in json.loads(result.stdout)["hookSpecificOutput"]["additionalContext"]

    def test_first_command_of_a_fresh_project_is_this_commands(self, project):
        """PreToolUse ran before .agentlog/ existed; duration_ms dates the start, so the failure is
        the command's own, not "since the previous command"."""
        assert hook(project, event(project, "PreToolUse")).stdout == ""
        assert not (project / ".agentlog").exists()  # outside a project the hook creates nothing
        begun = time.time()
        crash(project)
        took = int((time.time() - begun) * 1000) + 50
        result = hook(project, event(project, "PostToolUseFailure", duration_ms=took, **FAILED))
        context = json.loads(result.stdout)["hookSpecificOutput"]["additionalContext"]
        assert "while this command ran" in context and "previous command" not in context
        assert "IndexError" in context

    def test_capture_with_no_setup(self, tmp_path):
        """After ``init --claude``: the agent types plain ``python -m pytest`` (in a subdirectory even);
        settings.json's env records the failing test in the project's data dir, and the hook hands
        its values to the model."""
        project = tmp_path / "proj"
        (project / "tests").mkdir(parents=True)
        (project / "pyproject.toml").write_text("[project]\nname = 'proj'\nversion = '0'\n")
        (project / "tests/test_money.py").write_text(
            "def to_cents(amount):\n    return round(amount * 100)\n\n"
            "def test_cents():\n    price = '19.99'\n    assert to_cents(price) == 1999\n")
        assert run_python(["-m", "agentlog", "init", "--claude"], project, agent_env()).returncode == 0
        settings = json.loads((project / ".claude/settings.json").read_text())
        env = {**agent_env(), **settings["env"], "CLAUDECODE": "1", "CLAUDE_PROJECT_DIR": str(project)}
        commands = {e: settings["hooks"][e][0]["hooks"][0]["command"] for e in CLAUDE_HOOK_EVENTS}
        sub = project / "tests"

        def claude_hook(name: str, **fields) -> str:
            payload = event(sub, name, tool_input={"command": "python -m pytest -q"}, **fields)
            done = subprocess.run(commands[name], shell=True, cwd=sub, env=env, input=json.dumps(payload),
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            return done.stdout

        assert claude_hook("PreToolUse") == ""
        begun = time.time()
        ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=sub, env=env,
                             capture_output=True, text=True, timeout=120)
        assert ran.returncode == 1, ran.stdout + ran.stderr
        assert not (sub / ".agentlog").exists() and (project / ".agentlog").is_dir()
        out = claude_hook("PostToolUseFailure", duration_ms=int((time.time() - begun) * 1000), **FAILED)
        context = json.loads(out)["hookSpecificOutput"]["additionalContext"]
        assert "while this command ran" in context and "TypeError" in context and "'19.99'" in context
        sessions = run_python(["-m", "agentlog", "sessions"], project, agent_env())
        assert "agent=claude-code" in sessions.stdout, sessions.stdout
        assert sessions.stdout.count("\n") == 1  # the hooks and `agentlog sessions` record no sessions


class TestCodexHook:
    """``agentlog hook codex``: Codex's PostToolUse carries no exit code; new failures decide."""

    def codex(self, project: Path, name: str, **fields):
        payload = {"session_id": "th_1", "turn_id": "tu_1", "transcript_path": None, "cwd": str(project),
                   "hook_event_name": name, "model": "gpt-5", "tool_name": "Bash", "tool_use_id": "call_7",
                   "tool_input": {"command": "python -m agentlog crash.py"}, **fields}
        return run_python(["-m", "agentlog", "hook", "codex"], project, child_env(), stdin=json.dumps(payload))

    def test_new_failure_is_handed_over(self, project):
        (project / ".agentlog").mkdir()
        assert self.codex(project, "PreToolUse").stdout == ""
        crash(project)
        result = self.codex(project, "PostToolUse", tool_response="Traceback ...")
        output = json.loads(result.stdout)["hookSpecificOutput"]
        assert output["hookEventName"] == "PostToolUse"
        assert output["additionalContext"].splitlines()[1] == "[failure]"  # the codex layout
        assert "IndexError" in output["additionalContext"]
        assert self.codex(project, "PostToolUse").stdout == ""  # handed over once

    def test_first_command_of_a_fresh_project(self, project):
        """Right after ``init`` the project has no data dir: PreToolUse makes it to note the start,
        so the first failing command's context is handed over (Codex sends no duration)."""
        (project / "pyproject.toml").write_text("[project]\nname = 'p'\nversion = '0'\n")
        assert self.codex(project, "PreToolUse").stdout == ""
        assert (project / ".agentlog" / STATE_FILE).is_file()
        crash(project)
        context = json.loads(self.codex(project, "PostToolUse", tool_response="Traceback ...").stdout)
        assert "while this command ran" in context["hookSpecificOutput"]["additionalContext"]
        assert "IndexError" in context["hookSpecificOutput"]["additionalContext"]

    def test_nothing_new_or_no_start(self, project):
        (project / ".agentlog").mkdir()
        self.codex(project, "PreToolUse")
        assert self.codex(project, "PostToolUse", tool_response="ok").stdout == ""
        crash(project)
        # No start noted for this call and no exit code: Codex cannot say it failed, so nothing.
        assert self.codex(project, "PostToolUse", tool_use_id="call_8").stdout == ""

    def test_pre_and_post_paired_without_a_tool_use_id(self, project):
        """An event without ``tool_use_id`` pairs by session, turn and command."""
        (project / ".agentlog").mkdir()
        self.codex(project, "PreToolUse", tool_use_id=None)
        crash(project)
        result = self.codex(project, "PostToolUse", tool_use_id=None, tool_response="Traceback ...")
        assert "IndexError" in json.loads(result.stdout)["hookSpecificOutput"]["additionalContext"]

    def test_exit_code_zero_is_success(self, project):
        (project / ".agentlog").mkdir()
        self.codex(project, "PreToolUse")
        crash(project)
        assert self.codex(project, "PostToolUse", tool_response={"exit_code": 0}).stdout == ""


class TestHookUnits:
    @pytest.mark.parametrize(("fields", "failed"), [
        ({"hook_event_name": "PostToolUseFailure", "error": "Exit code 2"}, True),
        ({"hook_event_name": "PostToolUseFailure", "is_interrupt": True}, False),
        ({"hook_event_name": "PostToolUse", **SUCCEEDED}, False),
        ({"hook_event_name": "PostToolUse", "tool_response": {"exit_code": 3}}, True),
        ({"hook_event_name": "PostToolUse", "tool_response": {"exitCode": 0}}, False),
        ({"hook_event_name": "PostToolUseFailure", "tool_name": "Edit"}, False),
    ])
    def test_command_failed(self, fields, failed):
        assert command_failed(fields) is failed

    @pytest.mark.parametrize(("fields", "failed"), [
        ({"hook_event_name": "PostToolUse", "tool_response": "Traceback"}, None),
        ({"hook_event_name": "PostToolUse", "tool_response": {"exit_code": 1}}, True),
        ({"hook_event_name": "PostToolUse", "tool_response": {"exit_code": 0}}, False),
    ])
    def test_codex_command_failed(self, fields, failed):
        assert command_failed({"tool_name": "Bash", **fields}, "codex") is failed

    def test_old_failures_are_not_this_commands(self, tmp_path):
        """A failure older than the longest Bash call is not handed over, even on the first run."""
        data = tmp_path / "d"
        data.mkdir()
        result = run_python(["-m", "agentlog", "-c", "1/0"], tmp_path, child_env(data))
        assert result.returncode == 1
        failed = {"hook_event_name": "PostToolUseFailure", "tool_name": "Bash"}
        assert hook_output(failed, data, time.time() + MAX_COMMAND_S + 5) is None
        assert not (data / STATE_FILE).exists()
        assert "ZeroDivisionError" in hook_output(failed, data, time.time())["hookSpecificOutput"]["additionalContext"]
        assert hook_output(failed, data, time.time()) is None  # handed over once
