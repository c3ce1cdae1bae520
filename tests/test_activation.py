"""install() and uninstall(): everything AgentLog touches is put back."""

from __future__ import annotations

import textwrap

from support import child_env, run_python

PROBE = textwrap.dedent("""
    import os, sys, threading, asyncio.base_events as be, multiprocessing.pool as mp_pool
    import agentlog
    from agentlog.core.config import Config

    def state():
        return (sys.excepthook, threading.excepthook, sys.unraisablehook,
                be.BaseEventLoop.call_exception_handler, mp_pool.ExceptionWithTraceback.__init__,
                [sys.monitoring.get_tool(i) for i in range(6)], list(sys.meta_path),
                {k: v for k, v in os.environ.items() if k in ("AGENTLOG", "AGENTLOG_TRACE")})

    before = state()
    agentlog.install(Config(trace="calls", dir=sys.argv[1]))
    during = state()
    agentlog.uninstall()
    after = state()
    changed = [i for i in range(len(before)) if before[i] != during[i]]
    print("changed", changed)
    print("restored", before == after)
""")


def test_uninstall_restores_every_hook_and_tool_id(tmp_path, data_dir):
    """Hooks, patched methods, import hooks and sys.monitoring ids are all back after uninstall()."""
    (tmp_path / "probe.py").write_text(PROBE)
    result = run_python(["probe.py", str(data_dir)], tmp_path, child_env(data_dir))
    assert result.returncode == 0, result.stderr
    changed, restored = result.stdout.splitlines()
    # hooks, patches, a monitoring id, the import hook, the environment children inherit
    assert changed == "changed [0, 1, 2, 3, 4, 5, 6, 7]"
    assert restored == "restored True"


def test_user_hook_installed_later_is_kept(tmp_path, data_dir):
    """A hook the program installs after AgentLog survives uninstall() (theirs wins)."""
    code = textwrap.dedent("""
        import sys, agentlog
        from agentlog.core.config import Config
        agentlog.install(Config(trace="crash", dir=sys.argv[1]))
        mine = lambda *a: None
        sys.excepthook = mine
        agentlog.uninstall()
        print(sys.excepthook is mine)
    """)
    (tmp_path / "probe.py").write_text(code)
    result = run_python(["probe.py", str(data_dir)], tmp_path, child_env(data_dir))
    assert result.stdout.strip() == "True", result.stderr
