"""Which ``sys.monitoring`` tool id AgentLog takes (the call trail and ``@trace`` each need one)."""

from __future__ import annotations

import sys

# sys.monitoring ids 0-2 belong to debuggers (pdb uses 0 on 3.14), coverage and
# cProfile; a tool that later finds its id taken fails ("tool N is already in
# use"), so AgentLog only takes the unreserved ones.
TOOL_IDS = (3, 4, 5)


def claim_tool_id(name: str) -> int | None:
    """Take the first free unreserved ``sys.monitoring`` id; None if all are in use."""
    for tool_id in TOOL_IDS:
        if sys.monitoring.get_tool(tool_id) is not None:
            continue
        try:
            sys.monitoring.use_tool_id(tool_id, name)
        except ValueError:
            continue  # taken between the check and the claim
        return tool_id
    return None
