"""Error fingerprints: the same bug gets the same id across runs, machines and edits.

A fingerprint hashes (docs/FORMAT.md, "Fingerprints"): the exception type, its
message with the values that change from run to run replaced by placeholders,
and the chain of the program's own functions on the failing path, innermost
first, named by module and qualname (never file or line). When the exception
was raised while handling another (``raise X from Y``, or implicitly inside an
``except``), the root of that chain takes part too, and for an exception group
its members: each summarised by type, normalised message and innermost user
function, so a generic wrapper (``ConfigError("cannot load config")``) around
different root causes gives different fingerprints. Computed from a failure
record's ``exc`` dict, or a live exception turned into the same shape.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from typing import Any

from agentlog.core.projectdir import working_dir

MAX_CHAIN = 8  # innermost user functions that take part
MAX_CAUSE_LINKS = 5  # cause/context links followed to the root (as deep as failure records keep them)
MAX_GROUP_PARTS = 10  # distinct exception-group member summaries
MAX_MESSAGE_CHARS = 200  # of the normalised message
FINGERPRINT_HEX = 16

# Order matters: the wider shapes first, so a timestamp is not read as numbers.
_RULES: tuple[tuple[str, str], ...] = (
    (r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?", "<ts>"),
    (r"\b\d\d:\d\d:\d\d(?:[.,]\d+)?\b", "<ts>"),
    (r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "<id>"),
    (r"\b0x[0-9a-fA-F]+\b", "<hex>"),
    (r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b", "<hex>"),
    (r"(?<!\w)'(?:[^'\\\n]|\\.)*'|(?<!\w)\"(?:[^\"\\\n]|\\.)*\"", "<str>"),
    (r"(?:[A-Za-z]:\\|\.{0,2}/)?(?:[\w.@~+-]+[/\\])+[\w.@~+-]*|[A-Za-z]:\\[\w.@~+-]*", "<path>"),
    (r"(?<![A-Za-z<])[-+]?\d+(?:[.,_]\d+)*(?:[eE][-+]?\d+)?", "<n>"),
    (r"\s+", " "),
)
_PATTERNS = [(re.compile(pattern), placeholder) for pattern, placeholder in _RULES]


def normalize_message(message: str) -> str:
    """``message`` with timestamps, uuids, hex, quoted values, paths and numbers as placeholders."""
    text = message.splitlines()[0] if message else ""
    text = re.sub(r"… \(\+\d+ chars\)$", "", text)  # a cut message: the marker holds a length
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return text.strip()[:MAX_MESSAGE_CHARS]


def sys_path_roots() -> list[str]:
    """This process's import roots (``sys.path``), longest first."""
    roots = [os.path.realpath(p or working_dir()) for p in sys.path if isinstance(p, str)]
    return sorted(set(roots), key=len, reverse=True)


def module_of(filename: str, roots: Iterable[str]) -> str:
    """A file's dotted module name under the longest root containing it; else its stem.

    Never a directory above the root, so moving the repository keeps the name.
    """
    if filename.startswith("<"):
        return filename  # <string>, <stdin>
    path = os.path.realpath(filename)
    for root in roots:
        prefix = os.path.join(root, "")
        if path.startswith(prefix):
            relative = os.path.splitext(path[len(prefix) :])[0]
            parts = relative.split(os.sep)
            if parts[-1] == "__init__" and len(parts) > 1:
                parts.pop()
            return ".".join(parts)
    return os.path.splitext(os.path.basename(path))[0]


def function_chain(frames: list[dict[str, Any]], roots: Iterable[str]) -> list[str]:
    """``module:qualname`` of the innermost user frames, each function once (recursion collapses)."""
    roots = list(roots)
    chain: list[str] = []
    for frame in frames:
        if not frame.get("u") or "f" not in frame:
            continue
        name = f"{frame.get('mod') or module_of(str(frame.get('file', '')), roots)}:{frame['f']}"
        if name not in chain:
            chain.append(name)
        if len(chain) >= MAX_CHAIN:
            break
    return chain


