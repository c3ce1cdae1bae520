"""The launcher must be invisible: same argv, paths, __main__, output and exit status as python."""

from __future__ import annotations

import json
import re
import signal
import sys

import pytest
from support import both, child_env, needs_pth, read_records, run_python

PROBE = """
import json, sys
import __main__
def depth(n=0):
    try:
        return depth(n + 1)
    except RecursionError:
        return n
print(json.dumps({
    "argv": sys.argv,
    "path0": sys.path[0],
    "file": __main__.__dict__.get("__file__"),
    "name": __name__,
    "package": __main__.__dict__.get("__package__"),
    "spec": getattr(__main__.__spec__, "name", None),
    "builtins": type(__builtins__).__name__,
    "loader": type(__main__.__loader__).__name__,
    "reach": depth(),
    "main_keys": sorted(__main__.__dict__),
}))
"""


class TestScriptParity:
    def test_probe_matches_plain_python(self, write_script, tmp_path, data_dir):
        """argv, sys.path[0], __file__, __main__ attributes and recursion reach are unchanged."""
        write_script("pkgdir/probe.py", PROBE)
        plain, traced = both(["pkgdir/probe.py", "a", "--flag"], tmp_path, data_dir)
        assert plain.returncode == traced.returncode == 0, traced.stderr
        expected, got = json.loads(plain.stdout), json.loads(traced.stdout)
        assert got == expected
        assert got["argv"] == ["pkgdir/probe.py", "a", "--flag"]

    def test_module_probe_matches(self, write_script, tmp_path, data_dir):
        """``-m pkg.mod`` gives the same argv[0], spec, package and path as python -m."""
        write_script("pkg/__init__.py", "")
        write_script("pkg/probe.py", PROBE)
        plain, traced = both(["-m", "pkg.probe", "x"], tmp_path, data_dir)
        assert plain.returncode == traced.returncode == 0, traced.stderr
        expected, got = json.loads(plain.stdout), json.loads(traced.stdout)
        assert got == expected
        assert got["spec"] == "pkg.probe"

    def test_package_main(self, write_script, tmp_path, data_dir):
        """A package runs its __main__ submodule."""
        write_script("app/__init__.py", "")
        write_script("app/__main__.py", "import sys; print('app main', __spec__.name, sys.argv[1:])")
        plain, traced = both(["-m", "app", "1"], tmp_path, data_dir)
        assert traced.stdout == plain.stdout == "app main app.__main__ ['1']\n"


    def test_directory_and_zipapp(self, write_script, tmp_path, data_dir):
        """A directory or zipapp with __main__.py gets the same absolute paths as under python."""
        import zipfile

        write_script("appdir/__main__.py", "import sys\nprint(__file__, sys.path[0], __spec__.name)\n")
        with zipfile.ZipFile(tmp_path / "app.pyz", "w") as archive:
            archive.write(tmp_path / "appdir" / "__main__.py", "__main__.py")
        for target in ("appdir", "app.pyz"):
            plain, traced = both([target], tmp_path, data_dir)
            assert traced.returncode == plain.returncode == 0, traced.stderr
            assert traced.stdout == plain.stdout
            assert traced.stdout.startswith(str(tmp_path))


