"""LLM token accounting: one ``llm`` record per model call, summed per model on demand."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

LLM_CALL = "llm"
MAX_MODEL_CHARS = 200


def log_llm_call(
    model: str,
    input_tokens: int,
    output_tokens: int,
    cost: float | None = None,
    duration: float | None = None,
) -> None:
    """Record one model call: tokens in and out, and if known its cost and duration (seconds)."""
    from agentlog.store import append, make_record

    fields: dict[str, Any] = {
        "model": str(model)[:MAX_MODEL_CHARS],
        "in": int(input_tokens),
        "out": int(output_tokens),
    }
    if cost is not None:
        fields["cost"] = float(cost)
    if duration is not None:
        fields["dur"] = round(float(duration), 4)
    append(make_record(LLM_CALL, **fields))


def _new_totals() -> dict[str, Any]:
    return {"calls": 0, "in": 0, "out": 0, "cost": None, "dur": 0.0}


def _add(totals: dict[str, Any], rec: dict[str, Any]) -> None:
    totals["calls"] += 1
    totals["in"] += int(rec.get("in") or 0)
    totals["out"] += int(rec.get("out") or 0)
    totals["dur"] = round(totals["dur"] + float(rec.get("dur") or 0.0), 4)
    if rec.get("cost") is not None:
        totals["cost"] = round((totals["cost"] or 0.0) + float(rec["cost"]), 6)


def summarize_tokens(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """``{"models": {model: totals}, "total": totals}`` over ``llm`` records.

    Totals: ``calls``, ``in``, ``out``, ``dur`` (seconds) and ``cost`` (None
    when no call reported one). Models are ordered by total tokens, largest first.
    """
    models: dict[str, dict[str, Any]] = {}
    total = _new_totals()
    for rec in records:
        if rec.get("k") != LLM_CALL:
            continue
        _add(models.setdefault(str(rec.get("model")), _new_totals()), rec)
        _add(total, rec)
    ranked = sorted(models.items(), key=lambda item: -(item[1]["in"] + item[1]["out"]))
    return {"models": dict(ranked), "total": total}


def token_summary(session: str | None = None, data_dir: Path | None = None) -> dict[str, Any]:
    """Token totals per model for one session id, or for every session when None."""
    from agentlog.core.config import get_config
    from agentlog.store import iter_records

    records = iter_records(data_dir or get_config().data_dir, kinds=[LLM_CALL])
    return summarize_tokens(r for r in records if session is None or r.get("sid") == session)
