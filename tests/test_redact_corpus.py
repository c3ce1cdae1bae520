"""Regression corpus for agentlog.core.redact: many positive and negative cases per class, as data.

Every fake credential is built at runtime by concatenation, so no literal here looks live.
A positive case passes only if no 6-character piece of the secret survives.
"""

from __future__ import annotations

import pytest

from agentlog.capture.describe import Describer
from agentlog.core.redact import (
    cannot_be_secret,
    is_secret_function,
    is_secret_name,
    marker,
    redact_head,
    redact_lines,
    redact_prefix,
    redact_text,
    scrub,
)

pytestmark = pytest.mark.usefixtures("fresh_redaction")


def pieces(secret: str, size: int = 6) -> list[str]:
    """Every ``size``-character piece of secret (the whole secret if shorter)."""
    return [secret[i : i + size] for i in range(max(1, len(secret) - size + 1))]


def assert_gone(secret: str, out: str) -> None:
    leaked = [p for p in pieces(secret) if p in out]
    assert not leaked, f"{leaked[:3]} of {secret!r} left in {out!r}"


# ------------------------------------------------------------------ names

SECRET_NAMES = [
    # the list
    "DB_PASS", "db-pass", "pw", "pass", "STRIPE_KEY", "SIGNING_KEY", "ENCRYPTION_KEY", "ACCESS_KEY",
    "MASTER_KEY", "HMAC_KEY", "AccountKey",
    # long-standing ones
    "password", "db_password", "dbPassword", "DB-PASSWORD", "passwd", "pwd", "db_pwd", "user_pw",
    "secret", "client_secret", "AWS_SECRET_ACCESS_KEY", "token", "GITHUB_TOKEN", "api_token",
    "accessToken", "csrftoken", "X-Auth-Token", "auth", "auth_header", "Authorization", "basic_auth",
    "api_key", "apiKey", "APIKey", "OPENAI_API_KEY", "api-key", "x-api-key", "credentials",
    "aws.credential", "cookie", "set_cookie", "private_key", "privateKey", "session_id", "sessionid",
    "session_key", "PHPSESSID", "passphrase", "passcode",
    # more key names
    "signingKey", "encryption-key", "hmacKey", "master.key", "account_key", "storage_account_key",
    "SharedAccessKey", "webhook_key", "license_key", "client_key", "service_key", "app_key",
    "OPENAI_KEY", "ANTHROPIC_KEY", "SENDGRID_KEY", "TWILIO_KEY", "MY_SERVICE_KEY", "FOO_KEY",
    "jwt_key", "ssh_key", "aes_key", "rsa_key", "db_key", "database_key", "decryption_key",
    "masterkey", "accountkey", "signingkey", "DB_PASSWORD", "SMTP_PASS", "redis_pass", "mysql-pw",
    "refresh_token", "id_token", "bearer_token", "NPM_TOKEN", "HF_TOKEN", "PYPI_TOKEN",
    "--password", "--api-token", "--db-pass",
    # short forms of credentials, a bare JWT (QA finding 4)
    "creds", "CREDS", "cred", "db_creds", "aws_creds", "userCreds", "smtp-cred", "jwt", "JWT", "id_jwt",
    "accessJwt",
]  # fmt: skip

PLAIN_NAMES = [
    # the list
    "PWD", "OLDPWD", "passenger", "compass", "bypass", "keyboard", "monkey", "tokenizer",
    # long-standing ones
    "tokenize", "tokens", "tokens_used", "input_tokens", "max_tokens", "token_count", "num_tokens",
    "token_ids", "token_url", "author", "authors", "authored", "authority", "authenticate",
    "is_authenticated", "oauth_provider", "secretary", "key", "session", "user_session", "pwdump",
    "cwd", "user_id", "", "passage", "passive", "passthrough",
    # key-like words that are not credentials
    "keys", "keyword", "keywords", "keystroke", "keypress", "keycode", "key_id", "key_name", "key_size",
    "keyframe", "hotkey", "donkey", "turkey", "primary_key", "foreign_key", "public_key", "pub_key",
    "sort_key", "partition_key", "cache_key", "dict_key", "PUBLIC_KEY", "SORT_KEY", "CACHE_KEY",
    "user_key", "lookup_key", "token_type", "token_length", "tokenizer_config", "pass_count",
    "pass_rate", "first_pass", "render_pass", "test_pass", "TOKEN_FILE", "KEY_PATH", "password_file",
    "credentials_path", "secret_dir", "signal", "sigma", "assign", "design", "ping", "mapping",
    # near the short forms (QA finding 4): "private" alone is a flag, only private_key is a secret
    "credit", "credit_card", "credo", "incredible", "accredited", "creds_path", "creds_file", "cred_count",
    "jwt_algorithm", "jwt_expiry", "jwt_issuer", "jwt_header", "private", "is_private", "private_repo",
    "private_data", "privacy",
]  # fmt: skip


class TestNames:
    @pytest.mark.parametrize("name", SECRET_NAMES)
    def test_secret(self, name: str) -> None:
        """Names that hold credentials are secret."""
        assert is_secret_name(name)

    @pytest.mark.parametrize("name", PLAIN_NAMES)
    def test_plain(self, name: str) -> None:
        """Ordinary identifiers, the working directory and paths to secrets are not."""
        assert not is_secret_name(name)


SECRET_FUNCTIONS = [
    "get_token", "read_password", "load_api_key", "fetch_secret", "_get_access_token", "make_jwt_key",
    "password", "getToken", "readPassword", "generate_api_key", "refresh_token", "prompt_password",
    "decrypt_private_key", "client_secret", "get_db_pass",
]  # fmt: skip
PLAIN_FUNCTIONS = [
    "tokenize", "check_password", "validate_token", "verify_signature", "hash_password", "is_authenticated",
    "count_tokens", "get_token_count", "set_password", "save_token", "revoke_token", "load_config",
    "get_keyboard", "author", "has_secret", "reset_password",
]  # fmt: skip


