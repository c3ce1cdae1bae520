"""AgentLog as an MCP server (the official ``mcp`` SDK, major 2): tools, resources and a prompt.

Every call reads the on-disk store afresh, so the server sees what any process
recorded, before it started or while it runs. It writes nothing but protocol to
stdout. A bad argument or an unreadable store becomes an MCP error result with one
clear sentence; the server itself never crashes on them. Needs ``agentlog[mcp]``;
the SDK is imported only here.
"""

import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from agentlog.context.builder import load
from agentlog.context.failures import failure_line, find_failure, list_lines, pattern_lines, search_failures
from agentlog.context.formats import FORMATS, render, select_failures
from agentlog.context.session import session_detail_lines, session_line, token_table_lines
from agentlog.history.patterns import search_patterns
from agentlog.store import iter_records
from agentlog.work.summary import resolve_session, summarize_sessions
from agentlog.work.tokens import summarize_tokens

MIN_TOKENS, MAX_TOKENS = 50, 100_000
DEFAULT_TOKENS = 2000
RESOURCE_TOKENS = 4000
MAX_LIMIT = 200
MAX_PATTERNS = 2000  # search_errors looks through this many fingerprints (the history index's own cap)
MAX_NOTE_KINDS = 3  # the redaction note names at most this many kinds, so it fits NOTE_TOKENS
NOTE_TOKENS = 30  # kept free in context results for that note
_MARKER_RE = re.compile(r"\[REDACTED:([a-z_0-9]+)\]")

INSTRUCTIONS = """\
AgentLog is a flight recorder for this project's Python programs and tests. It has ALREADY \
recorded the runtime state of their failures: the exception, every user frame's local \
variables, the calls that led there with their arguments and return values, and the session, \
git state and tool runs around it. Nothing needs to be re-run or paused in a debugger to see it.
- After a command or test failed: call get_debug_context first (the newest failure, ranked, \
within max_tokens).
- To pick another failure: list_failures, then get_failure(id) or get_debug_context(failure_id=...).
- Has this error happened before? search_errors(query) with the exception type or message words.
- The agent's work around failures: list_sessions, get_session(id), token_summary.
- run_and_capture (only when the server was started with --allow-run) runs a Python script, \
module, -c code or pytest under AgentLog and returns exit code, output tail and the new failure's \
context. That code can do anything the server's user can (it is not sandboxed).
Secrets are redacted before anything is stored; results say what was redacted and what the \
token budget left out."""

READ_ONLY = {"read_only_hint": True, "destructive_hint": False, "idempotent_hint": True, "open_world_hint": False}
RUNS_CODE = {"read_only_hint": False, "destructive_hint": True, "idempotent_hint": False, "open_world_hint": True}


class ArgumentError(ValueError):
    """A tool argument out of range: reported to the model as it is."""


# What each tool parameter must be, for the one sentence a wrong argument gets.
PARAMETER_RULES = {
    "max_tokens": f"an integer from {MIN_TOKENS} to {MAX_TOKENS}",
    "limit": f"an integer from 1 to {MAX_LIMIT}",
    "format": "one of " + ", ".join(FORMATS),
    "failure_id": "a failure id or unique prefix from list_failures (a string)",
    "id": "an id or unique prefix (a string)",
    "since": "a failure id or an ISO 8601 time (a string)",
    "session": "a session id or unique prefix (a string)",
    "query": "a non-empty string",
    "command": "a string such as 'pytest -x' or 'script.py ARGS'",
    "timeout_s": "a number of seconds from 1 to 600",
}
MAX_SHOWN_INPUT = 60  # characters of a rejected argument repeated back


def argument_sentence(tool: str, errors: list[dict[str, Any]]) -> str:
    """One sentence for the first argument the SDK's validation rejected."""
    if not errors:
        return f"Error executing tool {tool}: the arguments do not match the tool's input schema"
    error = errors[0]
    name = ".".join(str(p) for p in error.get("loc", ())) or "arguments"
    if error.get("type") == "missing":
        return f"Error executing tool {tool}: {name} is required ({PARAMETER_RULES.get(name, 'see the input schema')})"
    shown = repr(error.get("input"))
    if len(shown) > MAX_SHOWN_INPUT:
        shown = shown[:MAX_SHOWN_INPUT] + "…"
    rule = PARAMETER_RULES.get(name)
    if rule is None:
        return f"Error executing tool {tool}: unexpected argument {name}={shown}"
    return f"Error executing tool {tool}: {name} must be {rule}, got {shown}"


