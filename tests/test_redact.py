"""Tests for agentlog.core.redact: secret names, secret shapes in text, and scrub."""

from __future__ import annotations

import base64
import copy
import json
import time
from pathlib import Path

import pytest

from agentlog.core import redact
from agentlog.core.config import load_config, set_config
from agentlog.core.redact import is_secret_name, marker, redact_prefix, redact_text, scrub

# Built by concatenation so no literal here looks like a live credential.
OPENAI = "sk-" + "proj-" + "Ab3" * 16
ANTHROPIC = "sk-" + "ant-api03-" + "Xy7" * 20
STRIPE = "sk_" + "live_" + "9aZ" * 9
STRIPE_RESTRICTED = "rk_" + "live_" + "4Qp" * 9
GITHUB = "ghp_" + "A" * 36
GITHUB_PAT = "github_" + "pat_" + "11AB" * 10
AWS_ID = "AKIA" + "Z7" * 8
AWS_SECRET = "wJalr" + "X/Ut7" * 7
SLACK = "xoxb-" + "1234567890-" + "abcDEF123456"
JWT = "eyJ" + "hbGciOiJIUzI1NiJ9" + ".eyJ" + "zdWIiOiIxMjM0NTY3ODkwIn0" + "." + "dozjgNryP4J3jVmNHl0w5N_Xg"
BASIC = base64.b64encode(b"aladdin:opensesame").decode()
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7"
PEM = "-----BEGIN RSA " + "PRIVATE KEY-----\n" + PEM_BODY + "\n-----END RSA " + "PRIVATE KEY-----"


pytestmark = pytest.mark.usefixtures("fresh_redaction")


class TestMarker:
    def test_format(self) -> None:
        """A marker names its kind inside [REDACTED:...]."""
        assert marker("jwt") == "[REDACTED:jwt]"


class TestIsSecretName:
    @pytest.mark.parametrize(
        "name",
        [
            "password", "db_password", "dbPassword", "DB-PASSWORD", "passwd", "pwd", "db_pwd",
            "secret", "client_secret", "AWS_SECRET_ACCESS_KEY", "token", "GITHUB_TOKEN", "api_token",
            "accessToken", "csrftoken", "X-Auth-Token", "auth", "auth_header", "authHeader",
            "Authorization", "basic_auth", "api_key", "apiKey", "APIKey", "OPENAI_API_KEY", "api-key",
            "credentials", "aws.credential", "cookie", "set_cookie", "private_key", "privateKey",
            "session_id", "sessionId", "sessionid", "session_key", "PHPSESSID", "passphrase",
        ],
    )  # fmt: skip
    def test_secret(self, name: str) -> None:
        """Names that hold credentials are secret names."""
        assert is_secret_name(name)

    @pytest.mark.parametrize(
        "name",
        [
            "tokenize", "tokenizer", "tokens", "tokens_used", "input_tokens", "max_tokens",
            "token_count", "num_tokens", "token_ids", "token_url", "author", "authors", "authored",
            "authority", "authenticate", "is_authenticated", "oauth_provider", "secretary", "key",
            "keyboard", "monkey", "session", "user_session", "pwdump", "cwd", "user_id", "passenger",
            "", "compass",
        ],
    )  # fmt: skip
    def test_not_secret(self, name: str) -> None:
        """Ordinary identifiers, including token counts and auth-like words, are not secret names."""
        assert not is_secret_name(name)

    def test_non_string(self) -> None:
        """A non-string name is not secret and does not raise."""
        assert not is_secret_name(42)  # type: ignore[arg-type]

    def test_configured_names(self) -> None:
        """Configured redact_names match as normalised substrings after reset()."""
        assert not is_secret_name("customer_ssn")
        set_config(load_config(env={"AGENTLOG_REDACT_NAMES": "ssn, internal-code"}))
        redact.reset()
        assert is_secret_name("customer_ssn")
        assert is_secret_name("internalCode")