class TestSecretFunctions:
    @pytest.mark.parametrize("name", SECRET_FUNCTIONS)
    def test_returns_secret(self, name: str) -> None:
        """A function named for getting a secret returns one."""
        assert is_secret_function(name)

    @pytest.mark.parametrize("name", PLAIN_FUNCTIONS)
    def test_returns_no_secret(self, name: str) -> None:
        """Checking, storing or counting secrets returns none."""
        assert not is_secret_function(name)


# ------------------------------------------------------------------ shapes

SHAPES = [
    ("google_api_key", "AIza", "SyB3kxC7pF9HSAV6bBUr8pGT0ohm3URdh6L"),
    ("google_oauth", "GOCSPX-", "EDoHnPiqQ0VB-yA4KbjT_slRxRMu"),
    ("google_oauth", "ya29.", "a0AfH6SMBx7Yq2w3e4r5t6y7u8i9o0pAs"),
    ("npm_token", "npm_", "50OOBNyfBlNnBC9fXpU1Li5Dc6FdhPdlGlKC"),
    ("pypi_token", "pypi-" + "AgEIcHlwaS5vcmc", "CRw2qHcmZuE9vi06l5WN1N9BxEAZ2IHtSYhPe2_btxwfFC5_7DOo"),
    ("huggingface_token", "hf_", "rDTPtjXuXOLbRxxZRZDgEnMNtWaRPUMqaC"),
    ("sendgrid_key", "SG.", "6dPevhSRgQNTceR-HqYcWn" + "." + "u1DBd5_m-Ya9JI_J2DEJUYWNlrhPimlHL0ToN6ByaTj"),
    ("twilio_key", "SK", "0a0d1060d5dc58da385b2167cedd5fee"),
    ("gitlab_token", "glpat-", "ozF15k_RKame6CtaOX9o"),
    ("gitlab_token", "glrt-", "t1_m5Ap4pVi7ESdTSeJZxHpHHGkIZw.2063f725d"),
    ("gitlab_token", "gldt-", "JY9ovyI6tH8s3DrPJJ-0"),
    ("github_token", "ghp_", "urjsUtyOpHBCu5ILi0GAtbfFEGXspwkvLwDg"),
    ("github_token", "ghs_", "XHeueFnkxbz5hNJwToQl8O6APHwG7LDEZfJH"),
    ("github_token", "github_pat_", "IT3cKqbeze8EY5ArS8RcKi_FVBa8KgfvJ0HkwFAnUpV1hPZp5r7ectQHfUj9aYV0EaSY"),
    ("slack_token", "xoxb-", "808428756362-4294117892983-Gp9NtT1SKbYKxo4oIZoRGTdo"),
    ("slack_token", "xapp-", "1-A0ULLP5DNLB-3574861649996-7fd3c49f452996d80897c6fa4d1b6d89"),
    ("stripe_key", "sk_" + "live_", "rsKmNhDPK8B1qpfwGGwqMeOb"),
    ("stripe_key", "whsec_", "hfoqamiVKCGaOnWbagpCFO8aojYN6tUi"),
    ("openai_key", "sk-" + "proj-", "hfeEQQ8vrnpgVbQwtgknWew84Q9ZlJCa3V5t8NgJ1xQUY"),
    ("anthropic_key", "sk-" + "ant-api03-", "rn9Z_Oj69FYnh4TK3LFFqFPlWGxeT4FFKa-SN_Ti459pw"),
    ("aws_access_key_id", "AKIA", "37HPOLVISB47CTNL"),
    ("aws_access_key_id", "ASIA", "GOLC2JQNTQ7HSIT7"),
    ("mailgun_key", "key-", "dd3f0803bf698c1537b436551483b4d7"),
    ("digitalocean_token", "dop_v1_", "0fd332d12f2af53347b0fb6796ae65e0944d7c6a321d966b8f4e088b186bf148"),
    ("shopify_token", "shpat_", "b0f6788eb8aaf54fd62d12f1f68cc6e7"),
    ("telegram_token", "4226326364", ":AA0Pfu_iavRyJ5LY8Vu-KA2D_S5Xc9viODY"),
    ("databricks_token", "dapi", "e60f563cd2cb792ce09258cb06659f87"),
    ("heroku_key", "HRKU-AA", "_t4XA-qKeg_u5TM4MRpQ9Nb9veGUwD0u5wxou_nfFKp_FP81GbkeP-jx-e"),
    ("square_token", "sq0csp-", "LSNp15IOAQWS_I6l-WLiMW5EHHzar4kU6iCbzdlms0L"),
    ("square_token", "EAAA", "vRQ5MnjYoOz7i5WMeDElMe9HOfScmZrgpHYRtIskDTX0RTbAohI6jctrOhsj"),
    ("age_key", "AGE-SECRET-KEY-1", "QYZ8" * 14),
    ("jwt", "eyJ", "hbGciOiJIUzI1NiJ9" + ".eyJ" + "zdWIiOiIxMjM0NTY3ODkwIn0" + ".dozjgNryP4J3jVmNHl0w5N_Xg"),
]  # fmt: skip
# Where a token appears: alone, in prose, quoted in code, in JSON, in an env line, in a header.
CONTEXTS = [
    "{}", "request failed with key {} (401)", "client = Client('{}')", '{{"value": "{}", "n": 1}}',
    "X={} ./run", "got {}.", "[{}]", "headers['X'] = \"{}\"",
]  # fmt: skip


