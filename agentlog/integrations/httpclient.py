"""POST with retries: the one HTTP client the OTLP exporter and D1 sync share (stdlib urllib only).

A response whose status is in ``retry_on``, a dropped connection or a timeout is
retried up to ``attempts`` times in all, waiting what ``Retry-After`` asks (seconds
or an HTTP date) or else an exponential backoff with full jitter. A wait longer
than ``max_wait_s`` gives up at once rather than hang. Any other status is returned
to the caller, who knows what it means.
"""

from __future__ import annotations

import email.utils
import http.client
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection
from typing import NamedTuple

DEFAULT_ATTEMPTS = 5
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 30.0
MAX_WAIT_S = 120.0
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class Response(NamedTuple):
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes


class TransportError(OSError):
    """No usable response after every attempt; the message says why, in one line."""


class RetryPolicy(NamedTuple):
    retry_on: Collection[int]
    attempts: int = DEFAULT_ATTEMPTS
    timeout_s: float = 10.0
    max_wait_s: float = MAX_WAIT_S


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_s(attempt: int) -> float:
    """Full-jitter exponential backoff for the given 1-based retry number."""
    return random.uniform(0, min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (attempt - 1)))


def _send(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> Response:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:
            return Response(reply.status, {k.lower(): v for k, v in reply.headers.items()},
                            reply.read(MAX_RESPONSE_BYTES))
    except urllib.error.HTTPError as exc:
        with exc:
            return Response(exc.code, {k.lower(): v for k, v in (exc.headers or {}).items()},
                            exc.read(MAX_RESPONSE_BYTES))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[str, float], None] | None = None,
) -> Response:
    """POST ``body``; the final response (any status not retried), or TransportError.

    ``on_retry(reason, wait_s)`` is told about each retry before the wait.
    """
    last = ""
    for attempt in range(1, policy.attempts + 1):
        wait: float | None = None
        try:
            response = _send(url, body, headers, policy.timeout_s)
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, dropped mid-body, timed out
            last = f"connection failed ({_reason(exc)})"
        else:
            if response.status not in policy.retry_on:
                return response
            last = f"HTTP {response.status}"
            wait = retry_after_s(response.headers.get("retry-after"))
        if attempt == policy.attempts:
            break
        wait = backoff_s(attempt) if wait is None else wait
        if wait > policy.max_wait_s:
            raise TransportError(f"{last}; the server asks to wait {wait:.0f} s, more than {policy.max_wait_s:.0f} s")
        if on_retry is not None:
            on_retry(last, wait)
        sleep(wait)
    raise TransportError(f"{last} after {policy.attempts} attempts")
