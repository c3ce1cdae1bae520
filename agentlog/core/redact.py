"""Secret detection and removal: key names by rule, values by shape. One place.

Every removed secret becomes ``[REDACTED:<kind>]`` (see :func:`marker`), so a
reader knows what was there without seeing it. Passes, in the order applied:

- ``env:<NAME>``: the value of environment variable NAME, read at first use,
  whose name is a secret name (below). Only values of 8+ characters that are
  not a setting word (``disabled``, ``required``, ...) and not an existing
  absolute path; ``PWD``/``OLDPWD`` (the cwd) and ``AGENTLOG_SESSION``/
  ``AGENTLOG_PARENT_SESSION`` (session ids, in every record) are never used. A
  text that is itself an 8+-character piece of such a value (``token[:12]``) goes whole.
- token shapes, one row each in :mod:`agentlog.core.secretshapes`: PEM private
  keys (real or JSON-escaped newlines, through END or to the end of the body),
  OpenAI, Anthropic, Stripe, GitHub, GitLab, AWS, Slack, Google (``AIza``,
  ``GOCSPX-``, ``ya29.``), Hugging Face, npm, PyPI, SendGrid, Twilio, Mailgun,
  Azure ``AccountKey=``/``SharedAccessKey=``, DigitalOcean, Shopify, Telegram,
  Databricks, Heroku, Square, age keys, JWTs.
- ``bearer`` / ``basic``: the credential after the scheme word, which is kept.
  Outside an Authorization header a bearer credential needs 8+ characters with
  a digit (or 20+), and a basic one must decode to ``user:password``.
- ``url_password``: the password in ``scheme://user:PASS@host`` and in a bare
  ``user:PASS@host`` (a ``netloc``); user and host stay.
- ``url_param``: the value of a credential query parameter (``?access_token=``,
  ``&sig=``, ``X-Amz-Signature``, ``key``, ``code``, ... or any secret name)
  after ``?`` or ``&``, in a URL or not.
- ``custom``: a match of a configured ``redact_patterns`` regex.
- ``name``: the value of a secret-named flag (``--password=X``, ``--api-token X``,
  ``'--password', 'X'`` in a list's repr); the value in ``key=value``,
  ``key => value``, ``key: T = value``, ``"key": "value"``, and ``key: value``
  (mid-sentence too, unless the value is a prose word: ``Invalid token:
  expected ...``) where the key is a secret name (a two-word name too: ``access
  key: X``); and ``password X`` (``.netrc``; prose after it is kept, so a
  value must look like a credential unless the line has ``login``/``machine``).
  The value of a key that is not secret is scanned again (a URL in a message).
  ``None``, booleans, ``null``/``true``/``false`` and markers are left alone.
- ``key_body``: a line that is only a long base64 run (a PEM body whose BEGIN
  line was cut off, a key in a diff hunk), with its short neighbours.

Secret names: :mod:`agentlog.core.secretnames`, plus configured ``redact_names``
(normalised, as substrings).

:func:`redact_prefix` is for the first characters of a longer string (the call
trail keeps 16): a cut-off secret too short for its full pattern is caught by
how it starts.
"""

from __future__ import annotations

import os

from agentlog.core.secretnames import (
    CWD_NAMES,
    NAME_TRIGGERS,
    function_returns_secret,
    may_be_secret_name,
    name_is_secret,
    normalise,
)
from agentlog.core.secretshapes import SECRET_START_SHAPES, SECRET_STARTS, SHAPES
from agentlog.core.sessionid import SESSION_ENV

TYPE_CHECKING = False
if TYPE_CHECKING:  # every activated process redacts its session records at exit: no re, typing, functools
    import re
    from collections.abc import Callable, Iterable
    from typing import Any

    from agentlog.core.secretshapes import Shape

MARKER_PREFIX = "[REDACTED:"
MARKER_PATTERN = r"\[REDACTED:[a-z_]+(?::[A-Za-z0-9_]+)?\]"  # MARKER_RE, compiled on first use
MAX_SCRUB_DEPTH = 100
MAX_NAME_VERDICTS = 4096  # cached is_secret_name answers; the cache starts over when full
MIN_ENV_VALUE_CHARS = 8
# The cwd, and AgentLog's own session ids (work/session.py), which every record carries: names
# with a trigger ("pw", "sess") that no rule calls secret, left out before judging costs ``re``.
ENV_NEVER = frozenset({"PWD", "OLDPWD", SESSION_ENV, "AGENTLOG_PARENT_SESSION"})
# Values of secret-sounding variables that are settings, not secrets (AUTH_MODE=disabled).
ENV_SETTING_WORDS = frozenset({"disabled", "enabled", "required", "optional", "default", "password", "insecure"})
# The longest secret the rules see whole: text is redacted this far past a cut before it is cut.
REDACT_SLACK_CHARS = 4096
MAX_REDACT_WINDOW_CHARS = 1 << 20
MIN_BODY_LINE_CHARS = 40  # a base64-only line this long (up to 128) is key material
MIN_KEYISH_LINE_CHARS = 16  # a shorter base64-only line (or one ending "=") in a run with one is too
PEM_LINE_CHARS = (64, 70, 76)  # body line lengths of PEM, OpenSSH and MIME base64
MIN_ENV_PREFIX_CHARS = 4  # redact_prefix: a cut-off run this long that starts a secret env value


def marker(kind: str) -> str:
    """The text that replaces a removed secret of the given kind."""
    return f"{MARKER_PREFIX}{kind}]"


# ---------------------------------------------------------------- secret names


_name_verdicts: dict[str, bool] = {}


def _is_secret_name(name: str) -> bool:
    verdict = _name_verdicts.get(name)
    if verdict is None:
        if len(_name_verdicts) >= MAX_NAME_VERDICTS:
            _name_verdicts.clear()
        verdict = _name_verdicts[name] = name_is_secret(name, _config_names())
    return verdict


