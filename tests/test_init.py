"""``agentlog init``: agents' project files created, merged, idempotent, dry-run, refusing bad files."""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path

import pytest
from support import PACKAGE_ROOT, child_env, run_python

from agentlog.integrations.agentfiles import (
    BLOCK_BEGIN,
    BLOCK_END,
    UnparseableFile,
    merge_gitignore,
    merge_markdown_block,
    merge_toml_table,
    toml_table,
    toml_value,
)

ALL_FILES = [".mcp.json", "CLAUDE.md", ".claude/settings.json", ".codex/config.toml", ".codex/hooks.json", "AGENTS.md",
             ".cursor/mcp.json", ".cursor/rules/agentlog.mdc", ".gemini/settings.json", "GEMINI.md",
             ".vscode/mcp.json", ".agents/skills/agentlog/SKILL.md", ".claude/skills/agentlog/SKILL.md",
             ".gitignore"]
SERVER = {"command": "agentlog", "args": ["mcp"]}  # portable: the agentlog on PATH
IN_WORKSPACE = {"AGENTLOG_DIR": "${workspaceFolder}/.agentlog"}


def init(project: Path, *flags: str, path: str | None = None):
    extra = {"PATH": path} if path is not None else {}
    return run_python(["-m", "agentlog", "init", *flags], project, child_env(project / ".agentlog", **extra))


def snapshot(project: Path) -> dict[str, str]:
    return {str(p.relative_to(project)): p.read_text() for p in sorted(project.rglob("*")) if p.is_file()}


def frontmatter(text: str) -> dict[str, str]:
    lines = text.splitlines()
    assert lines[0] == "---"
    return dict(line.split(": ", 1) for line in lines[1:lines.index("---", 1)])


def hook_entries(settings: dict, event: str) -> list[dict]:
    return [h for e in settings["hooks"][event] if e["matcher"] == "Bash" for h in e["hooks"]]