def root_cause(exc: dict[str, Any]) -> dict[str, Any] | None:
    """The end of ``exc``'s chain, following ``cause`` (else ``ctx``) links; None if it has none."""
    root = None
    node: Any = exc
    for _ in range(MAX_CAUSE_LINKS):
        node = node.get("cause") or node.get("ctx")
        if not isinstance(node, dict):
            break
        root = node
    return root


def summary(exc: dict[str, Any], roots: list[str]) -> str:
    """``Type: normalised message @ module:qualname`` (the innermost user function, if any)."""
    chain = function_chain(exc.get("frames") or [], roots)
    text = f"{exc.get('t', '')}: {normalize_message(str(exc.get('m', '')))}"
    return f"{text} @ {chain[0]}" if chain else text


def group_parts(exc: dict[str, Any], roots: list[str], depth: int = 0) -> set[str]:
    """Summaries of an exception group's leaf members (nested groups flattened)."""
    parts: set[str] = set()
    for member in exc.get("group") or []:
        if not isinstance(member, dict):
            continue
        nested = group_parts(member, roots, depth + 1) if member.get("group") and depth < MAX_CAUSE_LINKS else set()
        parts |= nested or {summary(member, roots)}
    return parts


def fingerprint_key(exc: dict[str, Any], roots: Iterable[str]) -> dict[str, Any]:
    """What the fingerprint hashes: ``t`` type, ``m`` normalised message, ``fns`` function chain;
    ``c`` the root cause's summary and ``g`` the group members' (sorted, distinct), when there are any."""
    roots = list(roots)
    key: dict[str, Any] = {"t": str(exc.get("t", "")), "m": normalize_message(str(exc.get("m", ""))),
                           "fns": function_chain(exc.get("frames") or [], roots)}
    root = root_cause(exc)
    if root is not None:
        key["c"] = summary(root, roots)
    members = sorted(group_parts(exc, roots))[:MAX_GROUP_PARTS]
    if members:
        key["g"] = members
    return key


def fingerprint_of(key: dict[str, Any]) -> str:
    """16 hex digits of blake2b over the key's parts (an exception without chain or group: t, m, fns)."""
    import hashlib

    parts = [key["t"], key["m"], *key["fns"]]
    if key.get("c"):
        parts.append(f"cause {key['c']}")
    parts += [f"member {member}" for member in key.get("g") or []]
    text = "\n".join(parts)
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=FINGERPRINT_HEX // 2).hexdigest()


def stamp(record: dict[str, Any], roots: Iterable[str] | None = None) -> str:
    """Add ``mod`` to the record's user frames and ``fp``/``fpk`` to the record; return ``fp``.

    ``roots`` defaults to this process's ``sys.path`` (the import roots the
    failing program used); for an old record rebuilt later, pass the
    directories it ran in (:func:`record_roots`).
    """
    roots = sys_path_roots() if roots is None else list(roots)
    exc = record["exc"]
    for frame in exc.get("frames") or []:
        if frame.get("u") and "file" in frame and "mod" not in frame:
            frame["mod"] = module_of(str(frame["file"]), roots)
    key = fingerprint_key(exc, roots)
    record["fpk"] = key
    record["fp"] = fingerprint_of(key)
    return record["fp"]


def record_roots(record: dict[str, Any]) -> list[str]:
    """Import roots to assume for a record written without a fingerprint: its git root and cwd."""
    git = record.get("git") if isinstance(record.get("git"), dict) else {}
    found = [str(p) for p in (record.get("cwd"), git.get("root")) if p]
    return sorted({os.path.realpath(p) for p in found}, key=len, reverse=True)


def fingerprint_record(record: dict[str, Any]) -> str:
    """The record's ``fp``, computed (without changing the record) if it has none."""
    fp = record.get("fp")
    if isinstance(fp, str) and fp:
        return fp
    return fingerprint_of(fingerprint_key(record["exc"], record_roots(record)))
