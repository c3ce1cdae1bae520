"""``agentlog export``: records as OpenTelemetry (an OTLP/JSON file, or OTLP/HTTP to a collector)."""

from __future__ import annotations

import argparse
import os
import sys
import urllib.parse

from agentlog.commands import number_above, positive_int, resolve_dir

HELP = "Export sessions to OpenTelemetry: an OTLP/JSON file (--otlp) or an OTLP/HTTP endpoint (--otlp-endpoint)."
HEADERS_ENV = "OTEL_EXPORTER_OTLP_HEADERS"


def header(text: str) -> tuple[str, str]:
    """argparse type: ``K=V``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError("expected K=V")
    return key.strip(), value.strip()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from agentlog.integrations.otel_http import DEFAULT_TIMEOUT_S, PROTOCOLS

    parser.add_argument("--session", help="only this session (id or unique prefix); default: every session")
    parser.add_argument("--otlp", metavar="PATH", help="write OTLP/JSON lines (a traces request, then logs) to PATH")
    parser.add_argument("--otlp-endpoint", metavar="URL",
                        help="POST to URL/v1/traces and URL/v1/logs (an OTLP/HTTP receiver, e.g. "
                             "http://localhost:4318); https, or http to this machine only; redirects are not followed")
    parser.add_argument("--header", action="append", type=header, default=[], metavar="K=V",
                        help=f"HTTP header for the endpoint, repeatable (also read from ${HEADERS_ENV}); "
                             "values are never printed")
    parser.add_argument("--protocol", choices=PROTOCOLS, default="auto",
                        help="body encoding for --otlp-endpoint; auto: protobuf if opentelemetry-proto is installed")
    parser.add_argument("--timeout", type=number_above(0), default=DEFAULT_TIMEOUT_S,
                        help=f"seconds per HTTP attempt, a deadline for connecting, sending and reading the "
                             f"whole answer (default {DEFAULT_TIMEOUT_S:g})")
    parser.add_argument("--attempts", type=positive_int, default=5, help="HTTP attempts per request (default 5)")
    parser.add_argument("--service-name", default="agentlog", help="resource service.name (default agentlog)")


def env_headers() -> dict[str, str]:
    """``OTEL_EXPORTER_OTLP_HEADERS``: comma-separated, URL-encoded ``key=value`` pairs."""
    pairs = {}
    for item in os.environ.get(HEADERS_ENV, "").split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            pairs[urllib.parse.unquote(key.strip())] = urllib.parse.unquote(value.strip())
    return pairs


def run(args: argparse.Namespace) -> int:
    from agentlog.integrations import otel, otel_http

    if not args.otlp and not args.otlp_endpoint:
        print("agentlog export: give --otlp PATH and/or --otlp-endpoint URL", file=sys.stderr)
        return 2
    if args.otlp_endpoint:
        from agentlog.integrations.httpclient import EndpointError, check_endpoint

        try:
            check_endpoint(args.otlp_endpoint)
        except EndpointError as exc:
            print(f"agentlog export: --otlp-endpoint {exc}", file=sys.stderr)
            return 2
    data_dir = resolve_dir(args)
    try:
        records = otel.select_records(data_dir, args.session)
    except LookupError as exc:
        print(f"agentlog export: {exc}", file=sys.stderr)
        return 1
    if args.otlp:
        spans, logs = otel.write_otlp_json(args.otlp, records, args.service_name)
        print(f"wrote {spans} spans and {logs} log records to {args.otlp}")
    if args.otlp_endpoint:
        def on_retry(reason: str, wait: float) -> None:
            print(f"agentlog export: {reason}; retrying in {wait:.1f} s", file=sys.stderr)

        try:
            result = otel_http.export_otlp_http(
                args.otlp_endpoint, otel.otlp_requests(records, args.service_name),
                headers={**env_headers(), **dict(args.header)}, protocol=args.protocol,
                timeout_s=args.timeout, attempts=args.attempts, on_retry=on_retry)
        except otel_http.OTLPExportError as exc:
            print(f"agentlog export: {exc}", file=sys.stderr)
            return 1
        for warning in result.warnings:
            print(f"agentlog export: partial success: {warning}", file=sys.stderr)
        print(f"sent {result.spans} spans and {result.logs} log records in {result.requests} requests"
              + (f"; the receiver rejected {result.rejected}" if result.rejected else ""))
        return 1 if result.rejected else 0
    return 0