class TestFreshProject:
    def test_all_creates_every_file(self, tmp_path):
        """--all on an empty project writes each target's files with the documented shapes."""
        result = init(tmp_path, "--all")
        assert result.returncode == 0, result.stderr
        assert sorted(snapshot(tmp_path)) == sorted(ALL_FILES)
        read = lambda name: json.loads((tmp_path / name).read_text())  # noqa: E731
        assert read(".mcp.json") == {"mcpServers": {"agentlog": {"type": "stdio", **SERVER}}}
        assert read(".cursor/mcp.json") == {"mcpServers": {"agentlog": {**SERVER, "env": IN_WORKSPACE}}}
        assert read(".gemini/settings.json") == {"mcpServers": {"agentlog": SERVER}}
        assert read(".vscode/mcp.json") == {"servers": {"agentlog": {"type": "stdio", **SERVER, "env": IN_WORKSPACE}}}
        codex = tomllib.loads((tmp_path / ".codex/config.toml").read_text())
        assert codex == {"mcp_servers": {"agentlog": SERVER}, "shell_environment_policy": {"set": {"AGENTLOG": "true"}}}
        settings = read(".claude/settings.json")
        assert settings["env"] == {"AGENTLOG": "true"}
        for event in ("PreToolUse", "PostToolUse", "PostToolUseFailure"):
            assert hook_entries(settings, event) == [{"type": "command", "command": "agentlog hook claude",
                                                      "timeout": 10}]
        codex_hooks = read(".codex/hooks.json")
        assert set(codex_hooks["hooks"]) == {"PreToolUse", "PostToolUse"}
        for event in ("PreToolUse", "PostToolUse"):
            assert hook_entries(codex_hooks, event)[0]["command"] == "agentlog hook codex"
        assert (tmp_path / ".gitignore").read_text() == ".agentlog/\n"
        for name in ("CLAUDE.md", "AGENTS.md", "GEMINI.md"):
            text = (tmp_path / name).read_text()
            assert text.startswith(BLOCK_BEGIN) and text.rstrip().endswith(BLOCK_END) and "get_debug_context" in text
            assert text.count(BLOCK_BEGIN) == 1

    def test_committed_files_name_nothing_of_this_machine(self, tmp_path):
        """No interpreter path, no checkout path: a teammate's clone and CI read the same files."""
        init(tmp_path, "--all")
        for name, text in snapshot(tmp_path).items():
            for machine in (sys.executable, str(Path(sys.executable).parent), str(tmp_path), str(Path.home())):
                assert machine not in text, (name, machine)

    def test_cursor_rule_is_always_loaded(self, tmp_path):
        """The rule applies to every request, a command with no Python file attached included."""
        init(tmp_path, "--cursor")
        text = (tmp_path / ".cursor/rules/agentlog.mdc").read_text()
        fields = frontmatter(text)
        assert fields.keys() == {"description", "alwaysApply"} and fields["alwaysApply"] == "true"
        assert fields["description"].strip()
        assert "agentlog context --format cursor" in text[text.index("---", 3):]

    def test_skill_frontmatter(self, tmp_path):
        """Agent Skills: name equal to the folder's (lowercase, hyphens), a description under 1,024 chars."""
        init(tmp_path, "--skill")
        for folder in (".agents/skills/agentlog", ".claude/skills/agentlog"):
            fields = frontmatter((tmp_path / folder / "SKILL.md").read_text())
            assert fields["name"] == "agentlog" == Path(folder).name
            assert 0 < len(fields["description"]) <= 1024 and "\n" not in fields["description"]

    def test_one_agent_only(self, tmp_path):
        init(tmp_path, "--codex")
        assert sorted(snapshot(tmp_path)) == [".codex/config.toml", ".codex/hooks.json", ".gitignore", "AGENTS.md"]

    def test_codex_and_vscode_share_one_agents_md_block(self, tmp_path):
        init(tmp_path, "--codex", "--vscode")
        assert (tmp_path / "AGENTS.md").read_text().count(BLOCK_BEGIN) == 1

    def test_no_hook(self, tmp_path):
        init(tmp_path, "--claude", "--codex", "--no-hook")
        settings = json.loads((tmp_path / ".claude/settings.json").read_text())
        assert settings == {"env": {"AGENTLOG": "true"}}  # capture stays on; no hook
        assert not (tmp_path / ".codex/hooks.json").exists() and (tmp_path / ".mcp.json").exists()

    def test_local_names_this_python_only_in_local_files(self, tmp_path):
        """--local: this machine's interpreter (normalised), in .claude/settings.local.json only; the
        clients' own commands for a local-scope server are printed."""
        result = init(tmp_path, "--claude", "--codex", "--local")
        assert result.returncode == 0, result.stderr
        assert sorted(snapshot(tmp_path)) == [".claude/settings.local.json", ".codex/config.toml", ".gitignore",
                                              "AGENTS.md", "CLAUDE.md"]
        settings = json.loads((tmp_path / ".claude/settings.local.json").read_text())
        python = os.path.normpath(sys.executable)
        assert hook_entries(settings, "PostToolUseFailure")[0]["command"] == f"{python} -m agentlog hook claude"
        assert sys.executable not in (tmp_path / ".codex/config.toml").read_text()
        assert (tmp_path / ".gitignore").read_text() == ".agentlog/\n.claude/settings.local.json\n"
        assert f"claude mcp add --scope local agentlog -- {python} -m agentlog mcp" in result.stdout
        assert f"codex mcp add agentlog -- {python} -m agentlog mcp" in result.stdout

    def test_from_a_subdirectory_sets_up_the_project(self, tmp_path):
        """init in ``src/pkg`` writes at the project's root (the nearest pyproject.toml or .git)."""
        (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
        sub = tmp_path / "src/pkg"
        sub.mkdir(parents=True)
        result = init(sub, "--claude")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"agentlog init: setting up the project at {tmp_path}\n")
        assert (tmp_path / ".mcp.json").is_file() and not list(sub.iterdir())

    def test_no_agent_named(self, tmp_path):
        result = init(tmp_path)
        assert result.returncode == 2
        assert "--claude, --codex, --cursor, --gemini, --vscode, --skill or --all" in result.stderr
        assert snapshot(tmp_path) == {}


