"""POST with retries: the one HTTP client the OTLP exporter and D1 sync share (stdlib urllib only).

Credentials go only where the user sent them:

- An endpoint is https, or plain http to this machine only (127.0.0.0/8, ::1,
  ``localhost``); a URL with ``user:password@`` is refused (:func:`check_endpoint`).
- Redirects are never followed: a 3xx with a ``Location`` is an error naming the
  status and the target's origin (RedirectRefused), so no header reaches a host
  the user did not name.
- Each attempt has one deadline, ``timeout_s``: connecting, sending and reading
  the whole response. Every socket read gets only the time left, so a server that
  trickles its answer cannot stretch it; a response over MAX_RESPONSE_BYTES is an
  error. A whole ``post`` takes at most ``attempts * (timeout_s + max_wait_s)``.
- Nothing secret is printed: :func:`display_url` is the one way an endpoint is
  shown, :func:`server_text` the one way text a server sent reaches an error line.

A response whose status is in ``retry_on``, a dropped connection or a timeout is
retried up to ``attempts`` times in all, waiting what ``Retry-After`` asks (seconds
or an HTTP date) or else an exponential backoff with full jitter. A wait longer
than ``max_wait_s`` gives up at once rather than hang. Any other status is returned
to the caller, who knows what it means.
"""

from __future__ import annotations

import email.utils
import functools
import http.client
import io
import ipaddress
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Collection, Iterable
from typing import Any, NamedTuple

DEFAULT_ATTEMPTS = 5
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 30.0
MAX_WAIT_S = 120.0
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
MAX_SERVER_TEXT_CHARS = 300  # of a server's message in an error line
MAX_URL_CHARS = 200  # of an endpoint in an error line
LOOPBACK_NAMES = frozenset({"localhost"})
# Headers that describe the body; every other header value may be a credential and is never printed.
PLAIN_HEADERS = frozenset({"content-type", "content-encoding", "content-length", "user-agent", "accept"})


class Response(NamedTuple):
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes


class TransportError(OSError):
    """No usable response after every attempt; the message says why, in one line."""


class RedirectRefused(TransportError):
    """The server answered with a redirect, which is never followed."""


class EndpointError(ValueError):
    """An endpoint credentials may not be sent to (not https, nor http to this machine); one line."""


class RetryPolicy(NamedTuple):
    retry_on: Collection[int]
    attempts: int = DEFAULT_ATTEMPTS
    timeout_s: float = 10.0
    max_wait_s: float = MAX_WAIT_S


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and literal loopback addresses (127.0.0.0/8, ::1, ::ffff:127.x)."""
    host = host.lower().rstrip(".")
    if host in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def check_endpoint(url: str) -> None:
    """EndpointError (one line) unless ``url`` is https, or http to this machine, with no userinfo."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise EndpointError(f"{display_url(url)} is not a usable URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(f"{display_url(url)} is not an http(s) URL")
    if "@" in parts.netloc:
        raise EndpointError(f"{display_url(url)}: credentials in the URL are not sent; give them as a header")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise EndpointError(f"{display_url(url)}: plain http is allowed only to this machine "
                            "(127.0.0.1, ::1, localhost); use https")


def _printable(text: str) -> str:
    """One line: control, format (bidi) and separator characters become spaces."""
    return "".join(c if c.isprintable() else " " for c in text)


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def display_url(url: str) -> str:
    """``url`` as it may be printed: no userinfo or fragment, secret-looking query values redacted, bounded."""
    from agentlog.core.redact import marker, redact_text

    try:
        parts = urllib.parse.urlsplit(url)
        if "@" in parts.netloc:
            parts = parts._replace(netloc=marker("userinfo") + "@" + parts.netloc.rpartition("@")[2])
        shown = urllib.parse.urlunsplit(parts._replace(fragment=""))
    except ValueError:
        shown = url.rpartition("@")[2] if "@" in url else url
    return _bounded(_printable(redact_text(shown[: MAX_URL_CHARS * 4])), MAX_URL_CHARS)


def display_origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, for naming where a redirect points (nothing else of it)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return "an unreadable address"
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname or "?"
    return display_url(f"{parts.scheme or '?'}://{host}" + (f":{port}" if port else ""))


def secret_values(headers: dict[str, str]) -> list[str]:
    """Values of the headers that may hold credentials, and their parts after a scheme word (``Bearer X``)."""
    values: list[str] = []
    for name, value in headers.items():
        if name.lower() not in PLAIN_HEADERS and value:
            values.append(value)
            credential = value.partition(" ")[2]
            if credential.strip():
                values.append(credential.strip())
    return values


