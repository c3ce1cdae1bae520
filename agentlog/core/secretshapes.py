"""Secret values recognised by their shape alone: the token-format table.

One row per format: the marker kind, lower-case substrings of which at least
one must be in the text for the pattern to run at all (so text without any
pays a few ``in`` checks), the pattern, and whether group 1 is a prefix to keep
(``AccountKey=``). Patterns are strings; :mod:`agentlog.core.redact` compiles
them on first use. Sources: the gitleaks and detect-secrets rule sets and the
vendors' documented formats.
"""

from __future__ import annotations


class Shape:
    """One secret format (a plain class: redaction runs at every activated process's exit, and
    ``typing.NamedTuple`` would cost it milliseconds of imports)."""

    __slots__ = ("ignore_case", "keep_prefix", "kind", "needs_digit", "pattern", "triggers")

    def __init__(
        self,
        kind: str,
        triggers: tuple[str, ...],
        pattern: str,
        keep_prefix: bool = False,  # group 1 is kept before the marker
        ignore_case: bool = False,
        needs_digit: bool = False,  # a match without a digit is a word, not a key (sk-learn-compatible)
    ) -> None:
        self.kind = kind
        self.triggers = triggers
        self.pattern = pattern
        self.keep_prefix = keep_prefix
        self.ignore_case = ignore_case
        self.needs_digit = needs_digit

    def __repr__(self) -> str:
        return f"Shape({self.kind!r}, {self.triggers!r})"


_WORD = "A-Za-z0-9"  # a token does not start inside a longer word
_WORD_DASH = r"A-Za-z0-9_\-"  # the same where "-" and "_" belong to the alphabet


def _start(first: str, rest: str, word: str = _WORD) -> str:
    """``first`` (one character or class) not preceded by a ``word`` character, then ``rest``.

    The check follows the first character rather than leading the pattern: a pattern that
    starts with a character lets ``re`` skip ahead fast, one that starts with a lookbehind
    does not (about 70 times slower on text without a match).
    """
    return f"{first}(?<![{word}]{first}){rest}"

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
    Shape("anthropic_key", ("sk-ant-",), _start("s", r"k-ant-[A-Za-z0-9_\-]{20,}", _WORD_DASH)),
    Shape("openai_key", ("sk-",), _start("s", r"k-[A-Za-z0-9_\-]{20,}", _WORD_DASH), needs_digit=True),
    Shape("stripe_key", ("k_live_", "k_test_"), _start("[sr]", r"k_(?:live|test)_[A-Za-z0-9]{16,}")),
    Shape("stripe_key", ("whsec_",), _start("w", r"hsec_[A-Za-z0-9+/=]{24,}")),
    Shape(
        "github_token",
        ("ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"),
        _start("g", r"(?:h[pousr]_[A-Za-z0-9]{20,}|ithub_pat_[A-Za-z0-9_]{20,})"),
    ),
    Shape(
        "gitlab_token",
        ("glpat-", "gldt-", "glrt-", "glcbt-", "glptt-", "glft-", "glimt-", "glagent-", "gloas-", "glsoat-", "glffct-"),
        _start("g", r"l(?:pat|dt|rt|cbt|ptt|ft|imt|agent|oas|soat|ffct)-[A-Za-z0-9_.\-]{20,}"),
    ),
    Shape("aws_access_key_id", ("akia", "asia"), _start("A", r"(?:KIA|SIA)[A-Z0-9]{16}(?![A-Z0-9])", "A-Z0-9")),
    Shape(
        "aws_secret_key",
        ("secret",),
        r"((?:aws_?)?secret_?access_?key[\"']?\s{0,8}[:=]\s{0,8}[\"']?)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])",
        keep_prefix=True,
        ignore_case=True,
    ),
    # The secret key right after its key id (``AKIA... wJalr...``, ``AKIA...,wJalr...`` in a CSV), the id
    # already replaced by the row above: 40 base64 characters with both cases.
    Shape(
        "aws_secret_key",
        ("akia", "asia"),
        r"(\[REDACTED:aws_access_key_id\](?:[\"']?[ \t]{0,4}[,:;=|][ \t]{0,4}[\"']?|[\"']?[ \t]{1,4}[\"']?))"
        r"(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
        keep_prefix=True,
    ),
    Shape("slack_token", ("xox",), _start("x", r"ox(?:[abposr]|e\.xox[bp]|e)-[A-Za-z0-9\-]{10,}")),
    Shape("slack_token", ("xapp-",), _start("x", r"app-\d-[A-Z0-9]+-\d+-[a-f0-9]{32,}")),
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
    Shape("google_api_key", ("aiza",), _start("A", r"Iza[0-9A-Za-z_\-]{35}")),
    Shape("google_oauth", ("gocspx-",), _start("G", r"OCSPX-[A-Za-z0-9_\-]{20,}")),
    Shape("google_oauth", ("ya29.",), _start("y", r"a29\.[0-9A-Za-z_\-]{20,}")),
    Shape("google_oauth", ("1//0",), _start("1", r"//0[0-9A-Za-z_\-]{30,}", "0-9A-Za-z/")),
    Shape("huggingface_token", ("hf_", "api_org_"), _start("[ha]", r"(?:(?<=h)f|(?<=a)pi_org)_[A-Za-z0-9]{30,}")),
    Shape("npm_token", ("npm_",), _start("n", r"pm_[A-Za-z0-9]{36,}")),
    Shape("pypi_token", ("pypi-age",), _start("p", r"ypi-AgE[A-Za-z0-9_\-]{40,}")),
    Shape("sendgrid_key", ("sg.",), _start("S", r"G\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{30,}")),
    Shape("twilio_key", ("sk",), _start("S", r"K[0-9a-fA-F]{32}(?![0-9a-zA-Z])")),
    Shape("mailgun_key", ("key-",), _start("k", r"ey-[0-9a-f]{32}(?![0-9a-zA-Z])")),
    Shape(
        "azure_key",
        ("accountkey=", "sharedaccesskey="),
        r"((?:Account|SharedAccess)Key=)[A-Za-z0-9+/]{20,}={0,2}",
        keep_prefix=True,
        ignore_case=True,
    ),
    Shape("digitalocean_token", ("_v1_",), _start("d", r"o[por]_v1_[a-f0-9]{64}")),
    Shape("shopify_token", ("shp",), _start("s", r"hp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}")),
    Shape("telegram_token", (":aa",), _start(r"\d", r"\d{7,9}:AA[A-Za-z0-9_\-]{30,}", "0-9")),
    Shape("databricks_token", ("dapi",), _start("d", r"api[0-9a-f]{32}(?:-\d)?")),
    Shape("heroku_key", ("hrku-",), _start("H", r"RKU-AA[A-Za-z0-9_\-]{58}")),
    Shape("square_token", ("eaaa",), _start("E", r"AAA[A-Za-z0-9_\-]{60}")),
    Shape("square_token", ("sq0",), _start("s", r"q0(?:atp|csp)-[A-Za-z0-9_\-]{22,43}")),
    # AWS Signature Version 4 (an Authorization header, a presigned URL's X-Amz-Signature is url_param).
    # (SigV4: 64 hex; SigV2 and others: base64, URL-encoded or not.)
    Shape(
        "aws_signature",
        ("signature=",),
        r"((?<![\w\-])Signature=)(?=[A-Za-z0-9+/=%_\-]{0,200}\d)[A-Za-z0-9+/=%_\-]{20,}",
        keep_prefix=True,
    ),
    Shape("jwt", ("eyj",), _start("e", r"yJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*", _WORD_DASH)),
)