class TestExitParity:
    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ("print('ok')", 0),
            ("import sys; print('out'); sys.exit(17)", 17),
            ("import sys; sys.exit('fatal: bad config')", 1),
            ("import sys; sys.exit(None)", 0),
            ("import os; os._exit(5)", 5),
            ("def f():\n    raise ValueError('boom')\nf()", 1),
            ("import sys; print('partial', end=''); sys.stdout.flush(); 1/0", 1),
            ("def broken(:\n    pass", 1),
        ],
    )
    def test_exit_code_and_output(self, write_script, tmp_path, data_dir, body, code):
        """stdout, stderr (tracebacks included) and the exit code equal plain python's."""
        write_script("prog.py", body + "\n")
        plain, traced = both(["prog.py"], tmp_path, data_dir)
        assert plain.returncode == code
        assert traced.returncode == code
        assert traced.stdout == plain.stdout
        assert traced.stderr == plain.stderr

    def test_module_crash_traceback(self, write_script, tmp_path, data_dir):
        """``-m pkg`` crashing: the traceback keeps runpy's frames exactly as ``python -m pkg`` prints them."""
        write_script("pkg/__init__.py", "")
        write_script("pkg/__main__.py", "def go():\n    raise ValueError('boom')\ngo()\n")
        plain, traced = both(["-m", "pkg"], tmp_path, data_dir)
        assert traced.returncode == plain.returncode == 1
        assert traced.stderr == plain.stderr
        assert "<frozen runpy>" in plain.stderr

    def test_exception_in_del_at_shutdown(self, write_script, tmp_path, data_dir):
        """An exception in __del__ at shutdown prints Python's own message, not an AgentLog error."""
        write_script("prog.py", "class D:\n    def __del__(self):\n        raise ValueError('del boom')\nd = D()\n")
        plain, traced = both(["prog.py"], tmp_path, data_dir)
        assert (traced.returncode, traced.stdout) == (plain.returncode, plain.stdout)
        unaddressed = [re.sub(r"0x[0-9a-f]+", "0x?", r.stderr) for r in (plain, traced)]
        assert unaddressed[0] == unaddressed[1]
        assert "ValueError: del boom" in traced.stderr and "agentlog" not in traced.stderr

    def test_user_excepthook_still_recorded(self, write_script, tmp_path, data_dir):
        """A program that replaces sys.excepthook keeps its output and the failure is still recorded."""
        hook = "sys.excepthook = lambda t, v, tb: print('custom:', v)"
        write_script("prog.py", f"import sys\n{hook}\nraise KeyError('k')\n")
        plain, traced = both(["prog.py"], tmp_path, data_dir)
        assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        assert [r["exc"]["t"] for r in read_records(data_dir, "failure")] == ["KeyError"]

    def test_missing_script(self, tmp_path, data_dir):
        """A missing script gets plain python's message and exit status 2."""
        plain, traced = both(["nope.py"], tmp_path, data_dir)
        assert traced.returncode == plain.returncode == 2
        assert "can't open file" in traced.stderr
        assert traced.stderr.split(":", 1)[1] == plain.stderr.split(":", 1)[1]

    def test_missing_module(self, tmp_path, data_dir):
        """``-m`` with an unknown module exits 1 with "No module named"."""
        plain, traced = both(["-m", "no_such_module_xyz"], tmp_path, data_dir)
        assert traced.returncode == plain.returncode == 1
        assert traced.stderr == plain.stderr

    @pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
    def test_keyboard_interrupt_dies_by_sigint(self, write_script, tmp_path, data_dir):
        """An unhandled KeyboardInterrupt ends the process by SIGINT, as under python."""
        write_script("prog.py", "raise KeyboardInterrupt\n")
        plain, traced = both(["prog.py"], tmp_path, data_dir)
        assert plain.returncode == traced.returncode == -signal.SIGINT
        assert traced.stderr == plain.stderr

    def test_atexit_handlers_run(self, write_script, tmp_path, data_dir):
        """User atexit handlers run, in order, after a crash too."""
        write_script("prog.py", "import atexit\natexit.register(print, 'bye')\nraise SystemExit(3)\n")
        plain, traced = both(["prog.py"], tmp_path, data_dir)
        assert traced.returncode == 3
        assert traced.stdout == plain.stdout == "bye\n"

    def test_bad_launcher_flag(self, tmp_path, data_dir):
        """An unknown launcher option is one clear line and exit status 2."""
        result = run_python(["-m", "agentlog", "--bogus", "x.py"], tmp_path, child_env(data_dir))
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == ["agentlog: error: unknown option '--bogus' (see agentlog --help)"]

    def test_bad_trace_mode(self, tmp_path, data_dir):
        """An invalid ``--trace`` value is rejected before anything runs."""
        result = run_python(["-m", "agentlog", "--trace", "fast", "x.py"], tmp_path, child_env(data_dir))
        assert result.returncode == 2
        assert "trace mode must be one of off, crash, calls" in result.stderr

    def test_stdin_passes_through(self, write_script, tmp_path, data_dir):
        """The program reads the same stdin."""
        write_script("prog.py", "import sys; print(sys.stdin.read().upper())")
        result = run_python(["-m", "agentlog", "prog.py"], tmp_path, child_env(data_dir), stdin="hi")
        assert result.stdout == "HI\n"