SHAPE_CASES = [
    ("openai_key", OPENAI, "OPENAI_KEY={} # set in CI"),
    ("openai_key", OPENAI, "openai.AuthenticationError: Incorrect API key provided: {}."),
    ("anthropic_key", ANTHROPIC, 'client = Anthropic(key="{}")'),
    ("stripe_key", STRIPE, "stripe.api_key = '{}'"),
    ("stripe_key", STRIPE_RESTRICTED, "restricted {} in use"),
    ("github_token", GITHUB, "https://{}@github.com/org/repo.git"),
    ("github_token", GITHUB_PAT, "+    gh = Github({})\n-    gh = Github()"),
    ("aws_access_key_id", AWS_ID, '{{"AccessKeyId": "{}", "Region": "eu-west-1"}}'),
    ("aws_secret_key", AWS_SECRET, "aws_secret_access_key = {}\nregion = us-east-1"),
    ("aws_secret_key", AWS_SECRET, '{{"SecretAccessKey": "{}"}}'),
    ("slack_token", SLACK, "SlackApiError: invalid_auth for {} (team T1)"),
    ("jwt", JWT, "cookie header was session={}; Path=/"),
    ("jwt", JWT, "decoded {} ok"),
    ("bearer", "abcDEF123456xyz", "requests.get(url, headers={{'Authorization': 'Bearer {}'}})"),
    ("bearer", "tok3n-value-42", "curl -H 'authorization: bearer {}' https://x"),
    ("basic", BASIC, "Authorization: Basic {}\nHost: example.com"),
    ("basic", BASIC, "sent Basic {} to proxy"),
    ("url_password", "s3cr3t-pw", "OperationalError: could not connect to postgres://bob:{}@db:5432/app"),
    ("url_password", "hunter2", "REDIS_URL=redis://:{}@cache:6379/0 loaded"),
    ("private_key", PEM, "key = '''{}'''\nprint(key)"),
    ("private_key", PEM.split("-----END")[0], 'KEY = "{}" (truncated)'),
    ("name", "hunter2", "login(user='bob', password={}) failed"),
    ("name", "hunter2", 'db_password="{}" in settings.py'),
    ("name", "abc123", '{{"api_key": "{}", "model": "gpt"}}'),
    ("name", "xyz987", "token: {}\nmodel: small"),
    ("name", "p@ss", "ValueError: bad config {{'client_secret': '{}', 'id': 7}}"),
    ("name", "s3ss10n", "+ SESSION_ID={}"),
]


