"""Credentials go only where the user sent them: endpoints, redirects, deadlines, paging, what errors print.

Hostile servers are real local HTTP servers (http_support.py): they redirect to another
origin, trickle their answer one byte per second, echo the credentials they were sent,
and (in front of a real D1 under miniflare) send endless or repeating pages.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from d1_support import ACCOUNT, DATABASE, TOKEN, D1Proxy, d1_env, d1_fixture, miniflare_fixture  # noqa: F401
from http_support import RecordingServer
from session_support import make_session, session_id
from support import child_env, run_python

from agentlog.core.config import CREDENTIAL_TARGETS, credential_target_warning, load_config
from agentlog.integrations import httpclient
from agentlog.integrations.httpclient import (
    EndpointError,
    RedirectRefused,
    RetryPolicy,
    TransportError,
    check_endpoint,
    display_url,
    post,
    server_text,
)

HEADER_SECRET = "hdr-Secr3t-value-8c1f0e"
API_KEY = "xk-0f9e8d7c6b5a49382716"


class Answer(RecordingServer):
    def respond(self, path, headers, body):
        return 200, {"Content-Type": "application/json"}, b"{}"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    return make_session(tmp_path_factory.mktemp("creds"))


def agentlog(data, cwd, *args, **env):
    return run_python(["-m", "agentlog", *args], cwd, child_env(data, **env))


class TestEndpoints:
    @pytest.mark.parametrize("url", [
        "https://api.cloudflare.com/client/v4", "https://collector.example:4318", "http://127.0.0.1:4318",
        "http://127.9.8.7/x", "http://localhost:4318", "http://LOCALHOST./", "http://[::1]:4318",
        "http://[::ffff:127.0.0.1]:80/",
    ])
    def test_accepted(self, url):
        check_endpoint(url)

    @pytest.mark.parametrize(("url", "says"), [
        ("http://collector.example:4318", "plain http is allowed only to this machine"),
        ("http://10.0.0.5/", "plain http is allowed only to this machine"),
        ("http://0.0.0.0:4318", "plain http is allowed only to this machine"),
        ("http://127.0.0.1.nip.io/", "plain http is allowed only to this machine"),
        ("http://localhost.evil.example/", "plain http is allowed only to this machine"),
        ("http://2130706433/", "plain http is allowed only to this machine"),
        ("ftp://127.0.0.1/", "is not an http(s) URL"),
        ("file:///etc/passwd", "is not an http(s) URL"),
        ("collector:4318", "is not an http(s) URL"),
        ("https://user:hunter2pass@collector.example/", "credentials in the URL are not sent"),
        ("https://collector.example:99999/", "is not a usable URL"),
    ])
    def test_refused_in_one_line(self, url, says):
        with pytest.raises(EndpointError) as caught:
            check_endpoint(url)
        message = str(caught.value)
        assert says in message and "\n" not in message and "hunter2pass" not in message

    def test_post_refuses_before_sending(self):
        with pytest.raises(EndpointError):
            post("http://192.0.2.1:9/v1/traces", b"x", {"Authorization": "Bearer x"}, RetryPolicy(retry_on=()))


class TestDisplay:
    @pytest.mark.parametrize(("url", "shown", "hidden"), [
        ("https://user:pa55word-x@host.example/v1", "https://[REDACTED:userinfo]@host.example/v1", "pa55word"),
        ("https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@host.example/", "[REDACTED:userinfo]@host.example",
         "ghp_"),
        ("https://host.example/v1?access_token=tok-12345678&tenant=acme", "tenant=acme", "tok-12345678"),
        ("https://host.example/v1?X-Amz-Signature=abcdef0123456789", "X-Amz-Signature=", "abcdef0123456789"),
        ("https://host.example/v1?sig=Zm9vYmFyYmF6cXV4", "sig=", "Zm9vYmFyYmF6cXV4"),
        ("https://host.example/cb#access_token=frag-secret-99", "https://host.example/cb", "frag-secret-99"),
        ("https://host.example/\x1b]52;c;aGk=\x07x", "https://host.example/", "\x1b"),
        ("https://host.example/\u202eevil", "https://host.example/", "\u202e"),
    ])
    def test_nothing_secret_or_raw(self, url, shown, hidden):
        text = display_url(url)
        assert shown in text and hidden not in text

    def test_bounded(self):
        text = display_url("https://host.example/" + "a" * 5000)
        assert len(text) <= httpclient.MAX_URL_CHARS and text.endswith("…")

    @pytest.mark.parametrize(("raw", "hidden"), [
        (f"you sent Authorization: Bearer {HEADER_SECRET}".encode(), HEADER_SECRET),
        (f'{{"echo": {{"x-api-key": "{API_KEY}"}}}}', API_KEY),
        ("password=hunter2hunter2 rejected", "hunter2hunter2"),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789 is not valid", "ghp_abcdefghij"),
        ("bad\x1b[2J\x9b31m\u202eline\nsecond\rline", "\x1b"),
    ])
    def test_server_text(self, raw, hidden):
        text = server_text(raw, [HEADER_SECRET, API_KEY])
        assert hidden not in text and "\n" not in text and "\r" not in text and "\x9b" not in text

    def test_server_text_bounded(self):
        assert len(server_text(b"x" * 10_000_000)) <= httpclient.MAX_SERVER_TEXT_CHARS


class TestRedirects:
    @pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
    def test_never_followed(self, status):
        """The credentialed request never reaches the redirect's target; the error names status and origin."""
        with Answer() as target, Answer() as server:
            server.faults = [{"status": status, "headers": {"Location": f"{target.url}/steal?token=tok-998877665544"}}]
            with pytest.raises(RedirectRefused) as caught:
                post(server.url, b"x", {"Authorization": f"Bearer {HEADER_SECRET}", "x-api-key": API_KEY},
                     RetryPolicy(retry_on={503}), sleep=lambda s: None)
        message = str(caught.value)
        assert target.seen == [] and len(server.seen) == 1  # not retried either
        assert message.startswith(f"HTTP {status} redirects to {target.url}; not followed")
        assert "steal" not in message and "tok-998877665544" not in message

    def test_same_origin_is_not_followed_either(self):
        with Answer() as server:
            server.faults = [{"status": 307, "headers": {"Location": "/other"}}]
            with pytest.raises(RedirectRefused, match=f"redirects to {server.url};"):
                post(server.url + "/v1/traces", b"x", {}, RetryPolicy(retry_on=()))
        assert [s.path for s in server.seen] == ["/v1/traces"]