def is_secret_name(name: str) -> bool:
    """True if a variable, key, header or flag called ``name`` likely holds a secret."""
    return isinstance(name, str) and bool(name) and _is_secret_name(name)


def cannot_be_secret(value: object) -> bool:
    """None, True, False and the empty string: shown even under a secret name (``token=None``).

    The one rule for name-based redaction: every other value under a secret name is
    hidden, whatever its type (a PIN is an int). Exact types only: a subclass may carry more.
    """
    return value is None or value is True or value is False or (type(value) is str and str.__len__(value) == 0)


def is_secret_function(name: str) -> bool:
    """True if a function called ``name`` likely returns a secret (``get_token``, ``read_password``).

    ``check_password``, ``hash_password``, ``count_tokens`` and ``tokenize`` do not.
    """
    return isinstance(name, str) and bool(name) and function_returns_secret(name, _config_names())


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NAME_CHARS = _WORD_CHARS | frozenset("0123456789_.-")
MAX_NAME_CHARS = 64


def _word_before(text: str, end: int, chars: frozenset[str], floor: int = 0) -> int:
    """Start of the run of ``chars`` ending at ``end`` (at most MAX_NAME_CHARS long)."""
    start, low = end, max(floor, end - MAX_NAME_CHARS)
    while start > low and text[start - 1] in chars:
        start -= 1
    return start


def _two_word_secret(text: str, start: int, name: str) -> bool:
    """``access key``, ``api token``: the word before ``name`` (at ``start``) and ``name`` make a secret name."""
    if start < 3 or text[start - 1] not in " \t" or name in CWD_NAMES:
        return False
    begin = _word_before(text, start - 1, _WORD_CHARS)
    word = text[begin : start - 1]
    return len(word) >= 2 and word.lower() not in _PROSE_WORDS and is_secret_name(f"{word}_{name}")


# --------------------------------------------------------------- value shapes

_AUTH_SCHEMES = ("bearer", "basic", "token", "digest")
_NON_VALUES = frozenset({"none", "null", "nil", "true", "false", "undefined"})
# Words after "password:" / "token:" that continue a sentence rather than give a value.
_PROSE_WORDS = frozenset(
    {
        "a", "an", "the", "is", "was", "are", "were", "be", "been", "being", "not", "no", "none", "empty",
        "missing", "invalid", "required", "expected", "must", "should", "cannot", "can", "will", "would", "may",
        "might", "has", "have", "had", "did", "does", "do", "it", "this", "that", "these", "those", "your",
        "my", "our", "their", "his", "her", "its", "yes", "ok", "changed", "updated", "reset", "rejected",
        "accepted", "denied", "failed", "error", "mismatch", "incorrect", "wrong", "bad", "unknown", "expired",
        "revoked", "malformed", "too", "short", "long", "found", "given", "provided", "set", "unset", "needed",
        "needs", "need", "for", "of", "to", "in", "on", "at", "by", "with", "without", "from", "and", "or",
        "but", "if", "please", "enter", "use", "see", "via", "here", "there", "when", "while", "after",
        "before", "into", "as", "so", "than", "then", "disabled", "enabled", "optional", "default", "insecure",
        "hidden", "redacted", "masked", "secret", "protected", "changeme", "prompt", "stored",
        "saved", "sent", "received", "generated", "refreshed", "checking", "verified", "valid"
    }
)  # fmt: skip
_QUERY_NAMES = frozenset(
    {
        "access_token", "refresh_token", "id_token", "token", "auth", "auth_token", "authorization", "api_key",
        "apikey", "api-key", "key", "client_secret", "client_assertion", "code", "code_verifier", "password",
        "passwd", "pwd", "pass", "pw", "secret", "sig", "signature", "hmac", "session", "sessionid", "sid",
        "jwt", "assertion", "ticket", "otp", "private_token", "access_key", "secret_key", "x-amz-signature",
        "x-amz-credential", "x-amz-security-token", "awsaccesskeyid", "x-goog-signature", "x-goog-credential",
        "googleaccessid", "samlresponse", "samlrequest"
    }
)  # fmt: skip


# An annotated assignment's separator, ": T = " (a type: T, T[...], T | U; not "password: hunter2 url=").
_ANNOTATED = (
    r"\s{0,8}:\s{0,8}[A-Za-z_][\w.]{0,40}(?:\[[\w.\[\]|, ]{0,40}\])?"
    r"(?:\s{0,2}\|\s{0,2}[A-Za-z_][\w.]{0,40}(?:\[[\w.\[\]|, ]{0,40}\])?){0,3}\s{0,8}=(?![=>])|"
)

