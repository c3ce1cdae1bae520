"""Recorded text made safe to show: control, bidi and invisible format characters become visible escapes.

Records hold text the program (or whoever wrote the data dir) chose: an ESC, an OSC 52
sequence, a C1 CSI (``\\x9b``), a backspace, a bare CR or a right-to-left override
(U+202E) would drive the reader's terminal or hide what a line says. Every command's
output goes through :func:`escape_controls` (``agentlog/cli.py``) and so does each line
of the context (``context/select.py``). C0 characters show as ``\\x1b``, the rest as
``\\u202e``: inside a JSON string that is still a valid escape, so JSON output stays JSON.
"""

from __future__ import annotations

import re

# C0 and DEL, C1, the Arabic letter mark, zero-width and directional marks, line and
# paragraph separators, bidi embeddings/overrides/isolates and other invisible format
# characters, the byte-order mark, interlinear annotations, and lone surrogates.
_UNSAFE = "\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff"
_PATTERNS: dict[str, re.Pattern[str]] = {}


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x20 else f"\\u{code:04x}"


def escape_controls(text: str, keep: str = "\n\t") -> str:
    """``text`` with every unsafe character but those in ``keep`` (line breaks and tabs, by default)
    replaced by a visible escape."""
    pattern = _PATTERNS.get(keep)
    if pattern is None:
        kept = "".join(re.escape(c) for c in keep)
        pattern = _PATTERNS[keep] = re.compile(f"(?![{kept}])[{_UNSAFE}]" if kept else f"[{_UNSAFE}]")
    return pattern.sub(_visible, text)
