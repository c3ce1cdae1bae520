"""Options, read once per process from the environment, ``[tool.agentlog]`` and the user's config file.

Precedence: environment variable > ``pyproject.toml`` (nearest one at or above
the working directory) > the user's config file (:func:`user_config_path`, top-level
keys named as in ``[tool.agentlog]``; parsed only if it exists) > default. Every
bound AgentLog enforces lives here.

The options that decide where a credential is sent (CREDENTIAL_TARGETS) are the
user's alone: a project file (which a cloned repository brings) cannot set them;
:func:`credential_target_warning` says so in one line where they would be used.
"""

from __future__ import annotations

import os

from agentlog.core import selflog
from agentlog.core.projectdir import working_dir

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing and pathlib cost an activated process milliseconds
    from pathlib import Path
    from typing import Any

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
TRACE_MODES = ("off", "crash", "calls")

# Every tunable and its default; the names double as ``[tool.agentlog]`` keys.
_DEFAULTS: dict[str, Any] = {
    "dir": ".agentlog",
    "trace": "calls",  # off | crash | calls
    "quiet": False,
    "verbose": False,
    # Value descriptors.
    "max_str_chars": 200,
    "max_items": 10,
    "max_depth": 3,
    "repr_timeout_ms": 50,
    "user_repr": False,  # call __repr__ of the program's own classes (guarded); off: attributes only
    "max_record_bytes": 64 * 1024,
    "max_frames": 40,
    # Call trail.
    "ring_size": 65536,  # entries per thread at most (32 bytes each); rings start small and grow
    "ring_budget": 64 * 1024 * 1024,  # bytes, all threads' rings together
    "trail_calls": 200,
    "trail_args": True,  # record the first arguments of every call (and return-value prefixes)
    "include": (),
    "exclude": (),
    # Store.
    "max_file_bytes": 8 * 1024 * 1024,
    "max_dir_bytes": 256 * 1024 * 1024,
    # Redaction.
    "redact_names": (),
    "redact_patterns": (),
    # Team sharing through Cloudflare D1 (the API token is read from the environment only).
    "d1_account_id": "",
    "d1_database_id": "",
    "d1_api_url": "https://api.cloudflare.com/client/v4",
}
# The D1 API token is sent to {d1_api_url}/accounts/{d1_account_id}/d1/database/{d1_database_id}:
# only the environment and the user's config file set these, never a project's pyproject.toml.
CREDENTIAL_TARGETS = ("d1_api_url", "d1_account_id", "d1_database_id")
USER_CONFIG_ENV = "AGENTLOG_CONFIG"


class Config:
    """All tunables, immutable (``config._replace(dir=...)`` for a changed copy).

    Field names double as ``[tool.agentlog]`` keys. A small slotted class with
    the NamedTuple API (``_fields``, ``_field_defaults``, ``_replace``) rather
    than a NamedTuple or dataclass: every activated process builds one, and
    ``typing`` (or ``dataclasses`` with ``inspect``) would cost it milliseconds.
    """

    __slots__ = tuple(_DEFAULTS)
    _fields = tuple(_DEFAULTS)
    _field_defaults = _DEFAULTS

    if TYPE_CHECKING:
        dir: str
        trace: str
        quiet: bool
        verbose: bool
        max_str_chars: int
        max_items: int
        max_depth: int
        repr_timeout_ms: int
        user_repr: bool
        max_record_bytes: int
        max_frames: int
        ring_size: int
        ring_budget: int
        trail_calls: int
        trail_args: bool
        include: tuple[str, ...]
        exclude: tuple[str, ...]
        max_file_bytes: int
        max_dir_bytes: int
        redact_names: tuple[str, ...]
        redact_patterns: tuple[str, ...]
        d1_account_id: str
        d1_database_id: str
        d1_api_url: str

    def __init__(self, **values: Any) -> None:
        unknown = values.keys() - _DEFAULTS.keys()
        if unknown:
            raise TypeError(f"Config got unexpected options: {', '.join(sorted(unknown))}")
        for name, default in _DEFAULTS.items():
            object.__setattr__(self, name, values.get(name, default))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Config is immutable; use _replace()")

    def _replace(self, **changes: Any) -> Config:
        return Config(**{**self._asdict(), **changes})

    def _asdict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._fields}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and self._asdict() == other._asdict()

    def __hash__(self) -> int:
        return hash(tuple(self._asdict().values()))

    def __repr__(self) -> str:
        return "Config(" + ", ".join(f"{k}={v!r}" for k, v in self._asdict().items()) + ")"

    @property
    def data_dir(self) -> Path:
        """The data dir, absolute; a relative ``dir`` is the project's (``core/projectdir.py``)."""
        from pathlib import Path

        return Path(self.data_path)

    @property
    def data_path(self) -> str:
        """``data_dir`` as a string, without importing pathlib (the activation path uses this)."""
        from agentlog.core.projectdir import resolve_data_path

        return resolve_data_path(self.dir)