# Patterns, each compiled on first use: ``import agentlog`` never pays for them, and a text
# without a pass's trigger (a process's session records, mostly) never compiles that pass's.
_PATTERNS = {
    "url_password": r"([A-Za-z](?<![A-Za-z0-9+.\-][A-Za-z])[A-Za-z0-9+.\-]{0,30}://[^\s:/?#@\[\]]{0,256}:)([^\s/?#@]{1,256})(?=@)",
    "userinfo": (
        r"([A-Za-z](?<![\w.\-+:/@%\\][A-Za-z])(?<!mailto)[\w.\-~%+]{0,63}:)([^\s:/?#@'\"\[\](){}<>,;\\]{2,256})"
        r"(?=@[A-Za-z0-9][A-Za-z0-9.\-]{0,252}(?::\d{1,5})?(?:[/\s'\"?#,;:)\]]|$))"
    ),
    "query": r"([A-Za-z](?<=[?&][A-Za-z])[\w.\-]{0,40}=)([^&#\s\"'<>;]{1,4096})",
    "scheme": r"(b(?<![A-Za-z0-9]b)(?:earer|asic))(\s+)([A-Za-z0-9._~+/=\-]{8,})",
    "flag": (
        r"-(?<![\w\-]-)-?(?P<flag>[A-Za-z][\w\-]{1,40})"
        r"(?P<sep>=|[ \t]+|['\"],[ \t]*[bB]?['\"])(?P<value>(?![-=])[^\s\"',]{1,4096})"
    ),
    # Matched only where a name trigger was found (see _sub_names).
    "assignment": (
        r"(?P<key>(?<![\w.\-\[/])[A-Za-z_][\w.\-]{0,63})"
        r"(?P<kq>[\"']?)"
        r"(?P<sep>(?:" + _ANNOTATED + r"\s{0,8}(?:=>|=(?!=)|:(?![:=/])))[ \t]{0,8})"
        r"(?P<sp>(?:[rbuf]{1,2}(?=[\"']))?)"  # a string prefix: b"...", rb'...', f"..."
        r"(?P<value>\"(?:[^\"\\\n]|\\.){0,4096}\"|'(?:[^'\\\n]|\\.){0,4096}'"
        # a tuple, list or dict literal with a string in it, on one line, one level deep: creds = ("bob", "pw")
        r"|[(\[{][^()\[\]{}\"'\n]{0,256}"
        r"(?:(?:\"(?:[^\"\\\n]|\\.){0,4096}\"|'(?:[^'\\\n]|\\.){0,4096}')[^()\[\]{}\"'\n]{0,256}){1,64}[)\]}]"
        r"|(?:(?:bearer|basic|token|digest)[ \t]+)?[^\s\"',;&}\])]{1,4096})"
    ),
    # an annotation: T, T[...], T | U where T is a builtin or a capitalised name (not "hunter2")
    "type_like": (
        r"\s*(?:(?:str|int|bytes|bool|float|dict|list|tuple|set|frozenset|object|type|None|[A-Z][A-Za-z_.]*)"
        r"(?:\[[\w.\[\]|, ]*\])?\s*\|?\s*)+"
    ),
    # "password hunter2" (.netrc, prose): only strong names, the value checked in Python.
    "spaced": (
        r"(?<![A-Za-z0-9])(?P<key>passw(?:or)?d|passphrase|pwd|secret|token|key|credentials?)(?![A-Za-z0-9])"
        # a lower-case word is prose (netrc's mixed-case ones are checked in Python)
        r"[ \t]{1,4}(?P<value>(?-i:(?=[^\s]*[^a-z\s]))[^\s\"',;()\[\]{}<>]{4,256})"
    ),
    # A password after the short flag -p (mysql, sshpass): checked in Python, -p is also a port or a pid.
    "short_p": r"-(?<![\w\-]-)p(?P<sep>[ \t]+['\"]?|['\"],[ \t]*[bB]?['\"])(?P<value>(?![-=])[^\s\"',]{4,256})",
    # Cookie and Set-Cookie headers (also as "cookie": "..." in JSON or a dict's repr): every pair.
    "cookie_header": r"(?<![\w\-])(?P<set>set-)?cookie(?P<sep>[\"']?[ \t]{0,4}[:=][ \t]{0,4})(?P<q>[\"']?)",
    "cookie_pair": r"([ \t]*[^\s=;,\"']{1,256}=)([^;\s]{1,4096})",
    # http.cookiejar.Cookie: its repr's value='...', and its str() "<Cookie name=value for host/>".
    "cookiejar": (
        r"(Cookie\((?:[^()]|\([^()]*\)){0,512}?\bvalue=)('(?:[^'\\]|\\.){0,4096}'|\"(?:[^\"\\]|\\.){0,4096}\")"
        r"|(<Cookie [^\s=]{1,256}=)([^\s]{1,4096})(?= for )"
    ),
    "tail_run": r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-+/.]+$",
    "tail_scheme": r"(?<![A-Za-z0-9])(?:bearer|basic)\s+$",
    "netrc": r"(?:^|\s)(?:machine|login|default)\s",
    # .netrc: "machine h login u password X" on one line, or "password X" alone on its line
    "netrc_password": (
        r"(?:\b(?:machine|default|login)\b[^\n]{0,256}?[ \t]|^[ \t]*)(?:password|passwd|account)[ \t]+"
        r"(?P<value>[^\s]{1,256})"
    ),
    "next_word": r"[ \t]+([a-z]+)\b",
    "base64_run": r"[A-Za-z0-9+/]{40,}",
    "body_line": r"[ \t+\-\"'>|]*([A-Za-z0-9+/]{4,128}={0,2})[ \t\"',]*(?:\\n)?[ \t\"',]*",
    "escaped_body": (
        r"[A-Za-z0-9+/](?<![A-Za-z0-9+/][A-Za-z0-9+/])[A-Za-z0-9+/]{39,127}={0,2}"
        r"(?:\\n[A-Za-z0-9+/]{2,128}={0,2})+(?:\\n)?"
    ),
}
_IGNORE_CASE = frozenset(
    {"scheme", "assignment", "spaced", "flag", "tail_scheme", "plain_assignment", "cookie_header"}
)
_MULTILINE = frozenset({"netrc_password"})
_compiled: dict[tuple[str, bool, bool], re.Pattern[str]] = {}


def _compile(pattern: str, ignore_case: bool = False, multiline: bool = False) -> re.Pattern[str]:
    """``re.compile``, once per pattern for the life of the process (``re``'s own cache is shared)."""
    key = (pattern, ignore_case, multiline)
    found = _compiled.get(key)
    if found is None:
        import re

        flags = (re.IGNORECASE if ignore_case else 0) | (re.MULTILINE if multiline else 0)
        found = _compiled[key] = re.compile(pattern, flags)
    return found


