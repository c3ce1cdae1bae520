"""Cloudflare's D1 HTTP API: ``POST {api}/accounts/{account}/d1/database/{db}/query``.

Settings: ``CLOUDFLARE_ACCOUNT_ID``, ``CLOUDFLARE_API_TOKEN`` (environment only; it is
sent as a bearer token and never printed, logged or stored), ``AGENTLOG_D1_DATABASE_ID``
and ``AGENTLOG_D1_API_URL`` (default Cloudflare's). All but the token may also be set in
the user's config file (``~/.config/agentlog/config.toml``) as ``d1_account_id``,
``d1_database_id``, ``d1_api_url``; never by a project's ``pyproject.toml`` (they say where
the token goes: ignored there, with a warning). The API URL is https, or http to this
machine only; redirects are not followed.

Requests are paced to stay under Cloudflare's API limit (1,200 requests per 5 minutes
per user: this client allows itself MAX_REQUESTS_PER_WINDOW of them) and retried on
429 and 5xx with backoff honouring ``Retry-After``. 401/403 stop at once (D1AuthError).
"""

from __future__ import annotations

import collections
import json
import os
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from agentlog.core.config import ENV_NAMES, Config, credential_target_warning, get_config
from agentlog.integrations.httpclient import (
    EndpointError,
    RetryPolicy,
    TransportError,
    check_endpoint,
    display_url,
    post,
    secret_values,
    server_text,
)

DEFAULT_API_URL = Config._field_defaults["d1_api_url"]
ACCOUNT_ENV, DATABASE_ENV, API_URL_ENV = (ENV_NAMES["d1_account_id"], ENV_NAMES["d1_database_id"],
                                          ENV_NAMES["d1_api_url"])
TOKEN_ENV = "CLOUDFLARE_API_TOKEN"
RETRYABLE = frozenset({429, 500, 502, 503, 504})
WINDOW_S = 300.0
MAX_REQUESTS_PER_WINDOW = 1000  # of Cloudflare's 1,200: leaves room for wrangler and the dashboard
TIMEOUT_S = 30.0  # D1 caps a query (a whole batch) at 30 s


class D1Error(RuntimeError):
    """D1 refused a query or could not be reached; one line, never the token."""


class D1AuthError(D1Error):
    """HTTP 401/403: the token is missing, wrong, expired, or lacks D1 permission."""


class D1Settings(NamedTuple):
    account_id: str
    database_id: str
    token: str
    api_url: str = DEFAULT_API_URL

    def __repr__(self) -> str:  # the token stays out of every repr and traceback
        return f"D1Settings(account_id={self.account_id!r}, database_id={self.database_id!r}, api_url={self.api_url!r})"


def load_settings(config: Config | None = None) -> D1Settings:
    """Settings from the configuration (environment, then ``[tool.agentlog]``) and the token from
    the environment; D1Error naming what is missing."""
    from agentlog.core import selflog

    config = config or get_config()
    ignored = credential_target_warning()
    if ignored:
        selflog.warn_once("project-credential-target", ignored, loud=True)
    token = os.environ.get(TOKEN_ENV, "")
    names = {ACCOUNT_ENV: config.d1_account_id, DATABASE_ENV: config.d1_database_id, TOKEN_ENV: token}
    missing = [name for name, value in names.items() if not value]
    if missing:
        raise D1Error(f"set {', '.join(missing)} (README: Team sharing through Cloudflare D1)")
    settings = D1Settings(config.d1_account_id, config.d1_database_id, token, config.d1_api_url or DEFAULT_API_URL)
    try:
        check_endpoint(settings.api_url)
    except EndpointError as exc:
        raise D1Error(f"{API_URL_ENV}: {exc}") from None
    return settings


class RateLimiter:
    """At most ``limit`` requests in any ``window_s`` seconds: waits when the window is full."""

    def __init__(self, limit: int = MAX_REQUESTS_PER_WINDOW, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.limit, self.window_s, self.clock, self.sleep = limit, window_s, clock, sleep
        self.sent: collections.deque[float] = collections.deque()

    def acquire(self) -> None:
        now = self.clock()
        while self.sent and self.sent[0] <= now - self.window_s:
            self.sent.popleft()
        if len(self.sent) >= self.limit:
            self.sleep(self.sent[0] + self.window_s - now)
            self.sent.popleft()
        self.sent.append(self.clock())


class D1Client:
    """Runs statements on one D1 database; ``batch`` is atomic (D1 rolls a failing batch back)."""

    def __init__(self, settings: D1Settings, limiter: RateLimiter | None = None, attempts: int = 6,
                 on_retry: Callable[[str, float], None] | None = None, timeout_s: float = TIMEOUT_S) -> None:
        self.settings = settings
        self.limiter = limiter or RateLimiter()
        self.policy = RetryPolicy(retry_on=RETRYABLE, attempts=attempts, timeout_s=timeout_s)
        self.on_retry = on_retry
        self.requests = 0

    @property
    def url(self) -> str:
        from urllib.parse import quote

        s = self.settings
        return (f"{s.api_url.rstrip('/')}/accounts/{quote(s.account_id, safe='')}"
                f"/d1/database/{quote(s.database_id, safe='')}/query")

    def batch(self, statements: list[tuple[str, list[Any]]]) -> list[list[dict[str, Any]]]:
        """Run the statements in one request, atomically; the rows of each."""
        body = {"batch": [{"sql": sql, "params": [_param(p) for p in params]} for sql, params in statements]}
        results = self._request(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        if len(results) != len(statements):
            raise D1Error(f"D1 answered {len(results)} results for {len(statements)} statements")
        return [r.get("results") or [] for r in results]

    def query(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        return self.batch([(sql, params or [])])[0]

    def _request(self, body: bytes) -> list[dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.settings.token}", "Content-Type": "application/json",
                   "User-Agent": "agentlog-d1"}
        self.limiter.acquire()
        self.requests += 1
        try:
            response = post(self.url, body, headers, self.policy, on_retry=self.on_retry)
        except (TransportError, EndpointError) as exc:
            raise D1Error(f"D1 unreachable at {display_url(self.settings.api_url)}: {exc}") from None
        envelope = _envelope(response.body)
        if response.status == 200 and envelope.get("success"):
            result = envelope.get("result")
            return result if isinstance(result, list) else []
        errors = server_text(_errors(envelope), secret_values(headers))  # a server may echo the token
        if response.status in (401, 403):
            raise D1AuthError(
                f"D1 refused the API token (HTTP {response.status}: {errors}); check {TOKEN_ENV} "
                f"is valid and has the D1 Edit permission for account {server_text(self.settings.account_id)}")
        raise D1Error(f"D1 query failed (HTTP {response.status}): {errors}")


def _param(value: Any) -> Any:
    """Cloudflare's OpenAPI types params as strings; None stays null."""
    return value if value is None or isinstance(value, str) else str(value)


def _envelope(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return {"errors": [{"message": body[:4096].decode("utf-8", "replace") or "(empty body)"}]}
    return data if isinstance(data, dict) else {}


def _errors(envelope: dict[str, Any]) -> str:
    errors = envelope.get("errors")
    errors = errors if isinstance(errors, list) else []
    parts = [f"{e.get('code')}: {e.get('message')}" if e.get("code") else str(e.get("message"))
             for e in errors if isinstance(e, dict)]
    return "; ".join(parts[:20]) or "no error message"