class TestShapes:
    @pytest.mark.parametrize("context", CONTEXTS)
    @pytest.mark.parametrize(("kind", "prefix", "body"), SHAPES, ids=[f"{k}-{i}" for i, (k, *_) in enumerate(SHAPES)])
    def test_shape_in_context(self, kind: str, prefix: str, body: str, context: str) -> None:
        """Each token format is removed wherever it sits (no piece of its random part is left), named by kind."""
        out = redact_text(context.format(prefix + body))
        assert_gone(body, out)
        assert marker(kind) in out

    @pytest.mark.parametrize(
        "text",
        [
            "AKIA4G55NVU44PP6YY6", "AIDAQPDNYLK6Q56OQXM4", "glpat-GB_GxZvOs7Yz", "glpatch-togHmHGLVwIiSyC24gWO",
            "xoxz-2RfNV96ch6mw8NXSjGtK", "hf_hub_download", "npm_config_cache", "pypi-simple", "SG.example.com",
            "monkey-bdc6e52486dfefa9b81328fbbcbdec97", "AccountKey=;", "SharedAccessKeyName=Root;",
            "https://example.com/?sign=up", "eyJ.eyJ.x", "10:30:00", "dapicall", "sk-learn", "whsec_short",
            "sk_demo_fNroOsnAUKrpO6XyRWi6umL4", "pip install scikit-learn", "SKU-1234 shipped",
            "user AIDAQPDNYLK6Q56OQXM4 0123456789abcdef0123456789abcdef01234567",
        ],
    )  # fmt: skip
    def test_near_miss_kept(self, text: str) -> None:
        """Strings shaped almost like a token, or like its public sibling, stay."""
        assert redact_text(text) == text

    @pytest.mark.parametrize(
        ("text", "secret"),
        [
            ("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={};EndpointSuffix=core.windows.net",
             "RADcf50kut19rsvCTdFf1j3HVJQjEAJfYcrJ7fEhFxRkAUF4NWFJyG9n9N1RD5tpLC+0dh5lep+XvVsSMTr6sx=="),
            ("Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={}",
             "rnSI3WCGO340ONa5GeyZf8x8ODiZXAk39A2f4JgM7Sw="),
            ("https://acme.blob.core.windows.net/c/b.txt?sv=2022-11-02&ss=b&sp=r&sig={}",
             "2uzeYNrSKzTXeLfcTjZHP%2BqT4CVNqRoeSGL9RtYD%3D"),
            ("https://hooks.slack.com/services/{}", "T02EOC1KOOA/B0HSDQDOUY2/4sCGlQUlcT0oN38OvB7NxHhA"),
            ("https://discord.com/api/webhooks/123456789012/{}", "Xk3" * 22),
        ],
    )  # fmt: skip
    def test_connection_strings_and_webhooks(self, text: str, secret: str) -> None:
        """Azure keys and SAS signatures, Slack and Discord webhook secrets are removed; the rest stays."""
        out = redact_text(text.format(secret))
        assert_gone(secret, out)
        assert text.partition("{}")[0][:20] in out

    @pytest.mark.parametrize(
        "text",
        [
            "b'aws {} {}'", "{},{},us-east-1", "{}:{}", "keys: '{}' '{}'", 'creds = ["{}", "{}"]',
            "AWS_ACCESS_KEY_ID={} AWS_SECRET={}",
        ],
    )  # fmt: skip
    def test_aws_secret_key_after_its_id(self, text: str) -> None:
        """An AWS secret key right after its key id goes too, named (QA finding 25)."""
        key_id, secret = "AKIA" + "IOSFODNN7EXAMPL2", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYz2x8Q4kEYa"
        out = redact_text(text.format(key_id, secret))
        assert_gone(secret, out)
        assert_gone(key_id[4:], out)


# ------------------------------------------------------------------ names in text

NAMED_VALUES = ["hunter2", "Zq8-value-77", "p@ss/w0rd!", "c0rrect-h0rse", "Bluebird42sky"]
SECRET_KEYS_IN_TEXT = [
    "password", "passwd", "pwd", "pw", "pass", "DB_PASS", "db-pass", "secret", "token", "api_key",
    "apiKey", "STRIPE_KEY", "SIGNING_KEY", "ENCRYPTION_KEY", "ACCESS_KEY", "MASTER_KEY", "HMAC_KEY",
    "AccountKey", "client_secret", "auth_token", "creds", "db_creds", "CREDS", "jwt",
]  # fmt: skip
ASSIGNMENT_FORMS = [
    "{k}={v}", "{k} = '{v}'", '"{k}": "{v}"', "{k}: {v}", "config {k}={v} loaded", "{{'{k}': '{v}', 'x': 1}}",
    "login rejected for bob, {k}: {v}", "{k} => \"{v}\"", "{k}: str = '{v}'", "error: {k}={v}",
    "ValueError: bad {k}: {v} (try again)",
]  # fmt: skip