def __getattr__(name: str) -> object:
    if name == "MARKER_RE":  # a marker anywhere in a text (the tracer's cold path)
        return _compile(MARKER_PATTERN)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Patterns:
    """The patterns of ``_PATTERNS`` by name, each compiled the first time it is read."""

    url_password: re.Pattern[str]
    userinfo: re.Pattern[str]
    query: re.Pattern[str]
    scheme: re.Pattern[str]
    flag: re.Pattern[str]
    short_p: re.Pattern[str]
    cookie_header: re.Pattern[str]
    cookie_pair: re.Pattern[str]
    cookiejar: re.Pattern[str]
    assignment: re.Pattern[str]
    spaced: re.Pattern[str]
    type_like: re.Pattern[str]
    plain_assignment: re.Pattern[str]
    tail_run: re.Pattern[str]
    tail_scheme: re.Pattern[str]
    netrc: re.Pattern[str]
    netrc_password: re.Pattern[str]
    next_word: re.Pattern[str]
    base64_run: re.Pattern[str]
    body_line: re.Pattern[str]
    escaped_body: re.Pattern[str]

    def __getattr__(self, name: str) -> re.Pattern[str]:
        if name not in _PATTERNS:
            raise AttributeError(name)
        pattern = _compile(_PATTERNS[name], name in _IGNORE_CASE, name in _MULTILINE)
        setattr(self, name, pattern)
        return pattern


# The assignment pattern without its annotated form: "password: X | token=Y" is two assignments.
_PATTERNS["plain_assignment"] = _PATTERNS["assignment"].replace(_ANNOTATED, "")
_patterns = _Patterns()


def _rx() -> _Patterns:
    return _patterns


def _is_basic_credential(credential: str) -> bool:
    import base64
    import binascii

    try:
        decoded = base64.b64decode(credential, validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded and decoded.isascii()


def _replace_scheme(match: re.Match[str]) -> str:
    scheme, space, credential = match.groups()
    if scheme.lower() == "basic":
        ok = _is_basic_credential(credential)
    else:
        ok = len(credential) >= 20 or any(c.isdigit() for c in credential)
    return f"{scheme}{space}{marker(scheme.lower())}" if ok else match.group()


def _replace_query(match: re.Match[str]) -> str:
    name_eq, value = match.groups()
    name = name_eq[:-1]
    if value.startswith(MARKER_PREFIX) or not (name.lower() in _QUERY_NAMES or is_secret_name(name)):
        return match.group()
    return name_eq + marker("url_param")


def _replace_netrc(match: re.Match[str]) -> str:
    value = match.group("value")
    if value.startswith(MARKER_PREFIX):
        return match.group()
    return match.group()[: match.start("value") - match.start()] + marker("name")


def _replace_flag(match: re.Match[str]) -> str:
    spaced = match.group("sep").isspace()
    if spaced and not match.group().startswith("--"):
        return match.group()  # "-TOKEN = None" in a diff is a removed line, not a flag
    if not is_secret_name(match.group("flag")) or match.group("value").startswith(MARKER_PREFIX):
        return match.group()
    return match.group()[: match.start("value") - match.start()] + marker("name")


def short_password(value: str) -> bool:
    """A value after ``-p`` that is a password: credential-like, not a number (a port, a pid,
    ``8080:80``), a path (``mkdir -p build/x2``) nor a pytest plugin (``-p no:cacheprovider``,
    ``-p pytest_cov``: a lowercase dotted name without digits)."""
    numeric = not value.strip("0123456789:.-")  # 5432, 8080:80, 127.0.0.1:80
    plugin = value.removeprefix("no:").replace(".", "_").replace("_", "")
    if plugin.isalpha() and plugin.islower():
        return False
    return _credential_like(value) and not numeric and "/" not in value and not value.startswith(".")


def _replace_short_p(match: re.Match[str]) -> str:
    value = match.group("value")
    if value.startswith(MARKER_PREFIX) or not short_password(value):
        return match.group()
    return match.group()[: match.start("value") - match.start()] + marker("name")


def _sub_cookies(text: str) -> str:
    """Every cookie's value in a Cookie header, the cookie's in a Set-Cookie one (not its attributes)."""
    rx = _rx()
    parts: list[str] = []
    last = 0
    for header in rx.cookie_header.finditer(text):
        if header.start() < last:
            continue
        pos, quote = header.end(), header.group("q")
        stop = len(text)
        for end_char in ("\n", quote) if quote else ("\n",):
            found = text.find(end_char, pos)
            if found >= 0:
                stop = min(stop, found)
        for pair in rx.cookie_pair.finditer(text, pos, stop):
            if pair.start() != pos and text[pos:pair.start()].strip(" \t;") != "":
                break  # the header's value ended
            value = pair.group(2)
            if not value.startswith(MARKER_PREFIX) and value.strip():
                parts += (text[last : pair.start(2)], marker("cookie"))
                last = pair.end(2)
            pos = pair.end()
            if header.group("set"):
                break  # Set-Cookie: one cookie, then its attributes (Path, Expires)
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)


