"""Fingerprints of live exceptions: the ``fp`` a failure record of them would carry, and their history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentlog.capture.codepaths import is_agentlog_frame, is_user_file
from agentlog.capture.describe import Describer, Limits, type_name
from agentlog.capture.frames import MAX_CHAIN_DEPTH, MAX_GROUP_MEMBERS, ExceptionCapture
from agentlog.core.config import get_config
from agentlog.history.fingerprint import fingerprint_key, fingerprint_of, sys_path_roots


def hash_error(exc: BaseException) -> str:
    """The fingerprint of ``exc`` (docs/FORMAT.md, "Fingerprints"); cheap: no locals are described."""
    capture = ExceptionCapture(Describer(Limits.from_config(get_config())))
    return fingerprint_of(fingerprint_key(_shape(capture, exc, 0, set()), sys_path_roots()))


def _shape(capture: ExceptionCapture, exc: BaseException, depth: int, seen: set[int]) -> dict[str, Any]:
    """The parts of a failure record's ``exc`` a fingerprint reads, linked as ExceptionCapture links them."""
    seen.add(id(exc))
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if not is_agentlog_frame(tb.tb_frame):
            frames.append({"f": code.co_qualname, "file": code.co_filename, "u": is_user_file(code.co_filename)})
        tb = tb.tb_next
    out: dict[str, Any] = {"t": type_name(type(exc)).removeprefix("__main__."), "m": capture.message(exc),
                           "frames": frames[::-1]}
    if depth >= MAX_CHAIN_DEPTH:
        return out
    for key, other in (("cause", exc.__cause__), ("ctx", None if exc.__suppress_context__ else exc.__context__)):
        if other is not None and id(other) not in seen:
            out[key] = _shape(capture, other, depth + 1, seen)
    if isinstance(exc, BaseExceptionGroup):
        out["group"] = [_shape(capture, m, depth + 1, seen) for m in exc.exceptions[:MAX_GROUP_MEMBERS]
                        if id(m) not in seen]
    return out


def correlate_error(exc_or_fingerprint: BaseException | str,
                    data_dir: str | Path | None = None) -> dict[str, Any] | None:
    """Earlier occurrences of an exception (or fingerprint): see :func:`agentlog.history.correlate.correlate`."""
    from agentlog.history.correlate import correlate

    fp = hash_error(exc_or_fingerprint) if isinstance(exc_or_fingerprint, BaseException) else exc_or_fingerprint
    return correlate(str(fp), data_dir)
