"""Compact JSON without ``import json``: what ``json.dumps`` writes, byte for byte.

``json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str)``
runs CPython's C encoder (``_json.make_encoder``). Importing ``json`` to reach it
imports the decoder and ``re`` too, about 9 ms of an activated process's exit
when all it writes is its session records; the C encoder alone costs about
0.4 ms. It is driven here with the arguments ``json.encoder.JSONEncoder``
passes it (the signature typeshed records, unchanged since 3.x). Where it is
missing or refuses them (another Python implementation), ``json.dumps`` does
the work: the text is the same either way (``tests/test_store.py``).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_c_encode: Callable[[Any], str] | None = None
_checked = False


def _make_c_encode() -> Callable[[Any], str] | None:
    try:
        from _json import encode_basestring, make_encoder
    except ImportError:
        return None

    def encode(obj: Any) -> str:
        # A fresh encoder per call: its ``markers`` (the circular-reference check) keep
        # entries after an encoding that raised, which would flag a later object wrongly.
        chunks = make_encoder({}, str, encode_basestring, None, ":", ",", False, False, True)(obj, 0)
        return "".join(chunks)

    try:
        if encode({"a": [1, 2.5, None, True, "é\n"]}) != '{"a":[1,2.5,null,true,"é\\n"]}':
            return None
    except TypeError:
        return None
    return encode


def _json_dumps(obj: Any) -> str:
    import json

    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str)


def dumps(obj: Any) -> str:
    """``json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str)``."""
    global _c_encode, _checked
    if not _checked:
        _c_encode, _checked = _make_c_encode(), True
    return (_c_encode or _json_dumps)(obj)