ENV_NAMES = {
    "dir": "AGENTLOG_DIR",
    "trace": "AGENTLOG_TRACE",
    "quiet": "AGENTLOG_QUIET",
    "verbose": "AGENTLOG_VERBOSE",
    "max_str_chars": "AGENTLOG_MAX_STR",
    "user_repr": "AGENTLOG_USER_REPR",
    "max_items": "AGENTLOG_MAX_ITEMS",
    "max_depth": "AGENTLOG_MAX_DEPTH",
    "ring_size": "AGENTLOG_RING_SIZE",
    "ring_budget": "AGENTLOG_RING_BUDGET",
    "trail_calls": "AGENTLOG_TRAIL_CALLS",
    "trail_args": "AGENTLOG_TRAIL_ARGS",
    "include": "AGENTLOG_INCLUDE",
    "exclude": "AGENTLOG_EXCLUDE",
    "max_file_bytes": "AGENTLOG_MAX_FILE_BYTES",
    "max_dir_bytes": "AGENTLOG_MAX_DIR_BYTES",
    "redact_names": "AGENTLOG_REDACT_NAMES",
    "redact_patterns": "AGENTLOG_REDACT_PATTERNS",
    "d1_account_id": "CLOUDFLARE_ACCOUNT_ID",
    "d1_database_id": "AGENTLOG_D1_DATABASE_ID",
    "d1_api_url": "AGENTLOG_D1_API_URL",
}


class ConfigError(ValueError):
    """An option has a value AgentLog cannot use."""


def _coerce(name: str, raw: Any) -> Any:
    """``raw`` (an environment string or a TOML value) as the type of the field's default."""
    kind = type(Config._field_defaults[name])
    if kind is bool:
        return raw if isinstance(raw, bool) else str(raw).strip().lower() in TRUE_WORDS
    if kind is int:
        value = int(raw)
        if value < 0:
            raise ConfigError(f"{name} must be >= 0, got {value}")
        return value
    if kind is tuple:
        if isinstance(raw, str):
            # Environment lists: comma-separated, or newline-separated for regexes.
            sep = "\n" if name == "redact_patterns" else ","
            return tuple(p.strip() for p in raw.split(sep) if p.strip())
        return tuple(str(p) for p in raw)
    return str(raw)


def find_pyproject(start: str | os.PathLike[str]) -> str | None:
    """The nearest ``pyproject.toml`` at or above ``start``."""
    folder = os.path.abspath(start)
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def user_config_path(env: dict[str, str] | None = None) -> str:
    """``$AGENTLOG_CONFIG``, else ``$XDG_CONFIG_HOME/agentlog/config.toml`` (``~/.config`` by default)."""
    env = os.environ if env is None else env
    if env.get(USER_CONFIG_ENV):
        return env[USER_CONFIG_ENV]
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "agentlog", "config.toml")


def _user_table(path: str, problems: list[str]) -> dict[str, Any]:
    """The user's config file (top-level keys); a file that does not parse adds to ``problems``."""
    if not os.path.isfile(path):
        return {}
    raw = _read_bounded(path)
    if raw is None:
        return {}
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problems.append(f"{path} is not valid TOML ({_why(exc)}); not used")
        return {}
    return {k.replace("-", "_"): v for k, v in data.items()}


