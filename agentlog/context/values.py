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


def value_text(desc: dict[str, Any], budget: int = MAX_LINE_CHARS, nested: bool = False) -> str:
    """The value part of a descriptor, cut to about ``budget`` characters.

    An object with both a repr and attributes shows its attributes at the top
    level (typed, labelled) and only its repr when nested, to save tokens.
    """
    parts: list[str] = []
    attrs = desc.get("attrs")
    if "v" in desc and not (attrs and not nested):
        text = desc["v"]
        if desc.get("x"):
            text = f"{text}… (+{desc['x']} chars)"
        parts.append(text)
    if "items" in desc or (desc.get("l") == 0 and "v" not in desc and "map" not in desc):
        inner = [value_text(d, budget // 2, nested=True) for d in desc.get("items", [])]
        parts.append(_bracket(desc.get("t", ""), inner, desc.get("more", 0)))
    if "map" in desc:
        inner = [f"{k}: {value_text(d, budget // 2, nested=True)}" for k, d in desc["map"]]
        parts.append("{" + ", ".join(inner) + _more(desc.get("more", 0)) + "}")
    if attrs and not (nested and parts):
        inner = [f"{k}: {type_label(d)} = {value_text(d, budget // 2, nested=True)}" for k, d in attrs.items()]
        parts.append("{" + ", ".join(inner) + _more(desc.get("more", 0)) + "}")
    note = desc.get("note")
    if note and not (note == "depth" and nested):
        parts.append(f"({note})")
    text = " ".join(parts) if parts else "…"
    return text if len(text) <= budget else text[: budget - 1] + "…"


def _more(count: int) -> str:
    return f", … +{count} more" if count else ""


def _bracket(type_name: str, inner: list[str], more: int) -> str:
    open_, close = {"tuple": "()", "set": "{}", "frozenset": "{}", "dict": "{}"}.get(type_name, "[]")
    if type_name == "tuple" and len(inner) == 1 and not more:
        close = ",)"  # (1,): a one-item tuple reads as Python writes it
    return open_ + ", ".join(inner) + _more(more) + close


def local_line(name: str, desc: dict[str, Any]) -> str:
    """``name: type[len] = value``; describe_locals' overflow entry becomes a count."""
    if "t" not in desc and "more" in desc:
        return f"… {desc['more']} more locals"
    if "same" in desc:
        return f"{name}: {desc['t']} = same object as {desc['same']}"
    return f"{name}: {type_label(desc)} = {value_text(desc)}"
