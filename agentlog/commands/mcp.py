"""``agentlog mcp``: serve AgentLog's records to agents over MCP (stdio, or HTTP on 127.0.0.1)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

HELP = "Serve the recorded failures, sessions and context to agents over MCP (stdio, or --http PORT)."
INSTALL = "pip install 'agentlog[mcp]'"
# stdout carries the MCP protocol: the tools make their results valid UTF-8 themselves
RAW_OUTPUT = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--http", metavar="PORT",
                        help="serve streamable HTTP on http://127.0.0.1:PORT/mcp instead of stdio")
    parser.add_argument("--allow-run", action="store_true",
                        help="offer the run_and_capture tool: arbitrary code execution (any script, module or "
                             "-c code, which may start any program) in the project's root, with your "
                             "permissions and no sandbox")


def _port(text: str) -> int | None:
    """``text`` as a TCP port (1-65535), or None."""
    try:
        port = int(text)
    except ValueError:
        return None
    return port if 1 <= port <= 65535 else None


def _port_taken(port: int) -> str | None:
    """Why 127.0.0.1:PORT cannot be served (in use, not allowed), or None."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the web server binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def run(args: argparse.Namespace) -> int:
    port = None
    if args.http is not None:
        port = _port(args.http)
        if port is None:
            print(f"agentlog mcp: --http takes a port from 1 to 65535, got {args.http!r}", file=sys.stderr)
            return 2
        taken = _port_taken(port)
        if taken:
            print(f"agentlog mcp: cannot serve on 127.0.0.1:{port}: {taken.lower()}", file=sys.stderr)
            return 1
    if importlib.util.find_spec("mcp") is None:
        print(f"agentlog mcp: the MCP SDK is not installed; install it with: {INSTALL}", file=sys.stderr)
        return 2
    from agentlog.core.config import get_config
    from agentlog.core.projectdir import project_root
    from agentlog.integrations.mcp_server import build_server

    # Not resolve_dir: an unusable data dir is reported by each call, which a model reads,
    # rather than by a server that would not start.
    data_dir = Path(args.dir).absolute() if args.dir else get_config().data_dir
    # run_and_capture runs commands in the project's root, wherever the client started the server.
    server = build_server(data_dir, Path(project_root()), allow_run=args.allow_run)
    if port:
        # stdout carries nothing but protocol, in either mode: uvicorn's access log goes to stderr.
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        print(f"agentlog mcp: serving http://127.0.0.1:{port}/mcp", file=sys.stderr)
        server.run("streamable-http", host="127.0.0.1", port=port)
    else:
        server.run()
    return 0
