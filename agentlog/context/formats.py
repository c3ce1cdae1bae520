"""The same ranked context laid out for each agent: text, json, markdown, claude, cursor, codex.

The builder chooses what goes in (:func:`agentlog.context.builder.fit_sections`);
a layout here only arranges those sections. Layouts add a little markup (tags,
fences, headings), so the builder is asked for less until the laid-out text fits.

- ``text``: the builder's plain lines (``agentlog context``'s default).
- ``json``: whole failure records, as many as fit (the builder's record view).
- ``markdown``: a heading per part, frames and trails in ``text`` fences.
- ``claude``: XML-tagged parts (``<failure>``, ``<call_trail>``, ``<session>``, ...),
  the structure Anthropic's prompting guide recommends for Claude.
- ``cursor``: markdown whose frame locations are `` `path:line` `` outside code
  blocks, so Cursor's chat shows them as file links.
- ``codex``: terse plain text: a ``[part]`` line before each part; the lines the builder
  marks silent (source around the failing line) are dropped before selection, so
  their budget goes to more frames and calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentlog.context.builder import (
    DEFAULT_MAX_TOKENS,
    Section,
    _json_context,
    build_sections,
    fit_sections,
    load,
)
from agentlog.context.select import Block, without_silent
from agentlog.context.tokencount import count_tokens, truncate_to_tokens

FORMATS = ("text", "json", "markdown", "claude", "cursor", "codex")
TITLES = {"failure": "Newest failure", "trail": "Call trail", "session": "Session",
          "older": "Older failures", "note": "Budget"}
TAGS = {"failure": "failure", "trail": "call_trail", "session": "session",
        "older": "older_failures", "note": "budget_note"}
MAX_FIT_ROUNDS = 8
_WHERE_RE = re.compile(r"^(\s*)at (.+) \(([^()]+:\d+)\)(.*)$")
# Recorded text that spells one of the claude layout's own tags (``</failure>``) would close or
# open a part: its ``<`` becomes ``&lt;``, so program text cannot forge the layout's structure.
_OWN_TAG_RE = re.compile(r"<(?=/?(?:agentlog_context|" + "|".join(TAGS.values()) + r")\b)", re.IGNORECASE)


def _parts(sections: list[Section]) -> list[tuple[str, list[Section]]]:
    """Consecutive sections grouped by part, in document order."""
    groups: list[tuple[str, list[Section]]] = []
    for section in sections:
        if groups and groups[-1][0] == section.part:
            groups[-1][1].append(section)
        else:
            groups.append((section.part, [section]))
    return groups


def _lines(sections: list[Section]) -> list[str]:
    return [line for section in sections for line in section.lines]


def layout_text(sections: list[Section]) -> str:
    return "".join(line + "\n" for line in _lines(sections))


def _markdown(sections: list[Section], body: Callable[[str, list[Section]], list[str]]) -> str:
    """A title, a heading and ``body(part, sections)`` per part, the budget note in italics."""
    out = ["# AgentLog context", ""]
    for part, group in _parts(sections):
        if part == "note":
            out += [f"_{line}_" for line in _lines(group)]
        else:
            out += [f"## {TITLES[part]}", "", *body(part, group), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _fenced(lines: list[str]) -> list[str]:
    return ["```text", *lines, "```"]


def layout_markdown(sections: list[Section]) -> str:
    return _markdown(sections, lambda part, group: _fenced(_lines(group)))


def layout_claude(sections: list[Section]) -> str:
    out = ["<agentlog_context>"]
    for part, group in _parts(sections):
        out += [f"<{TAGS[part]}>", *(_OWN_TAG_RE.sub("&lt;", line) for line in _lines(group)), f"</{TAGS[part]}>"]
    return "\n".join([*out, "</agentlog_context>"]) + "\n"


def _cursor_section(section: Section) -> list[str]:
    """A frame as a `` `path:line` `` link line plus its source and locals in a fence."""
    match = _WHERE_RE.match(section.lines[0]) if section.lines else None
    if not match:
        return _fenced(section.lines)
    _, function, where, rest = match.groups()
    head = f"- `{where}` in `{function}`{rest}"
    return [head, "  ```text", *(f"  {line}" for line in section.lines[1:]), "  ```"] if section.lines[1:] else [head]


def _cursor_part(part: str, group: list[Section]) -> list[str]:
    out: list[str] = []
    for section in group:
        if section.label in ("frame", "library frame"):
            out += _cursor_section(section)
        elif part == "failure" and not section.label:  # the failure's header, headline and notes
            out += [f"**{section.lines[0]}**", *(f"- {line.strip()}" for line in section.lines[1:])]
        elif section.label == "history":  # seen before: a line of prose
            out += [f"_{line}_" for line in section.lines]
        else:
            out += _fenced(section.lines)
    return out


def layout_cursor(sections: list[Section]) -> str:
    return _markdown(sections, _cursor_part)


def layout_codex(sections: list[Section]) -> str:
    out: list[str] = []
    for part, group in _parts(sections):
        if part != "note":
            out.append(f"[{TAGS[part]}]")
        out += _lines(group)
    return "".join(line + "\n" for line in out)


TERSE = {"codex"}  # layouts without the builder's silent lines (source around the failing line)
LAYOUTS: dict[str, Callable[[list[Section]], str]] = {
    "text": layout_text, "markdown": layout_markdown, "claude": layout_claude,
    "cursor": layout_cursor, "codex": layout_codex,
}


def render(failures: list[dict[str, Any]], records: list[dict[str, Any]], format: str = "text",
           max_tokens: int = DEFAULT_MAX_TOKENS, data_dir: Path | None = None) -> str:
    """``failures`` (oldest first; the last is the one the context is about) in ``format``;
    ``data_dir`` is where the history of the failure's fingerprint is looked up."""
    if format == "json":
        return _json_context(failures, max_tokens)
    layout = LAYOUTS.get(format)
    if layout is None:
        raise ValueError(f"unknown context format {format!r} (one of {', '.join(FORMATS)})")
    chunks = build_sections(failures, records, data_dir)
    if format in TERSE:
        chunks = [without_silent(chunk) for chunk in chunks]
    return _fit_layout(chunks, layout, max_tokens)