def _replace_cookiejar(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        quoted = match.group(2)
        return f"{match.group(1)}{quoted[0]}{marker('cookie')}{quoted[0]}"
    return f"{match.group(3)}{marker('cookie')}"


def _is_prose(value: str, text: str, end: int) -> bool:
    """``value`` (ending at ``end`` in text) reads as a word of a sentence, not a credential."""
    word = value.strip("(\"'[").rstrip(".,;:!?)")
    if not word.isalpha():
        return False
    if word.lower() in _PROSE_WORDS:
        return True
    return word.islower() and _rx().next_word.match(text, end) is not None


def _credential_like(value: str) -> bool:
    """A bare word after ``password`` is a credential only if it has a digit, a symbol or inner capitals."""
    word = value.rstrip(".,;:!?)")
    if len(word) < 4 or word.lower() in _PROSE_WORDS or word.startswith(("/", "./", "~", "$", "%", "<", "{")):
        return False
    return any(c.isdigit() for c in word) or not word.isalnum() or any(c.isupper() for c in word[1:])


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _secret_key_at(text: str, start: int, key: str) -> bool:
    return is_secret_name(key) or _two_word_secret(text, start, key)


def _assignment_value(match: re.Match[str]) -> str | None:
    """The replacement of the value of an assignment to a secret name, or None to keep it."""
    key, key_quote, sep, value = match.group("key", "kq", "sep", "value")
    text, start = match.string, match.start()
    if (":" in sep and "=" in sep and not is_secret_name(key)) or not _secret_key_at(text, start, key):
        return None  # "error: password=x" is not an annotated assignment to `error`: the rescan finds it
    quoted = value[:1] in "\"'"
    if ":" in sep and "=" not in sep and not (key_quote or quoted) and _is_prose(value, text, match.end("value")):
        return None  # "Invalid token: expected three segments"
    inner = value[1:-1] if quoted and len(value) >= 2 else value
    kind = "name"
    prefix = ""
    head, _, rest = inner.partition(" ")
    if rest and head.lower() in _AUTH_SCHEMES:
        prefix, inner = f"{head} ", rest.strip()
        if head.lower() in ("bearer", "basic"):
            kind = head.lower()
    bare = inner.rstrip(".,;:!?)")
    before_marker = inner.split(MARKER_PREFIX, 1)[0] if MARKER_PREFIX in inner else None
    if before_marker is not None and (not before_marker or before_marker.endswith("=")):
        return None  # already redacted ("Cookie: sid=[REDACTED:cookie]")
    if not any(c.isalnum() for c in bare) or bare.lower() in _NON_VALUES:
        return None  # "password: ->", "password=None."
    redacted = prefix + marker(kind)
    return value[0] + redacted + value[0] if quoted else redacted


def _spaced_value(match: re.Match[str]) -> str | None:
    """The replacement for ``password X``, or None when X is prose or the name is not secret."""
    text, value = match.string, match.group("value")
    key_start = match.start("key")
    name_start = _word_before(text, key_start, _NAME_CHARS)
    name = text[name_start : match.end("key")]
    if not _secret_key_at(text, name_start, name) or value.startswith(MARKER_PREFIX):
        return None
    if value.lower() in _NON_VALUES or _is_prose(value, text, match.end("value")):
        return None
    netrc = _rx().netrc.search(text, _line_start(text, key_start), key_start) is not None
    return marker("name") if netrc or _credential_like(value) else None


def _annotation_is_not_a_type(match: re.Match[str]) -> bool:
    """``password: hunter2 | token=x`` matched as an annotated assignment; its "type" is not one."""
    sep = match.group("sep")
    if ":" not in sep or "=" not in sep:
        return False
    annotation = sep[sep.index(":") + 1 : sep.rindex("=")]
    return _rx().type_like.fullmatch(annotation) is None


def _name_match(text: str, hit: int, floor: int) -> tuple[re.Match[str] | None, str | None, int]:
    """At a name trigger found at ``hit``: the assignment to the name around it, or ``password X``;
    (match, replacement of its value or None, end of the name)."""
    rx = _rx()
    start = _word_before(text, hit, _NAME_CHARS, floor)
    while start < hit and not (text[start].isalpha() or text[start] == "_"):
        start += 1  # a name starts with a letter or "_"
    end, stop = hit, min(len(text), hit + MAX_NAME_CHARS)
    while end < stop and text[end] in _NAME_CHARS:
        end += 1
    if not _secret_key_at(text, start, text[start:end]):
        return None, None, end  # most names found by a trigger: keyboard, tokens, author
    found = rx.assignment.match(text, start)
    if found is not None and _annotation_is_not_a_type(found):
        found = rx.plain_assignment.match(text, start)
    if found is not None and found.end("key") > hit:
        return found, _assignment_value(found), end
    found = rx.spaced.match(text, hit)
    if found is not None:
        return found, _spaced_value(found), end
    return None, None, end


def _sub_names(finder: re.Pattern[str], text: str) -> str:
    """Replace secret values after secret names. Only names holding a trigger are tried; after a
    name that is not secret the scan goes on right after it, so a secret inside its value (a URL,
    ``msg="password=x"``) is found."""
    parts: list[str] = []
    last = pos = 0
    while (hit := finder.search(text, pos)) is not None:
        found, replacement, name_end = _name_match(text, hit.start(), last)
        if found is None or replacement is None:
            pos = max(hit.start() + 1, name_end)
            continue
        start, end = found.span("value")
        parts += (text[last:start], replacement)
        last = pos = end
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)


PATH_SLASH_SPACING = 10  # more slashes than one per this many characters: a path, not key material


def _strong_body(body: str) -> bool:
    """A long base64 run with upper, lower and digits, and a symbol or a PEM line length."""
    if len(body.rstrip("=")) < MIN_BODY_LINE_CHARS:
        return False
    mixed = any(c.isupper() for c in body) and any(c.islower() for c in body) and any(c.isdigit() for c in body)
    # A path (/home/Alice/Projects/app2/src) is base64 too, but with a "/" every few characters;
    # in random base64 one in 64 is. A key line that trips this is still redacted next to others.
    path_like = body.count("/") * PATH_SLASH_SPACING > len(body)
    return mixed and not path_like and (any(c in "+/=" for c in body) or len(body) in PEM_LINE_CHARS)


# What a body line may hold (body_line): base64 and "=", and the quotes, blanks and diff marks around it.
_BODY_LINE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=" + " \t-\"'>|,"


