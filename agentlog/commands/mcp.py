"""``agentlog mcp``: serve AgentLog's records to agents over MCP (stdio, or HTTP on 127.0.0.1)."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from agentlog.commands import data_dir_argument, positive_int, resolve_dir

HELP = "Serve the recorded failures, sessions and context to agents over MCP (stdio, or --http PORT)."
INSTALL = "pip install 'agentlog[mcp]'"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--http", type=positive_int, metavar="PORT",
                        help="serve streamable HTTP on http://127.0.0.1:PORT/mcp instead of stdio")
    parser.add_argument("--allow-run", action="store_true",
                        help="offer the run_and_capture tool, which runs Python commands in this directory")
    data_dir_argument(parser)


def run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("mcp") is None:
        print(f"agentlog mcp: the MCP SDK is not installed; install it with: {INSTALL}", file=sys.stderr)
        return 2
    from agentlog.integrations.mcp_server import build_server

    server = build_server(resolve_dir(args), Path.cwd(), allow_run=args.allow_run)
    if args.http:
        server.run("streamable-http", host="127.0.0.1", port=args.http)
    else:
        server.run()
    return 0