def _fit_layout(chunks: list[Block], layout: Callable[[list[Section]], str], max_tokens: int) -> str:
    """The layout of the largest selection whose laid-out text fits ``max_tokens``.

    The builder is asked for less by the markup's overshoot until the text fits, then for
    more again (by halves) while it still does: the markup's share depends on which parts
    are shown. If not even a bare selection fits, the requested layout is cut (never another).
    """
    fits, over_budget, text = 0, max_tokens + 1, ""
    budget = max_tokens
    for _ in range(MAX_FIT_ROUNDS):
        text = layout(fit_sections(chunks, budget))
        over = count_tokens(text) - max_tokens
        if over <= 0:
            fits, best = budget, text
            break
        over_budget, budget = budget, budget - over
        if budget < 1:
            return truncate_to_tokens(text, max_tokens)
    else:
        return truncate_to_tokens(text, max_tokens)
    while over_budget - fits > 1:
        budget = (fits + over_budget) // 2
        text = layout(fit_sections(chunks, budget))
        if count_tokens(text) <= max_tokens:
            fits, best = budget, text
        else:
            over_budget = budget
    return best


def select_failures(failures: list[dict[str, Any]], failure_id: str | None) -> list[dict[str, Any]]:
    """The failures up to and including ``failure_id`` (all if None); LookupError if no such id."""
    if failure_id is None:
        return failures
    for n, failure in enumerate(failures):
        if failure.get("id") == failure_id:
            return failures[: n + 1]
    raise LookupError(f"no failure with id {failure_id!r}")


def get_formatted_context(format: str = "text", max_tokens: int = DEFAULT_MAX_TOKENS,
                          data_dir: str | Path | None = None, failure_id: str | None = None) -> str:
    """Context for the newest failure (or ``failure_id``), in ``format``, within ``max_tokens``.

    ``format`` is one of :data:`FORMATS`; ValueError for another, LookupError for an unknown id.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown context format {format!r} (one of {', '.join(FORMATS)})")
    folder = Path(data_dir) if data_dir else None
    failures, records = load(folder)
    return render(select_failures(failures, failure_id), records, format, max_tokens, folder)
