"""Calibrated, dependency-free token-count estimate for GPT/Claude-class BPE vocabularies.

The runtime cannot ship a tokenizer vocabulary, so ``count_tokens`` counts text features with
a handful of precompiled regexes (letter segments, digit groups of 3, punctuation runs,
indentation, non-ASCII characters by script) and combines them with weights fitted against
o200k_base and cl100k_base on dense debug context (``benchmarks/token_estimate.py``), then
adds a safety factor so that the estimate over-counts slightly rather than under-counts.

Every weighted feature only grows when text is appended (negative weights are always paired
with a larger positive one), so appending text never decreases the estimate.
"""

import math
import re

_PUNCT = r"[!-/:-@\[-`{-~]"

# (feature regex, weight): the estimate is the weighted sum of non-overlapping match counts.
# Patterns are compiled on first use so that importing this module stays well under 1 ms.
_ASCII_FEATURES: tuple[tuple[str, float], ...] = (
    (r"[A-Z]?[a-z]+", 1.25),  # word / camelCase segment
    (r"(?<=[a-z]{7})[a-z]", 0.07),  # letters beyond 7 in a segment
    (r"(?<=[a-z]{11})[a-z]", 0.05),  # letters beyond 11 in a segment
    (r"[A-Z]+(?![a-z])", 0.95),  # UPPERCASE run
    (r"[A-Z](?![a-z])", 0.29),  # each letter of an UPPERCASE run
    (r"\d{1,3}", 1.2),  # digit group (BPE splits digits by 3)
    (_PUNCT, 0.8),  # punctuation character
    (_PUNCT + "+", 0.17),  # punctuation run
    (_PUNCT + r"(?=[A-Za-z])", -0.77),  # punctuation merged into the next word
    (r"([!-/:-@\[-`{-~])(?=\1)", -0.65),  # repeated punctuation (``==``, ``~~~``)
    (r"[ \t]{2,}", 1.1),  # indentation / alignment run
)
_UNICODE_FEATURES: tuple[tuple[str, float], ...] = (
    ("[\x80-\u024f]", 0.85),  # Latin-1 and Latin Extended
    ("[\u0250-\u07ff]", 0.96),  # Greek, Cyrillic, Hebrew, Arabic, ...
    ("[\u0800-\u2e7f]", 1.02),  # Indic, Thai, symbols, arrows, dingbats
    ("[\u2e80-\ud7ff\uf900-\uffff]", 1.19),  # CJK, kana, Hangul
    ("[\U00010000-\U0010ffff]", 2.63),  # emoji and other astral characters
)
_BASE = 2.0  # per non-empty text
_SAFETY = 1.05  # multiplicative margin over the fit, set from held-out worst cases


_COMPILED: dict[bool, tuple[tuple[re.Pattern[str], float], ...]] = {}


def _compiled(ascii_only: bool) -> tuple[tuple[re.Pattern[str], float], ...]:
    """The feature table for ASCII-only or general text, compiled once."""
    if ascii_only not in _COMPILED:
        features = _ASCII_FEATURES if ascii_only else _ASCII_FEATURES + _UNICODE_FEATURES
        _COMPILED[ascii_only] = tuple((re.compile(p), w) for p, w in features)
    return _COMPILED[ascii_only]


def count_tokens(text: str) -> int:
    """Estimate the BPE token count of ``text``, erring on the high side."""
    if not text:
        return 0
    features = _compiled(text.isascii())
    return math.ceil((_BASE + sum(len(rx.findall(text)) * w for rx, w in features)) * _SAFETY)


def fits(text: str, max_tokens: int) -> bool:
    """Whether ``text`` is estimated to fit within ``max_tokens``."""
    return count_tokens(text) <= max_tokens


def truncate_to_tokens(text: str, max_tokens: int, marker: str = "…") -> str:
    """Return ``text`` unchanged if it fits, else its longest prefix plus ``marker`` that fits.

    Returns ``""`` when not even the marker alone fits; the result always satisfies
    ``count_tokens(result) <= max_tokens``.
    """
    if count_tokens(text) <= max_tokens:
        return text
    best = ""
    lo, hi = 0, len(text) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = text[:mid] + marker
        if count_tokens(candidate) <= max_tokens:
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best
