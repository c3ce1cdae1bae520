"""``agentlog init``: agents' project files created, merged, idempotent, dry-run, refusing bad files."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest
from support import child_env, run_python

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

ALL_FILES = [".mcp.json", "CLAUDE.md", ".claude/settings.json", ".cursor/mcp.json", ".cursor/rules/agentlog.mdc",
             ".codex/config.toml", "AGENTS.md", ".gitignore"]


def init(project: Path, *flags: str):
    return run_python(["-m", "agentlog", "init", *flags], project, child_env(project / ".agentlog"))


def snapshot(project: Path) -> dict[str, str]:
    return {str(p.relative_to(project)): p.read_text() for p in sorted(project.rglob("*")) if p.is_file()}


def server_entry() -> dict:
    return {"command": sys.executable, "args": ["-m", "agentlog", "mcp"]}


class TestFreshProject:
    def test_all_creates_every_file(self, tmp_path):
        """--all on an empty project writes each agent's files with the documented shapes."""
        result = init(tmp_path, "--all")
        assert result.returncode == 0, result.stderr
        assert sorted(snapshot(tmp_path)) == sorted(ALL_FILES)
        claude = json.loads((tmp_path / ".mcp.json").read_text())
        assert claude == {"mcpServers": {"agentlog": {"type": "stdio", **server_entry()}}}
        cursor = json.loads((tmp_path / ".cursor/mcp.json").read_text())["mcpServers"]["agentlog"]
        assert cursor["env"] == {"AGENTLOG_DIR": str(tmp_path / ".agentlog")}
        codex = tomllib.loads((tmp_path / ".codex/config.toml").read_text())
        assert codex == {"mcp_servers": {"agentlog": server_entry()}}
        settings = json.loads((tmp_path / ".claude/settings.json").read_text())
        for event in ("PostToolUse", "PostToolUseFailure"):
            [entry] = settings["hooks"][event]
            assert entry["matcher"] == "Bash" and entry["hooks"][0]["command"].endswith("-m agentlog hook claude")
        assert (tmp_path / ".gitignore").read_text() == ".agentlog/\n"
        for name in ("CLAUDE.md", "AGENTS.md"):
            text = (tmp_path / name).read_text()
            assert text.startswith(BLOCK_BEGIN) and text.rstrip().endswith(BLOCK_END) and "get_debug_context" in text

    def test_cursor_rule_frontmatter(self, tmp_path):
        """The .mdc rule starts with frontmatter: a description, globs, and a boolean alwaysApply."""
        init(tmp_path, "--cursor")
        text = (tmp_path / ".cursor/rules/agentlog.mdc").read_text()
        lines = text.splitlines()
        assert lines[0] == "---"
        end = lines.index("---", 1)
        fields = dict(line.split(": ", 1) for line in lines[1:end])
        assert set(fields) == {"description", "globs", "alwaysApply"}
        assert fields["alwaysApply"] in ("true", "false") and fields["description"].strip()
        assert json.loads(fields["globs"]) == "**/*.py"  # a quoted string
        assert "agentlog context --format cursor" in text[text.index("---", 3):]

    def test_one_agent_only(self, tmp_path):
        init(tmp_path, "--codex")
        assert sorted(snapshot(tmp_path)) == [".codex/config.toml", ".gitignore", "AGENTS.md"]

    def test_no_hook(self, tmp_path):
        init(tmp_path, "--claude", "--no-hook")
        assert not (tmp_path / ".claude/settings.json").exists() and (tmp_path / ".mcp.json").exists()

    def test_no_agent_named(self, tmp_path):
        result = init(tmp_path)
        assert result.returncode == 2 and "--claude, --cursor, --codex or --all" in result.stderr
        assert snapshot(tmp_path) == {}


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
        '[profiles.fast]\nmodel = "o4-mini"\n')
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
        assert codex["mcp_servers"]["agentlog"] == server_entry()  # the old table and its env sub-table replaced
        assert codex_text.startswith("# my codex settings\n")
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
