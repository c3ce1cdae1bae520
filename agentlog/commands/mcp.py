"""``agentlog mcp``: serve AgentLog's records to agents over MCP (stdio, or HTTP on 127.0.0.1)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from agentlog.commands import positive_int

HELP = "Serve the recorded failures, sessions and context to agents over MCP (stdio, or --http PORT)."
INSTALL = "pip install 'agentlog[mcp]'"
# stdout carries the MCP protocol: the tools make their results valid UTF-8 themselves
RAW_OUTPUT = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--http", type=positive_int, metavar="PORT",
                        help="serve streamable HTTP on http://127.0.0.1:PORT/mcp instead of stdio")
    parser.add_argument("--allow-run", action="store_true",
                        help="offer the run_and_capture tool: arbitrary code execution (any script, module or "
                             "-c code, which may start any program) in this directory, with your "
                             "permissions and no sandbox")


def run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("mcp") is None:
        print(f"agentlog mcp: the MCP SDK is not installed; install it with: {INSTALL}", file=sys.stderr)
        return 2
    from agentlog.core.config import get_config
    from agentlog.integrations.mcp_server import build_server

    # Not resolve_dir: an unusable data dir is reported by each call, which a model reads,
    # rather than by a server that would not start.
    data_dir = Path(args.dir).absolute() if args.dir else get_config().data_dir
    server = build_server(data_dir, Path.cwd(), allow_run=args.allow_run)
    if args.http:
        # stdout carries nothing but protocol, in either mode: uvicorn's access log goes to stderr.
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        print(f"agentlog mcp: serving http://127.0.0.1:{args.http}/mcp", file=sys.stderr)
        server.run("streamable-http", host="127.0.0.1", port=args.http)
    else:
        server.run()
    return 0