def server_text(raw: bytes | str, secrets: Iterable[str] = (), limit: int = MAX_SERVER_TEXT_CHARS) -> str:
    """Text a server sent, fit for an error line: the credentials we sent (a server may echo them) and
    anything secret-looking redacted, one line, at most ``limit`` characters."""
    from agentlog.core.redact import marker, redact_cut

    window = raw[: limit * 64]
    text = window.decode("utf-8", "replace") if isinstance(window, bytes) else window
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, marker("header"))
    return _bounded(" ".join(_printable(redact_cut(text, limit + 1)).split()), limit)


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


class _DeadlineSocket:
    """A connected socket whose every send and read is given only the time left before ``deadline``."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock, self._deadline = sock, deadline
        self._readers, self._closed = 0, False

    def _arm(self) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the deadline passed")
        self._sock.settimeout(left)

    def sendall(self, data: bytes) -> None:
        self._arm()
        self._sock.sendall(data)

    def recv_into(self, buffer: Any, nbytes: int = 0) -> int:
        self._arm()
        return self._sock.recv_into(buffer, nbytes)

    def makefile(self, mode: str = "rb", *args: object, **kwargs: object) -> io.BufferedReader:
        self._readers += 1
        return io.BufferedReader(socket.SocketIO(self, "rb"))  # type: ignore[arg-type]

    def _decref_socketios(self) -> None:  # SocketIO.close calls this, as a socket's makefile does
        self._readers -= 1
        if self._closed and not self._readers:
            self._sock.close()

    def close(self) -> None:
        self._closed = True
        if not self._readers:
            self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _Deadline:
    """Mixed into an HTTP(S)Connection: once connected, reads and writes keep to ``deadline``."""

    def __init__(self, *args: Any, deadline: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self.sock = _DeadlineSocket(self.sock, self.deadline)  # type: ignore[has-type]


class _HTTPConnection(_Deadline, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_Deadline, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: float) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_HTTPConnection, deadline=self.deadline), req)


@functools.cache
def _tls_context() -> Any:
    import ssl

    return ssl.create_default_context()  # verifies certificates and host names; loaded once a process


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: float) -> None:
        super().__init__(context=_tls_context())
        self.deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_HTTPSConnection, deadline=self.deadline), req,
                            context=self._context)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # the 3xx reaches the caller as a response


def _read(reply: Any) -> bytes:
    body = reply.read(MAX_RESPONSE_BYTES + 1)
    if len(body) > MAX_RESPONSE_BYTES:
        raise TransportError(f"the response is larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB")
    return body


def _send(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> Response:
    deadline = time.monotonic() + timeout_s
    opener = urllib.request.build_opener(_HTTPHandler(deadline), _HTTPSHandler(deadline), _NoRedirects())
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener.open(request, timeout=timeout_s) as reply:
            return Response(reply.status, {k.lower(): v for k, v in reply.headers.items()}, _read(reply))
    except urllib.error.HTTPError as exc:
        with exc:
            return Response(exc.code, {k.lower(): v for k, v in (exc.headers or {}).items()}, _read(exc))


def _failure(exc: BaseException, secrets: list[str], timeout_s: float) -> str:
    """One line for an attempt that got no response; an exception's text may hold what a server sent."""
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    if isinstance(exc, TimeoutError):
        return f"no complete answer within {timeout_s:g} s"
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return f"connection failed ({server_text(reason, secrets)})"


def _refuse_redirect(url: str, response: Response) -> None:
    location = response.headers.get("location")
    if 300 <= response.status < 400 and location:
        target = display_origin(urllib.parse.urljoin(url, location.strip()))
        raise RedirectRefused(f"HTTP {response.status} redirects to {target}; not followed (credentials are "
                              "sent only to the endpoint you set: set that address if you trust it)")


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[str, float], None] | None = None,
) -> Response:
    """POST ``body``; the final response (any status not retried), or TransportError / EndpointError.

    ``on_retry(reason, wait_s)`` is told about each retry before the wait.
    """
    check_endpoint(url)
    secrets = secret_values(headers)
    last = ""
    for attempt in range(1, policy.attempts + 1):
        wait: float | None = None
        try:
            response = _send(url, body, headers, policy.timeout_s)
        except TransportError:
            raise
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, dropped mid-body, timed out
            last = _failure(exc, secrets, policy.timeout_s)
        else:
            _refuse_redirect(url, response)
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
