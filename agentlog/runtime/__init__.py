"""The in-process runtime: activation, crash hooks, the launcher and the tracer."""