def _tokens(max_tokens: int) -> int:
    if not MIN_TOKENS <= max_tokens <= MAX_TOKENS:
        raise ArgumentError(f"max_tokens must be between {MIN_TOKENS} and {MAX_TOKENS}, got {max_tokens}")
    return max_tokens


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ArgumentError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def redaction_note(text: str) -> str:
    """``(redacted: 2 github_token, 1 name)`` for the markers in ``text``, or that there were none."""
    counts = Counter(_MARKER_RE.findall(text))
    if not counts:
        return "(redacted: nothing in this result)"
    kinds = [f"{n} {kind}" for kind, n in counts.most_common(MAX_NOTE_KINDS)]
    if len(counts) > MAX_NOTE_KINDS:
        kinds.append(f"{len(counts) - MAX_NOTE_KINDS} more kinds")
    return "(redacted: " + ", ".join(kinds) + ")"


def _finish(text: str) -> str:
    return _utf8(text.rstrip("\n") + "\n" + redaction_note(text) + "\n")


def _utf8(text: str) -> str:
    """``text`` as valid UTF-8: a lone surrogate (``\\ud800``, from a record or a program's string)
    becomes its visible escape rather than an error in the server's writer, which would stop it."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _listing(lines: list[str], total: int, what: str, empty: str) -> str:
    if not lines:
        return empty
    more = f"\n({total - len(lines)} more {what}; raise limit to see them)" if total > len(lines) else ""
    return "\n".join(lines) + more


def _since(failures: list[dict[str, Any]], since: str) -> list[dict[str, Any]]:
    """Failures after the failure ``since`` names, or after the ISO 8601 time it is."""
    try:
        cutoff = datetime.fromisoformat(since).timestamp()
    except ValueError:
        cutoff = find_failure(failures, since)["ts"]
    return [f for f in failures if f.get("ts", 0) > cutoff]


def _given(value: str, name: str, hint: str) -> str:
    """``value`` stripped; ArgumentError if it is empty."""
    if not value.strip():
        raise ArgumentError(f"{name} is empty: {hint}")
    return value.strip()


class Tools:
    """The tool and resource bodies over one data dir; each call reads the store."""

    def __init__(self, data_dir: Path, project_dir: Path) -> None:
        self.data_dir = data_dir
        self.project_dir = project_dir

    def _check_dir(self) -> Path:
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise OSError(f"{self.data_dir} is not a directory")
        return self.data_dir

    def _load(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return load(self._check_dir())

    def _records(self) -> list[dict[str, Any]]:
        return list(iter_records(self._check_dir()))

    def debug_context(self, max_tokens: int = DEFAULT_TOKENS, format: str = "text",
                      failure_id: str | None = None) -> str:
        if format not in FORMATS:
            raise ArgumentError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
        failures, records = self._load()
        if failure_id is not None:
            wanted = _given(failure_id, "failure_id", "omit it for the newest failure")
            failure_id = find_failure(failures, wanted)["id"]
        return render(select_failures(failures, failure_id), records, format, _tokens(max_tokens) - NOTE_TOKENS,
                      self.data_dir)

    def failure(self, failure_id: str, max_tokens: int = DEFAULT_TOKENS) -> str:
        failures, records = self._load()
        failure = find_failure(failures, _given(failure_id, "id", "list_failures shows the ids"))
        return render([failure], records, "text", _tokens(max_tokens) - NOTE_TOKENS, self.data_dir)

    def list_failures(self, limit: int = 10, since: str | None = None) -> str:
        failures, _ = self._load()
        if since:
            failures = _since(failures, since)
        lines, total = list_lines(failures, _limit(limit))
        return _listing(lines, total, "failures", "No failures recorded.")

    def sessions(self, limit: int = 20) -> str:
        infos = sorted(summarize_sessions(self._records()).values(), key=lambda i: i.start)
        shown = infos[-_limit(limit):]
        return _listing([session_line(i) for i in reversed(shown)], len(infos), "sessions", "No sessions recorded.")

    def session(self, session_id: str) -> str:
        session_id = _given(session_id, "id", "list_sessions shows the ids")
        records = self._records()
        infos = summarize_sessions(records)
        return "\n".join(session_detail_lines(resolve_session(infos, session_id), infos, records))

    def search(self, query: str, limit: int = 10) -> str:
        if not query.strip():
            raise ArgumentError("query is empty: give an exception type, message words, a file or a function")
        failures, _ = self._load()
        limit = _limit(limit)
        words = query.lower().split()
        patterns = [p for p in search_patterns("", self.data_dir, limit=MAX_PATTERNS)
                    if all(w in " ".join(map(str, [p["fp"], p.get("t"), p.get("m"), *p.get("fns", [])])).lower()
                           for w in words)]
        found = search_failures(failures, query)
        if not patterns and not found:
            return f"No recorded failure matches {query!r}."
        lines = [line for p in patterns[:limit] for line in pattern_lines(p)]
        return "\n".join([
            "fingerprints (how often each was seen, across runs):",
            _listing(lines, len(patterns), "fingerprints", "  none"),
            "failures (newest first):",
            _listing([failure_line(f) for f in found[:limit]], len(found), "failures", "  none")])

    def tokens(self, session: str | None = None) -> str:
        records = self._records()
        if session:
            sid = resolve_session(summarize_sessions(records), session).id
            records = [r for r in records if r.get("sid") == sid]
        summary = summarize_tokens(records)
        return "\n".join(token_table_lines(summary)) if summary["models"] else "No LLM calls recorded."

    def patterns(self) -> str:
        found = search_patterns("", self._check_dir(), limit=MAX_LIMIT)  # the most frequent
        return "\n".join(line for p in found for line in pattern_lines(p)) or "No error patterns recorded."

    def run(self, command: str, timeout_s: float = 120, max_tokens: int = DEFAULT_TOKENS) -> str:
        from agentlog.integrations.runcapture import run_and_capture

        return run_and_capture(command, self.project_dir, self.data_dir, timeout_s, _tokens(max_tokens) - NOTE_TOKENS)


def _safely(what: str, body: Callable[[], str], error: type[Exception],
            missing: type[Exception] | None = None) -> str:
    """``body()`` with a redaction note, or ``error`` (``missing`` for an unknown id) carrying
    one sentence the model can act on."""
    from agentlog.integrations.runcapture import RunError

    try:
        return _finish(body())
    except LookupError as exc:
        # A KeyError's str() is its message's repr: take the message itself.
        message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
        raise (missing or error)(_utf8(message)) from None
    except (ArgumentError, RunError) as exc:
        raise error(_utf8(str(exc))) from None
    except OSError as exc:
        raise error(_utf8(f"cannot read AgentLog's data dir: {exc.strerror or exc}")) from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError) as exc:
        from agentlog.core import selflog

        selflog.report(f"mcp {what}", exc)
        raise error(_utf8(f"a record in AgentLog's data dir is malformed ({type(exc).__name__}: {exc})")) from None


def build_server(data_dir: Path, project_dir: Path, allow_run: bool = False) -> Any:
    """The MCP server over ``data_dir``; ``allow_run`` adds ``run_and_capture``."""
    from typing import Annotated, Literal

    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
    from mcp.types import ToolAnnotations
    from pydantic import Field, ValidationError

    import agentlog

    class Server(MCPServer):
        """The SDK's server, with one sentence for arguments that fail the input schema."""

        async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
            try:
                return await super().call_tool(name, arguments, context)
            except ToolError as exc:
                if isinstance(exc.__cause__, ValidationError):
                    raise ToolError(argument_sentence(name, exc.__cause__.errors())) from exc.__cause__
                raise

    # The input schemas publish the bounds the tools enforce (clients and models see them).
    Tokens = Annotated[int, Field(ge=MIN_TOKENS, le=MAX_TOKENS, description="token budget of the result")]
    Format = Literal[tuple(FORMATS)]  # type: ignore[valid-type]
    Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]
    Timeout = Annotated[float, Field(ge=1, le=600)]

    tools = Tools(data_dir, project_dir)
    server = Server("agentlog", title="AgentLog", version=agentlog.__version__, instructions=INSTRUCTIONS)
    read_only = ToolAnnotations(**READ_ONLY)

    def tool(fn: Callable[..., str], description: str, annotations: Any = read_only) -> None:
        server.add_tool(fn, name=fn.__name__, description=description, annotations=annotations,
                        structured_output=False)

    def get_debug_context(max_tokens: Tokens = DEFAULT_TOKENS, format: Format = "text",
                          failure_id: str | None = None) -> str:
        return _safely("get_debug_context", lambda: tools.debug_context(max_tokens, format, failure_id), ToolError)

    def list_failures(limit: Limit = 10, since: str | None = None) -> str:
        return _safely("list_failures", lambda: tools.list_failures(limit, since), ToolError)

    def get_failure(id: str, max_tokens: Tokens = DEFAULT_TOKENS) -> str:
        return _safely("get_failure", lambda: tools.failure(id, max_tokens), ToolError)

    def list_sessions(limit: Limit = 20) -> str:
        return _safely("list_sessions", lambda: tools.sessions(limit), ToolError)

    def get_session(id: str) -> str:
        return _safely("get_session", lambda: tools.session(id), ToolError)

    def search_errors(query: Annotated[str, Field(min_length=1)], limit: Limit = 10) -> str:
        return _safely("search_errors", lambda: tools.search(query, limit), ToolError)

    def token_summary(session: str | None = None) -> str:
        return _safely("token_summary", lambda: tools.tokens(session), ToolError)

    def run_and_capture(command: str, timeout_s: Timeout = 120, max_tokens: Tokens = DEFAULT_TOKENS) -> str:
        return _safely("run_and_capture", lambda: tools.run(command, timeout_s, max_tokens), ToolError)

    tool(get_debug_context,
         "The recorded runtime state of the newest Python failure (or failure_id), without re-running "
         "anything: exception and chain, each user frame's source line and local variables, the calls "
         "before it with arguments and return values, then session, git and older failures, ranked and "
         f"cut to max_tokens ({MIN_TOKENS}-{MAX_TOKENS}). Call this first after a command or test fails. "
         f"format: {', '.join(FORMATS)}.")
    tool(list_failures,
         "Recorded failures, newest first, one line each: id, time, exception, innermost user frame, "
         "test; a test's failing cases and the worker or child failures behind a failure are one line "
         "(their ids follow). since: a failure id (only newer ones) or an ISO 8601 time.")
    tool(get_failure,
         "One recorded failure by id (or unique id prefix, from list_failures): its exception, frames "
         "with locals and call trail, within max_tokens.")
    tool(list_sessions, "Recorded agent sessions, newest first: id, agent, task, start, duration, failures, outcome.")
    tool(get_session,
         "One session by id or unique prefix: details, child sessions, git state, decisions, failed "
         "tool runs, token use, perf markers.")
    tool(search_errors,
         "Has this failure happened before? The error fingerprints (seen across runs: count, first and "
         "last seen, sessions, last commit) and the recorded failures whose fingerprint, exception type, "
         "message, file, function or test contains every word of query.")
    tool(token_summary, "LLM token use and cost per model, for all sessions or one (session id or prefix).")
    if allow_run:
        tool(run_and_capture,
             "Run this Python under AgentLog in the project directory with 'script.py ARGS', "
             "'-m module ARGS', '-c CODE' or 'pytest ARGS' and return its exit code, the tail of its "
             "output and the context of the failures it recorded. Arbitrary code execution: only the "
             "form of the command is checked, the code runs with the server's permissions, unsandboxed "
             "(-c can start any program); killed after timeout_s (1-600 s).", ToolAnnotations(**RUNS_CODE))

    def resource(uri: str, fn: Callable[..., str], description: str) -> None:
        server.resource(uri, name=fn.__name__, description=description, mime_type="text/plain")(fn)

    def latest_failure() -> str:
        return _safely("resource latest", lambda: tools.debug_context(RESOURCE_TOKENS), ResourceError)

    def failure_by_id(id: str) -> str:
        return _safely("resource failure", lambda: tools.failure(id, RESOURCE_TOKENS), ResourceError,
                       ResourceNotFoundError)

    def sessions() -> str:
        return _safely("resource sessions", lambda: tools.sessions(MAX_LIMIT), ResourceError)

    def session_by_id(id: str) -> str:
        return _safely("resource session", lambda: tools.session(id), ResourceError, ResourceNotFoundError)

    def patterns() -> str:
        return _safely("resource patterns", tools.patterns, ResourceError)

    resource("agentlog://failures/latest", latest_failure, "Context of the newest recorded failure.")
    resource("agentlog://failures/{id}", failure_by_id, "One recorded failure by id.")
    resource("agentlog://sessions", sessions, "Recorded agent sessions, newest first.")
    resource("agentlog://sessions/{id}", session_by_id, "One session in detail.")
    resource("agentlog://patterns", patterns,
             "Recurring failures: error fingerprints, most frequent first, with counts, sessions and commits.")

    @server.prompt(name="debug_latest_failure", description="Find the root cause of the newest recorded failure.")
    def debug_latest_failure() -> str:
        context = _safely("prompt", lambda: tools.debug_context(DEFAULT_TOKENS), ValueError)
        return ("AgentLog recorded the runtime state of the newest failure below. Using the local values "
                "and the call trail, find the root cause (not just the line that raised), explain it in "
                "two sentences, then propose the smallest fix. Call get_failure or search_errors if you "
                f"need more.\n\n{context}")

    return server
