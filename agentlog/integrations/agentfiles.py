"""Merging AgentLog into agents' project files: JSON, TOML, markdown blocks, .gitignore.

Each ``merge_*`` takes a file's current text (None if it does not exist) and
returns its new text, equal to the old one when nothing needs to change (so a
second run changes nothing and keeps the user's formatting). A file that cannot
be parsed raises :class:`UnparseableFile`; nothing is guessed.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

BLOCK_BEGIN = "<!-- agentlog:begin (managed by `agentlog init`; edit outside these markers) -->"
BLOCK_END = "<!-- agentlog:end -->"
_BEGIN_RE = re.compile(r"^<!-- agentlog:begin\b.*?-->$", re.MULTILINE)
_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
_HEADER_RE = re.compile(r"^\s*\[")


class UnparseableFile(ValueError):
    """A file AgentLog would have to change cannot be parsed (or changed safely)."""


def load_json(text: str | None, name: str) -> dict[str, Any]:
    """The JSON object in ``text`` ({} for no file); UnparseableFile for anything else."""
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UnparseableFile(f"{name} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UnparseableFile(f"{name} holds a JSON {type(data).__name__}, not an object")
    return data


def _table(data: dict[str, Any], key: str, name: str) -> dict[str, Any]:
    value = data.setdefault(key, {})
    if not isinstance(value, dict):
        raise UnparseableFile(f"{name}: {key!r} is a {type(value).__name__}, not an object")
    return value


def dump_json(old: str | None, before: dict[str, Any], after: dict[str, Any]) -> str:
    if old is not None and before == after:
        return old
    return json.dumps(after, indent=2, ensure_ascii=False) + "\n"


def merge_json_key(text: str | None, name: str, path: tuple[str, ...], value: Any) -> str:
    """``value`` set at ``path`` (objects created on the way); every other key kept."""
    data = load_json(text, name)
    before = json.loads(json.dumps(data))
    table = data
    for key in path[:-1]:
        table = _table(table, key, name)
    table[path[-1]] = value
    return dump_json(text, before, data)


def merge_mcp_json(text: str | None, name: str, server: dict[str, Any]) -> str:
    """``mcpServers.agentlog`` set to ``server`` (.mcp.json, .cursor/mcp.json, .gemini/settings.json)."""
    return merge_json_key(text, name, ("mcpServers", "agentlog"), server)


def merge_claude_hooks(text: str | None, name: str, events: tuple[str, ...], matcher: str,
                       hook: dict[str, Any], ours: str) -> str:
    """A ``hooks.EVENT`` entry running ``hook`` for ``matcher`` per event (.claude/settings.json).

    An existing hook whose command contains ``ours`` is replaced in place; other hooks stay.
    """
    data = load_json(text, name)
    before = json.loads(json.dumps(data))
    hooks = _table(data, "hooks", name)
    for event in events:
        entries = hooks.setdefault(event, [])
        if not isinstance(entries, list):
            raise UnparseableFile(f"{name}: hooks.{event} is not a list")
        found = False
        for entry in entries:
            for i, existing in enumerate(entry.get("hooks", []) if isinstance(entry, dict) else []):
                if isinstance(existing, dict) and ours in str(existing.get("command", "")):
                    entry["hooks"][i], entry["matcher"], found = hook, matcher, True
        if not found:
            entries.append({"matcher": matcher, "hooks": [hook]})
    return dump_json(text, before, data)


def toml_value(value: Any) -> str:
    """A TOML literal for a str, bool, int, list or dict (an inline table).

    JSON's string escapes are all valid TOML basic-string escapes (control characters
    escaped, other text left as UTF-8); DEL, which JSON leaves raw and TOML forbids, is
    escaped too.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML literal for {type(value).__name__}")


def toml_key(key: str) -> str:
    return key if _BARE_KEY_RE.fullmatch(key) else toml_value(key)


def toml_table(path: tuple[str, ...], values: dict[str, Any]) -> str:
    """``[a.b]`` and one ``key = value`` line per item."""
    lines = [f"[{'.'.join(toml_key(p) for p in path)}]"]
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def _without(data: dict[str, Any], path: tuple[str, str]) -> dict[str, Any]:
    copy = json.loads(json.dumps(data, default=str))
    outer = copy.get(path[0])
    if isinstance(outer, dict):
        outer.pop(path[1], None)
        if not outer:
            copy.pop(path[0])
    return copy


def _header_path(line: str) -> tuple[str, ...] | None:
    """The key path of a ``[table]`` header line (a comment after it allowed), or None."""
    try:
        parsed: Any = tomllib.loads(line if line.endswith("\n") else line + "\n")
    except tomllib.TOMLDecodeError:
        return None
    keys: list[str] = []
    while isinstance(parsed, dict) and len(parsed) == 1:
        key = next(iter(parsed))
        keys.append(key)
        parsed = parsed[key]
    return tuple(keys) if parsed == {} else None


def merge_toml_table(text: str | None, name: str, path: tuple[str, str], values: dict[str, Any]) -> str:
    """The table ``[path]`` (and its sub-tables) replaced by ``values``; the rest of the text kept.

    Edits text: the old table's lines go, the new table is appended; then the result is
    parsed again and must equal the old document with only that table changed.
    """
    try:
        old = tomllib.loads(text or "")
    except tomllib.TOMLDecodeError as exc:
        raise UnparseableFile(f"{name} is not valid TOML ({exc})") from None
    current = old.get(path[0], {}).get(path[1]) if isinstance(old.get(path[0]), dict) else None
    if current == values and text is not None:
        return text
    kept: list[str] = []
    inside = False
    for line in (text or "").splitlines(keepends=True):
        if _HEADER_RE.match(line):
            header = _header_path(line)
            inside = header is not None and header[:2] == path
        if not inside:
            kept.append(line)
    body = "".join(kept).rstrip("\n")
    new = (body + "\n\n" if body else "") + toml_table(path, values)
    try:
        parsed = tomllib.loads(new)
    except tomllib.TOMLDecodeError:
        parsed = {}
    if _without(parsed, path) != _without(old, path) or parsed.get(path[0], {}).get(path[1]) != values:
        raise UnparseableFile(f"{name}: cannot replace [{'.'.join(path)}] safely (is it defined inline or "
                              "with dotted keys?); edit it by hand")
    return new


def merge_markdown_block(text: str | None, block: str) -> str:
    """``block`` between AgentLog's markers, replacing an earlier one or appended; the rest kept."""
    managed = f"{BLOCK_BEGIN}\n{block.strip()}\n{BLOCK_END}\n"
    if not text:
        return managed
    begin = _BEGIN_RE.search(text)
    end = text.find(BLOCK_END, begin.end()) if begin else -1
    if begin and end >= 0:
        stop = end + len(BLOCK_END)
        stop += text[stop:].startswith("\n")
        return text[: begin.start()] + managed + text[stop:]
    return text.rstrip("\n") + "\n\n" + managed


def merge_gitignore(text: str | None, entry: str = ".agentlog/") -> str:
    """``entry`` appended unless a line already ignores it."""
    bare = entry.strip("/")
    lines = (text or "").splitlines()
    if any(line.strip().strip("/") == bare for line in lines):
        return text or ""
    return (text or "").rstrip("\n") + ("\n" if text and text.strip() else "") + entry + "\n"