class TestRedactTextShapes:
    @pytest.mark.parametrize(("kind", "secret", "template"), SHAPE_CASES)
    def test_secret_removed_with_kind(self, kind: str, secret: str, template: str) -> None:
        """The secret vanishes, its marker names the kind, and the surrounding text survives."""
        text = template.format(secret)
        out = redact_text(text)
        assert secret not in out
        assert marker(kind) in out
        before, _, after = template.partition("{}")
        head = before.replace("{{", "{")[-6:]
        tail = after.replace("}}", "}")[:6]
        assert head in out
        assert tail in out

    def test_url_keeps_user_and_host(self) -> None:
        """Only the password of a URL is replaced."""
        out = redact_text("postgres://bob:" + "pw123456" + "@db:5432/x")
        assert out == "postgres://bob:[REDACTED:url_password]@db:5432/x"

    def test_bearer_keeps_scheme(self) -> None:
        """An Authorization header keeps its scheme word."""
        assert redact_text("Authorization: Bearer abc") == "Authorization: Bearer [REDACTED:bearer]"

    def test_multiline_diff(self) -> None:
        """Every secret in a diff is replaced and the diff lines stay."""
        diff = f"--- a/cfg.py\n+++ b/cfg.py\n-TOKEN = None\n+TOKEN = '{GITHUB}'\n+AWS = '{AWS_ID}'\n"
        out = redact_text(diff)
        assert GITHUB not in out and AWS_ID not in out
        assert out.startswith("--- a/cfg.py\n+++ b/cfg.py\n-TOKEN = None\n+TOKEN = '[REDACTED:")

    def test_json_document(self) -> None:
        """Secrets inside a serialised JSON document are replaced and it stays valid JSON."""
        doc = json.dumps({"password": "hunter22", "nested": {"auth": f"Bearer {JWT}"}, "n": 3})
        out = redact_text(doc)
        assert "hunter22" not in out and JWT not in out
        assert json.loads(out)["n"] == 3

    def test_idempotent(self) -> None:
        """Redacting redacted text changes nothing more."""
        once = redact_text(f"password={GITHUB} url=https://u:{'pw12345'}@h Authorization: Bearer {JWT}")
        assert redact_text(once) == once

    def test_none_value_kept(self) -> None:
        """A secret name assigned None keeps the None, which is useful when debugging."""
        assert redact_text("password=None") == "password=None"

    def test_colon_prose_kept(self) -> None:
        """A colon after a secret name inside prose is not an assignment."""
        text = "jwt.DecodeError: Invalid token: expected three segments"
        assert redact_text(text) == text

    def test_annotated_assignment(self) -> None:
        """The value, not the annotation, of an annotated assignment is replaced."""
        assert redact_text("password: str = 'hunter2'") == "password: str = '[REDACTED:name]'"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("error: password=hunter2abc", "error: password=[REDACTED:name]"),
            ("ERROR: api_key=abc123def456 rejected", "ERROR: api_key=[REDACTED:name] rejected"),
            ("cfg: token=abcdef123456", "cfg: token=[REDACTED:name]"),
            ("user: str = 'bob'", "user: str = 'bob'"),
        ],
    )
    def test_assignment_after_a_label(self, text: str, expected: str) -> None:
        """``label: secret=value`` is an assignment after a label, not an annotation of the label."""
        assert redact_text(text) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ('SECRET_KEY = b"hunter2abcXYZ"', 'SECRET_KEY = b"[REDACTED:name]"'),
            ("{'password': b'pw_bytes_123', 'user': 'bob'}", "{'password': b'[REDACTED:name]', 'user': 'bob'}"),
            ('token = rb"abc123def"', 'token = rb"[REDACTED:name]"'),
            ("password => 'hunter2abc'", "password => '[REDACTED:name]'"),
            ("password=bob123", "password=[REDACTED:name]"),
        ],
    )
    def test_prefixed_literals_and_arrows(self, text: str, expected: str) -> None:
        """Bytes, raw and f-string literals and ``=>`` assignments lose their whole value."""
        assert redact_text(text) == expected


class TestRedactTextNegatives:
    @pytest.mark.parametrize(
        "text",
        [
            "tokenize the input before counting",
            "author: Jane Doe",
            "pip install sk-learn",
            "task-123 is blocked",
            "the skeleton key opened the door",
            "commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904 fixed it",
            "request 123e4567-e89b-12d3-a456-426614174000 timed out",
            base64.b64encode(b"hello world").decode(),
            "max_tokens=4000, input_tokens=12, output_tokens=7",
            'File "/home/dev/project/auth/views.py", line 12, in login',
            "KeyError: 'session' in handle_request",
            "Basic authentication is enabled",
            "bearer of bad news",
            "self.token_count += len(tokens)",
            "https://example.com:8443/path?q=1",
            "sk-learn-compatible-estimators-and-pipelines",
            "x = {'key': 'value', 'monkey': 'banana'}",
            "if password == expected:",
            "",
        ],
    )
    def test_unchanged(self, text: str) -> None:
        """Ordinary text comes back unchanged."""
        assert redact_text(text) == text

    def test_unchanged_is_same_object(self) -> None:
        """A string with nothing to redact is returned as the same object."""
        text = "KeyError: 'user_id' raised while looking up users"
        assert redact_text(text) is text

    def test_non_string(self) -> None:
        """Non-strings come back unchanged."""
        assert redact_text(b"password=x") == b"password=x"  # type: ignore[arg-type]


