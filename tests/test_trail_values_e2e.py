"""Argument and return values in the call trail, end to end: real processes, both engines, the text an agent reads."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from support import PACKAGE_ROOT, child_env, read_records, run_python

HAVE_C = importlib.util.find_spec("agentlog._tracer") is not None
ENGINES = [pytest.param("c", marks=pytest.mark.skipif(not HAVE_C, reason="agentlog._tracer not built")), "python"]
REPO = Path(__file__).resolve().parent.parent

# A token built at run time, so no literal in this repository looks like a credential.
APP = '''\
import sys

TOKEN = "ghp_" + "Q" * 36


def validate_rating(confidence, threshold=0.7):
    return confidence <= 1.0


def kwonly(name, *, retries=3):
    return name.upper()


class Queue:
    def __init__(self):
        self.items = []

    def resize(self, n):
        return None


def make_scaler(factor):
    def scale(x):
        return x * factor

    return scale


def pairs(a, b):
    yield a
    yield b


def login(user, password, api_key):
    if not user:
        return "no user"
    return TOKEN


def split(text):
    return text.split(":")[0], len(text)


def normalize_score(score, rating_ok):
    if not rating_ok:
        raise ValueError(f"bad score {score}")
    return score


def main():
    for c in (0.2, 0.9, 1.5, -0.3, 0.4):
        validate_rating(c)
    kwonly("job", retries=5)
    Queue().resize(0)
    list(map(make_scaler(2), [10]))
    sorted([3, 1], key=lambda k: -k)
    list(pairs(1, "two"))
    login("bob", "hunter2", TOKEN)
    login("", "x", "y")
    split("key:value")
    normalize_score(1.5, validate_rating(1.5, threshold=2.0) and False)


main()
'''


def run_app(tmp_path: Path, engine: str, **env: str) -> tuple[str, dict]:
    """Run the app under ``python -m agentlog``; (context text, failure record)."""
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    data = tmp_path / f"data-{engine}"
    env_vars = child_env(data, AGENTLOG_ENGINE=engine, **env)
    plain = run_python(["app.py"], tmp_path, child_env(data))
    proc = run_python(["-m", "agentlog", "app.py"], tmp_path, env_vars)
    assert (proc.returncode, proc.stdout, proc.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    context = run_python(["-m", "agentlog", "context", "--max-tokens", "4000"], tmp_path, env_vars)
    assert context.returncode == 0, context.stderr
    (failure,) = read_records(data, "failure")
    return context.stdout, failure


def trail_text(context: str) -> list[str]:
    """The call-trail lines of a context (up to the next section), durations removed."""
    lines = context.split("call trail before the failure (oldest first):\n", 1)[1].splitlines()
    end = next((i for i, line in enumerate(lines) if re.fullmatch(r"[a-z ]+:.*", line) and "(" not in line), None)
    return [re.sub(r" \(\d+(?:\.\d+)?(?:ns|us|ms|s)(?: total)?\)", "", line) for line in lines[:end]]


@pytest.mark.parametrize("engine", ENGINES)
def test_values_in_the_trail(tmp_path: Path, engine: str) -> None:
    """The trail an agent reads shows arguments, results by value, return lines, folds and redactions."""
    context, failure = run_app(tmp_path, engine)
    lines = trail_text(context)
    assert lines[3:] == [
        "    validate_rating(confidence, threshold=0.7) [app.py:6] x5: "
        "(0.2)->True (0.9)->True (1.5)->False (-0.3)->True (0.4)->True",
        "    kwonly(name='job', retries=5) [app.py:10] -> 'JOB'",
        "    Queue.__init__() [app.py:15] -> None",
        "    Queue.resize(n=0) [app.py:18] -> None",
        "    make_scaler(factor=2) [app.py:22] -> <function>",
        "    make_scaler.<locals>.scale(x=10) [app.py:23] -> 20",  # a closure called by map()
        "    main.<locals>.<lambda>(k) [app.py:56] x2: (3)->-3 (1)->-1",  # called by sorted()
        "    pairs(a=1, b='two') [app.py:29], yielded 1",
        "    pairs() resumed, yielded 'two'",
        "    pairs() resumed -> None",
        "    login(user, password=[REDACTED:name], api_key=[REDACTED:name]) [app.py:34] x2: "
        "('bob')->'[REDACTED:github_token]'… (+24 chars) ('')->'no user' from line 36",
        "    split(text='key:value') [app.py:40] -> ('key', 9)",
        "    validate_rating(confidence=1.5, threshold=2.0) -> False",
        "    normalize_score(score=1.5, rating_ok=False) [app.py:44], raised ValueError at line 46",
    ]
    assert "hunter2" not in context and "QQQQ" not in context
    assert "hunter2" not in str(failure) and "QQQQ" not in str(failure)


@pytest.mark.skipif(not HAVE_C, reason="agentlog._tracer not built")
def test_engines_give_the_same_trail(tmp_path: Path) -> None:
    """The pure-Python engine's trail reads exactly like the C engine's."""
    c_lines = trail_text(run_app(tmp_path, "c")[0])
    py_lines = trail_text(run_app(tmp_path, "python")[0])
    assert c_lines == py_lines and len(c_lines) > 10


@pytest.mark.parametrize("engine", ENGINES)
def test_switch_off(tmp_path: Path, engine: str) -> None:
    """AGENTLOG_TRAIL_ARGS=0: calls and type summaries only, as before."""
    context, failure = run_app(tmp_path, engine, AGENTLOG_TRAIL_ARGS="0")
    lines = trail_text(context)
    assert "    kwonly() [app.py:10] -> str[3]" in lines
    assert all("a" not in call for call in failure["trail"]["calls"])


def _compiler() -> str | None:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc)


def _build_with(tmp_path: Path, cflags: str) -> Path:
    """A copy of the installed package whose C engine is compiled with ``cflags``."""
    if importlib.util.find_spec("Cython") is None or importlib.util.find_spec("setuptools") is None:
        pytest.skip("needs Cython and setuptools (the test extra)")
    if _compiler() is None:
        pytest.skip("needs a C compiler")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "src_c", src / "src_c")
    env = child_env(None, CFLAGS=cflags, AGENTLOG_REQUIRE_EXTENSION="1")
    build = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--build-lib", "lib", "--build-temp", "tmp"],
        cwd=src, env=env, capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr
    (built,) = (src / "lib" / "agentlog").glob("_tracer*")
    site = tmp_path / "site"
    shutil.copytree(PACKAGE_ROOT / "agentlog", site / "agentlog", ignore=shutil.ignore_patterns("_tracer*"))
    shutil.copy(built, site / "agentlog" / built.name)
    return site


def _trail_without_arguments(tmp_path: Path, flag: str) -> tuple[dict[str, str], dict]:
    """APP run by the C engine built with ``flag``: every call recorded, none with arguments."""
    site = _build_with(tmp_path, flag)
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    data = tmp_path / "data"
    env = child_env(data, AGENTLOG_ENGINE="c")
    env["PYTHONPATH"] = str(site)
    proc = run_python(["-m", "agentlog", "app.py"], tmp_path, env)
    assert proc.returncode == 1 and "ValueError: bad score 1.5" in proc.stderr
    (failure,) = read_records(data, "failure")
    trail = failure["trail"]
    assert trail["engine"] == "c"
    names = [trail["fn"][c["c"]][0] for c in trail["calls"] if "ev" not in c]
    assert names.count("validate_rating") == 6
    assert all("a" not in call for call in trail["calls"])
    return env, trail


@pytest.mark.skipif(not HAVE_C, reason="agentlog._tracer not built")
def test_unknown_frame_layout_records_calls_without_arguments(tmp_path: Path) -> None:
    """Built without a known frame layout (as on 3.16+), the C engine still records every call, and doctor says why."""
    env, trail = _trail_without_arguments(tmp_path, "-DAL_NO_FRAME_LAYOUT")
    assert "normalize_score" in [trail["fn"][c["c"]][0] for c in trail["calls"] if "ev" not in c]
    # Return values still come by value: they need no frame layout.
    (split,) = [c for c in trail["calls"] if trail["fn"][c["c"]][0] == "split"]
    assert split["r"]["items"][0]["v"] == "'key'"
    doctor = run_python(["-m", "agentlog", "doctor"], tmp_path, env)
    assert "argument values: off: the C engine was built without a frame layout for CPython" in doctor.stdout
    assert "engine: c" in doctor.stdout


@pytest.mark.skipif(not HAVE_C, reason="agentlog._tracer not built")
@pytest.mark.skipif(sys.version_info < (3, 13), reason="3.12 publishes no _Py_DebugOffsets to check against")
def test_wrong_frame_layout_turns_argument_capture_off(tmp_path: Path) -> None:
    """A build whose mirrored frame puts localsplus 8 bytes off (as if a patch release moved it):
    the start-up check against _Py_DebugOffsets turns argument capture off; nothing misreads or crashes."""
    env, trail = _trail_without_arguments(tmp_path, "-DAL_TEST_FRAME_SKEW=8")
    probe = run_python(["-c", "from agentlog import _tracer as t; print(t.ARGS_SUPPORTED, "
                        "t.frame_layout()['localsplus'], t.published_layout()['localsplus'])"], tmp_path, env)
    supported, compiled, published = probe.stdout.split()
    assert supported == "False" and int(compiled) == int(published) + 8, probe.stderr
    reason = f"localsplus at offset {published}, this build expects {compiled} (_Py_DebugOffsets)"
    assert trail["noargs"].endswith(reason)
    doctor = run_python(["-m", "agentlog", "doctor"], tmp_path, env)
    assert f"argument values: off: CPython {sys.version.split()[0]} puts the frame's {reason}" in doctor.stdout