class TestNamesInText:
    @pytest.mark.parametrize("form", ASSIGNMENT_FORMS)
    @pytest.mark.parametrize("key", SECRET_KEYS_IN_TEXT)
    def test_assignment_forms(self, key: str, form: str) -> None:
        """A secret name followed by = or : loses its value, mid-sentence too."""
        for value in NAMED_VALUES[:2]:
            out = redact_text(form.format(k=key, v=value))
            assert_gone(value, out)
            assert key in out

    @pytest.mark.parametrize(
        ("text", "secret"),
        [
            ("machine api.example.com login bob password {}", "Bluebirdsky"),
            ("machine api.example.com\n  login bob\n  password {}\n", "hunter2"),
            ("default login anonymous password {}", "guestpass"),
            ("api token: {}", "abcDEF123456"),
            ("access key: {} was revoked", "AbC123xyz9"),
            ("the password {} was rejected", "hunter2"),
            ("mysql --password={} -u root", "hunter2"),
            ("mysql --password {} -u root", "hunter2"),
            ("run(['deploy', '--api-token', '{}'])", "tok3n-123456"),
            ("Command '['psql', '--password', '{}']' returned non-zero exit status 1.", "hunter2"),
            ("argv: [b'--password', b'{}']", "hunter2"),
            ("curl -u bob:{}@api.example.com", "pw12345678"),
            ("SplitResult(scheme='https', netloc='app:{}@host.example.com', path='/')", "PW1234pw"),
            ("netloc: app:{}@db.internal:5432", "s3cr3t-pw"),
            ("redis://:{}@cache:6379/0", "pGf6hYmP435h6UNfKsSW"),
            ("https://user:{}@example.com/", "p%40ss1234"),
            ("login rejected for bob, password: {} url=https://a.b/x?access_token=abc123&y=1", "hunter2x9"),
            # a tuple, list or dict literal assigned to a secret name (QA finding 4)
            ('creds = ("bob", "{}")', "TupleSecretPw"),
            ("    db_creds = ['admin', '{}']  # rotate", "ListSecretPw9"),
            ('PASSWORDS = {{"prod": "{}", "dev": "x"}}', "DictSecretPw7"),
            ('+CREDS = ("svc", "{}")', "DiffTuplePw55"),
        ],
    )  # fmt: skip
    def test_spaced_flags_and_userinfo(self, text: str, secret: str) -> None:
        """.netrc lines, two-word names, flags in strings and lists, URL userinfo with or without a scheme."""
        assert_gone(secret, redact_text(text.format(secret)))

    @pytest.mark.parametrize(
        "text",
        [
            "jwt.DecodeError: Invalid token: expected three segments",
            "the password is wrong", "password reset link sent to bob", "token expired for user 42",
            "password: must be at least 8 characters", "auth: disabled", "token: None", "password=None",
            "Please enter your password: ", "PWD=/home/bob/project", "OLDPWD=/tmp",
            "tokenizer=bert passenger=bob compass=north monkey=see keyboard=us bypass=yes",
            "author: Jane Doe", "KeyError: 'session' in handle_request", "max_tokens=4000, input_tokens=12",
            "if password == expected:", "self.token_count += len(tokens)", "key: value", "keyboard layout: us",
            "first_pass=3 pass_count=12", "x = {'key': 'value', 'monkey': 'banana'}",
            "git@github.com:org/repo.git", "mailto:a@b.c", "http://user@example.com/", "bob@example.com",
            "http://example.com:8080/a@b", "https://example.com:8443/path?q=1&page=2",
            "see https://docs.example.com/auth?lang=en&v=2", "run --verbose --password-file /run/pw",
            "-TOKEN = None", "sort_key=name cache_key=user:42 primary_key=id",
            "pass the token to the next step", "token refresh failed, retrying",
            "password=None.", "Please enter your password: -> next", "reading /run/pw: done", "and PWD=/home/bob",
            "Please enter your password: \nrun it", "password: (the default)",
            "credit=4.5 credo=none incredible=yes private=True is_private=False jwt_algorithm=HS256",
            "keys = ('a', 'b')", "tokens = [1, 2, 3]", "creds = {}", "password = ()", "author = ('Jane', 'Doe')",
        ],
    )  # fmt: skip
    def test_prose_and_plain_kept(self, text: str) -> None:
        """Prose after a secret name, non-secret names and URLs without credentials stay as they are."""
        assert redact_text(text) == text


QUERY_NAMES = [
    "access_token", "refresh_token", "id_token", "token", "key", "sig", "signature", "X-Amz-Signature",
    "X-Amz-Credential", "X-Amz-Security-Token", "code", "password", "client_secret", "api_key", "apikey",
    "auth", "secret", "private_token", "X-Goog-Signature", "session", "sid", "jwt", "otp",
]  # fmt: skip


class TestNestedAndQuery:
    @pytest.mark.parametrize("name", QUERY_NAMES)
    @pytest.mark.parametrize(
        "form",
        [
            "https://api.example.com/v1/items?{n}={v}",
            "https://api.example.com/v1/items?page=2&{n}={v}&x=1",
            "404 Client Error: Not Found for url: https://api.example.com/v1/items?{n}={v}",
            "u = 'https://example.com/login?user=bob&{n}={v}'",
            "GET /callback?state=xyz&{n}={v} HTTP/1.1",
            "msg='redirect to /cb?{n}={v}'",
        ],
    )
    def test_credential_params(self, name: str, form: str) -> None:
        """A credential query parameter loses its value wherever the URL is, the name stays."""
        value = "Qx7abc123DEF456"
        out = redact_text(form.format(n=name, v=value))
        assert_gone(value, out)
        assert f"{name}=" in out

    @pytest.mark.parametrize(
        "text",
        [
            "url: https://x.example.com/a?b=1 then password=hunter2x",
            'raise ValueError(f"bad config: {{\'db\': \'postgres://a:hunter2x@h/x\'}}")',
            "msg = \"login failed: password=hunter2x\"",
            "note: retry with token=hunter2x later",
            "data={'inner': 'secret: hunter2x'}",
        ],
    )
    def test_assignment_inside_a_value(self, text: str) -> None:
        """The value of a non-secret key is scanned again for secrets inside it."""
        assert_gone("hunter2x", redact_text(text))


# ------------------------------------------------------------------ private keys and lines

BODY = [
    "6P7JCfHuQIozFiuo/qD1eE0bkxunU95oGLy1x1v+vKhD9Q2b8EfB2R0rs7bj7izk",
    "YQIe5oNpIB7lPJt/fd4e54AqVegKXPEO2gF5fDZTzFAkX/4HsVN9Jx0hef3e93GO",
    "9IOnqPsVKCdU2w3quDsPKGrZeuEUVUs/axZ+Hb/8HSE6Ehx9MTYxk6myLjcTNbXt",
    "9fo3Cbf9ettwjbO4kKG2joItL2xvP7oFv/7NV6Et4Gbz4O4zBn8+ZwEoqHG5Dfrv",
    "Abc9XyZ2==",
]
BEGIN = "-----BEGIN " + "PRIVATE KEY-----"
END = "-----END " + "PRIVATE KEY-----"


