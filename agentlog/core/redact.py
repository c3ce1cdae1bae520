"""Secret detection and removal: key names by rule, values by shape. One place.

Every removed secret becomes ``[REDACTED:<kind>]`` (see :func:`marker`), so a
reader knows what was there without seeing it. Kinds, in the order applied:

- ``env:<NAME>``: the value of environment variable NAME, read at first use,
  whose name is a secret name (below). Only values of 8+ characters that are
  not a setting word (``disabled``, ``required``, ...) and not an existing
  absolute path; ``PWD``/``OLDPWD`` are never used (they hold the cwd).
- ``private_key``: a PEM ``-----BEGIN ... PRIVATE KEY-----`` block through its
  END line, or through the end of its base64 body when the END line is missing.
- ``url_password``: the password in ``scheme://user:PASS@host``; user and host stay.
- ``anthropic_key`` (``sk-ant-...``), ``openai_key`` (``sk-...``, ``sk-proj-...``;
  20+ characters with a digit), ``stripe_key`` (``sk_live_``, ``rk_live_``,
  ``sk_test_``, ``rk_test_``), ``github_token`` (``ghp_ gho_ ghs_ ghu_ ghr_``,
  ``github_pat_``), ``aws_access_key_id`` (``AKIA``/``ASIA`` + 16), ``slack_token``
  (``xoxa- xoxb- xoxp- xoxr- xoxs-``), ``jwt`` (``eyJ...``.``...``.``...``).
- ``aws_secret_key``: 40 base64 characters right after ``aws_secret_access_key``
  / ``SecretAccessKey`` and ``=`` or ``:``.
- ``bearer`` / ``basic``: the credential after the scheme word, which is kept.
  Outside an Authorization header a bearer credential needs 8+ characters with
  a digit (or 20+), and a basic one must decode to ``user:password``.
- ``custom``: a match of a configured ``redact_patterns`` regex.
- ``name``: the value in ``key=value``, ``key: value`` (line start, or quoted
  key or value) or ``"key": "value"`` where the key is a secret name; and, in
  :func:`scrub`, a dict value under a secret-name key. ``None``, booleans,
  ``null``/``true``/``false`` and values already redacted are left alone.

:func:`redact_prefix` is for the first characters of a longer string (the call
trail keeps 16): a cut-off secret too short for its full pattern is caught by
how it starts.

Secret names (:func:`is_secret_name`): the name is normalised (camelCase split,
``-``, ``.`` and spaces become ``_``, lower-cased) into ``_``-separated segments.
It is secret if it contains ``password``/``passwd``/``passphrase``, ``secret``
(not ``secretary``/``secretariat``), ``credential``, ``cookie``, ``api_key``/
``apikey``, ``private_key``/``privatekey``, ``session_id``/``sessionid``/
``session_key``/``sessid``, or any configured ``redact_names`` entry
(normalised, as a substring); or if a segment is ``pwd``; is ``auth``,
``authorization``/``authorisation``, ``auth`` + ``token``/``key``/``header``, or
ends in ``auth`` (``basicauth``; but not ``oauth``); or ends in ``token``
(``csrftoken``) unless the next segment says it is metadata about tokens
(``token_count``, ``token_ids``, ``token_url``, ...). So ``tokens``,
``max_tokens``, ``tokenize``, ``author``, ``authority``, ``authenticate``,
``oauth_provider``, ``session``, ``key`` and ``keyboard`` are not secret names.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any, NamedTuple

MARKER_PREFIX = "[REDACTED:"
MARKER_RE = re.compile(r"\[REDACTED:[a-z_]+(?::[A-Za-z0-9_]+)?\]")
MAX_SCRUB_DEPTH = 100
MIN_ENV_VALUE_CHARS = 8
ENV_NEVER = frozenset({"PWD", "OLDPWD"})
# Values of secret-sounding variables that are settings, not secrets (AUTH_MODE=disabled).
ENV_SETTING_WORDS = frozenset({"disabled", "enabled", "required", "optional", "default", "password", "insecure"})
LINE_PREFIX_CHARS = 16  # how far before a "key:" to look for the start of its line


def marker(kind: str) -> str:
    """The text that replaces a removed secret of the given kind."""
    return f"{MARKER_PREFIX}{kind}]"


# ---------------------------------------------------------------- secret names

_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS_RE = re.compile(r"[\s.\-]+")
_NAME_SUBSTRING_RE = re.compile(
    r"passw(?:or)?d|passphrase|secret(?!ar)|credential|cookie"
    r"|api_?keys?(?:_|$)|private_?keys?(?:_|$)|session_?(?:id|key)s?(?:_|$)|sessid"
)
_AUTH_SEGMENTS = frozenset({"auth", "authorization", "authorisation", "authtoken", "authkey", "authheader"})
# A segment after "token" that makes the name describe tokens rather than hold one.
_TOKEN_METADATA = frozenset(
    {
        "count", "counts", "len", "length", "limit", "limits", "budget", "usage", "used",
        "id", "ids", "idx", "index", "type", "types", "total", "url", "uri", "endpoint",
        "expiry", "expires", "expiration", "ttl",
    }
)  # fmt: skip


def _normalise(name: str) -> str:
    return _SEPARATORS_RE.sub("_", _CAMEL_RE.sub("_", name.strip())).lower()


def _segments_secret(segments: list[str]) -> bool:
    for i, seg in enumerate(segments):
        if seg == "pwd" or seg in _AUTH_SEGMENTS:
            return True
        if seg.endswith("auth") and seg != "oauth":
            return True
        if seg.endswith("token"):
            following = segments[i + 1] if i + 1 < len(segments) else ""
            if following not in _TOKEN_METADATA:
                return True
    return False


@lru_cache(maxsize=4096)
def _is_secret_name(name: str) -> bool:
    norm = _normalise(name)
    if _NAME_SUBSTRING_RE.search(norm):
        return True
    if any(extra in norm for extra in _config_names()):
        return True
    return _segments_secret([s for s in norm.split("_") if s])


def is_secret_name(name: str) -> bool:
    """True if a variable, key or header called ``name`` likely holds a secret."""
    return isinstance(name, str) and bool(name) and _is_secret_name(name)


# --------------------------------------------------------------- value shapes

_TOKEN_CHARS = r"[A-Za-z0-9_\-]"
_AUTH_SCHEMES = ("bearer", "basic", "token", "digest")
_NON_VALUES = frozenset({"none", "null", "nil", "true", "false", "undefined"})

_PRIVATE_KEY_RE = re.compile(
    r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY-----"
    r"(?:[A-Za-z0-9+/=\s:,.]|-(?!----))*"
    r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY-----)?"
)
_URL_PASSWORD_RE = re.compile(
    r"(?<![A-Za-z0-9+.\-])([A-Za-z][A-Za-z0-9+.\-]{0,30}://[^\s:/?#@]{0,256}:)"
    r"([^\s/?#@]{1,256})(?=@)"
)
_ANTHROPIC_RE = re.compile(rf"(?<![A-Za-z0-9_\-])sk-ant-{_TOKEN_CHARS}{{20,}}")
_OPENAI_RE = re.compile(rf"(?<![A-Za-z0-9_\-])sk-{_TOKEN_CHARS}{{20,}}")
_STRIPE_RE = re.compile(r"(?<![A-Za-z0-9])[sr]k_(?:live|test)_[A-Za-z0-9]{16,}")
_GITHUB_RE = re.compile(r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")
_AWS_KEY_ID_RE = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
_AWS_SECRET_RE = re.compile(
    r"((?:aws_?)?secret_?access_?key[\"']?\s{0,8}[:=]\s{0,8}[\"']?)"
    r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])",
    re.IGNORECASE,
)
_SLACK_RE = re.compile(r"(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9\-]{10,}")
_JWT_RE = re.compile(rf"(?<![A-Za-z0-9_\-])eyJ{_TOKEN_CHARS}{{8,}}\.{_TOKEN_CHARS}{{8,}}\.{_TOKEN_CHARS}*")
_SCHEME_RE = re.compile(r"(?<![A-Za-z0-9])(bearer|basic)(\s+)([A-Za-z0-9._~+/=\-]{8,})", re.I)
_ASSIGNMENT_RE = re.compile(
    r"(?P<key>(?<![\w.\-])[A-Za-z_][\w.\-]{0,63})"
    r"(?P<kq>[\"']?)"
    r"(?P<sep>(?:\s{0,8}:\s{0,8}[A-Za-z_][\w.\[\]| ]{0,40}?\s{0,8}=(?![=>])|\s{0,8}(?:=>|=(?!=)|:(?![:=/])))\s{0,8})"
    r"(?P<sp>(?:[rbuf]{1,2}(?=[\"']))?)"  # a string prefix: b"...", rb'...', f"..."
    r"(?P<value>\"(?:[^\"\\\n]|\\.){0,4096}\"|'(?:[^'\\\n]|\\.){0,4096}'"
    r"|(?:(?:bearer|basic|token|digest)[ \t]+)?[^\s\"',;&}\])]{1,4096})",
    re.IGNORECASE,
)


def _looks_random(token: str) -> bool:
    return any(c.isdigit() for c in token) and any(c.isalpha() for c in token)


def _is_basic_credential(credential: str) -> bool:
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


def _replace_assignment(match: re.Match[str]) -> str:
    key, key_quote, value = match.group("key", "kq", "value")
    text, start = match.string, match.start()
    newline = text.rfind("\n", max(0, start - LINE_PREFIX_CHARS), start)
    at_line_start = (newline >= 0 or start <= LINE_PREFIX_CHARS) and not text[newline + 1 : start].strip(" \t+-#>\"'")
    quoted = value[:1] in "\"'"
    sep = match.group("sep")
    if ":" in sep and "=" in sep and not is_secret_name(key):
        # "error: password=x" is not an annotated assignment to `error`: look again after the colon.
        cut = match.start("sep") - start + sep.index(":") + 1
        return match.group()[:cut] + _ASSIGNMENT_RE.sub(_replace_assignment, match.group()[cut:])
    colon_only = ":" in sep and "=" not in sep
    # "Invalid token: expected ..." is prose; a colon counts at line start or with quotes.
    if (colon_only and not (key_quote or quoted or at_line_start)) or not is_secret_name(key):
        return match.group()
    inner = value[1:-1] if quoted and len(value) >= 2 else value
    kind = "name"
    prefix = ""
    head, _, rest = inner.partition(" ")
    if rest and head.lower() in _AUTH_SCHEMES:
        prefix, inner = f"{head} ", rest.strip()
        if head.lower() in ("bearer", "basic"):
            kind = head.lower()
    if not inner or inner.lower() in _NON_VALUES or inner.startswith(MARKER_PREFIX):
        return match.group()
    redacted = prefix + marker(kind)
    if quoted:
        redacted = value[0] + redacted + value[0]
    return match.group()[: match.start("value") - match.start()] + redacted


def _sub_fixed(pattern: re.Pattern[str], kind: str) -> Callable[[str], str]:
    replacement = marker(kind)
    return lambda text: pattern.sub(replacement, text)


def _sub_openai(text: str) -> str:
    return _OPENAI_RE.sub(lambda m: marker("openai_key") if _looks_random(m.group()[3:]) else m.group(), text)


# ------------------------------------------------------------------- the rules


class _Pass(NamedTuple):
    """One redaction pass, run only if the lower-cased text contains a trigger."""

    triggers: tuple[str, ...]
    apply: Callable[[str], str]


class _Rules(NamedTuple):
    env_values: tuple[tuple[str, str], ...]  # (value, marker), longest value first
    passes: tuple[_Pass, ...]


_NAME_TRIGGERS = ("pass", "pwd", "secret", "token", "auth", "key", "credential", "cookie", "sess")
_SHAPE_PASSES = (
    _Pass(("-----begin",), _sub_fixed(_PRIVATE_KEY_RE, "private_key")),
    _Pass(("://",), lambda t: _URL_PASSWORD_RE.sub(rf"\1{marker('url_password')}", t)),
    _Pass(("sk-ant-",), _sub_fixed(_ANTHROPIC_RE, "anthropic_key")),
    _Pass(("sk-",), _sub_openai),
    _Pass(("k_live_", "k_test_"), _sub_fixed(_STRIPE_RE, "stripe_key")),
    _Pass(
        ("ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"),
        _sub_fixed(_GITHUB_RE, "github_token"),
    ),
    _Pass(("akia", "asia"), _sub_fixed(_AWS_KEY_ID_RE, "aws_access_key_id")),
    _Pass(("secret",), lambda t: _AWS_SECRET_RE.sub(rf"\1{marker('aws_secret_key')}", t)),
    _Pass(("xox",), _sub_fixed(_SLACK_RE, "slack_token")),
    _Pass(("eyj",), _sub_fixed(_JWT_RE, "jwt")),
    _Pass(("bearer", "basic"), lambda t: _SCHEME_RE.sub(_replace_scheme, t)),
)


def _plausible_env_secret(name: str, value: str) -> bool:
    """Every value of 8+ characters of a secret-named variable counts, words and digits included
    (a password can be ``Bluebirdsky``); only paths that exist are left alone."""
    if name.upper() in ENV_NEVER or len(value) < MIN_ENV_VALUE_CHARS or value.lower() in ENV_SETTING_WORDS:
        return False
    return not (os.path.isabs(value) and os.path.exists(value))


def _env_secrets(environ: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    found = {
        value: marker(f"env:{re.sub(r'[^A-Za-z0-9_]', '_', name)}")
        for name, value in environ
        if is_secret_name(name) and _plausible_env_secret(name, value)
    }
    return tuple(sorted(found.items(), key=lambda item: -len(item[0])))


def _custom_pass(patterns: Iterable[str]) -> tuple[_Pass, ...]:
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

        _extra_names = tuple(n for n in map(_normalise, get_config().redact_names) if n)
    return _extra_names


def _get_rules() -> _Rules:
    """Env values and passes for the current config, built on first use."""
    global _rules
    if _rules is None:
        from agentlog.core.config import get_config

        names = _config_names()
        triggers = _NAME_TRIGGERS + tuple(max(n.split("_"), key=len) for n in names)
        assignment = _Pass(triggers, lambda t: _ASSIGNMENT_RE.sub(_replace_assignment, t))
        custom = _custom_pass(get_config().redact_patterns)
        _rules = _Rules(_env_secrets(os.environ.items()), (*_SHAPE_PASSES, *custom, assignment))
    return _rules


def reset() -> None:
    """Drop compiled rules, cached name verdicts and harvested env values."""
    global _extra_names, _rules
    _extra_names = None
    _rules = None
    _is_secret_name.cache_clear()


# ------------------------------------------------------------------- public API


def redact_text(text: str) -> str:
    """``text`` with every secret-looking substring replaced by its marker.

    Returns the same object when nothing matched; non-strings come back unchanged.
    """
    if not isinstance(text, str) or not text:
        return text
    original = text
    rules = _get_rules()
    for value, replacement in rules.env_values:
        if value in text:
            text = text.replace(value, replacement)
    lowered = text.lower()
    for step in rules.passes:
        for trigger in step.triggers:  # plain loops: the no-secret path is all `in` checks
            if trigger in lowered:
                text = step.apply(text)
                break
    return original if text == original else text


def _redact_scalar(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and (not value or MARKER_RE.fullmatch(value)):
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
    try:
        return _scrub(obj, 0, False)
    except RecursionError:
        return obj


# Starts of the shapes above: a cut-off prefix of a longer string cannot match a full
# pattern (they need 16-40 characters after the start), so a trailing run that begins
# like one is redacted on its own (:func:`redact_prefix`).
_SECRET_STARTS = (
    (("sk-ant-",), "anthropic_key"),
    (("sk_live_", "sk_test_", "rk_live_", "rk_test_"), "stripe_key"),
    (("sk-",), "openai_key"),
    (("ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"), "github_token"),
    (("AKIA", "ASIA"), "aws_access_key_id"),
    (("xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-"), "slack_token"),
    (("eyJ",), "jwt"),
)
_TAIL_RUN_RE = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-+/.]+$")
_TAIL_SCHEME_RE = re.compile(r"(?<![A-Za-z0-9])(?:bearer|basic)\s+$", re.I)
MIN_ENV_PREFIX_CHARS = 4


def _tail_kind(head: str, run: str) -> str | None:
    if _TAIL_SCHEME_RE.search(head):
        return "bearer" if head.rstrip().lower().endswith("bearer") else "basic"
    for starts, kind in _SECRET_STARTS:
        if run.startswith(starts):
            return kind
    if len(run) >= MIN_ENV_PREFIX_CHARS:
        for value, replacement in _get_rules().env_values:
            if value.startswith(run):
                return replacement[len(MARKER_PREFIX) : -1]
    return None


def redact_prefix(text: str) -> str:
    """:func:`redact_text` for the first characters of a longer string (the rest is unknown).

    A trailing run that starts like a known secret shape (``ghp_``, ``sk-``,
    ``AKIA``, ``eyJ``, ...), follows ``Bearer``/``Basic``, or is the start of a
    secret environment value becomes a marker, and a ``-----BEGIN`` block is cut
    from there: what is left of a secret that the cut made too short to match
    never shows.
    """
    text = redact_text(text)
    begin = text.find("-----BEGIN")
    if begin >= 0:
        return text[:begin] + marker("private_key")
    match = _TAIL_RUN_RE.search(text)
    if match is None:
        return text
    kind = _tail_kind(text[: match.start()], match.group())
    return text if kind is None else text[: match.start()] + marker(kind)


MAX_ARGS = 100
MAX_ARG_CHARS = 1000


def redact_argv(argv: list[str]) -> list[str]:
    """A command line with secrets removed, including values of ``--password X`` style flags."""
    out: list[str] = []
    hide_next = False
    for arg in argv[:MAX_ARGS]:
        flag, eq, _ = arg.partition("=")
        if hide_next:
            out.append(marker("name"))
        elif flag.startswith("-") and is_secret_name(flag.lstrip("-")):
            out.append(f"{flag}={marker('name')}" if eq else arg)
            hide_next = not eq
            continue
        else:
            out.append(redact_text(arg)[:MAX_ARG_CHARS])
        hide_next = False
    if len(argv) > MAX_ARGS:
        out.append(f"...[+{len(argv) - MAX_ARGS} args]")
    return out
