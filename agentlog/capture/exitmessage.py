"""What a program printed as it exited, when a library raised the ``SystemExit`` for it.

``argparse`` prints its message and then exits (``ArgumentParser.exit(status, message)``,
which ``error(message)`` calls); click prints a ``ClickException`` (``UsageError``,
``BadParameter``) and then calls ``sys.exit(e.exit_code)``. Either way the message
is a local of the library frame that raised, never part of the ``SystemExit``. The
library frames between the raise and the program's own innermost frame are
searched innermost first for a ``message`` string or a caught exception's
``message`` (its ``args[0]`` otherwise); no ``__str__``, ``__repr__`` or ``__getattr__``
of the program's runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import FrameType, MethodType, TracebackType
from typing import Any

from agentlog.capture.codepaths import is_user_file
from agentlog.capture.frames import bounded_text

MAX_EXIT_MESSAGE_CHARS = 1000
MAX_LIBRARY_FRAMES = 8  # library frames searched, innermost first


def _text_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, BaseException) and not isinstance(value, SystemExit):
        # click, argparse.ArgumentError; from the instance dict, so no property of the program runs.
        message = vars(value).get("message")
        if isinstance(message, str):
            return message
        args = value.args
        return args[0] if args and isinstance(args[0], str) else None
    return None


def _caught(values: Any) -> Iterator[BaseException]:
    """Exceptions among a frame's locals, also as the ``__self__`` of a bound method kept after
    the ``except`` block ended (click 8.2+: ``report = e.show``)."""
    for value in values:
        if isinstance(value, MethodType):
            value = value.__self__
        if isinstance(value, BaseException):
            yield value


def _library_frames(tb: TracebackType | None) -> list[FrameType]:
    """The frames after the program's innermost one, innermost first."""
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    inner = []
    for frame in reversed(frames):
        if is_user_file(frame.f_code.co_filename):
            break
        inner.append(frame)
    return inner[:MAX_LIBRARY_FRAMES] if len(inner) < len(frames) else []


def exit_message(exc: SystemExit, tb: TracebackType | None) -> str | None:
    """The redacted, bounded message a library printed before raising ``exc``, or None.

    None too for ``sys.exit("text")``: the exception's own message says it.
    """
    if exc.code is not None and not isinstance(exc.code, int):
        return None
    for frame in _library_frames(tb):
        local_vars = frame.f_locals
        found = _text_of(local_vars.get("message"))
        if not found:
            found = next((t for t in map(_text_of, _caught(local_vars.values())) if t), None)
        if found and found.strip():
            return bounded_text(found.strip(), MAX_EXIT_MESSAGE_CHARS)
    return None