class TestPrivateKeys:
    @pytest.mark.parametrize(
        "text",
        [
            "\n".join([BEGIN, *BODY, END]),
            '{"type": "service_account", "private_key": "' + "\\n".join([BEGIN, *BODY, END]) + '\\n"}',
            "\\n".join([BEGIN, *BODY]),  # JSON-escaped and cut before END
            "\n".join([BEGIN.replace("PRIVATE", "RSA PRIVATE"), *BODY, END.replace("PRIVATE", "RSA PRIVATE")]),
            "\n".join(["-----BEGIN PGP " + "PRIVATE KEY BLOCK-----", "", *BODY, "-----END PGP PRIVATE KEY BLOCK-----"]),
            "\n".join(BODY),  # body lines whose BEGIN line was cut off (a tail of tool output)
            "\\n".join(BODY[1:]),  # the same, JSON-escaped
            "KEY = '''\n" + "\n".join([BEGIN, *BODY, END]) + "'''",
        ],
        ids=["pem", "json-escaped", "json-cut", "rsa", "pgp", "body-only", "escaped-body", "source"],
    )
    def test_body_gone(self, text: str) -> None:
        """No piece of a key's body is left, whatever its newlines and wherever the block was cut."""
        out = redact_text(text)
        for line in BODY:
            assert_gone(line, out)

    @pytest.mark.parametrize(
        "lines",
        [
            ["KEY = '''" + BEGIN, *BODY, END + "'''", "print(KEY)"],
            [*BODY[2:], END + "'''", "print(KEY)"],  # source context starting inside the body
            ["+" + line for line in [BEGIN, *BODY, END]],  # a diff adding a key
            [" " + BODY[1], "-" + BODY[2], "+" + BODY[3][:40] + "QQ", " " + BODY[4]],  # a hunk inside a key
        ],
        ids=["source", "source-mid-body", "diff-added", "diff-hunk"],
    )
    def test_lines_keep_count(self, lines: list[str]) -> None:
        """Lines redacted together keep one output line per input line and lose every body line."""
        out = redact_lines(lines)
        assert len(out) == len(lines)
        joined = "\n".join(out)
        for line in BODY:
            assert_gone(line, joined)
        assert not lines[-1].startswith("print") or out[-1] == lines[-1]

    @pytest.mark.parametrize(
        "text",
        [
            "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----",
            "-----BEGIN CERTIFICATE-----",
            "commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904 fixed it",
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "ThisIsAVeryLongCamelCaseIdentifierNameWithNoDigitsAtAll",
            "https://example.com/assets/app.min.js",
            "/home/Alice/Projects/agentlog2/src/agentlog/cli",
            "cwd=/Users/BobSmith/Code/Service2024/backend/api/v1",
            "  File \"/opt/App3/lib/Python3/site-packages/Django/core/handlers/base.py\", line 12",
        ],
    )
    def test_not_key_material(self, text: str) -> None:
        """Public keys' headers, hashes, long identifiers and paths are kept."""
        assert redact_text(text) == text


class TestRedactFirstThenCut:
    @pytest.mark.parametrize("limit", [10, 50, 190, 200, 210])
    @pytest.mark.parametrize(
        "template",
        [
            "x" * 180 + " password = '{}' end",
            "y" * 150 + " token: {} end",
            "z" * 100 + " " + BEGIN + "\\n{}\\n" + END,
            "a" * 195 + " {}",
        ],
    )
    def test_secret_across_the_cut(self, template: str, limit: int) -> None:
        """A secret crossing the cut point is redacted whole before the text is cut."""
        secret = "Zq8" + "k3Y" * 120 + "w7"  # long enough to cross every limit tried
        if template.startswith("a"):
            secret = "ghp_" + "A1b2" * 20
        text = template.format(secret)
        shown = redact_head(text, limit)[:limit]
        assert_gone(secret, shown)

    def test_shrinking_secrets_read_further(self) -> None:
        """When redaction shrinks the window below the cut, more of the text is read."""
        text = ("password='" + "q1" * 3000 + "' ") * 4 + "token='" + "Ww9" * 100 + "'"
        shown = redact_head(text, 200)[:200]
        assert_gone("Ww9" * 100, shown)


# Formats whose prefix alone says "secret" (hf_, SG., SK also start ordinary words and ids).
PREFIXED = [s for s in SHAPES if s[0] not in ("huggingface_token", "sendgrid_key", "twilio_key", "telegram_token",
                                              "mailgun_key", "databricks_token")]


class TestPrefix:
    @pytest.mark.parametrize(("kind", "prefix", "body"), PREFIXED, ids=[k for k, *_ in PREFIXED])
    @pytest.mark.parametrize("keep", [2, 6])
    def test_cut_token(self, kind: str, prefix: str, body: str, keep: int) -> None:
        """A token cut a few characters past its prefix (the call trail keeps 16) becomes its marker."""
        cut = prefix + body[:keep]
        assert redact_prefix(cut) == marker(kind)


# ------------------------------------------------------------------ descriptors

SECRET_VALUE = "hunter2-Zq8k3Y"


def _texts(desc: object) -> str:
    return repr(desc)


