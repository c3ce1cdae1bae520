"""Decisions: what an agent chose and why, shown next to the failures that follow."""

from __future__ import annotations

from collections.abc import Iterable

DECISION = "decision"
MAX_TEXT_CHARS = 2000
MAX_ALTERNATIVES = 10
MAX_ALTERNATIVE_CHARS = 300


def log_decision(decision: str, reasoning: str, alternatives: Iterable[str] | None = None) -> None:
    """Record a decision with its reasoning and the alternatives set aside (bounded, redacted)."""
    from agentlog.core.redact import redact_cut
    from agentlog.store import append, make_record

    fields: dict[str, object] = {
        "what": redact_cut(str(decision), MAX_TEXT_CHARS),
        "why": redact_cut(str(reasoning), MAX_TEXT_CHARS),
    }
    if alternatives is not None:
        options = [str(a) for a in alternatives]
        fields["alt"] = [redact_cut(a, MAX_ALTERNATIVE_CHARS) for a in options[:MAX_ALTERNATIVES]]
        if len(options) > MAX_ALTERNATIVES:
            fields["alt_more"] = len(options) - MAX_ALTERNATIVES
    append(make_record(DECISION, **fields))
