"""The shared HTTP client: Retry-After parsing, giving up instead of hanging, backoff bounds."""

from __future__ import annotations

import email.utils

import pytest
from http_support import RecordingServer

from agentlog.integrations.httpclient import BACKOFF_MAX_S, RetryPolicy, TransportError, backoff_s, post, retry_after_s


class Answer(RecordingServer):
    def respond(self, path, headers, body):
        return 200, {}, b"ok"


class TestRetryAfter:
    @pytest.mark.parametrize(("value", "expected"), [("3", 3.0), ("0", 0.0), (" 12 ", 12.0), (None, None),
                                                     ("", None), ("soon", None), ("-1", None)])
    def test_seconds_and_garbage(self, value, expected):
        assert retry_after_s(value) == expected

    def test_http_date(self):
        """An HTTP date means the seconds until then (0 once it has passed)."""
        assert retry_after_s(email.utils.formatdate(1000.0 + 30, usegmt=True), now=1000.0) == 30.0
        assert retry_after_s(email.utils.formatdate(900.0, usegmt=True), now=1000.0) == 0.0


def test_backoff_is_bounded():
    assert all(0 <= backoff_s(n) <= BACKOFF_MAX_S for n in range(1, 40))


def test_gives_up_rather_than_wait_too_long():
    """A Retry-After beyond max_wait_s fails at once, naming the wait; nothing sleeps."""
    slept = []
    with Answer() as server:
        server.faults = [{"status": 503, "retry_after": "3600"}]
        with pytest.raises(TransportError, match="asks to wait 3600 s, more than 120 s"):
            post(server.url, b"x", {}, RetryPolicy(retry_on={503}), sleep=slept.append)
    assert slept == [] and len(server.seen) == 1


def test_retries_only_what_it_is_told():
    """A status outside retry_on comes back as it is, after one attempt."""
    with Answer() as server:
        server.faults = [{"status": 500, "body": b"boom"}]
        response = post(server.url, b"x", {}, RetryPolicy(retry_on={503}), sleep=lambda s: None)
    assert (response.status, response.body, len(server.seen)) == (500, b"boom", 1)


def test_a_dropped_connection_is_retried():
    with Answer() as server:
        server.faults = [{"drop": True}]
        response = post(server.url, b"x", {}, RetryPolicy(retry_on={503}), sleep=lambda s: None)
    assert response.status == 200 and [s.answered for s in server.seen] == [0, 200]