class TestDescriptors:
    @pytest.mark.parametrize(
        "value",
        [
            {b"password": SECRET_VALUE},
            {b"x-api-key": SECRET_VALUE.encode()},
            [(b"x-api-key", SECRET_VALUE.encode()), (b"host", b"example.com")],
            (b"authorization", SECRET_VALUE.encode()),
            ["deploy", "--api-token", SECRET_VALUE],
            ("mysql", "-u", "root", "--password", SECRET_VALUE),
            [b"--password", SECRET_VALUE.encode()],
            {"headers": [("X-Auth-Token", SECRET_VALUE)]},
            {"scope": {"headers": [(b"cookie", SECRET_VALUE.encode())]}},
            ["--password=" + SECRET_VALUE],
            "mysql --password " + SECRET_VALUE,
        ],
        ids=lambda v: type(v).__name__,
    )
    def test_hidden(self, value: object) -> None:
        """Bytes keys, ASGI header pairs and flag lists hide their secrets."""
        assert_gone(SECRET_VALUE, _texts(Describer().describe(value)))

    @pytest.mark.parametrize(
        "value",
        [
            ["--verbose", "build", "--jobs", "4"],
            {b"host": b"example.com", b"user-agent": b"curl"},
            [(b"content-type", b"text/plain")],
            ("--output", "report.txt"),
        ],
    )
    def test_shown(self, value: object) -> None:
        """Ordinary flags, bytes keys and headers keep their values."""
        text = _texts(Describer().describe(value))
        assert "REDACTED" not in text


# Values under a secret name: only those that cannot be secrets are shown.
CANNOT_BE_SECRET = [None, True, False, ""]
STAYS_HIDDEN = [
    SECRET_VALUE, 735914, 1234, 0, 3.5, -1, " ", "0", b"", b"k3y", ["hunter2"], (), [], {}, {"k": "v"},
    ("Zq8k3Y",), 10**30, 0.0,
]  # fmt: skip


class _Str(str):
    """A str subclass: not the builtin empty string, stays hidden."""


class TestValuesUnderSecretNames:
    @pytest.mark.parametrize("value", CANNOT_BE_SECRET, ids=repr)
    @pytest.mark.parametrize("name", ["token", "password", "api_key", "DB_PASS", "client_secret"])
    def test_shown(self, name: str, value: object) -> None:
        """``token=None``, ``password=""``, ``api_key=False`` read as they are."""
        assert is_secret_name(name)
        (desc,) = Describer().describe_locals({name: value}).values()
        assert "red" not in desc and desc["v"] == repr(value), desc
        assert cannot_be_secret(value)

    @pytest.mark.parametrize("value", [*STAYS_HIDDEN, _Str("")], ids=repr)
    @pytest.mark.parametrize("name", ["token", "password", "api_key", "secret_pin"])
    def test_hidden(self, name: str, value: object) -> None:
        """Every other value under a secret name is hidden: ints (a PIN), floats, containers, blanks."""
        (desc,) = Describer().describe_locals({name: value}).values()
        assert desc == {"t": desc["t"], "v": marker("name"), "red": "name"}, desc
        assert not cannot_be_secret(value)

    @pytest.mark.parametrize(("value", "kept"), [(None, True), (False, True), ("", True), (0, False),
                                                 ("x", False), (1234, False)])
    def test_scrub_under_secret_key(self, value: object, kept: bool) -> None:
        """The JSON scrubber applies the same rule to values under a secret key."""
        out = scrub({"token": value, "other": value})
        assert (out["token"] == value) is kept and out["other"] == value
        assert kept or out["token"] == marker("name")


class TestTrailResults:
    @pytest.mark.parametrize(
        ("fn", "result", "hidden"),
        [
            ("get_token", {"t": "str", "v": "'ghp_Ab12'", "l": 40}, True),
            ("Vault.read_password", {"t": "str", "v": "'hunter2'"}, True),
            ("load.<locals>.get_secret_code", {"t": "int", "v": "735914268"}, True),
            ("get_api_key", {"t": "tuple", "l": 2, "items": [{"t": "str", "v": "'k'"}]}, True),
            ("get_token", {"t": "NoneType", "v": "None"}, False),
            ("check_password", {"t": "bool", "v": "True"}, False),
            ("count_tokens", {"t": "int", "v": "12"}, False),
            ("tokenize", {"t": "list", "l": 3}, False),
            ("get_token", {"t": "str", "l": 40}, False),  # no value shown: nothing to hide
            ("get_token", {"t": "str", "l": 0, "v": "''"}, False),  # the empty string cannot be a secret
            ("read_pin_code", {"t": "int", "v": "0"}, True) if is_secret_function("read_pin_code") else
            ("get_password", {"t": "int", "v": "0"}, True),
        ],
    )
    def test_results_of_secret_functions(self, fn: str, result: dict, hidden: bool) -> None:
        """A trail's return value is hidden when its function's name says it returns a secret."""
        from agentlog.capture.failure import hide_secret_results

        record = {"trail": {"fn": [[fn, "app.py", 1]], "calls": [{"c": 0, "r": dict(result)}]}}
        hide_secret_results(record)
        shown = record["trail"]["calls"][0]["r"]
        assert (shown == {"t": result["t"], "v": marker("name"), "red": "name"}) is hidden
        assert hidden or shown == result


# Forms that each hide one secret ({}), combined several to a line in the composition test.
COMPOSABLE = [
    "password: {}", "token={}", "--api-token {}", "https://u:{}@db.example.com/x", "?access_token={}&x=1",
    "'--password', '{}'", "api_key = '{}'", "app:{}@host.example.com", '"client_secret": "{}"',
    "Authorization: Bearer {}", "secret: str = '{}'", "&sig={}", "DB_PASS={}", "access key: {}",
    "mysql --password={}", "b'--password', b'{}'", "netloc='app:{}@h.example.com'", "x-api-key: {}",
    "{{'password': '{}'}}", "pw={}", '"token": "{}"', "?key={}", "https://x.example.com/a?user=bob&password={}",
    "--db-pass={}", "ValueError: bad secret: {}", 'PASSWORD = "{}"', "api token: {}", "Cookie: session={}",
]  # fmt: skip
GLUE = [" ", ", ", "; ", " then ", "\n", " | ", " url: ", "\t", " and ", ". ", " (", ") ", " -> ", " = ", ": "]


