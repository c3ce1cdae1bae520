"""A real project whose records carry terminal-control and bidi characters everywhere the program
can put them (agent, task, decision, model, perf label, file names, thread name, message, function name)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from support import child_env, read_records, run_python

# ESC OSC 52 (writes the clipboard), ESC CSI clear screen, C1 CSI, backspace, bare CR, DEL, NEL,
# line separator, bidi override and isolate.
DANGEROUS = ["\x1b", "\x07", "\x9b", "\x08", "\r", "\x7f", "\x85", "\u2028", "\u202e", "\u2066"]
DANGER = "\x1b]52;c;SGk=\x07|\x1b[2J|\x9b31m|\x08|\r|\x7f|\x85|\u2028|\u202e|\u2066|"

PROGRAM = textwrap.dedent("""
    import threading
    from pathlib import Path

    import agentlog

    D = {danger!r}
    agentlog.start_session(agent="ag" + D, task="tk" + D)
    agentlog.log_decision("dec" + D, "why" + D, ["alt" + D])
    agentlog.log_llm_call("model" + D, 10, 5)
    agentlog.log_perf("perf" + D)
    with agentlog.perf("block" + D):
        pass
    agentlog.snapshot_workspace(".")
    Path("file" + D + ".txt").write_text("x")
    agentlog.snapshot_workspace(".")


    class Boom(Exception):
        pass


    def explode(n):
        raise Boom("msg" + D + str(n))


    explode.__code__ = explode.__code__.replace(co_qualname="explode" + D)
    worker = threading.Thread(target=explode, args=(1,), name="th" + D)
    worker.start()
    worker.join()
    explode(2)
""")


def record_project(project: Path) -> Path:
    """Run the program under agentlog in ``project``; its data dir, whose name is hostile too."""
    project.mkdir(exist_ok=True)
    (project / "app.py").write_text(PROGRAM.format(danger=DANGER), encoding="utf-8")
    data_dir = project / ("data" + DANGER.replace("/", ""))
    done = run_python(["-m", "agentlog", "app.py"], project, child_env(data_dir))
    assert done.returncode == 1, done.stderr
    assert len(read_records(data_dir, "failure")) == 2
    os.chmod(data_dir, 0o700)
    return data_dir