class TestDataDirOption:
    def test_dir_option_and_records(self, write_script, tmp_path, data_dir):
        """``--dir`` chooses where the failure is recorded."""
        write_script("prog.py", "raise RuntimeError('x')\n")
        other = tmp_path / "elsewhere"
        result = run_python(["-m", "agentlog", "--dir", str(other), "prog.py"], tmp_path, child_env(data_dir))
        assert result.returncode == 1
        assert not data_dir.exists()
        assert [r["exc"]["t"] for r in read_records(other, "failure")] == ["RuntimeError"]


class TestActivationTogether:
    @needs_pth
    def test_launcher_options_win_over_env_activation(self, write_script, tmp_path, data_dir):
        """Under AGENTLOG=true, ``python -m agentlog --dir X`` still records into X."""
        write_script("prog.py", "raise RuntimeError('both')\n")
        other = tmp_path / "chosen"
        env = child_env(data_dir, AGENTLOG="1")
        result = run_python(["-m", "agentlog", "--dir", str(other), "prog.py"], tmp_path, env)
        assert result.returncode == 1
        assert [r["exc"]["m"] for r in read_records(other, "failure")] == ["both"]
        # The .pth activation ran first and may have opened the session there, but no failure went there.
        assert not data_dir.exists() or read_records(data_dir, "failure") == []


class TestDashC:
    def test_code_string_parity_and_locals(self, tmp_path, data_dir):
        """``agentlog -c CODE`` behaves as ``python -c CODE``; the crash keeps the code's locals."""
        code = "import sys\nprint(sys.argv, repr(sys.path[0]))\nlimit = int(sys.argv[1])\n1 / (limit - 3)"
        plain, traced = both(["-c", code, "3"], tmp_path, data_dir)
        assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        [failure] = read_records(data_dir, "failure")
        frame = failure["exc"]["frames"][0]
        assert frame["file"] == "<string>" and frame["loc"]["limit"]["v"] == "3"

    def test_code_syntax_error(self, tmp_path, data_dir):
        """A syntax error in -c code prints what python prints and exits 1."""
        plain, traced = both(["-c", "def ("], tmp_path, data_dir)
        assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)


STACK_PROBE = """
import inspect, io, json, sys, traceback, warnings
def stack_views():
    buf = io.StringIO()
    traceback.print_stack(file=buf)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for level in (1, 2, 3, 8):
            warnings.warn("w", stacklevel=level)
    return {
        "print_stack": buf.getvalue(),
        "inspect": [(f.filename, f.function) for f in inspect.stack()],
        "warnings": [(w.filename, w.lineno) for w in caught],
        "f_back_depth": len(traceback.extract_stack()),
    }
def reach(n=0):
    try:
        return reach(n + 1)
    except RecursionError:
        return n
views = stack_views()
sys.setrecursionlimit(60)
views["low_limit_reach"] = reach()
sys.setrecursionlimit(1000)
views["orig_argv_tail"] = sys.orig_argv[1:]
print(json.dumps(views))
def hook(t, v, tb):
    print(json.dumps({"hook_frames": [(f.filename, f.name) for f in traceback.extract_tb(tb)],
                      "hook_stack": len(traceback.extract_stack())}))
sys.excepthook = hook
def fail():
    raise ValueError("to the program's own hook")
fail()
"""