class TestRefusedPaths:
    @pytest.mark.parametrize("name", ["CLAUDE.md", ".mcp.json", ".codex", ".claude", ".gitignore"])
    def test_symlink_shipped_by_a_repository(self, tmp_path, name):
        """A symlink a clone brought (CLAUDE.md -> ~/.bashrc, .codex -> elsewhere) is never written through."""
        outside = tmp_path / "outside"
        outside.mkdir()
        target = outside / "target"
        project = tmp_path / "project"
        project.mkdir()
        if name.startswith(".c") and "." not in name[1:]:
            target.mkdir()
        else:
            target.write_text("precious\n")
        (project / name).symlink_to(target)
        result = init(project, "--all")
        assert result.returncode == 1
        assert result.stderr == (f"agentlog init: {name} is a symlink; init writes only regular files inside the "
                                 "project (replace it with a file or remove it); nothing was changed\n")
        assert sorted(p.name for p in project.iterdir()) == [name]
        assert (target.read_text() == "precious\n") if target.is_file() else not any(target.iterdir())


class TestInstallCheck:
    def fake_env(self, where: Path, *dists: str) -> Path:
        (where / "bin").mkdir(parents=True)
        (where / "pyvenv.cfg").write_text("home = /usr/bin\n")
        site = where / "lib/python3.13/site-packages"
        site.mkdir(parents=True)
        for dist in dists:
            (site / f"{dist}-1.0.dist-info").mkdir()
        return where

    def test_missing_everywhere_one_line_each(self, tmp_path):
        """No AgentLog in .venv, no agentlog on PATH: one line each, saying the command that fixes it."""
        project = tmp_path / "p"
        project.mkdir()
        (project / "pyproject.toml").write_text("[project]\nname = 'p'\n")
        (project / "uv.lock").write_text("")
        self.fake_env(project / ".venv")
        empty = tmp_path / "empty-bin"
        empty.mkdir()
        result = init(project, "--claude", path=str(empty))
        assert result.returncode == 0
        lines = result.stderr.splitlines()
        assert lines == [
            "agentlog init: AgentLog is not installed in .venv/, so the agent's Python there records nothing: "
            "add it with `uv add --dev agentlog`",
            "agentlog init: `agentlog` is not on PATH, so the clients cannot start its MCP server or hook: install "
            "it with `uv tool install 'agentlog[mcp]'` or `pipx install 'agentlog[mcp]'` (or run init with --local "
            "to name this machine's Python instead)"]

    def test_installed_says_nothing(self, tmp_path):
        """AgentLog in .venv and an agentlog on PATH whose environment has the MCP SDK: no warning."""
        project = tmp_path / "p"
        project.mkdir()
        env = self.fake_env(project / ".venv", "agentlog")
        tool = self.fake_env(tmp_path / "tool", "agentlog", "mcp")
        (tool / "bin/python").symlink_to(sys.executable)
        script = tool / "bin/agentlog"
        script.write_text(f"#!{tool}/bin/python\nimport agentlog.cli\n")
        script.chmod(0o755)
        (env / "bin/python").symlink_to(sys.executable)
        result = init(project, "--claude", path=f"{env}/bin:{tool}/bin")
        assert result.returncode == 0 and result.stderr == "", result.stderr

    def test_python_on_path_without_agentlog(self, tmp_path):
        """The interpreter `python` resolves to (a venv outside the project): its own line; a shim
        (pyenv's `#!` script chooses at run time) is not guessed at."""
        other = self.fake_env(tmp_path / "other")
        (other / "bin/python").symlink_to(sys.executable)
        result = init(tmp_path, "--claude", path=f"{other}/bin")
        assert (f"AgentLog is not installed for `python` ({other}/bin/python), so commands run with it record "
                f"nothing: `{other}/bin/python -m pip install agentlog`") in result.stderr
        shims = tmp_path / "shims"
        shims.mkdir()
        (shims / "python").write_text("#!/bin/sh\nexec python3 \"$@\"\n")
        (shims / "python").chmod(0o755)
        assert "not installed for `python`" not in init(tmp_path, "--claude", path=str(shims)).stderr

    def test_tool_without_mcp(self, tmp_path):
        tool = self.fake_env(tmp_path / "tool", "agentlog")
        script = tool / "bin/agentlog"
        script.write_text(f"#!{tool}/bin/python\n")
        script.chmod(0o755)
        result = init(tmp_path, "--claude", path=f"{tool}/bin")
        assert "lacks the MCP SDK, so `agentlog mcp` will not start" in result.stderr


