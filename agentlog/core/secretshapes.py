"""Secret values recognised by their shape alone: the token-format table.

One row per format: the marker kind, lower-case substrings of which at least
one must be in the text for the pattern to run at all (so text without any
pays a few ``in`` checks), the pattern, and whether group 1 is a prefix to keep
(``AccountKey=``). Patterns are strings; :mod:`agentlog.core.redact` compiles
them on first use. Sources: the gitleaks and detect-secrets rule sets and the
vendors' documented formats.
"""

from __future__ import annotations

from typing import NamedTuple


class Shape(NamedTuple):
    """One secret format."""

    kind: str
    triggers: tuple[str, ...]
    pattern: str
    keep_prefix: bool = False  # group 1 is kept before the marker
    ignore_case: bool = False
    needs_digit: bool = False  # a match without a digit is a word, not a key (sk-learn-compatible)


_B = r"(?<![A-Za-z0-9])"  # token start: not inside a longer word
_BD = r"(?<![A-Za-z0-9_\-])"  # the same where "-" and "_" belong to the alphabet

# A PEM private key through its END line, or to the end of its body when the END
# line is missing (a cut). The body may hold real newlines or JSON's "\n".
PEM_PRIVATE_KEY = (
    r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
    r"(?:[A-Za-z0-9+/=\s:,.\\]|-(?!----))*"
    r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?"
)

SHAPES: tuple[Shape, ...] = (
    Shape("private_key", ("-----begin",), PEM_PRIVATE_KEY),
    Shape("age_key", ("age-secret-key-1",), r"AGE-SECRET-KEY-1[0-9A-Z]{50,}"),
    Shape("anthropic_key", ("sk-ant-",), _BD + r"sk-ant-[A-Za-z0-9_\-]{20,}"),
    Shape("openai_key", ("sk-",), _BD + r"sk-[A-Za-z0-9_\-]{20,}", needs_digit=True),
    Shape("stripe_key", ("k_live_", "k_test_"), _B + r"[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"),
    Shape("stripe_key", ("whsec_",), _B + r"whsec_[A-Za-z0-9+/=]{24,}"),
    Shape(
        "github_token",
        ("ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"),
        _B + r"(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})",
    ),
    Shape(
        "gitlab_token",
        ("glpat-", "gldt-", "glrt-", "glcbt-", "glptt-", "glft-", "glimt-", "glagent-", "gloas-", "glsoat-", "glffct-"),
        _B + r"gl(?:pat|dt|rt|cbt|ptt|ft|imt|agent|oas|soat|ffct)-[A-Za-z0-9_.\-]{20,}",
    ),
    Shape("aws_access_key_id", ("akia", "asia"), r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),
    Shape(
        "aws_secret_key",
        ("secret",),
        r"((?:aws_?)?secret_?access_?key[\"']?\s{0,8}[:=]\s{0,8}[\"']?)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])",
        keep_prefix=True,
        ignore_case=True,
    ),
    Shape("slack_token", ("xox",), _B + r"xox(?:[abposr]|e\.xox[bp]|e)-[A-Za-z0-9\-]{10,}"),
    Shape("slack_token", ("xapp-",), _B + r"xapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{32,}"),
    Shape(
        "slack_webhook",
        ("hooks.slack.com/",),
        r"(hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9+/_\-]{20,}",
        keep_prefix=True,
    ),
    Shape(
        "discord_webhook",
        ("/api/webhooks/",),
        r"(discord(?:app)?\.com/api/webhooks/\d{5,}/)[A-Za-z0-9_\-]{30,}",
        keep_prefix=True,
    ),
    Shape("google_api_key", ("aiza",), _B + r"AIza[0-9A-Za-z_\-]{35}"),
    Shape("google_oauth", ("gocspx-",), _B + r"GOCSPX-[A-Za-z0-9_\-]{20,}"),
    Shape("google_oauth", ("ya29.",), _B + r"ya29\.[0-9A-Za-z_\-]{20,}"),
    Shape("google_oauth", ("1//0",), r"(?<![0-9A-Za-z/])1//0[0-9A-Za-z_\-]{30,}"),
    Shape("huggingface_token", ("hf_", "api_org_"), _B + r"(?:hf|api_org)_[A-Za-z0-9]{30,}"),
    Shape("npm_token", ("npm_",), _B + r"npm_[A-Za-z0-9]{36,}"),
    Shape("pypi_token", ("pypi-age",), _B + r"pypi-AgE[A-Za-z0-9_\-]{40,}"),
    Shape("sendgrid_key", ("sg.",), _B + r"SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{30,}"),
    Shape("twilio_key", ("sk",), _B + r"SK[0-9a-fA-F]{32}(?![0-9a-zA-Z])"),
    Shape("mailgun_key", ("key-",), _B + r"key-[0-9a-f]{32}(?![0-9a-zA-Z])"),
    Shape(
        "azure_key",
        ("accountkey=", "sharedaccesskey="),
        r"((?:Account|SharedAccess)Key=)[A-Za-z0-9+/]{20,}={0,2}",
        keep_prefix=True,
        ignore_case=True,
    ),
    Shape("digitalocean_token", ("_v1_",), _B + r"do[por]_v1_[a-f0-9]{64}"),
    Shape("shopify_token", ("shp",), _B + r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    Shape("telegram_token", (":aa",), r"(?<![0-9])\d{8,10}:AA[A-Za-z0-9_\-]{30,}"),
    Shape("databricks_token", ("dapi",), _B + r"dapi[0-9a-f]{32}(?:-\d)?"),
    Shape("heroku_key", ("hrku-",), _B + r"HRKU-AA[A-Za-z0-9_\-]{58}"),
    Shape("square_token", ("eaaa", "sq0"), _B + r"(?:EAAA[A-Za-z0-9_\-]{60}|sq0(?:atp|csp)-[A-Za-z0-9_\-]{22,43})"),
    Shape("jwt", ("eyj",), _BD + r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"),
)

# Starts of the high-confidence formats above: a string beginning so is a secret even when cut short.
TOKEN_PREFIXES = (
    "-----BEGIN", "AGE-SECRET-KEY-", "sk-", "sk_live_", "rk_live_", "sk_test_", "rk_test_", "whsec_",
    "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_", "glpat-", "gldt-", "glrt-", "glcbt-", "glptt-",
    "gloas-", "AKIA", "ASIA", "xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxo-", "xoxe", "xapp-", "AIza",
    "GOCSPX-", "ya29.", "1//0", "hf_", "api_org_", "npm_", "pypi-AgE", "SG.", "dop_v1_", "doo_v1_",
    "dor_v1_", "shpat_", "shpca_", "shppa_", "shpss_", "dapi", "HRKU-AA", "EAAA", "sq0atp-", "sq0csp-", "eyJ",
)  # fmt: skip
