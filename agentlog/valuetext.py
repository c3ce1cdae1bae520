"""Value descriptors (docs/FORMAT.md) as dense one-line text for an LLM.

``name: type = preview``; sizes in brackets (``str[20000000]``); cuts are
always visible (``… (+19999800 chars)``); redactions keep their marker.
"""

from __future__ import annotations

from typing import Any

MAX_LINE_CHARS = 400


def type_label(desc: dict[str, Any]) -> str:
    t = desc.get("t", "?")
    return f"{t}[{desc['l']}]" if "l" in desc else t


def value_text(desc: dict[str, Any], budget: int = MAX_LINE_CHARS) -> str:
    """The value part of a descriptor, cut to about ``budget`` characters."""
    parts: list[str] = []
    if "v" in desc:
        text = desc["v"]
        if desc.get("x"):
            text = f"{text}… (+{desc['x']} chars)"
        parts.append(text)
    if "items" in desc:
        inner = [value_text(d, budget // 2) for d in desc["items"]]
        parts.append(_bracket(desc.get("t", ""), inner, desc.get("more", 0)))
    if "map" in desc:
        inner = [f"{k}: {value_text(d, budget // 2)}" for k, d in desc["map"]]
        parts.append("{" + ", ".join(inner) + _more(desc.get("more", 0)) + "}")
    if "attrs" in desc:
        inner = [f"{k}: {type_label(d)} = {value_text(d, budget // 2)}" for k, d in desc["attrs"].items()]
        parts.append("{" + ", ".join(inner) + "}")
    if "note" in desc:
        parts.append(f"({desc['note']})")
    text = " ".join(parts) if parts else "…"
    return text if len(text) <= budget else text[: budget - 1] + "…"


def _more(count: int) -> str:
    return f", … +{count} more" if count else ""


def _bracket(type_name: str, inner: list[str], more: int) -> str:
    open_, close = {"tuple": "()", "set": "{}", "frozenset": "{}"}.get(type_name, "[]")
    return open_ + ", ".join(inner) + _more(more) + close


def local_line(name: str, desc: dict[str, Any]) -> str:
    """``name: type[len] = value``."""
    return f"{name}: {type_label(desc)} = {value_text(desc)}"