class TestDeadlines:
    @pytest.mark.parametrize("fault", [
        {"trickle_s": 1.0},  # status line, headers and body one byte a second
        {"status": 200, "body": b"{" + b" " * 100 + b"}", "trickle_s": 0.3},
        {"raw": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{", "linger_s": 3},  # then silence
    ])
    def test_a_trickling_server_cannot_stretch_an_attempt(self, fault):
        with Answer() as server:
            server.faults = [fault]
            started = time.monotonic()
            with pytest.raises(TransportError, match=r"^no complete answer within 1 s after 1 attempts$"):
                post(server.url, b"x", {}, RetryPolicy(retry_on=(), attempts=1, timeout_s=1.0))
            assert time.monotonic() - started < 1.8

    def test_a_response_too_large_is_an_error(self, monkeypatch):
        monkeypatch.setattr(httpclient, "MAX_RESPONSE_BYTES", 1000)
        with Answer() as server:
            server.faults = [{"status": 200, "body": b"x" * 1001}]
            with pytest.raises(TransportError, match="larger than"):
                post(server.url, b"x", {}, RetryPolicy(retry_on=(), attempts=3), sleep=lambda s: None)
        assert len(server.seen) == 1


class TestProjectFiles:
    def pyproject(self, tmp_path, **options):
        body = "".join(f'{k} = "{v}"\n' for k, v in options.items())
        (tmp_path / "pyproject.toml").write_text(f"[tool.agentlog]\n{body}")

    @pytest.mark.parametrize("name", CREDENTIAL_TARGETS)
    def test_a_project_cannot_set_where_credentials_go(self, tmp_path, name):
        self.pyproject(tmp_path, **{name: "https://evil.example/x", "max_items": 7})
        config = load_config(tmp_path, env={"AGENTLOG_CONFIG": str(tmp_path / "none.toml")})
        assert getattr(config, name) == config._field_defaults[name]
        assert config.max_items == 7  # other options still apply
        line = credential_target_warning(tmp_path, env={"AGENTLOG_CONFIG": "/u/config.toml"})
        assert f"sets {name} in [tool.agentlog]: ignored" in line and "/u/config.toml" in line

    @pytest.mark.parametrize(("user", "project", "env", "expected"), [
        ("https://user.example", "https://evil.example", {}, "https://user.example"),
        ("https://user.example", "https://evil.example", {"AGENTLOG_D1_API_URL": "https://env.example"},
         "https://env.example"),
        (None, "https://evil.example", {}, "https://api.cloudflare.com/client/v4"),
    ])
    def test_precedence(self, tmp_path, user, project, env, expected):
        self.pyproject(tmp_path, d1_api_url=project)
        path = tmp_path / "user.toml"
        if user:
            path.write_text(f'd1_api_url = "{user}"\nd1_account_id = "acct"\n')
        config = load_config(tmp_path, env={"AGENTLOG_CONFIG": str(path), **env})
        assert config.d1_api_url == expected
        assert config.d1_account_id == ("acct" if user else "")

    def test_doctor_names_the_user_config_and_the_ignored_settings(self, tmp_path):
        self.pyproject(tmp_path, d1_api_url="https://evil.example")
        user = tmp_path / "user.toml"
        user.write_text("max_items = 4\n")
        env = child_env(tmp_path / "data", AGENTLOG_CONFIG=str(user))
        result = run_python(["-m", "agentlog", "doctor"], tmp_path, env)
        assert result.returncode == 0, result.stderr
        assert f"user config: {user} (read)" in result.stdout
        assert "problem: " in result.stdout and "sets d1_api_url in [tool.agentlog]: ignored" in result.stdout
        assert "4 items" in result.stdout

    def test_no_warning_without_such_settings(self, tmp_path):
        self.pyproject(tmp_path, max_items=3)
        assert credential_target_warning(tmp_path) is None


class TestExport:
    """``agentlog export --otlp-endpoint`` against hostile receivers: one line, exit 1 or 2, nothing leaked."""

    def run(self, recorded, url, *extra):
        data, project = recorded
        return run_python(["-m", "agentlog", "export", "--otlp-endpoint", url, "--protocol", "json",
                           "--header", f"x-api-key={API_KEY}", *extra], project,
                          child_env(data, OTEL_EXPORTER_OTLP_HEADERS=f"authorization=Bearer%20{HEADER_SECRET}"))

    def check_clean(self, result):
        assert HEADER_SECRET not in result.stderr + result.stdout and API_KEY not in result.stderr + result.stdout
        assert "Traceback" not in result.stderr

    def test_cross_origin_redirect(self, recorded):
        with Answer() as target, Answer() as receiver:
            receiver.faults = [{"status": 302, "headers": {"Location": f"{target.url}/v1/traces"}}]
            result = self.run(recorded, receiver.url)
        assert result.returncode == 1 and target.seen == []
        assert result.stderr.strip() == (f"agentlog export: {receiver.url}/v1/traces: HTTP 302 redirects to "
                                         f"{target.url}; not followed (credentials are sent only to the endpoint "
                                         "you set: set that address if you trust it)")
        self.check_clean(result)

    def test_trickle_keeps_to_the_timeout(self, recorded):
        with Answer() as receiver:
            receiver.faults = [{"trickle_s": 1.0}, {"trickle_s": 1.0}]
            started = time.monotonic()
            result = self.run(recorded, receiver.url, "--timeout", "1", "--attempts", "2")
            took = time.monotonic() - started
        assert result.returncode == 1
        assert result.stderr.strip().endswith("no complete answer within 1 s after 2 attempts")
        assert took < 2 * 1 + 0.5 + 3  # two attempts, one backoff (<= 0.5 s), interpreter start-up
        self.check_clean(result)

    @pytest.mark.parametrize("fault", [
        {"status": 400, "body": json.dumps({"message": f"bad: authorization=Bearer {HEADER_SECRET}; "
                                                       f"x-api-key: {API_KEY}"}).encode()},
        {"status": 500, "content_type": "text/plain", "body": f"echo {HEADER_SECRET} {API_KEY}\x1b[2J".encode()},
        {"raw": f"HTTP/1.1 {HEADER_SECRET}\r\n\r\n".encode()},  # the status line echoes a header
    ])
    def test_echoed_headers_are_not_printed(self, recorded, fault):
        with Answer() as receiver:
            receiver.faults = [fault]
            result = self.run(recorded, receiver.url, "--attempts", "1")
        assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
        assert receiver.seen[0].headers["x-api-key"] == API_KEY  # it was sent, to the endpoint the user named
        assert "\x1b" not in result.stderr
        self.check_clean(result)

    @pytest.mark.parametrize(("url", "says"), [
        ("http://collector.example:4318", "plain http is allowed only to this machine"),
        (f"https://me:{HEADER_SECRET}@collector.example", "credentials in the URL are not sent"),
    ])
    def test_refused_endpoints(self, recorded, url, says):
        result = self.run(recorded, url)
        assert result.returncode == 2 and says in result.stderr and len(result.stderr.strip().splitlines()) == 1
        self.check_clean(result)


class HostileD1(D1Proxy):
    """Forwards to miniflare, except that reads of a session's rows get the pages ``pages`` makes."""

    def __init__(self, upstream, pages):
        super().__init__(upstream)
        self.pages = pages

    def respond(self, path, headers, body):
        statement = json.loads(body)["batch"][0]
        if statement["sql"].startswith("SELECT rkey") and "FROM agentlog_records WHERE sid" in statement["sql"]:
            _sid, after, limit = statement["params"]
            result = [{"results": self.pages(after, int(limit)), "success": True, "meta": {}}]
            return 200, {"Content-Type": "application/json"}, json.dumps(
                {"success": True, "errors": [], "messages": [], "result": result}).encode()
        return super().respond(path, headers, body)


PAGES = {
    "endless": (lambda after, n: [{"rkey": f"{int(after or 0) + i + 1:012d}", "body": "{}"} for i in range(n)],
                r"D1 holds more than \d+ records or"),
    "repeats": (lambda after, n: [{"rkey": f"{i:012d}", "body": "{}"} for i in range(n)],
                "D1 paging did not advance"),
    "descending": (lambda after, n: [{"rkey": f"{n - i:012d}", "body": "{}"} for i in range(n)],
                   "D1 paging did not advance"),
    "huge rows": (lambda after, n: [{"rkey": f"{int(after or 0) + i + 1:012d}", "body": "x" * 200_000}
                               for i in range(n)], "D1 holds more than .* MiB for session"),
    "oversized": (lambda after, n: [{"rkey": f"{i + 1:012d}", "body": "{}"} for i in range(n + 1)],
                  "rows to a page of"),
}


class TestD1:
    def test_project_api_url_is_ignored(self, recorded, d1, tmp_path):
        """pyproject.toml names an attacker's API URL: the token goes to the user's endpoint, with a warning."""
        data, project = recorded
        with Answer() as attacker:
            (project / "pyproject.toml").write_text(
                f'[tool.agentlog]\nd1_api_url = "{attacker.url}/client/v4"\nd1_account_id = "evil"\n')
            try:
                result = agentlog(data, project, "sync", **d1_env(d1))
            finally:
                (project / "pyproject.toml").unlink()
        assert result.returncode == 0, result.stderr
        assert attacker.seen == [] and d1.seen and all(f"/accounts/{ACCOUNT}/" in s.path for s in d1.seen)
        warning = [line for line in result.stderr.splitlines() if "project-credential-target" in line]
        assert len(warning) == 1 and "sets d1_api_url, d1_account_id in [tool.agentlog]: ignored" in warning[0]
        assert "AGENTLOG_D1_API_URL, CLOUDFLARE_ACCOUNT_ID" in warning[0]

    def test_user_config_sets_the_endpoint(self, recorded, d1, tmp_path):
        data, project = recorded
        user = tmp_path / "config.toml"
        user.write_text(f'd1_api_url = "{d1.api_url}"\nd1_account_id = "{ACCOUNT}"\nd1_database_id = "{DATABASE}"\n')
        result = agentlog(data, project, "sync", AGENTLOG_CONFIG=str(user), CLOUDFLARE_API_TOKEN=TOKEN)
        assert result.returncode == 0, result.stderr
        assert d1.seen and all(s.headers["authorization"] == f"Bearer {TOKEN}" for s in d1.seen)

    def test_plain_http_elsewhere_is_refused(self, recorded, d1):
        data, project = recorded
        env = {**d1_env(d1), "AGENTLOG_D1_API_URL": "http://d1.example/client/v4"}
        result = agentlog(data, project, "sync", **env)
        assert result.returncode == 1 and d1.seen == []
        assert result.stderr.strip() == ("agentlog sync: AGENTLOG_D1_API_URL: http://d1.example/client/v4: plain "
                                         "http is allowed only to this machine (127.0.0.1, ::1, localhost); use https")

    def test_cross_origin_redirect(self, recorded, d1):
        data, project = recorded
        with Answer() as attacker:
            d1.faults = [{"status": 307, "headers": {"Location": f"{attacker.url}/client/v4/x"}}]
            result = agentlog(data, project, "sync", **d1_env(d1))
        assert result.returncode == 1 and attacker.seen == [] and len(d1.seen) == 1
        assert f"HTTP 307 redirects to {attacker.url}; not followed" in result.stderr
        assert TOKEN not in result.stderr

    def test_echoed_token_is_not_printed(self, recorded, d1):
        data, project = recorded
        message = f"got Bearer {TOKEN}\x1b]52;c;x\x07"
        body = json.dumps({"success": False, "errors": [{"code": 7500, "message": message}]})
        d1.faults = [{"status": 400, "body": body.encode()}]
        result = agentlog(data, project, "sync", **d1_env(d1))
        assert result.returncode == 1 and TOKEN not in result.stderr and "\x1b" not in result.stderr
        assert result.stderr.strip() == "agentlog sync: D1 query failed (HTTP 400): 7500: got [REDACTED:header] ]52;c;x"

    def test_trickle_keeps_to_the_timeout(self, d1):
        from agentlog.integrations.d1_client import D1Client, D1Error, D1Settings

        client = D1Client(D1Settings(ACCOUNT, DATABASE, TOKEN, d1.api_url), attempts=1, timeout_s=1.0)
        d1.faults = [{"trickle_s": 1.0}]
        started = time.monotonic()
        with pytest.raises(D1Error, match="no complete answer within 1 s"):
            client.query("SELECT 1")
        assert time.monotonic() - started < 1.8

    @pytest.mark.parametrize("kind", ["endless", "repeats", "descending", "oversized"])
    def test_sync_paging_is_bounded_and_advances(self, recorded, miniflare, kind):
        data, project = recorded
        pages, says = PAGES[kind]
        with HostileD1(miniflare, pages) as proxy:
            result = agentlog(data, project, "sync", **d1_env(proxy))
        assert result.returncode == 1 and re.search(says, result.stderr), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        keys_pages = [s for s in proxy.seen if b"SELECT rkey FROM" in s.body]
        assert len(keys_pages) <= 200_000 // 5000 + 1

    @pytest.mark.parametrize("kind", ["endless", "repeats", "oversized", "huge rows"])
    def test_pull_paging_is_bounded_and_advances(self, recorded, miniflare, monkeypatch, kind):
        from agentlog.integrations import d1 as d1_sync
        from agentlog.integrations.d1_client import D1Client, D1Error, D1Settings, RateLimiter

        monkeypatch.setattr(d1_sync, "MAX_SESSION_ROWS", 2000)
        monkeypatch.setattr(d1_sync, "MAX_SESSION_CHARS", 50_000_000)
        data, _project = recorded
        pages, says = PAGES[kind]
        with D1Proxy(miniflare) as honest:
            share, _result = d1_sync.share_session(
                session_id(data), data, D1Client(D1Settings(ACCOUNT, DATABASE, TOKEN, honest.api_url)))
        with HostileD1(miniflare, pages) as proxy:
            client = D1Client(D1Settings(ACCOUNT, DATABASE, TOKEN, proxy.api_url), RateLimiter(limit=10**6))
            with pytest.raises(D1Error, match=says):
                d1_sync.pull_share(share, client)
        pulls = [s for s in proxy.seen if b"SELECT rkey, body" in s.body]
        assert len(pulls) <= 2000 // d1_sync.PULL_PAGE + 1


@pytest.fixture(name="tls")
def tls_fixture(tmp_path, monkeypatch):
    """(server context, client context) for a self-signed ``localhost`` certificate made with openssl."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(httpclient, "_tls_context", lambda: client)
    return server


class TestHTTPS:
    """The same rules over TLS: the deadline holds on a TLS socket, redirects are refused."""

    def serve(self, tls):
        server = Answer()
        server.httpd.socket = tls.wrap_socket(server.httpd.socket, server_side=True)
        server.url = server.url.replace("http://127.0.0.1", "https://localhost")
        return server

    @pytest.mark.parametrize(("fault", "expected"), [
        (None, "200"),
        ({"status": 302, "headers": {"Location": "https://elsewhere.example/x"}}, "redirects to https://elsewhere"),
        ({"trickle_s": 1.0}, "no complete answer within 1 s"),
    ])
    def test_over_tls(self, tls, fault, expected):
        with self.serve(tls) as server:
            server.faults = [fault]
            started = time.monotonic()
            try:
                outcome = str(post(server.url, b"x", {"Authorization": "Bearer t0ken-123456"},
                                   RetryPolicy(retry_on=(), attempts=1, timeout_s=1.0)).status)
            except TransportError as exc:
                outcome = str(exc)
        assert expected in outcome and time.monotonic() - started < 1.8
        assert server.seen[0].headers["authorization"] == "Bearer t0ken-123456"