# Starts of the distinctive formats above, most specific first: a string cut too short for
# its full pattern (the call trail keeps 16 characters) is still a secret if it begins so.
SECRET_STARTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("sk-ant-",), "anthropic_key"),
    (("sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"), "stripe_key"),
    (("sk-",), "openai_key"),
    (("ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"), "github_token"),
    (("glpat-", "gldt-", "glrt-", "glcbt-", "glptt-", "gloas-", "glft-", "glimt-", "glagent-", "glsoat-", "glffct-"),
     "gitlab_token"),
    (("AKIA", "ASIA"), "aws_access_key_id"),
    (("xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-", "xoxe", "xapp-"), "slack_token"),
    (("AIza",), "google_api_key"),
    (("GOCSPX-", "ya29."), "google_oauth"),
    (("npm_",), "npm_token"),
    (("pypi-AgE",), "pypi_token"),
    (("dop_v1_", "doo_v1_", "dor_v1_"), "digitalocean_token"),
    (("shpat_", "shpca_", "shppa_", "shpss_"), "shopify_token"),
    (("HRKU-AA",), "heroku_key"),
    (("sq0atp-", "sq0csp-", "EAAA"), "square_token"),
    (("AGE-SECRET-KEY-",), "age_key"),
    (("eyJ",), "jwt"),
)
# Starts of formats whose prefix also begins ordinary words and ids (``hf_hub``, ``SKU``,
# ``key-value``): the run (up to the cut) must look like the format's body too. Each pattern
# matches the whole trailing run; 8+ body characters, as in the trail's 16.
SECRET_START_SHAPES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("hf_", "api_org_"), r"(?:hf|api_org)_(?=[a-z0-9]*[A-Z])(?=[A-Z0-9]*[a-z])[A-Za-z0-9]{8,}", "huggingface_token"),
    (("SG.",), r"SG\.(?=[A-Za-z0-9_\-]*[A-Z0-9])[A-Za-z0-9_\-]{8,}(?:\.[A-Za-z0-9_\-]*)?", "sendgrid_key"),
    (("SK",), r"SK(?=[a-f]*[0-9])(?=[0-9]*[a-f])[0-9a-f]{8,}", "twilio_key"),
    (("key-",), r"key-(?=[a-f]*[0-9])(?=[0-9]*[a-f])[0-9a-f]{8,}", "mailgun_key"),
    (("dapi",), r"dapi(?=[a-f]*[0-9])(?=[0-9]*[a-f])[0-9a-f]{8,}", "databricks_token"),
)
