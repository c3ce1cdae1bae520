"""``python -m agentlog``: the launcher and subcommands."""

# First: under ``-m`` the current directory is sys.path[0], and a project's json.py or
# typing.py must not stand in for the standard library AgentLog imports.
from agentlog.core import ownimports

ownimports.install()

from agentlog.cli import main  # noqa: E402

raise SystemExit(main())
