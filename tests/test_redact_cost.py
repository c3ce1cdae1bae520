"""Redaction's cheap path: a text that holds no secret compiles no pattern, and skipping never misses one.

Every activated process redacts its session records at exit, so what the no-secret path
costs is start-up cost (``tests/test_import_cost.py`` checks the process end to end).
"""

from __future__ import annotations

import itertools
import os

import pytest

from agentlog.core import redact, secretnames
from agentlog.core.config import load_config, set_config
from agentlog.core.redact import marker, redact_argv, redact_text, scrub

pytestmark = pytest.mark.usefixtures("fresh_redaction")

GITHUB = "ghp_" + "a1B2" * 9


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, bool, bool], object]:
    """The compile cache, fresh: it holds every pattern compiled from here on."""
    cache: dict[tuple[str, bool, bool], object] = {}
    monkeypatch.setattr(redact, "_compiled", cache)
    monkeypatch.setattr(redact, "_patterns", redact._Patterns())
    return cache


def patterns(cache: dict[tuple[str, bool, bool], object]) -> list[str]:
    return sorted({pattern for pattern, _, _ in cache})


# What a process's session records hold: kinds, ids, paths, a commit hash, a branch, flags.
PLAIN = [
    "session_start", "session_end", "6b0e8cb6-73e15579", "MainThread", "/tmp/pytest-of-root/pytest-12/test_exit0",
    "/home/alice/projects/agentlog/src/agentlog/cli/commands", "3a3549b5806b3f9b5befad2898378cddd3195ce5",
    "feature/token-refresh", "-m", "pytest", "tests/test x.py", "-q", "-k", "a and b", "--tb=short",
    "--maxfail=1", "--cov=agentlog", "-x", "exit", "<module>", "c",
]  # fmt: skip


class TestNothingCompiled:
    @pytest.mark.parametrize("text", PLAIN)
    def test_plain_text(self, compiled: dict, text: str) -> None:
        """Text a process's session records hold comes back unchanged without compiling any pattern."""
        assert redact_text(text) == text
        assert patterns(compiled) == []

    def test_session_records(self, compiled: dict) -> None:
        """A session start and end record scrubbed together compile nothing."""
        start = {"sv": 1, "k": "session_start", "sid": "6b0e8cb6-73e15579", "th": "MainThread", "agent": None,
                 "argv": redact_argv(["-m", "pytest", "--tb=short", "-k", "a and b"]), "cwd": "/tmp/x-y/z",
                 "git": {"root": "/tmp/x-y", "branch": "feature/token-refresh", "sha": "ab12" * 10}}  # fmt: skip
        end = {"sv": 1, "k": "session_end", "out": "exit", "dur": 0.002, "err": None}
        assert (scrub(start), scrub(end)) == (start, end)
        assert patterns(compiled) == []


class TestOnlyWhatIsNeededCompiles:
    def test_a_token_compiles_its_shape(self, compiled: dict) -> None:
        """A GitHub token compiles the GitHub shape only (its triggers are in the text)."""
        assert redact_text(GITHUB) == marker("github_token")
        (shape,) = [s for s in redact.SHAPES if s.kind == "github_token"]
        assert patterns(compiled) == [shape.pattern]

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("--password=Hunter2-long", "--password=[REDACTED:name]"),
            ("--api-token Zx9-abc-123", "--api-token [REDACTED:name]"),
            ("db_pswd=hunter2x", "db_pswd=[REDACTED:name]"),
            ("https://bob:pw-Secret9@db/x", "https://bob:[REDACTED:url_password]@db/x"),
            ("GET /cb?code=abc123&state=1", "GET /cb?code=[REDACTED:url_param]&state=1"),
            ("machine h login u password S3cret-x", "machine h login u password [REDACTED:name]"),
            ('token: "abc123"', 'token: "[REDACTED:name]"'),
        ],
    )
    def test_skipped_checks_never_miss(self, compiled: dict, text: str, expected: str) -> None:
        """Where the cheap checks let a pattern run, it runs and redacts (and ``pswd`` is a name trigger)."""
        assert redact_text(text) == expected
        assert compiled

    def test_flag_without_a_secret_name_compiles_nothing(self, compiled: dict) -> None:
        """``--tb=short`` has a flag's shape but no secret name in it: the flag pass does not run."""
        assert redact_text("--tb=short --maxfail=1") == "--tb=short --maxfail=1"
        assert patterns(compiled) == []

    def test_configured_name_without_a_trigger(self, compiled: dict) -> None:
        """A configured name that is all "_" gives no trigger: every flag is then judged."""
        set_config(load_config(env={"AGENTLOG_REDACT_NAMES": "_"}))
        redact.reset()
        assert redact_text("--my_flag=v4lue-x") == "--my_flag=[REDACTED:name]"


