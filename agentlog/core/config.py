"""Options, read once per process from the environment and ``[tool.agentlog]``.

Precedence: environment variable > ``pyproject.toml`` (nearest one at or above
the working directory) > default. Every bound AgentLog enforces lives here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

from agentlog.core import selflog

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
TRACE_MODES = ("off", "crash", "calls")


class Config(NamedTuple):
    """All tunables, immutable (``config._replace(dir=...)`` for a changed copy).

    Field names double as ``[tool.agentlog]`` keys. A NamedTuple rather than a
    dataclass: every activated process builds one, and dataclasses (with the
    inspect module it imports) would cost it about 15 ms.
    """

    dir: str = ".agentlog"
    trace: str = "calls"  # off | crash | calls
    quiet: bool = False
    verbose: bool = False
    # Value descriptors.
    max_str_chars: int = 200
    max_items: int = 10
    max_depth: int = 3
    repr_timeout_ms: int = 50
    user_repr: bool = False  # call __repr__ of the program's own classes (guarded); off: attributes only
    max_record_bytes: int = 64 * 1024
    max_frames: int = 40
    # Call trail.
    ring_size: int = 65536
    trail_calls: int = 200
    trail_args: bool = True  # record the first arguments of every call (and return-value prefixes)
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    # Store.
    max_file_bytes: int = 8 * 1024 * 1024
    max_dir_bytes: int = 256 * 1024 * 1024
    # Redaction.
    redact_names: tuple[str, ...] = ()
    redact_patterns: tuple[str, ...] = ()
    # Team sharing through Cloudflare D1 (the API token is read from the environment only).
    d1_account_id: str = ""
    d1_database_id: str = ""
    d1_api_url: str = "https://api.cloudflare.com/client/v4"

    @property
    def data_dir(self) -> Path:
        return Path(self.dir).absolute()


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


def find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _pyproject_table(start: Path) -> dict[str, Any]:
    path = find_pyproject(start)
    if path is None:
        return {}
    import tomllib

    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    table = data.get("tool", {}).get("agentlog", {})
    return {k.replace("-", "_"): v for k, v in table.items()} if isinstance(table, dict) else {}


def check_option(name: str, raw: Any) -> Any:
    """``raw`` converted for option ``name``; ValueError (ConfigError for modes) if unusable."""
    value = _coerce(name, raw)
    if name == "trace" and value not in TRACE_MODES:
        raise ConfigError(f"trace mode must be one of {', '.join(TRACE_MODES)}, got {value!r}")
    return value


def load_config(
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    problems: list[str] | None = None,
) -> Config:
    """A Config from ``[tool.agentlog]`` and the environment.

    A bad value raises ConfigError, or, if ``problems`` is given, keeps that
    option's default and appends one line naming the variable to ``problems``.
    """
    env = os.environ if env is None else env
    sources: dict[str, tuple[str, Any]] = {}
    for name, raw in _pyproject_table(cwd or Path.cwd()).items():
        if name in Config._fields:
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
        selflog.configure(config.data_dir, config.quiet, config.verbose)