def _may_hold_key_body(text: str) -> bool:
    """What :func:`_sub_body_lines` needs to change anything, checked without a pattern: a
    JSON-escaped newline (``escaped_body``), or a strong line (a short line changes only next to
    one): upper, lower and digits in the text, and a line of 40+ characters a body line may hold.
    Paths, commit hashes and program source fail it."""
    if len(text) < MIN_BODY_LINE_CHARS:
        return False
    if "\\n" in text:
        return True
    if text == text.lower() or text == text.upper() or not any(d in text for d in "0123456789"):
        return False
    return any(len(line) >= MIN_BODY_LINE_CHARS and not line.strip(_BODY_LINE_CHARS) for line in text.splitlines())


def _sub_body_lines(text: str) -> str:
    """Base64-only lines of key material (and a short line next to one) become ``key_body``."""
    rx = _rx()
    if not _may_hold_key_body(text) or rx.base64_run.search(text) is None:
        return text
    text = rx.escaped_body.sub(marker("key_body"), text)
    lines = text.splitlines(keepends=True)
    bodies = [rx.body_line.fullmatch(line.rstrip("\r\n")) for line in lines]
    strong = [m is not None and _strong_body(m.group(1)) for m in bodies]
    keyish = [m is not None and (len(m.group(1)) >= MIN_KEYISH_LINE_CHARS or m.group(1).endswith("=")) for m in bodies]
    # A run of key-like lines with a strong one in it is one body: its short last line too,
    # however far from the strong line (a frame's source shows the end of a key, not its BEGIN).
    in_body = list(strong)
    for order in (range(len(lines)), range(len(lines) - 1, -1, -1)):
        carry = False
        for i in order:
            carry = keyish[i] and (carry or strong[i])
            in_body[i] = in_body[i] or carry
    changed = False
    for i, found in enumerate(bodies):
        near = (i > 0 and strong[i - 1]) or (i + 1 < len(lines) and strong[i + 1])
        if found is None or not (in_body[i] or near):
            continue
        line = lines[i]
        lines[i] = line[: found.start(1)] + marker("key_body") + line[found.end(1) :]
        changed = True
    return "".join(lines) if changed else text


# ------------------------------------------------------------------- the rules


class _Pass:
    """One redaction pass, run only if the lower-cased text contains a trigger. Passes that
    cannot change a text without more also ask for it: ``needs``, one of these characters (the
    pattern cannot match without one); ``names``, one of these substrings (lower-cased: the
    pass only removes what follows a secret name, and every secret name holds one)."""

    __slots__ = ("apply", "names", "needs", "triggers")

    def __init__(
        self, triggers: tuple[str, ...], apply: Callable[[str], str], needs: str = "", names: tuple[str, ...] = ()
    ) -> None:
        self.triggers = triggers
        self.apply = apply
        self.needs = needs
        self.names = names

    def can_change(self, text: str, lowered: str) -> bool:
        return (not self.needs or any(c in text for c in self.needs)) and (
            not self.names or any(name in lowered for name in self.names)
        )


class _Rules:
    __slots__ = ("env_markers", "env_names", "env_values", "lines_passes", "passes")

    def __init__(self, env_names: dict[str, list[str]], passes: tuple[_Pass, ...], lines_passes: tuple[_Pass, ...]):
        self.set_env(env_names)
        self.passes = passes
        self.lines_passes = lines_passes  # the same, but a PEM block keeps its line count

    def set_env(self, env_names: dict[str, list[str]]) -> None:
        self.env_names = env_names  # env value -> the names that may be secret holding it, in environ order
        self.env_values = tuple(sorted(env_names, key=len, reverse=True))  # longest first
        self.env_markers: dict[str, str | None] = {}  # env value -> its marker (_env_marker)


def _shape_pass(shape: Shape, keep_lines: bool) -> _Pass:
    replacement = marker(shape.kind)

    def replace(match: re.Match[str]) -> str:
        found = match.group()
        if shape.needs_digit and not any(c.isdigit() for c in found):
            return found
        prefix = match.group(1) if shape.keep_prefix else ""
        lines = found.count("\n") + 1 if keep_lines else 1
        return prefix + "\n".join([replacement] * lines)

    # Compiled the first time a text holds one of its triggers.
    return _Pass(shape.triggers, lambda text: _compile(shape.pattern, shape.ignore_case).sub(replace, text))


def _fixed_passes() -> tuple[_Pass, ...]:
    rx = _rx()
    return (
        _Pass(("bearer", "basic"), lambda t: rx.scheme.sub(_replace_scheme, t)),
        _Pass(("://",), lambda t: rx.url_password.sub(rf"\1{marker('url_password')}", t), needs="@"),
        _Pass(("@",), lambda t: rx.userinfo.sub(rf"\1{marker('url_password')}", t)),
        _Pass(("?", "&"), lambda t: rx.query.sub(_replace_query, t), needs="="),
        _Pass(("cookie",), _sub_cookies, needs="="),
        _Pass(("cookie",), lambda t: rx.cookiejar.sub(_replace_cookiejar, t), needs="=("),
        _Pass(("-p",), lambda t: rx.short_p.sub(_replace_short_p, t), needs=" \t'\""),
    )


def _name_finder(triggers: tuple[str, ...]) -> re.Pattern[str]:
    """A trigger, the rest of its name, then a separator: ":", "=", or a space before a non-word.

    Cases are spelled out and the first characters lead: re then skips ahead fast (6x).
    """
    import re

    def any_case(literal: str) -> str:  # literal in any case, without re.IGNORECASE
        return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in literal)

    firsts = "".join(sorted({re.escape(c) for t in triggers for c in (t[0].lower(), t[0].upper())}))
    return _compile(
        f"(?=[{firsts}])(?:{'|'.join(map(any_case, triggers))})"
        r"[\w.\-]{0,63}?[\"']?(?:\s{0,8}[:=]|[ \t]{1,4}(?=[^\s]*[^a-z\s]))"
    )


