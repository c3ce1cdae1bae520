"""``python -m agentlog``: the launcher and subcommands."""

from agentlog.cli import main

raise SystemExit(main())