class TestComposition:
    @pytest.mark.parametrize("seed", range(100))
    def test_forms_combined(self, seed: int) -> None:
        """Two to five forms in one text, glued by prose or punctuation: every secret goes, in any order."""
        import random

        rng = random.Random(seed)
        forms = rng.sample(COMPOSABLE, rng.randint(2, 5))
        secrets = [f"Zq{seed}x{i}" + "k9W" * 3 for i in range(len(forms))]
        text = rng.choice(["", "error: ", "login rejected for bob, ", "note: "])
        text += "".join(form.format(secret) + rng.choice(GLUE) for form, secret in zip(forms, secrets, strict=True))
        out = redact_text(text)
        for secret in secrets:
            assert_gone(secret, out)


# ------------------------------------------------- issue 17: the shapes still missed

C1, C2 = "Zx9Yq" + "W8vU7tS6", "Qm9vb" + "GVhbj1Y2"  # two cookie values
SIG = "5d672d79c15b1316" + "2d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"


class TestEveryValueOfAHeader:
    @pytest.mark.parametrize(
        "text",
        [
            f"Cookie: a={C1}; b={C2}",
            f"cookie: theme={C1}; sessionid={C2}",
            f"COOKIE:a={C1};b={C2}",
            f'{{"Cookie": "a={C1}; b={C2}", "Host": "example.com"}}',
            f"{{'cookie': 'x={C1}; y={C2}'}}",
            f"headers: Cookie: a={C1}; b={C2}\nAccept: */*",
            f"Set-Cookie: id={C1}; Path=/; HttpOnly\nSet-Cookie: pref={C2}; Max-Age=60",
            f"Cookie(version=0, name='a', value='{C1}', port=None, domain='example.com') "
            f"Cookie(version=0, name='b', value=\"{C2}\", port=None)",
            f"<Cookie a={C1} for example.com/> <Cookie b={C2} for .example.com/>",
            "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature={SIG}",
            f"canonical request signed: Signature={SIG}",
        ],
    )
    def test_every_value_goes(self, text: str) -> None:
        out = redact_text(text)
        for secret in (C1, C2, SIG):
            assert_gone(secret, out)

    @pytest.mark.parametrize(
        ("text", "kept"),
        [
            (f"Set-Cookie: id={C1}; Path=/account; Max-Age=3600; SameSite=Lax", "Path=/account; Max-Age=3600"),
            ("no cookie was set for this request", "no cookie was set"),
            ("SignedHeaders=host;x-amz-date, Signature=abc", "SignedHeaders=host;x-amz-date"),
            ("the Signature= line is missing", "the Signature= line is missing"),
            ("cookie policy: strict", "cookie policy: strict"),
        ],
    )
    def test_what_is_not_a_cookie_value_stays(self, text: str, kept: str) -> None:
        assert kept in redact_text(text)


CUT_PREFIXES = [  # (a value cut at the trail's 16 characters, its kind)
    ("hf_" + "rDTPtjXuXOLbR", "huggingface_token"),
    ("api_org_" + "rDTPtjXu", "huggingface_token"),
    ("SG." + "6dPevhSRgQNTc", "sendgrid_key"),
    ("SK" + "0a0d1060d5dc58", "twilio_key"),
    ("key-" + "dd3f0803bf69", "mailgun_key"),
    ("dapi" + "e60f563cd2cb", "databricks_token"),
    ("glft-" + "ozF15k_RKam", "gitlab_token"),
    ("glimt-" + "ozF15k_RKa", "gitlab_token"),
    ("glsoat-" + "ozF15k_RK", "gitlab_token"),
]
NOT_CUT_SECRETS = ["hf_hub_download", "hf_abcdefghijkl", "SKU-12345678", "SKETCHBOOK", "key-value-store",
                   "SG.group.member", "dapi_client", "keyboard-layout"]  # fmt: skip


class TestTrailPrefixes:
    @pytest.mark.parametrize(("cut", "kind"), CUT_PREFIXES)
    def test_cut_token_of_an_ambiguous_prefix(self, cut: str, kind: str) -> None:
        assert redact_prefix(cut) == marker(kind)
        assert redact_prefix("x = " + cut) == "x = " + marker(kind)

    @pytest.mark.parametrize("text", NOT_CUT_SECRETS)
    def test_words_and_ids_stay(self, text: str) -> None:
        assert redact_prefix(text) == text


PASSWORD = "S3cret" + "Pw0rd!x"


class TestShortPasswordFlag:
    @pytest.mark.parametrize(
        "text",
        [
            f"mysql -u root -p {PASSWORD} -h db",
            f"sshpass -p '{PASSWORD}' ssh host",
            f"['mysql', '-p', '{PASSWORD}']",
            f"command failed: mysqldump -p {PASSWORD} app",
        ],
    )
    def test_value_after_p_goes(self, text: str) -> None:
        assert_gone(PASSWORD, redact_text(text))

    @pytest.mark.parametrize("text", ["ps -p 1234", "mkdir -p build/x2", "ls -p foo", "docker run -p 8080:80 app",
                                      "python -p", "pip -p ./env2", "pytest -p no:cacheprovider tests",
                                      "pytest -p pytest_cov -p xdist.plugin"])  # fmt: skip
    def test_ports_pids_paths_stay(self, text: str) -> None:
        assert redact_text(text) == text

    @pytest.mark.parametrize(
        ("argv", "shown"),
        [
            (["mysql", "-u", "root", "-p", PASSWORD], ["mysql", "-u", "root", "-p", marker("name")]),
            (["ps", "-p", "1234"], ["ps", "-p", "1234"]),
            (["mkdir", "-p", "out/dir2"], ["mkdir", "-p", "out/dir2"]),
            (["tool", "-p", "verbose"], ["tool", "-p", "verbose"]),
        ],
    )
    def test_argv(self, argv: list[str], shown: list[str]) -> None:
        from agentlog.core.redact import redact_argv

        assert redact_argv(argv) == shown