def _name_passes(triggers: tuple[str, ...], names: tuple[str, ...]) -> tuple[_Pass, ...]:
    rx = _rx()
    finder: list[re.Pattern[str]] = []  # compiled on first use

    def sub_names(text: str) -> str:
        if not finder:
            finder.append(_name_finder(triggers))
        return _sub_names(finder[0], text)

    return (
        # A flag's value follows "=", blanks or "', '" (a list's repr); a name's value ":", "=" or
        # blanks; .netrc's blanks. Without those characters the pattern is not even compiled.
        # A flag is redacted only if its name is secret: "--tb=short" needs no pattern either.
        _Pass(("-",), lambda t: rx.flag.sub(_replace_flag, t), needs="= \t'\"", names=names),
        _Pass(triggers, sub_names, needs=":= \t"),
        _Pass(("machine", "default", "login"), lambda t: rx.netrc_password.sub(_replace_netrc, t), needs=" \t"),
        _Pass(("",), _sub_body_lines),
    )


def _plausible_env_secret(name: str, value: str) -> bool:
    """Every value of 8+ characters of a secret-named variable counts, words and digits included
    (a password can be ``Bluebirdsky``); only paths that exist are left alone."""
    if name.upper() in ENV_NEVER or len(value) < MIN_ENV_VALUE_CHARS or value.lower() in ENV_SETTING_WORDS:
        return False
    return not (os.path.isabs(value) and os.path.exists(value))


