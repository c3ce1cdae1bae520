"""AgentLog: the runtime state of a Python failure, as compact context for AI coding agents.

Public names are imported lazily (``import agentlog`` must stay under 5 ms).

PYTEST_DONT_REWRITE: the pytest plugin makes pytest want to rewrite this package,
which under ``python -m agentlog -m pytest`` is already imported; this marker
keeps pytest from warning about it (and so the output identical).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "get_debug_context": "agentlog.context.builder",
    "get_formatted_context": "agentlog.context.formats",
    "install": "agentlog.runtime.activate",
    "uninstall": "agentlog.runtime.activate",
    "trace": "agentlog.runtime.traced",
    "start_session": "agentlog.work.session",
    "end_session": "agentlog.work.session",
    "current_session": "agentlog.work.session",
    "snapshot_workspace": "agentlog.work.workspace",
    "compare_snapshots": "agentlog.work.workspace",
    "capture_output": "agentlog.work.tools",
    "log_llm_call": "agentlog.work.tokens",
    "token_summary": "agentlog.work.tokens",
    "log_decision": "agentlog.work.decisions",
    "log_perf": "agentlog.work.perfmarks",
    "perf": "agentlog.work.perfmarks",
    "hash_error": "agentlog.capture.errorhash",
    "correlate_error": "agentlog.capture.errorhash",
    "record_error_pattern": "agentlog.history.patterns",
    "search_patterns": "agentlog.history.patterns",
    "tag_outcome": "agentlog.history.outcomes",
    "tag_session_outcome": "agentlog.history.outcomes",
    "get_outcome_stats": "agentlog.history.outcomes",
    "set_baseline": "agentlog.history.regression",
    "compare_to_baseline": "agentlog.history.regression",
    "detect_regression": "agentlog.history.regression",
    "generate_regression_report": "agentlog.history.regression",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> object:  # no typing import: it alone costs ~5 ms
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentlog' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