MESSAGE_SECRET = "hunter2" + "Zq8k"


class TestPasswordInASentence:
    @pytest.mark.parametrize(
        "form",
        [
            "auth failed, password: {}... retry later",
            "could not log in (user=bob password: {})",
            "login failed password: {} for bob",
            "error: the password: {} is wrong",
            "bad creds - password: {}, user: bob",
            "Password: {}!",
            "ValueError: invalid pin: {}",
        ],
    )
    def test_value_goes(self, form: str) -> None:
        assert_gone(MESSAGE_SECRET, redact_text(form.format(MESSAGE_SECRET)))

    @pytest.mark.parametrize("text", ["password: expected at least 8 characters", "Invalid token: expired",
                                      "password: is required", "the pinned version is 3.2"])  # fmt: skip
    def test_prose_stays(self, text: str) -> None:
        assert redact_text(text) == text


KEY_LINES = [
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
    "MZR7EuGyUwLbzg6zDvhHQbPcTl1ePQK8mJsuZTy3Ww8pZtc6sW5P3qW2yhK8VjLQ",
    "kb3uGdeyq1Jz6rNnH3dXv9",
    "wQ2cXbLk7Yq9pFvR4tM8sN1uJ6eH3dG5aZ0xK2==",
]


class TestKeyBodyAsFrameSource:
    @pytest.mark.parametrize(
        "lines",
        [
            [f'    "{line}\\n"' for line in KEY_LINES] + ['    "' + END + '\\n"', ")", "sign(KEY)"],
            [*KEY_LINES, END, '"""', "sign(KEY)"],
            [f'    "{line}",' for line in KEY_LINES] + ["]", "sign(KEY)"],
            [f'    + "{line}"' for line in KEY_LINES] + [")", "sign(KEY)"],
            ["sign(KEY)", *KEY_LINES],
        ],
        ids=["escaped", "bare", "list", "concatenated", "after"],
    )
    def test_every_body_line_goes(self, lines: list[str]) -> None:
        """The source window around a failing line holds the end of a key without its BEGIN line."""
        out = redact_lines(lines)
        assert len(out) == len(lines)
        for line in KEY_LINES:
            assert_gone(line, "\n".join(out))
        assert "sign(KEY)" in out

    def test_code_next_to_a_key_stays(self) -> None:
        lines = [KEY_LINES[0], "", "def main():", "    return run(x)", "pass"]
        assert redact_lines(lines)[2:] == lines[2:]


PIN_SECRET_NAMES = ["pin", "PIN", "user_pin", "pin_code", "PIN_CODE", "pincode", "new_pin", "cardPin", "sim_pin"]
PIN_PLAIN_NAMES = ["pinned", "spin", "pipeline", "pin_memory", "led_pin", "gpio_pin", "mapping", "opinion",
                   "pin_count", "pinecone", "shipping", "typing"]  # fmt: skip


class TestPin:
    @pytest.mark.parametrize("name", PIN_SECRET_NAMES)
    def test_secret(self, name: str) -> None:
        assert is_secret_name(name)

    @pytest.mark.parametrize("name", PIN_PLAIN_NAMES)
    def test_plain(self, name: str) -> None:
        assert not is_secret_name(name)

    @pytest.mark.parametrize(("fn", "hidden"), [("get_pin", True), ("read_pin", True), ("Card.get_pin", True),
                                                ("check_pin", False), ("spin", False), ("pin_memory", False)])
    def test_trace_result(self, fn: str, hidden: bool) -> None:
        """A @trace'd function named for a PIN: its result is hidden (None/True/False stay shown)."""
        from agentlog.capture.failure import hide_secret_results

        for result, shown_anyway in (({"t": "int", "v": "4821"}, False), ({"t": "NoneType", "v": "None"}, True)):
            record = {"trail": {"fn": [[fn, "app.py", 1]], "calls": [{"c": 0, "r": dict(result)}]}}
            hide_secret_results(record)
            assert (record["trail"]["calls"][0]["r"] != result) is (hidden and not shown_anyway)


ENV_SECRET = "Lq4" + "dotenv-Value-88"


class TestEnvironmentChangedLater:
    def test_a_secret_set_after_the_first_record_is_redacted(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from agentlog.core.redact import scrub

        monkeypatch.delenv("LATE_API_TOKEN", raising=False)
        monkeypatch.delenv("LATE_GREETING", raising=False)
        assert scrub({"m": "first record"}) == {"m": "first record"}  # the rules are built now
        monkeypatch.setenv("LATE_API_TOKEN", ENV_SECRET)
        monkeypatch.setenv("LATE_GREETING", "hello-there-friend")
        out = scrub({"m": f"connect with {ENV_SECRET} and say hello-there-friend"})
        assert out == {"m": "connect with [REDACTED:env:LATE_API_TOKEN] and say hello-there-friend"}

    def test_a_changed_value_is_redacted(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from agentlog.core.redact import scrub

        monkeypatch.setenv("LATE_API_TOKEN", "placeholder-0000")
        scrub({"m": "first"})
        monkeypatch.setenv("LATE_API_TOKEN", ENV_SECRET)  # same count of variables, new value
        assert_gone(ENV_SECRET, repr(scrub({"m": ENV_SECRET})))
        assert_gone(ENV_SECRET, redact_text(f"x {ENV_SECRET}"))
