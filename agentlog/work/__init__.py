"""The agent's work around a failure: sessions, git state, workspace, tool output, tokens, decisions, perf markers."""
