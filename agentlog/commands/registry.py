"""The subcommands of ``agentlog``: name -> module, imported only when invoked."""

COMMANDS: dict[str, str] = {
    "context": "agentlog.commands.context",
    "list": "agentlog.commands.list_failures",
    "clear": "agentlog.commands.clear",
    "doctor": "agentlog.commands.doctor",
    "profile": "agentlog.commands.profile",
    "sessions": "agentlog.commands.sessions",
    "show": "agentlog.commands.show",
    "snapshot": "agentlog.commands.snapshot",
    "diff": "agentlog.commands.diff",
    "exec": "agentlog.commands.exec",
    "tokens": "agentlog.commands.tokens",
    "perf": "agentlog.commands.perf",
    "patterns": "agentlog.commands.patterns",
    "outcomes": "agentlog.commands.outcomes",
    "baseline": "agentlog.commands.baseline",
    "regress": "agentlog.commands.regress",
    "repro": "agentlog.commands.repro",
}