@needs_pth
class TestNoLauncherFrames:
    """The program runs in a fresh interpreter (runtime/relaunch.py): its stack is plain Python's."""

    @pytest.mark.parametrize("target", [["probe.py", "x"], ["-m", "probe", "x"], ["-X", "dev", "probe.py"]])
    def test_stack_views_match_plain_python(self, write_script, tmp_path, data_dir, target):
        """print_stack, inspect.stack, warnings stacklevel, recursion reach under a low limit, the
        program's own excepthook and sys.orig_argv are exactly plain python's; the failure is recorded."""
        write_script("probe.py", STACK_PROBE)
        env = child_env(data_dir)
        plain = run_python(target, tmp_path, env)
        if target[0] == "-X":
            traced = run_python([*target[:2], "-m", "agentlog", *target[2:]], tmp_path, env)
        else:
            traced = run_python(["-m", "agentlog", *target], tmp_path, env)
        assert plain.returncode == traced.returncode == 1, traced.stderr
        assert traced.stdout == plain.stdout
        assert traced.stderr == plain.stderr
        hook = json.loads(plain.stdout.splitlines()[1])
        assert [name for _file, name in hook["hook_frames"]][-2:] == ["<module>", "fail"]
        assert [r["exc"]["m"] for r in read_records(data_dir, "failure")] == ["to the program's own hook"]

    @pytest.mark.parametrize(
        "source",
        [b"x = 1\x00\n", b"# -*- coding: no-such-codec -*-\nx = 1\n", b"x = '\xff'\n",
         b"# coding: latin-1\nprint('\xe9')\n", b"\xef\xbb\xbf# coding: latin-1\nx = 1\n", b"def f(:\n"],
    )
    def test_compile_errors_and_encodings(self, tmp_path, data_dir, source):
        """NUL bytes, bad coding cookies, bad UTF-8, a BOM fighting a cookie: python's message and status."""
        (tmp_path / "prog.py").write_bytes(source)
        plain, traced = both(["prog.py"], tmp_path, data_dir)
        assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)

    def test_launcher_variables_do_not_reach_the_program(self, write_script, tmp_path, data_dir):
        """AGENTLOG_LAUNCH is consumed by the fresh interpreter; --quiet/--verbose are not inherited."""
        write_script("prog.py", "import os, subprocess, sys\n"
                                "print(sorted(k for k in os.environ if k.startswith('AGENTLOG_LAUNCH')))\n")
        result = run_python(["-m", "agentlog", "--verbose", "prog.py"], tmp_path, child_env(data_dir))
        assert result.returncode == 0 and result.stdout == "[]\n"
        assert result.stderr == f"agentlog: records in {data_dir}\n"

    def test_trace_off_is_plain_python(self, write_script, tmp_path, data_dir):
        """``--trace off`` runs the program as plain python: AgentLog not even loaded."""
        write_script("prog.py", "import sys; print(any(m.startswith('agentlog') for m in sys.modules))\n")
        result = run_python(["-m", "agentlog", "--trace", "off", "prog.py"], tmp_path, child_env(data_dir))
        assert (result.returncode, result.stdout) == (0, "False\n")

    def test_fallback_without_site_still_records(self, write_script, tmp_path, data_dir):
        """Under ``python -S`` (no .pth hook) the in-process launcher runs the program and records."""
        write_script("prog.py", "print('ran')\nraise KeyError('k')\n")
        env = child_env(data_dir)
        plain = run_python(["-S", "prog.py"], tmp_path, env)
        traced = run_python(["-S", "-m", "agentlog", "prog.py"], tmp_path, env)
        assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        assert [r["exc"]["t"] for r in read_records(data_dir, "failure")] == ["KeyError"]