def _read_bounded(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(MAX_PYPROJECT_BYTES)
    except OSError:
        return None


def _pyproject_table(start: str | os.PathLike[str], problems: list[str]) -> dict[str, Any]:
    """``[tool.agentlog]`` of the nearest pyproject.toml; a file that does not parse adds to ``problems``.

    If the file is not valid TOML or not UTF-8, the ``[tool.agentlog]`` section
    alone is parsed, so a mistake elsewhere in the file does not drop the
    configured redaction; if that fails too, every option keeps its default.
    """
    path = find_pyproject(start)
    if path is None:
        return {}
    raw = _read_bounded(path)
    if raw is None:
        return {}
    # Most projects never mention us: skip the TOML parser (and the re it imports).
    if b"agentlog" not in raw:
        return {}
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        data = _own_section(raw)
        kept = "read [tool.agentlog] alone" if data is not None else "using defaults for every option"
        problems.append(f"{path} is not valid TOML ({_why(exc)}); {kept}")
        if data is None:
            return {}
    tool = data.get("tool", {})
    table = tool.get("agentlog", {}) if isinstance(tool, dict) else {}
    return {k.replace("-", "_"): v for k, v in table.items()} if isinstance(table, dict) else {}


MAX_PYPROJECT_BYTES = 4 * 1024 * 1024
SECTION_HEADER = rb"^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*agentlog[ \t]*\][ \t]*(?:#.*)?$"
ANY_HEADER = rb"^[ \t]*\["


def _own_section(raw: bytes) -> dict[str, Any] | None:
    """``[tool.agentlog]`` parsed on its own (None if missing or broken too)."""
    import re
    import tomllib

    header = re.search(SECTION_HEADER, raw, re.MULTILINE)
    if header is None:
        return None
    following = re.compile(ANY_HEADER, re.MULTILINE).search(raw, header.end())
    body = raw[header.end() : following.start() if following else len(raw)]
    try:
        return {"tool": {"agentlog": tomllib.loads(body.decode("utf-8"))}}
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def _why(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"byte 0x{exc.object[exc.start]:02x} at offset {exc.start} is not UTF-8"
    return str(exc)


def check_option(name: str, raw: Any) -> Any:
    """``raw`` converted for option ``name``; ValueError (ConfigError for modes) if unusable."""
    value = _coerce(name, raw)
    if name == "trace" and value not in TRACE_MODES:
        raise ConfigError(f"trace mode must be one of {', '.join(TRACE_MODES)}, got {value!r}")
    return value


def load_config(
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    problems: list[str] | None = None,
) -> Config:
    """A Config from ``[tool.agentlog]`` and the environment.

    A bad value raises ConfigError, or, if ``problems`` is given, keeps that
    option's default and appends one line naming the variable to ``problems``.
    """
    env = os.environ if env is None else env
    sources: dict[str, tuple[str, Any]] = {}
    unreadable: list[str] = []
    user_path = user_config_path(env)
    user = _user_table(user_path, unreadable)
    table = _pyproject_table(cwd or working_dir(), unreadable)
    if unreadable and problems is None:
        raise ConfigError(unreadable[0])
    if problems is not None:
        problems.extend(unreadable)
    for name, raw in user.items():
        if name in Config._fields:
            sources[name] = (f"{user_path}: {name}", raw)
    for name, raw in table.items():
        if name in Config._fields and name not in CREDENTIAL_TARGETS:
            sources[name] = (f"[tool.agentlog] {name}", raw)
    for name, var in ENV_NAMES.items():
        if env.get(var, "") != "":
            sources[name] = (var, env[var])
    values: dict[str, Any] = {}
    for name, (source, raw) in sources.items():
        try:
            values[name] = check_option(name, raw)
        except (TypeError, ValueError) as exc:
            message = f"{source}={raw!r} is not usable ({exc})"
            if problems is None:
                raise ConfigError(message) from None
            problems.append(f"{message}; using {Config._field_defaults[name]!r}")
    return Config(**values)


def option_source(name: str, cwd: str | os.PathLike[str] | None = None,
                  env: dict[str, str] | None = None) -> str | None:
    """Where option ``name`` was set (its variable, ``[tool.agentlog]`` or the user config), or None."""
    env = os.environ if env is None else env
    if env.get(ENV_NAMES.get(name, ""), ""):
        return ENV_NAMES[name]
    ignored: list[str] = []
    if name in _pyproject_table(cwd or os.getcwd(), ignored):
        return f"[tool.agentlog] {name}"
    path = user_config_path(env)
    return f"{path}: {name}" if name in _user_table(path, ignored) else None


def credential_target_warning(cwd: str | os.PathLike[str] | None = None,
                              env: dict[str, str] | None = None) -> str | None:
    """One line if the project's pyproject.toml sets options that decide where credentials go
    (CREDENTIAL_TARGETS, ignored by :func:`load_config`), saying where to set them instead."""
    start = cwd or working_dir()
    names = [name for name in CREDENTIAL_TARGETS if name in _pyproject_table(start, [])]
    if not names:
        return None
    variables = ", ".join(ENV_NAMES[name] for name in names)
    return (f"{find_pyproject(start)} sets {', '.join(names)} in [tool.agentlog]: ignored, a project file cannot "
            f"say where credentials are sent; set {variables} in the environment or in {user_config_path(env)}")


_current: Config | None = None


def get_config() -> Config:
    """The process's configuration; an unusable option keeps its default, with a warning."""
    config = _current
    if config is None:
        problems: list[str] = []
        config = load_config(problems=problems)
        set_config(config)
        report_problems(problems)
    return config


def report_problems(problems: list[str]) -> None:
    """One loud warning listing the options that kept their defaults."""
    if problems:
        selflog.warn_once("bad-option", "; ".join(problems), loud=True)


def set_config(config: Config | None) -> None:
    """Replace the process configuration (the launcher and tests use this)."""
    global _current
    _current = config
    if config is not None:
        selflog.configure(config.data_path, config.quiet, config.verbose)