class TestKeyBodyPrecheck:
    @pytest.mark.parametrize(
        "text",
        [
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7+/xyz",  # one strong line
            "data = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIB\\nAQC7xyz'",  # JSON-escaped newline
        ],
    )
    def test_key_material_still_found(self, text: str) -> None:
        """Texts that pass the pre-check are still redacted as key material."""
        assert marker("key_body") in redact_text(text)

    @pytest.mark.parametrize(
        "text",
        [
            "a" * 39, "ab12" * 10, "ABCD" * 20, "/home/alice/projects/agentlog/src/agentlog",
            "import sys\nprint(sys.argv[1:], 'Done in 10 steps', file=sys.stderr)\nKeys = ['A1', 'b2']",
            "/home/Alice/Projects/agentlog2/src/agentlog/cli/commands (copy)",
        ],
    )  # fmt: skip
    def test_precheck_fails_only_where_nothing_changes(self, text: str) -> None:
        """What the pre-check skips (short, one case, no digit, no escaped newline) the pass leaves alone."""
        assert not redact._may_hold_key_body(text)
        assert redact._sub_body_lines(text) == text


def _all_names() -> list[str]:
    """Names the rules must judge the same with and without the trigger pre-check."""
    heads = ["", "db_", "DB-", "my.", "x", "api", "API_", "private", "session", "Auth", "oauth_", "x-amz-",
             "first_", "num_", "stripe", "get_", "K", "\u212a"]  # fmt: skip
    cores = ["password", "Password", "pass", "pw", "pwd", "pswd", "passwd", "passphrase", "passcode", "secret",
             "secretary", "token", "tokens", "auth", "authorization", "key", "keys", "KEY", "credential", "cookie",
             "sessid", "session", "sessionId", "apiKey", "privateKey", "name", "user", "passenger", "compass",
             "keyboard", "monkey", "ey", "ΣΣ", "İd", "pass word", "to.ken", "cred", "creds", "credit", "jwt", "jwts",
             "jwt_algorithm"]  # fmt: skip
    tails = ["", "_id", "_count", "_file", "_path", "_rate", "Key", "_KEY", "Token", "s", "_auth", "-1"]
    names = ["".join(parts) for parts in itertools.product(heads, cores, tails)]
    return [*names, *os.environ, "PWD", "OLDPWD", "AGENTLOG_SESSION"]


class TestNameTriggers:
    def test_precheck_agrees_with_the_rules(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A name without a trigger is one the full rules call not secret, over ~8,000 names."""
        names = _all_names()
        quick = [secretnames.name_is_secret(n) for n in names]
        monkeypatch.setattr(secretnames, "NAME_TRIGGERS", ("",))  # every name goes through all rules
        full = [secretnames.name_is_secret(n) for n in names]
        assert [n for n, q, f in zip(names, quick, full, strict=True) if q != f] == []
        assert sum(full) > 1000, "the corpus must hold secret names too"

    def test_without_a_trigger_no_pattern_runs(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Judging names without triggers leaves the name patterns uncompiled."""
        monkeypatch.setattr(secretnames, "_compiled", None)
        assert not any(secretnames.name_is_secret(n) for n in ("HOME", "LANG", "sid", "cwd", "argv", "th"))
        assert secretnames._compiled is None
        assert secretnames.name_is_secret("GITHUB_TOKEN") and secretnames._compiled is not None


class TestEnvValues:
    def test_names_judged_when_their_value_is_found(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A secret env var's name is judged the first time its value is in a text, and the value redacted."""
        monkeypatch.setenv("APP_SESSION_TOKEN", "Zq8-value-77abc")
        redact.reset()
        assert redact_text("nothing to see") == "nothing to see"
        assert "APP_SESSION_TOKEN" not in redact._name_verdicts
        assert redact_text("got Zq8-value-77abc") == "got " + marker("env:APP_SESSION_TOKEN")

    def test_the_last_secret_name_holding_a_value_names_it(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Two variables with one value: the marker names the secret one, whatever their order."""
        monkeypatch.setenv("MY_TOKEN", "shared-value-9")
        monkeypatch.setenv("BACKUP_KEY_FILE", "shared-value-9")  # a trigger, but a location: not secret
        redact.reset()
        assert redact_text("shared-value-9") == marker("env:MY_TOKEN")

    def test_agentlog_session_ids_are_never_env_secrets(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The session ids every record carries survive even a configured name matching their variable."""
        monkeypatch.setenv("AGENTLOG_SESSION", "6b0e8cb6-73e15579")
        monkeypatch.setenv("AGENTLOG_PARENT_SESSION", "6b0e8cb6-00000001")
        set_config(load_config(env={"AGENTLOG_REDACT_NAMES": "agentlog_session, parent_session"}))
        redact.reset()
        assert redact_text("sid 6b0e8cb6-73e15579 of 6b0e8cb6-00000001") == "sid 6b0e8cb6-73e15579 of 6b0e8cb6-00000001"