_ENV_MARKER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _env_candidates(environ: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Value -> names of the variables whose names may be secret (:func:`may_be_secret_name`).

    The names are judged the first time their value is found in a text (:func:`_env_marker`):
    judging a name that holds a trigger needs ``re``, which most processes never import.
    """
    extra = _config_names()
    found: dict[str, list[str]] = {}
    for name, value in environ:
        if len(value) >= MIN_ENV_VALUE_CHARS and name.upper() not in ENV_NEVER and may_be_secret_name(name, extra):
            found.setdefault(value, []).append(name)
    return found


def _env_marker(rules: _Rules, value: str) -> str | None:
    """The marker for env value ``value``: ``env:<NAME>`` of the last secret-named variable that
    plausibly holds it; None if none does."""
    if value not in rules.env_markers:
        names = [n for n in rules.env_names.get(value, ()) if is_secret_name(n) and _plausible_env_secret(n, value)]
        name = "".join(c if c in _ENV_MARKER_CHARS else "_" for c in names[-1]) if names else None
        rules.env_markers[value] = marker(f"env:{name}") if name else None
    return rules.env_markers[value]


def _custom_pass(patterns: Iterable[str]) -> tuple[_Pass, ...]:
    if not patterns:
        return ()
    import re

    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            from agentlog.core import selflog

            selflog.warn_once("bad-redact-pattern", f"ignoring redact pattern {pattern!r}: {exc}", loud=True)
    if not compiled:
        return ()
    replacement = marker("custom")

    def apply(text: str) -> str:
        for pattern in compiled:
            text = pattern.sub(replacement, text)
        return text

    return (_Pass(("",), apply),)


_extra_names: tuple[str, ...] | None = None
_rules: _Rules | None = None


def _config_names() -> tuple[str, ...]:
    """Configured ``redact_names``, normalised, read on first use."""
    global _extra_names
    if _extra_names is None:
        from agentlog.core.config import get_config

        _extra_names = tuple(n for n in map(normalise, get_config().redact_names) if n)
    return _extra_names


_env_seen: tuple[int, int] = (-1, 0)  # (len, hash) of os.environ's values when its secrets were read


def _env_signature() -> tuple[int, int]:
    data = getattr(os.environ, "_data", None)
    values = tuple(data.values()) if isinstance(data, dict) else tuple(os.environ.values())
    return len(values), hash(values)


def refresh_env() -> None:
    """Read secret environment values again if ``os.environ`` changed since they were read (a
    dotenv loaded after the first record). Called for each record (:func:`scrub`); cheap: one
    hash of the values, whose hashes the interpreter caches."""
    global _env_seen
    if _rules is not None and (signature := _env_signature()) != _env_seen:
        _env_seen = signature
        _rules.set_env(_env_candidates(os.environ.items()))


def _get_rules() -> _Rules:
    """Env values and passes for the current config, built on first use."""
    global _rules, _env_seen
    if _rules is not None and len(os.environ) != _env_seen[0]:
        refresh_env()  # a variable added (or removed) since: the cheapest change to notice
    if _rules is None:
        _env_seen = _env_signature()
        from agentlog.core.config import get_config

        extra = tuple(max(n.split("_"), key=len) for n in _config_names())
        triggers = NAME_TRIGGERS + tuple(t for t in extra if t)
        custom = _custom_pass(get_config().redact_patterns)
        # Every secret name holds a trigger, unless a configured name is all "_" (then any may be).
        names = triggers if all(extra) else ()
        rest = (*_fixed_passes(), *custom, *_name_passes(triggers, names))
        _rules = _Rules(
            _env_candidates(os.environ.items()),
            (*(_shape_pass(s, False) for s in SHAPES), *rest),
            (*(_shape_pass(s, True) for s in SHAPES), *rest),
        )
    return _rules


def reset() -> None:
    """Drop compiled rules, cached name verdicts and harvested env values."""
    global _extra_names, _rules
    _extra_names = None
    _rules = None
    _name_verdicts.clear()


# ------------------------------------------------------------------- public API


def _redact(text: str, keep_lines: bool) -> str:
    original = text
    rules = _get_rules()
    for value in rules.env_values:
        if value in text:
            if (replacement := _env_marker(rules, value)) is not None:
                text = text.replace(value, replacement)
        elif len(text) >= MIN_ENV_VALUE_CHARS and text in value and (replacement := _env_marker(rules, value)):
            return replacement  # a piece of the secret held on its own (short = token[:12])
    lowered = text.lower()
    for step in rules.lines_passes if keep_lines else rules.passes:
        for trigger in step.triggers:  # plain loops: the no-secret path is all `in` checks
            if trigger in lowered:
                if step.can_change(text, lowered):
                    text = step.apply(text)
                break
    return original if text == original else text


def redact_text(text: str) -> str:
    """``text`` with every secret-looking substring replaced by its marker.

    Returns the same object when nothing matched; non-strings come back unchanged.
    """
    if not isinstance(text, str) or not text:
        return text
    return _redact(text, keep_lines=False)


def redact_lines(lines: list[str]) -> list[str]:
    """Lines redacted together, one output line per input line: a secret spanning lines
    (a PEM block in source context or a diff) is removed from every line it covers."""
    if not lines:
        return []
    joined = "\n".join(lines)
    out = _redact(joined, keep_lines=True).split("\n")
    if len(out) != len(lines):  # a configured pattern ate a newline: line by line then
        out = [redact_text(line) for line in lines]
    return out


def redact_head(text: str, limit: int) -> str:
    """``text`` redacted far enough past ``limit`` that its first ``limit`` characters may be shown:
    redact first, then cut. Reads ``limit + REDACT_SLACK_CHARS`` characters, more when redaction
    shrank them (at most ``MAX_REDACT_WINDOW_CHARS``). Callers cut the result."""
    size = limit + REDACT_SLACK_CHARS
    while True:
        clean = redact_text(text[:size])
        if size >= len(text) or size >= MAX_REDACT_WINDOW_CHARS or len(clean) >= limit + REDACT_SLACK_CHARS // 2:
            return clean
        size *= 2


def redact_cut(text: str, limit: int) -> str:
    """The first ``limit`` characters of ``text`` once redacted (:func:`redact_head`, then cut)."""
    return redact_head(text, limit)[:limit]


def _tail_kind(head: str, run: str) -> str | None:
    if _rx().tail_scheme.search(head):
        return "bearer" if head.rstrip().lower().endswith("bearer") else "basic"
    for starts, kind in SECRET_STARTS:
        if run.startswith(starts):
            return kind
    for starts, pattern, kind in SECRET_START_SHAPES:
        if run.startswith(starts) and _compile(pattern).fullmatch(run):
            return kind
    if len(run) >= MIN_ENV_PREFIX_CHARS:
        rules = _get_rules()
        for value in rules.env_values:
            if value.startswith(run) and (replacement := _env_marker(rules, value)) is not None:
                return replacement[len(MARKER_PREFIX) : -1]
    return None


def redact_prefix(text: str) -> str:
    """:func:`redact_text` for the first characters of a longer string (the rest is unknown).

    A trailing run that starts like a known secret shape (``ghp_``, ``sk-``,
    ``AKIA``, ``AIza``, ``eyJ``, ...; :data:`agentlog.core.secretshapes.SECRET_STARTS`),
    follows ``Bearer``/``Basic``, or is the start of a secret environment value
    becomes a marker, and a ``-----BEGIN`` block is cut from there: what is left
    of a secret that the cut made too short to match never shows.
    """
    text = redact_text(text)
    begin = text.find("-----BEGIN")
    if begin >= 0:
        return text[:begin] + marker("private_key")
    match = _rx().tail_run.search(text)
    if match is None:
        return text
    kind = _tail_kind(text[: match.start()], match.group())
    return text if kind is None else text[: match.start()] + marker(kind)


def _redact_scalar(value: Any) -> Any:
    if cannot_be_secret(value) or (isinstance(value, str) and _compile(MARKER_PATTERN).fullmatch(value)):
        return value
    return marker("name")


def _scrub(obj: Any, depth: int, secret: bool) -> Any:
    if depth > MAX_SCRUB_DEPTH:
        return obj
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            named = isinstance(key, str) and is_secret_name(key)
            out[key] = _scrub(value, depth + 1, named)
        return out
    if isinstance(obj, list | tuple):
        items = [_scrub(item, depth + 1, secret) for item in obj]
        return items if isinstance(obj, list) else tuple(items)
    if secret:
        return _redact_scalar(obj)
    if isinstance(obj, str):
        return redact_text(obj)
    return obj


def scrub(obj: Any) -> Any:
    """A redacted copy of a JSON-like value; the input is never modified.

    Strings anywhere go through :func:`redact_text`. Under a dict key that is a
    secret name, scalars (and the scalars of a list or tuple) become
    ``[REDACTED:name]``, except ``None``, booleans and empty strings. Dict keys
    are kept; nesting deeper than ``MAX_SCRUB_DEPTH`` is returned as is.
    """
    refresh_env()
    try:
        return _scrub(obj, 0, False)
    except RecursionError:
        return obj


MAX_ARGS = 100
MAX_ARG_CHARS = 1000


def secret_flag(arg: object) -> bool:
    """True for a command-line flag naming a secret without its value: ``--password``, ``--api-token``."""
    return isinstance(arg, str) and arg.startswith("-") and "=" not in arg and is_secret_name(arg.lstrip("-"))


def redact_argv(argv: list[str]) -> list[str]:
    """A command line with secrets removed, including values of ``--password X`` style flags
    and a credential-like value after ``-p`` (not a number or a path)."""
    out: list[str] = []
    hide_next = after_p = False
    for arg in argv[:MAX_ARGS]:
        if hide_next or (after_p and isinstance(arg, str) and short_password(arg)):
            out.append(marker("name"))
            hide_next = after_p = False
            continue
        out.append(redact_cut(arg, MAX_ARG_CHARS))
        hide_next, after_p = secret_flag(arg), arg == "-p"
    if len(argv) > MAX_ARGS:
        out.append(f"...[+{len(argv) - MAX_ARGS} args]")
    return out
