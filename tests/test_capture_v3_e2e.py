"""Context v3, capture side, end to end: real processes (``python -m agentlog``, ``-m pytest``,
``agentlog context``), both engines where they apply.

The whole failing statement; a child's crash its parent quotes; a long test's own calls;
comprehensions folded away; classes, one-item tuples, non-ASCII text and used attributes
shown usefully; None, booleans and "" under secret names.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from support import child_env, read_records, run_python
from test_trail_values_e2e import ENGINES, HAVE_C, trail_text


def _write(tmp_path: Path, name: str, source: str) -> None:
    (tmp_path / name).write_text(textwrap.dedent(source), encoding="utf-8")


def _run(tmp_path: Path, args: list[str], engine: str = "python") -> tuple[dict[str, str], Path]:
    """``python -m agentlog args`` with output and exit code checked against plain Python's."""
    data = tmp_path / f"data-{engine}"
    env = child_env(data, AGENTLOG_ENGINE=engine)
    traced = run_python(["-m", "agentlog", *args], tmp_path, env)
    if args[0] != "-m":
        plain = run_python(args, tmp_path, child_env(data))
        assert (traced.returncode, traced.stdout) == (plain.returncode, plain.stdout)
    assert traced.returncode != 0
    return env, data


def _context(tmp_path: Path, env: dict[str, str], budget: int) -> str:
    proc = run_python(["-m", "agentlog", "context", "--max-tokens", str(budget)], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# ------------------------------------------------------------------ the whole failing statement

STATEMENT = '''\
"""A module whose failing statement spans lines."""


def price(base, rate):
    """Price with the rate applied.

    A docstring the context has no use for.
    """
    return base * rate


def check(order):
    total = price(order.base, order.rate)
    assert (
        total
        == order.expected
    ), "mismatch"


class Order:
    def __init__(self):
        for i in range(12):
            setattr(self, f"a{i}", i)
        self.base = 10
        self.rate = 1.15
        self.expected = 11.6


check(Order())
'''


def test_multiline_statement_shown_whole(tmp_path: Path) -> None:
    """All lines of a wrapped assert are recorded (``st``) and shown; blank and docstring neighbours are not;
    the attribute the statement uses leads its object's attributes."""
    _write(tmp_path, "app.py", STATEMENT)
    env, data = _run(tmp_path, ["app.py"])
    (failure,) = read_records(data, "failure")
    frame = failure["exc"]["frames"][0]
    assert frame["f"] == "check" and frame["st"] == [14, 17]
    assert [n for n, _ in frame["src"]] == [12, 13, 14, 15, 16, 17]  # 18 and 19 are blank
    context = _context(tmp_path, env, 1500)
    for text in ("14|     assert (", "15|         total", "16|         == order.expected", '17|     ), "mismatch"'):
        assert text in context, context
    # order has 15 attributes (10 shown): the one the statement uses comes first.
    assert re.search(r"order: __main__\.Order = \{expected: float = 11\.6, a0: int = 0", context), context
    # The caller's frame: its call without the blank lines around it.
    (caller,) = [f for f in failure["exc"]["frames"] if f.get("f") == "<module>"]
    assert [n for n, _ in caller["src"]] == [29]
    # At 300 tokens the whole statement still leads, with the values named on its other lines.
    tight = _context(tmp_path, env, 300)
    for text in ("14|     assert (", "15|         total", "16|         == order.expected", "total: float"):
        assert text in tight, tight


def test_multiline_call_arguments(tmp_path: Path) -> None:
    """A call whose arguments span lines: the failing line inside it brings the statement's other lines."""
    _write(tmp_path, "app.py", """\
        def ratio(a, b):
            return a / b


        def main():
            count = 0
            result = ratio(
                10,
                count,
            )
            return result


        main()
    """)
    env, data = _run(tmp_path, ["app.py"])
    (failure,) = read_records(data, "failure")
    (main,) = [f for f in failure["exc"]["frames"] if f.get("f") == "main"]
    assert main["st"][0] == 7 and main["st"][1] == 10 and main["st"][0] <= main["ln"] <= main["st"][1]
    context = _context(tmp_path, env, 1500)
    assert "8|         10," in context and "9|         count," in context


# ------------------------------------------------------------------ a child's crash its parent quotes

CHILD = '''\
def scale(values, factor):
    """Scale every value."""
    total = sum(values)

    return [v / (total - factor) for v in values]


def main():
    values = [1, 2, 3]
    factor = 6
    print(scale(values, factor))


main()
'''

PARENT = '''\
"""Runs the child and reports its stderr."""
import subprocess
import sys


def run_child():
    """Run the child script."""
    proc = subprocess.run([sys.executable, "child.py"], capture_output=True, text=True)
    if proc.returncode:
        raise ERROR


run_child()
'''


@pytest.mark.parametrize("error", [
    'OSError(f"child failed with {proc.returncode}:\\n{proc.stderr}")',
    'RuntimeError(f"child failed: {proc.stderr!r}")',  # escaped: \\n and quotes
])
def test_child_traceback_in_parent_message_leads_with_child(tmp_path: Path, error: str) -> None:
    """The parent's error quotes the child's traceback: the child's failing line and locals lead, at 300
    tokens, and the parent's headline no longer repeats the traceback text."""
    _write(tmp_path, "child.py", CHILD)
    _write(tmp_path, "parent.py", PARENT.replace("ERROR", error))
    env, data = _run(tmp_path, ["parent.py"])
    assert len(read_records(data, "failure")) == 2  # the child's and the parent's
    context = _context(tmp_path, env, 300)
    lines = context.splitlines()
    assert lines[0].startswith("FAILURE 1/1 "), context  # one failure, not two
    assert lines[1].startswith("in child pid=") and "ZeroDivisionError: division by zero" in lines[1], context
    failing = next(i for i, line in enumerate(lines) if ">5|     return [v / (total - factor)" in line)
    assert failing == 3, context
    assert "total: int = 6" in context and "factor: int = 6" in context
    (parent,) = [line for line in lines if line.startswith(("OSError:", "RuntimeError:"))]
    assert "Traceback" not in parent and "File " not in parent and "shown with the child" in parent
    assert "Scale every value" not in context  # the docstring line next to the failing line


def test_child_traceback_in_a_failed_assert_under_pytest(tmp_path: Path) -> None:
    """``assert proc.returncode == 0, proc.stderr`` in a test: the child leads; the assert explanation stays."""
    _write(tmp_path, "child.py", CHILD)
    _write(tmp_path, "test_cli.py", """\
        import subprocess
        import sys


        def test_cli():
            proc = subprocess.run([sys.executable, "child.py"], capture_output=True, text=True)
            assert proc.returncode == 0, proc.stderr
    """)
    env, _data = _run(tmp_path, ["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_cli.py"])
    lines = _context(tmp_path, env, 300).splitlines()
    assert lines[1].startswith("in child pid=") and ">5|     return [v / (total - factor)" in lines[3], lines
    head = lines.index("AssertionError: [the child's traceback, shown with the child]")
    assert lines[head + 1].startswith("    | assert 1 == 0"), lines


# ------------------------------------------------------------------ a long test's own calls

LONG_TEST = '''\
def helper(i):
    return i * 2


def convert_ms(seconds):
    return seconds * 100


def test_other():
    assert helper(1) == 2


def test_many_calls():
    total = 0
    for i in range(300):
        total += helper(i)
    timeout = convert_ms(3)
    assert timeout == 3000
'''


@pytest.mark.parametrize("engine", ENGINES)
def test_test_with_more_calls_than_the_window_keeps_them(tmp_path: Path, engine: str) -> None:
    """300 calls, then the wrong one: the trail keeps the test's own calls, the wrong one among them."""
    _write(tmp_path, "test_many.py", LONG_TEST)
    env, data = _run(tmp_path, ["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_many.py"], engine)
    (failure,) = read_records(data, "failure")
    assert len(failure["trail"]["calls"]) > 100
    lines = trail_text(_context(tmp_path, env, 1500))
    assert "  convert_ms(seconds=3) [test_many.py:5] -> 300" in lines, lines
    assert any(line.startswith("  helper(i) [test_many.py:1] x") for line in lines), lines


# ------------------------------------------------------------------ comprehensions folded away

GENEXPR = '''\
def weight(x):
    return x * 2


def total(values):
    return sum(weight(v) for v in values)


def check(values):
    if any(v < 0 for v in values):
        return None
    return max(v for v in values)


def main():
    t = total([1, 2, 3])
    m = check([4, 5])
    assert t == m, (t, m)


main()
'''


def _genexpr_trail(tmp_path: Path, engine: str) -> list[str]:
    _write(tmp_path, "app.py", GENEXPR)
    env, _data = _run(tmp_path, ["app.py"], engine)
    return trail_text(_context(tmp_path, env, 1500))


@pytest.mark.parametrize("engine", ENGINES)
def test_generator_expressions_fold_into_their_caller(tmp_path: Path, engine: str) -> None:
    """No ``<genexpr>() resumed`` lines: the calls made inside sit under the caller, folded."""
    lines = _genexpr_trail(tmp_path, engine)
    assert lines[2:] == [
        "    total(values=list[3]) [app.py:5] -> 12",
        "      weight(x) [app.py:1] x3: (1)->2 (2)->4 (3)->6",
        "    check(values=list[2]) [app.py:9] -> 5",
    ], lines


@pytest.mark.skipif(not HAVE_C, reason="agentlog._tracer not built")
def test_generator_expression_trail_same_for_both_engines(tmp_path: Path) -> None:
    """Both engines feed the same trail text, comprehension folding included."""
    (tmp_path / "c").mkdir()
    (tmp_path / "py").mkdir()
    assert _genexpr_trail(tmp_path / "c", "c") == _genexpr_trail(tmp_path / "py", "python")


# ------------------------------------------------------------------ values shown usefully

VALUES = '''\
def kind(x):
    return type(x)


def label(name):
    return f"naïve {name} café ünïcödé"


def pair(x):
    return (x,)


def main():
    k = kind(3)
    s = label("x")
    p = pair(1)
    return 10 / (p[0] - 1)


main()
'''


def _values_context(tmp_path: Path, engine: str) -> str:
    _write(tmp_path, "app.py", VALUES)
    env, _data = _run(tmp_path, ["app.py"], engine)
    return _context(tmp_path, env, 1500)


@pytest.mark.parametrize("engine", ENGINES)
def test_one_item_tuple_and_locals(tmp_path: Path, engine: str) -> None:
    """``(1,)`` in the trail and the locals; a class local by its name; a non-ASCII local by its text."""
    context = _values_context(tmp_path, engine)
    assert "p: tuple[1] = (1,)" in context and "k: type = <class int>" in context
    assert "s: str[20] = 'naïve x café ünïcödé'" in context
    assert "pair(x=1) [app.py:9] -> (1,)" in [line.strip() for line in trail_text(context)]


@pytest.mark.parametrize("engine", ENGINES)
def test_classes_and_non_ascii_text_in_the_trail(tmp_path: Path, engine: str) -> None:
    """``-> <class int>``, never ``<type>``; a non-ASCII string by its first characters."""
    lines = [line.strip() for line in trail_text(_values_context(tmp_path, engine))]
    assert "kind(x=3) [app.py:1] -> <class int>" in lines, lines
    assert "label(name='x') [app.py:5] -> 'naïve x café '… (+7 chars)" in lines, lines
    assert not any("<type>" in line for line in lines)


# ------------------------------------------------------------------ values under secret names

SECRETS = '''\
def connect(host, token, password, passcode):
    if token is None and not password:
        raise ConnectionError("no credentials for " + host)
    return passcode


def main():
    token = None
    password = ""
    passcode = 735914
    api_key = "Zq8-value-77"
    verbose = False
    auth_enabled = True
    connect("db", token, password, passcode)


main()
'''


@pytest.mark.parametrize("engine", ENGINES)
def test_none_false_and_empty_under_secret_names_are_shown(tmp_path: Path, engine: str) -> None:
    """``token=None``, ``password=''``: shown in locals and in the trail's recorded arguments; a passcode
    (an int) and a key stay hidden, in the context and on disk."""
    _write(tmp_path, "app.py", SECRETS)
    env, data = _run(tmp_path, ["app.py"], engine)
    context = _context(tmp_path, env, 1500)
    assert "token: NoneType = None" in context and "password: str[0] = ''" in context, context
    assert "auth_enabled: bool = True" in context
    assert "passcode: int = [REDACTED:name]" in context and "api_key: str = [REDACTED:name]" in context
    lines = trail_text(context)
    assert any(line.strip().startswith(
        "connect(host='db', token=None, password='', passcode=[REDACTED:name]) [app.py:1], raised ConnectionError")
        for line in lines), lines
    for path in data.glob("records*.jsonl"):
        text = path.read_text(encoding="utf-8")
        assert "735914" not in text and "Zq8-value-77" not in text
