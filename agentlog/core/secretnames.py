"""Which names (variables, keys, headers, flags, functions) hold secrets: the rule tables.

Used only through :mod:`agentlog.core.redact`, which adds the configured
``redact_names`` and caches verdicts. A name is normalised (camelCase split,
``-``, ``.`` and spaces become ``_``, lower-cased) into ``_``-separated segments
before the rules below look at it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

# The working directory, not a password (env vars are upper case; ``pwd`` in code often is one).
CWD_NAMES = frozenset({"PWD", "OLDPWD"})
# Every rule below that can call a name secret needs one of these in it (lower-cased):
# a name without any is not secret, decided by ``in`` checks alone (no ``re``, which
# would cost an activated process milliseconds at exit). None has a "_", which
# normalising inserts, so a trigger in the normalised name is one in the name.
NAME_TRIGGERS = ("pass", "pw", "pswd", "secret", "token", "auth", "key", "cred", "cookie", "sess", "jwt", "pin")

_CAMEL = r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])"
_SEPARATORS = r"[\s.\-]+"
_SUBSTRINGS = (
    r"passw(?:or)?d|passphrase|passcode|secret(?!ar)|credential|cookie"
    r"|api_?keys?(?:_|$)|private_?keys?(?:_|$)|session_?(?:id|key)s?(?:_|$)|sessid"
)
_compiled: tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]] | None = None

_AUTH_SEGMENTS = frozenset({"auth", "authorization", "authorisation", "authtoken", "authkey", "authheader"})
# Short forms of "password" as a whole segment: db_pass, DB-PW, user_pwd.
_PASS_SEGMENTS = frozenset({"pass", "pw", "pwd", "pswd", "passwd"})
# Short forms of "credentials" as a whole segment: creds, db_cred, AWS_CREDS (not credit, credo).
_CRED_SEGMENTS = frozenset({"cred", "creds"})
# A JSON Web Token held under its bare name, as the last segment (jwt, id_jwt; not jwt_algorithm).
_LAST_SEGMENT_SECRETS = frozenset({"jwt", "jwts"})
# A personal identification number as a whole segment (pin, pin_code, PIN, user_pin, get_pin),
# not a hardware or package pin (led_pin, pin_memory, pinned, spin): only alone, first, or after
# one of these.
_PIN_SEGMENTS = frozenset({"pin", "pins", "pincode", "pinnumber"})
_PIN_BEFORE = frozenset(
    {
        "user", "card", "sim", "atm", "account", "login", "security", "auth", "verification", "otp",
        "default", "new", "old", "current", "confirm", "confirmed", "admin", "master", "bank", "secret",
        "get", "read", "fetch", "load", "generate", "gen", "make", "create", "my", "entered", "expected",
    }
)  # fmt: skip
_NOT_PIN_AFTER = frozenset({"memory", "mode", "modes", "version", "versions", "map", "out", "in", "state", "layout"})
# A segment before "pass" that makes it a pass of an algorithm or a test, not a password.
_NOT_PASSWORD_BEFORE = frozenset(
    {
        "first", "second", "third", "last", "next", "prev", "final", "single", "multi", "one", "two",
        "render", "compile", "forward", "backward", "fwd", "bwd", "test", "tests", "num", "n", "is",
        "did", "should", "can", "by", "no", "all", "any", "min", "max",
    }
)  # fmt: skip
# A segment after "pass" that makes it a count or a rate of passes (pass_count, pass_rate).
_NOT_PASSWORD_AFTER = frozenset({"rate", "fail", "fails", "failed", "through", "thru", "num", "number", "no"})
# Qualifiers that make a "..._key" a credential (STRIPE_KEY, signingKey, AccountKey, hmac-key).
_SECRET_KEY_QUALIFIERS = frozenset(
    {
        "access", "account", "admin", "aes", "api", "app", "auth", "client", "consumer", "crypt",
        "crypto", "cipher", "data", "db", "database", "decrypt", "decryption", "deploy", "dek", "encrypt",
        "encryption", "gpg", "hmac", "ingest", "jwt", "kek", "license", "licence", "mac", "master",
        "pgp", "priv", "private", "recovery", "root", "rsa", "sas", "secret", "server", "service",
        "session", "shared", "sign", "signing", "signature", "ssh", "storage", "subscription",
        "webhook", "wrapping", "write",
        # services whose keys travel under their own name
        "algolia", "anthropic", "aws", "azure", "braintree", "cloudflare", "cohere", "datadog",
        "firebase", "gcp", "github", "gitlab", "google", "groq", "heroku", "mailgun", "mapbox",
        "mistral", "openai", "paypal", "pinecone", "replicate", "sendgrid", "sentry", "shopify",
        "slack", "square", "stripe", "supabase", "twilio",
    }
)  # fmt: skip
# Upper-case FOO_KEY names are env-style settings and nearly always credentials, except these.
_PLAIN_KEY_QUALIFIERS = frozenset(
    {"public", "pub", "primary", "foreign", "sort", "partition", "cache", "idempotency", "dedup", "lookup", "row"}
)
# A segment after "token"/"key" that makes the name describe tokens or keys rather than hold one.
_METADATA = frozenset(
    {
        "count", "counts", "len", "length", "limit", "limits", "budget", "usage", "used",
        "id", "ids", "idx", "index", "type", "types", "total", "url", "uri", "endpoint",
        "expiry", "expires", "expiration", "ttl", "name", "names", "size", "bits",
    }
)  # fmt: skip
# A last segment naming where a secret is kept, not the secret (TOKEN_FILE, key_path).
_LOCATION_SUFFIXES = frozenset({"file", "filename", "path", "dir", "location", "env", "var"})
# A first segment that makes a function check, store or change a secret rather than return it.
_NOT_RETURNING_VERBS = frozenset(
    {
        "check", "validate", "verify", "is", "has", "hash", "set", "save", "store", "write", "delete",
        "del", "remove", "revoke", "clear", "reset", "send", "mask", "redact", "count", "print", "log",
        "test", "assert", "compare", "update", "change", "rotate", "expire", "invalidate", "forget",
        "scrub", "strip", "on", "handle", "require", "ensure", "needs", "need", "with", "without",
    }
)  # fmt: skip


def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """(camel case boundaries, separators, secret substrings), compiled on first use."""
    global _compiled
    if _compiled is None:
        import re

        _compiled = (re.compile(_CAMEL), re.compile(_SEPARATORS), re.compile(_SUBSTRINGS))
    return _compiled


def normalise(name: str) -> str:
    """``dbPassword``, ``DB-PASSWORD`` and ``db.password`` all become ``db_password``."""
    camel, separators, _ = _patterns()
    return separators.sub("_", camel.sub("_", name.strip())).lower()


def _key_is_secret(segments: list[str], i: int, upper: bool) -> bool:
    """Segment i is ``key``/``keys``: secret when a credential word qualifies it."""
    following = segments[i + 1] if i + 1 < len(segments) else ""
    if following in _METADATA or i == 0:
        return False
    qualifier = segments[i - 1]
    if qualifier in _SECRET_KEY_QUALIFIERS:
        return True
    return upper and not following and qualifier not in _PLAIN_KEY_QUALIFIERS


def _is_pin(segments: list[str], i: int, following: str) -> bool:
    return (i == 0 or segments[i - 1] in _PIN_BEFORE) and following not in _METADATA | _NOT_PIN_AFTER


def _segments_secret(segments: list[str], upper: bool) -> bool:
    for i, seg in enumerate(segments):
        following = segments[i + 1] if i + 1 < len(segments) else ""
        if seg in _AUTH_SEGMENTS or (seg.endswith("auth") and seg != "oauth"):
            return True
        if seg in _CRED_SEGMENTS and following not in _METADATA:
            return True
        if seg in _LAST_SEGMENT_SECRETS and not following:
            return True
        if seg in _PASS_SEGMENTS:
            before = segments[i - 1] if i else ""
            if not (before in _NOT_PASSWORD_BEFORE or following in _METADATA or following in _NOT_PASSWORD_AFTER):
                return True
        elif seg.endswith("token"):
            if following not in _METADATA:
                return True
        elif seg in ("key", "keys"):
            if _key_is_secret(segments, i, upper):
                return True
        elif seg.endswith("key") and seg[:-3] in _SECRET_KEY_QUALIFIERS:
            return True  # accountkey, masterkey
        elif seg in _PIN_SEGMENTS and _is_pin(segments, i, following):
            return True
    return False


def may_be_secret_name(name: str, extra: tuple[str, ...] = ()) -> bool:
    """False only for a name :func:`name_is_secret` would never call secret: it holds no
    trigger (and no names are configured). Plain ``in`` checks."""
    if extra:
        return True
    lowered = name.lower()
    return any(trigger in lowered for trigger in NAME_TRIGGERS)


def name_is_secret(name: str, extra: tuple[str, ...] = ()) -> bool:
    """The rules for :func:`agentlog.core.redact.is_secret_name`; ``extra`` are normalised configured names."""
    if name in CWD_NAMES or not may_be_secret_name(name, extra):
        return False
    norm = normalise(name)
    segments = [s for s in norm.split("_") if s]
    if not segments:
        return False
    if any(part in norm for part in extra):
        return True
    if segments[-1] in _LOCATION_SUFFIXES and len(segments) > 1:
        return False
    if _patterns()[2].search(norm):
        return True
    upper = name.isupper()
    return _segments_secret(segments, upper)


def function_returns_secret(name: str, extra: tuple[str, ...] = ()) -> bool:
    """True if a function called ``name`` (``get_token``, ``read_password``) likely returns a secret."""
    segments = [s for s in normalise(name.lstrip("_")).split("_") if s]
    if not segments or segments[0] in _NOT_RETURNING_VERBS:
        return False
    return name_is_secret(name.lstrip("_"), extra)