class TestRedactTextConfigured:
    def test_custom_patterns(self) -> None:
        """Configured regexes redact with kind custom after reset()."""
        text = "order for employee EMP-123456 shipped"
        assert redact_text(text) == text
        set_config(load_config(env={"AGENTLOG_REDACT_PATTERNS": r"EMP-\d{6}" + "\n" + r"INT-\d+"}))
        redact.reset()
        assert redact_text(text) == "order for employee [REDACTED:custom] shipped"

    def test_bad_pattern_ignored(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An invalid regex is skipped with a warning, the valid ones still apply."""
        set_config(load_config(env={"AGENTLOG_REDACT_PATTERNS": "(unclosed\nEMP-\\d+"}))
        redact.reset()
        assert redact_text("EMP-1") == "[REDACTED:custom]"
        assert "bad-redact-pattern" in capsys.readouterr().err

    def test_configured_name_in_text(self) -> None:
        """A configured name is honoured in key=value text."""
        set_config(load_config(env={"AGENTLOG_REDACT_NAMES": "ssn"}))
        redact.reset()
        assert redact_text("customer_ssn=123-45-6789") == "customer_ssn=[REDACTED:name]"


class TestRedactTextEnv:
    @pytest.mark.parametrize(("name", "value"), [("DB_PASSWORD", "Bluebirdsky"), ("MY_TOKEN", "12345678")])
    def test_plain_word_and_digit_values(self, monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
        """A password that is a plain word or a number is still a password."""
        monkeypatch.setenv(name, value)
        redact.reset()
        assert redact_text(f"auth failed for {value!r}") == f"auth failed for '[REDACTED:env:{name}]'"

    def test_env_value(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The value of a secret-named env var is replaced wherever it appears."""
        monkeypatch.setenv("MY_SERVICE_TOKEN", "Zq8-value-77")
        redact.reset()
        assert redact_text("calling with Zq8-value-77 now") == "calling with [REDACTED:env:MY_SERVICE_TOKEN] now"

    @pytest.mark.parametrize("piece", ["Zq8-valu", "8-value-7", "Zq8-value-7"])
    def test_piece_of_env_value_alone(self, monkeypatch: pytest.MonkeyPatch, piece: str) -> None:
        """A string that is an 8+-character piece of a secret env value (``token[:12]``) goes whole."""
        monkeypatch.setenv("MY_SERVICE_TOKEN", "Zq8-value-77")
        redact.reset()
        assert redact_text(piece) == "[REDACTED:env:MY_SERVICE_TOKEN]"

    @pytest.mark.parametrize("text", ["Zq8-val", "value-77 is short", "prefix Zq8-value"])
    def test_short_piece_or_piece_in_text_kept(self, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
        """Under 8 characters, or a piece inside a longer text, is not taken for the secret."""
        monkeypatch.setenv("MY_SERVICE_TOKEN", "Zq8-value-77")
        redact.reset()
        assert redact_text(text) == text

    @pytest.mark.parametrize(
        ("name", "value"),
        [("MY_TOKEN", "short7"), ("AUTH_MODE", "disabled"), ("PWD", "/no/such/dir/x9")],
    )
    def test_env_value_ignored(self, monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
        """Short, numeric, plain-word and working-directory env values are not harvested."""
        monkeypatch.setenv(name, value)
        redact.reset()
        assert redact_text(f"see {value} here") == f"see {value} here"

    def test_env_existing_path_ignored(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        """An env value naming an existing path (SSH_AUTH_SOCK, credentials files) is kept."""
        monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path))
        redact.reset()
        assert redact_text(f"socket {tmp_path}") == f"socket {tmp_path}"


PREFIX = 16  # what the call trail keeps of a string


class TestRedactPrefix:
    @pytest.mark.parametrize(
        ("secret", "kind"),
        [
            (OPENAI, "openai_key"),
            (ANTHROPIC, "anthropic_key"),
            (STRIPE, "stripe_key"),
            (GITHUB, "github_token"),
            (GITHUB_PAT, "github_token"),
            (AWS_ID, "aws_access_key_id"),
            (SLACK, "slack_token"),
            (JWT, "jwt"),
        ],
    )
    @pytest.mark.parametrize("lead", ["", "key ", "x="])
    def test_cut_secret_shapes(self, secret: str, kind: str, lead: str) -> None:
        """A secret cut too short for its full pattern is still redacted, whatever leads it."""
        cut = (lead + secret)[:PREFIX]
        assert redact_prefix(cut) == lead + marker(kind)

    def test_cut_private_key(self) -> None:
        """A PEM block's first line, cut, is removed from its start on."""
        assert redact_prefix(("data: " + PEM)[:PREFIX]) == "data: " + marker("private_key")

    def test_cut_bearer(self) -> None:
        """A credential cut right after its scheme word is redacted."""
        assert redact_prefix("Bearer Zx81kq") == "Bearer " + marker("bearer")

    def test_cut_env_value(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The start of a secret environment value is redacted."""
        monkeypatch.setenv("DB_PASSWORD", "Bluebirdsky-over-the-hill")
        redact.reset()
        assert redact_prefix("pw Bluebirdsky-o") == "pw " + marker("env:DB_PASSWORD")

    @pytest.mark.parametrize("text", ["hello world, thi", "/home/app/data/r", "skeleton-key-ove", "select * from us"])
    def test_plain_prefixes_kept(self, text: str) -> None:
        """Prefixes that start like no secret come back unchanged."""
        assert redact_prefix(text) == text


class TestRedactTextPerformance:
    @pytest.mark.parametrize(
        "big",
        [
            "a" * 2_000_000,
            "eyJ" * 700_000,
            "-----BEGIN PRIVATE KEY-----" * 70_000,
            "http://a:" * 200_000,
            "password=hunter2 key: v sk-abc ghp_x :// Bearer eyJ x\n" * 40_000,
            "password" + " " * 2_000_000,
        ],
        ids=["letters", "jwt-prefixes", "pem-headers", "url-prefixes", "mixed", "spaces"],
    )
    def test_two_megabytes_finishes(self, big: str) -> None:
        """A 2 MB adversarial string finishes: a hang guard against catastrophic backtracking."""
        start = time.perf_counter()
        redact_text(big)
        assert time.perf_counter() - start < 15.0



class TestScrub:
    def test_nested(self) -> None:
        """Strings at any depth are redacted and non-strings are kept."""
        record = {"t": "failure", "frames": [{"locals": {"url": f"https://x:{'pw123456'}@h"}}], "n": 1.5}
        out = scrub(record)
        assert out["frames"][0]["locals"]["url"] == "https://x:[REDACTED:url_password]@h"
        assert out["n"] == 1.5 and out["t"] == "failure"

    def test_secret_key_scalar(self) -> None:
        """Scalars under a secret-name key become the name marker; None and bools stay."""
        out = scrub({"password": "hunter2", "pin_token": 1234, "api_key": None, "auth": True, "user": "bob"})
        assert out == {
            "password": "[REDACTED:name]",
            "pin_token": "[REDACTED:name]",
            "api_key": None,
            "auth": True,
            "user": "bob",
        }

    def test_secret_key_list(self) -> None:
        """Items of a list under a secret-name key are replaced too."""
        assert scrub({"api_keys": ["k1", "k2"]}) == {"api_keys": ["[REDACTED:name]", "[REDACTED:name]"]}

    def test_secret_key_dict_recurses(self) -> None:
        """A dict under a secret-name key is judged by its own keys."""
        out = scrub({"credentials": {"user": "bob", "password": "hunter2"}})
        assert out == {"credentials": {"user": "bob", "password": "[REDACTED:name]"}}

    def test_does_not_mutate(self) -> None:
        """The input structure is left exactly as it was."""
        record = {"a": [GITHUB, {"token": "x1y2z3w4"}], "b": (JWT,)}
        before = copy.deepcopy(record)
        out = scrub(record)
        assert record == before
        assert out["a"][0] == "[REDACTED:github_token]" and out["b"] == ("[REDACTED:jwt]",)

    def test_deep_returned_as_is(self) -> None:
        """Nesting deeper than the limit is returned untouched rather than raising."""
        deep: list = [GITHUB]
        for _ in range(redact.MAX_SCRUB_DEPTH + 5):
            deep = [deep]
        assert scrub(deep) == deep

    def test_odd_values(self) -> None:
        """Values that are not JSON-like come back as they are."""
        marker_obj = object()
        assert scrub(marker_obj) is marker_obj
        assert scrub({"x": {1, 2}}) == {"x": {1, 2}}