@pytest.fixture
def configured(tmp_path) -> Path:
    """A project whose agents are already configured with other servers, settings and notes."""
    (tmp_path / ".mcp.json").write_text('{"mcpServers": {"db": {"command": "db-mcp"}}, "extra": [1, 2]}\n')
    (tmp_path / "CLAUDE.md").write_text("# Project\n\n<!-- a comment the user keeps -->\nUse tabs.\n")
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude/settings.json").write_text(json.dumps({
        "permissions": {"allow": ["Bash(ls:*)"]},
        "hooks": {"PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "fmt"}]}]}}))
    (tmp_path / ".cursor").mkdir()
    (tmp_path / ".cursor/mcp.json").write_text('{"mcpServers": {"web": {"url": "http://x/mcp"}}}')
    (tmp_path / ".codex").mkdir()
    (tmp_path / ".codex/config.toml").write_text(
        '# my codex settings\nmodel = "o3"\n\n[mcp_servers.db]\ncommand = "db-mcp"\nargs = ["--ro"]\n\n'
        '[mcp_servers.agentlog]\ncommand = "old-python"\n\n[mcp_servers.agentlog.env]\nX = "1"\n\n'
        '[profiles.fast]\nmodel = "o4-mini"\n\n[shell_environment_policy]\ninherit = "core"\n\n'
        '[shell_environment_policy.set]\nFOO = "1"\n')
    (tmp_path / "AGENTS.md").write_text("# Agents\n\nRun `make test`.\n")
    (tmp_path / ".gitignore").write_text("node_modules\n/.agentlog\n")
    return tmp_path


class TestConfiguredProject:
    def test_merge_keeps_everything_else(self, configured):
        """Other servers, settings, hooks, TOML tables and markdown (comments too) survive."""
        before = snapshot(configured)
        result = init(configured, "--all")
        assert result.returncode == 0, result.stderr
        claude = json.loads((configured / ".mcp.json").read_text())
        assert claude["mcpServers"]["db"] == {"command": "db-mcp"} and claude["extra"] == [1, 2]
        assert "agentlog" in claude["mcpServers"]
        settings = json.loads((configured / ".claude/settings.json").read_text())
        assert settings["permissions"] == {"allow": ["Bash(ls:*)"]}
        assert settings["hooks"]["PostToolUse"][0]["matcher"] == "Edit"
        assert [e["matcher"] for e in settings["hooks"]["PostToolUse"]] == ["Edit", "Bash"]
        assert json.loads((configured / ".cursor/mcp.json").read_text())["mcpServers"]["web"] == {"url": "http://x/mcp"}
        codex_text = (configured / ".codex/config.toml").read_text()
        codex = tomllib.loads(codex_text)
        assert codex["model"] == "o3" and codex["profiles"] == {"fast": {"model": "o4-mini"}}
        assert codex["mcp_servers"]["db"] == {"command": "db-mcp", "args": ["--ro"]}
        assert codex["mcp_servers"]["agentlog"] == SERVER  # the old table and its env sub-table replaced
        assert codex_text.startswith("# my codex settings\n")
        assert codex["shell_environment_policy"] == {"inherit": "core", "set": {"FOO": "1", "AGENTLOG": "true"}}
        claude_md = (configured / "CLAUDE.md").read_text()
        assert claude_md.startswith(before["CLAUDE.md"].rstrip("\n"))
        assert "<!-- a comment the user keeps -->" in claude_md
        assert (configured / "AGENTS.md").read_text().startswith("# Agents\n\nRun `make test`.\n\n" + BLOCK_BEGIN)
        assert (configured / ".gitignore").read_text() == before[".gitignore"]  # /.agentlog already ignores it

    def test_second_run_changes_nothing(self, configured):
        """Idempotent: a second init writes nothing and says so."""
        init(configured, "--all")
        after_first = snapshot(configured)
        result = init(configured, "--all")
        assert result.returncode == 0 and "nothing to change" in result.stdout
        assert snapshot(configured) == after_first

    def test_block_is_replaced_not_repeated(self, configured):
        """An edited managed block is rewritten in place; text after it stays."""
        init(configured, "--claude")
        path = configured / "CLAUDE.md"
        path.write_text(path.read_text().replace("get_debug_context", "OLD") + "\n## After\nkept\n")
        init(configured, "--claude")
        text = path.read_text()
        assert text.count(BLOCK_BEGIN) == 1 and "OLD" not in text and text.endswith("## After\nkept\n")

    def test_dry_run_shows_diff_and_writes_nothing(self, configured):
        before = snapshot(configured)
        result = init(configured, "--all", "--dry-run")
        assert result.returncode == 0, result.stderr
        assert snapshot(configured) == before
        out = result.stdout
        assert "--- a/.mcp.json\n+++ b/.mcp.json\n" in out and '+    "agentlog": {' in out
        assert "--- /dev/null\n+++ b/.cursor/rules/agentlog.mdc\n" in out
        assert '-command = "old-python"' in out and "-[mcp_servers.agentlog.env]" in out
        assert " <!-- a comment the user keeps -->" in out  # context line: kept

    @pytest.mark.parametrize(("name", "content", "message"), [
        (".mcp.json", '{"mcpServers": {', ".mcp.json is not valid JSON"),
        (".mcp.json", "[1, 2]", ".mcp.json holds a JSON list, not an object"),
        (".mcp.json", '{"mcpServers": []}', "'mcpServers' is a list, not an object"),
        (".claude/settings.json", '{"hooks": {"PostToolUse": {}}}', "hooks.PostToolUse is not a list"),
        (".codex/config.toml", "[mcp_servers\ncommand = 1\n", ".codex/config.toml is not valid TOML"),
        (".codex/config.toml", 'mcp_servers = { agentlog = { command = "x" } }\n', "cannot replace"),
    ])
    def test_unparseable_file_refused(self, configured, name, content, message):
        """A file that cannot be parsed (or changed safely): one clear line, exit 1, nothing written."""
        (configured / name).write_text(content)
        before = snapshot(configured)
        result = init(configured, "--all")
        assert result.returncode == 1
        assert result.stderr.startswith("agentlog init: ") and message in result.stderr
        assert result.stderr.strip().endswith("nothing was changed") and result.stderr.count("\n") == 1
        assert snapshot(configured) == before


class TestTomlEmitter:
    @pytest.mark.parametrize("value", [
        "plain", "", 'quote " and \\ backslash', "new\nline\ttab\r", "\x00\x01\x1f\x7f control", "é ü 日本 🎉",
        "'single'", "#not a comment", "[not] a table", ["-m", "agentlog", "mcp"], [], True, False, 0, -7,
        {"AGENTLOG_DIR": "/p", "weird key": "v", "": "empty key"},
    ])
    def test_round_trips_through_tomllib(self, value):
        """Every value the emitter writes reads back equal with tomllib."""
        text = toml_table(("mcp_servers", "agent log"), {"v": value, "key.with.dots": value})
        assert tomllib.loads(text) == {"mcp_servers": {"agent log": {"v": value, "key.with.dots": value}}}

    def test_unsupported_type(self):
        with pytest.raises(TypeError):
            toml_value(1.5)

    def test_merge_into_empty_and_commented_files(self):
        assert tomllib.loads(merge_toml_table(None, "c", ("a", "b"), {"x": 1})) == {"a": {"b": {"x": 1}}}
        text = merge_toml_table("# only a comment\n", "c", ("a", "b"), {"x": 1})
        assert text.startswith("# only a comment\n") and tomllib.loads(text) == {"a": {"b": {"x": 1}}}

    def test_header_with_comment_and_quotes(self):
        """An old table whose header carries a comment or quoted keys is found and replaced."""
        old = '[a."b"] # ours\nx = 0\n[c]\ny = 1\n'
        new = merge_toml_table(old, "c", ("a", "b"), {"x": 2})
        assert tomllib.loads(new) == {"a": {"b": {"x": 2}}, "c": {"y": 1}}

    def test_unchanged_table_keeps_text(self):
        old = '[a.b]  \nx = 1 # same\n'
        assert merge_toml_table(old, "c", ("a", "b"), {"x": 1}) is old

    def test_dotted_keys_refused(self):
        with pytest.raises(UnparseableFile):
            merge_toml_table('a.b.x = 0\n', "c", ("a", "b"), {"x": 1})


class TestMarkdownAndGitignore:
    def test_block_appended_after_existing_text(self):
        text = merge_markdown_block("# T\n<!-- note -->\n", "hello")
        assert text == f"# T\n<!-- note -->\n\n{BLOCK_BEGIN}\nhello\n{BLOCK_END}\n"
        assert merge_markdown_block(text, "hello") == text

    def test_unterminated_block_is_not_eaten(self):
        """A begin marker without an end marker: the rest of the file is kept, a new block appended."""
        old = f"{BLOCK_BEGIN}\nuser text\n"
        assert merge_markdown_block(old, "x").startswith(old)

    @pytest.mark.parametrize(("old", "new"), [
        (None, ".agentlog/\n"), ("", ".agentlog/\n"), ("a\n", "a\n.agentlog/\n"), ("a", "a\n.agentlog/\n"),
        (".agentlog\n", ".agentlog\n"), ("/.agentlog/\n", "/.agentlog/\n"),
        ("x/.agentlog\n", "x/.agentlog\n.agentlog/\n"),
    ])
    def test_gitignore(self, old, new):
        assert merge_gitignore(old) == new


class TestCommittedConfigOnAnotherMachine:
    """What `init` wrote keeps working after the venv it ran from is gone and another one serves
    (a teammate's clone, CI, a recreated venv), started from a subdirectory."""

    def make_venv(self, where: Path) -> Path:
        """A real venv whose `agentlog` script runs this AgentLog (its site-packages on the path)."""
        import site
        import subprocess
        import sysconfig

        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120)
        purelib = sysconfig.get_paths(vars={"base": str(where), "platbase": str(where)})["purelib"]
        ours = [p for p in site.getsitepackages() if Path(p, "agentlog").is_dir()] or [str(PACKAGE_ROOT)]
        Path(purelib, "ours.pth").write_text("\n".join(ours) + "\n")
        script = where / "bin/agentlog"
        script.write_text(f"#!{where}/bin/python\nimport sys\nfrom agentlog.cli import main\nsys.exit(main())\n")
        script.chmod(0o755)
        return where

    def test_hook_and_server_after_the_venv_moved(self, tmp_path):
        import shutil
        import subprocess

        import anyio
        from mcp import Client, StdioServerParameters

        project = tmp_path / "proj"
        (project / "src").mkdir(parents=True)
        (project / "pyproject.toml").write_text("[project]\nname = 'proj'\n")
        (project / "src/crash.py").write_text("def half(n):\n    return n / 0\n\nhalf(4)\n")
        first = self.make_venv(tmp_path / "venv-a")
        # init runs from the first venv (an init that named its interpreter would name this one).
        made = subprocess.run([f"{first}/bin/python", "-m", "agentlog", "init", "--claude"], cwd=project,
                              env=child_env(PATH=f"{first}/bin:/usr/bin:/bin"), capture_output=True, text=True,
                              timeout=120)
        assert made.returncode == 0, made.stderr
        shutil.rmtree(first)
        second = self.make_venv(tmp_path / "elsewhere/venv-b")
        env = child_env(PATH=f"{second}/bin:/usr/bin:/bin", CLAUDE_PROJECT_DIR=str(project))
        env.pop("AGENTLOG_DIR", None)
        sub = project / "src"
        assert run_python(["-m", "agentlog", "crash.py"], sub, env).returncode == 1

        settings = json.loads((project / ".claude/settings.json").read_text())
        command = settings["hooks"]["PostToolUseFailure"][0]["hooks"][0]["command"]
        payload = {"hook_event_name": "PostToolUseFailure", "tool_name": "Bash", "tool_use_id": "t1",
                   "cwd": str(sub), "tool_input": {"command": "python crash.py"}, "error": "Exit code 1",
                   "duration_ms": 60_000}
        hooked = subprocess.run(command, shell=True, cwd=sub, env=env, input=json.dumps(payload),
                                capture_output=True, text=True, timeout=60)
        assert hooked.returncode == 0, hooked.stderr
        assert "ZeroDivisionError" in json.loads(hooked.stdout)["hookSpecificOutput"]["additionalContext"]

        server = json.loads((project / ".mcp.json").read_text())["mcpServers"]["agentlog"]

        async def body():
            params = StdioServerParameters(command=server["command"], args=server["args"], env=env, cwd=str(sub))
            with anyio.fail_after(90):
                async with Client(params, cache=None) as client:
                    result = await client.call_tool("list_failures", {})
                    assert "ZeroDivisionError" in "".join(block.text for block in result.content)

        anyio.run(body)
