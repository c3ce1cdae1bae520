"""capture/statements.py and the failing statement in capture/frames.py: spans found with ast, bounded."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from agentlog.capture import frames, statements
from agentlog.capture.statements import MAX_PARSE_CHARS, file_layout, statement_span

SOURCE = textwrap.dedent('''\
    """Module docstring."""
    import functools


    @functools.lru_cache(
        maxsize=3,
    )
    def f(a,
          b):
        """Docstring,
        two lines."""
        if (a and
                b):
            return call(
                a,
                b,
            )
        try:
            x = 1
        except (KeyError,
                ValueError) as exc:
            raise
        match a:
            case {"k": 1,
                  "v": v}:
                pass
        return [i for i in
                range(3)]
''')


@pytest.fixture
def layout(tmp_path: Path) -> statements.Layout:
    path = tmp_path / "mod.py"
    path.write_text(SOURCE)
    found = file_layout(str(path))
    assert found is not None
    return found


@pytest.mark.parametrize(("line", "span"), [
    (2, (2, 2)),      # a one-line statement
    (5, (5, 9)),      # a decorator belongs to its def's header
    (6, (5, 9)),
    (9, (5, 9)),      # def header with wrapped parameters, not its body
    (12, (12, 13)),   # an if's wrapped condition, not its body
    (15, (14, 17)),   # a call's argument line brings the whole call
    (17, (14, 17)),
    (18, (18, 18)),   # try: has no header expression
    (21, (20, 21)),   # except with a wrapped tuple
    (24, (24, 25)),   # a match case's wrapped pattern
    (28, (27, 28)),   # a wrapped comprehension
    (99, (99, 99)),   # past the end: the line alone
])
def test_statement_spans(layout: statements.Layout, line: int, span: tuple[int, int]) -> None:
    assert statement_span(layout, line) == span


def test_docstring_lines(layout: statements.Layout) -> None:
    assert layout.docstrings == {1, 10, 11}


def test_unparseable_or_huge_files_are_not_parsed(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f(:\n    pass\n")
    assert file_layout(str(bad)) is None
    huge = tmp_path / "huge.py"
    huge.write_text("x = 1\n" * (MAX_PARSE_CHARS // 6 + 1))
    assert file_layout(str(huge)) is None
    assert file_layout(str(tmp_path / "missing.py")) is None


def test_edited_file_is_parsed_again(tmp_path: Path) -> None:
    import linecache

    path = tmp_path / "m.py"
    path.write_text("x = (1,\n     2)\n")
    assert statement_span(file_layout(str(path)), 2) == (1, 2)
    path.write_text("x = 1\ny = 2\n")
    linecache.checkcache(str(path))
    assert statement_span(file_layout(str(path)), 2) == (2, 2)


def test_long_statement_is_bounded(tmp_path: Path) -> None:
    """A 60-line call: at most MAX_STATEMENT_LINES lines of it, the failing one among them."""
    path = tmp_path / "long.py"
    args = "".join(f"    {i},\n" for i in range(60))
    path.write_text(f"total = sum([\n{args}])\n")
    src, (first, last) = frames._source(str(path), 40, {})
    assert last - first + 1 == frames.MAX_STATEMENT_LINES and first <= 40 <= last
    shown = [n for n, _ in src]
    assert 40 in shown and len(shown) <= frames.MAX_STATEMENT_LINES + 2 * frames.SOURCE_CONTEXT_LINES
    assert sum(len(text) for n, text in src if first <= n <= last) <= frames.MAX_STATEMENT_CHARS


def test_wide_statement_is_bounded_by_characters(tmp_path: Path) -> None:
    path = tmp_path / "wide.py"
    path.write_text("x = f(\n" + "".join(f"    {'a' * 190}{i},\n" for i in range(11)) + ")\n")
    src, (first, last) = frames._source(str(path), 6, {})
    assert first <= 6 <= last
    assert sum(len(text) for n, text in src if first <= n <= last) <= frames.MAX_STATEMENT_CHARS


def test_attribute_paths() -> None:
    assert frames._attribute_paths("return self.cfg.rate * order . qty + x") == {
        "self": [("cfg", "rate")], "order": [("qty",)]}
