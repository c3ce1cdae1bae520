"""context/grouping.py: which failures are shown as one (cases of a test, workers and children)."""

from __future__ import annotations

from agentlog.context.grouping import group_failures, same_run


def _failure(fid, ts, pid=1, sid="s", src="excepthook", t="ValueError", m="", test=None, argv=("main.py",),
             **extra):
    record = {**extra, "id": fid, "ts": ts, "pid": pid, "sid": sid, "src": src, "exc": {"t": t, "m": m},
              "argv": list(argv)}
    if test:
        record["test"] = test
    return record


def _shape(failures):
    """Each group as (cases, related, others) ids; (cases, related) when it has no others."""
    shapes = []
    for g in group_failures(failures):
        shape = ([c["id"] for c in g.cases], [r["id"] for r in g.related], [o["id"] for o in g.others])
        shapes.append(shape if shape[2] else shape[:2])
    return shapes


class TestGroupFailures:
    def test_table(self):
        """Each worker or child belongs to the first later failure that absorbs it; cases group by test."""
        cpe = "subprocess.CalledProcessError"
        table = [
            ("worker then parent", [_failure("w", 0, 2, src="mp_worker"), _failure("p", 1)], [(["p"], ["w"])]),
            ("each pool run its own parent",
             [_failure("w1", 0, 2, src="mp_worker"), _failure("p1", 1), _failure("w2", 30, 3, src="mp_worker"),
              _failure("p2", 31)], [(["p1"], ["w1"]), (["p2"], ["w2"])]),
            ("sibling workers do not absorb each other",
             [_failure("w1", 0, 2, src="mp_worker"), _failure("w2", 0.1, 3, src="mp_worker"), _failure("p", 1)],
             [(["p"], ["w1", "w2"])]),
            ("other session, too late, same pid: not absorbed",
             [_failure("a", 0, 2, sid="x", src="mp_worker"), _failure("b", 0, 3, src="mp_worker"),
              _failure("c", 100, 1), _failure("d", 200, 1, src="mp_worker"), _failure("e", 201, 1)],
             [(["a"], []), (["b"], []), (["c"], []), (["d"], []), (["e"], [])]),
            ("a child's child ends in the outermost parent",
             [_failure("c1", 0, 3, argv=("leaf.py",)), _failure("c2", 1, 2, t=cpe, m="'leaf.py'", argv=("mid.py",)),
              _failure("top", 2, 1, t=cpe, m="Command '['python', 'mid.py']' returned 1")],
             [(["top"], ["c1", "c2"])]),
            ("a child not named by the CalledProcessError stays apart",
             [_failure("c", 0, 2, argv=("other.py",)), _failure("p", 1, 1, t=cpe, m="'mid.py'")],
             [(["c"], []), (["p"], [])]),
            ("of two children the error names the one whose command line and exit status it states",
             [_failure("a", 0, 2, argv=("child.py", "x")), _failure("b", 1, 3, argv=("child.py",)),
              _failure("c", 1.5, 4, argv=("child.py",), src="exit", exit=2),
              _failure("p", 2, 1, t=cpe, m="Command '['/bin/python', 'child.py']' returned non-zero exit status 1.")],
             [(["p"], ["b"], ["a", "c"])]),
            ("a module run with -m, a shell string; else the latest absorbed child",
             [_failure("m", 0, 2, argv=("/w/pkg/tool/__main__.py", "go")),
              _failure("n", 1, 3, argv=("/w/pkg/tool/__main__.py",)),
              _failure("p", 2, 1, t=cpe, m="Command '['py', '-m', 'pkg.tool', 'go']' returned non-zero exit status 1."),
              _failure("s", 3, 2, argv=("run.py", "a b")), _failure("u", 4, 3, argv=("run.py",)),
              _failure("q", 5, 1, t=cpe, m="Command 'python run.py \"a b\"' returned non-zero exit status 1."),
              _failure("v", 6, 2, argv=("run.py", "1")), _failure("w", 7, 3, argv=("run.py", "2")),
              _failure("r", 8, 1, t=cpe, m="Command '[PosixPath('run.py')]' died with <Signals.SIGKILL: 9>.")],
             [(["p"], ["m"], ["n"]), (["q"], ["s"], ["u"]), (["r"], ["w"], ["v"])]),
            ("cases of one test in one session, led by the first",
             [_failure("t1", 0, test="t.py::test_x[1] (call)"), _failure("z", 0.5),
              _failure("t2", 1, test="t.py::test_x[2] (call)"),
              _failure("o", 2, sid="y", test="t.py::test_x[3] (call)")],
             [(["z"], []), (["t1", "t2"], []), (["o"], [])]),
        ]
        for name, failures, expected in table:
            assert _shape(failures) == expected, name


class TestSameRun:
    def test_same_run(self):
        """One session and one process, or the cases of one test (xdist workers), are one run."""
        a = _failure("a", 0, 1, test="t.py::test_x[1] (call)")
        assert same_run(a, _failure("b", 1, 1))
        assert same_run(a, _failure("c", 1, 2, test="t.py::test_x[2] (call)"))
        assert not same_run(a, _failure("d", 1, 2))
        assert not same_run(a, _failure("e", 1, 1, sid="other"))


class TestQuotedChildTraceback:
    FRAMES = [{"f": "scale", "file": "/w/child.py", "ln": 8, "u": 1},
              {"f": "<module>", "file": "/w/child.py", "ln": 17}]
    QUOTED = ('Traceback (most recent call last):\n  File "/w/child.py", line 17, in <module>\n'
              '  File "/w/child.py", line 8, in scale\nZeroDivisionError: division by zero\n')

    def _child(self, fid="c", ts=0, pid=2, frames=None):
        record = _failure(fid, ts, pid, t="ZeroDivisionError", argv=("child.py",))
        record["exc"]["frames"] = self.FRAMES if frames is None else frames
        return record

    def test_table(self):
        """A failure whose message (or a chained one's) quotes a child's frames absorbs the child, escaped or not."""
        table = [
            ("OSError with the stderr", [self._child(), _failure("p", 1, t="OSError", m="failed:\n" + self.QUOTED)],
             [(["p"], ["c"])]),
            ("repr'd stderr: escaped newlines and quotes",
             [self._child(),
              _failure("p", 1, t="RuntimeError", m="failed: " + repr(self.QUOTED).replace('"', '\\"'))],
             [(["p"], ["c"])]),
            ("quoted by the exception's cause",
             [self._child(),
              _failure("p", 1) | {"exc": {"t": "KeyError", "m": "x", "cause": {"t": "OSError", "m": self.QUOTED}}}],
             [(["p"], ["c"])]),
            ("another line of the same file: not this child",
             [self._child(frames=[{"f": "f", "file": "/w/child.py", "ln": 9}]),
              _failure("p", 1, t="OSError", m=self.QUOTED)], [(["c"], []), (["p"], [])]),
            ("same process, other session, too late: not absorbed",
             [self._child(pid=1), _failure("p", 1, t="OSError", m=self.QUOTED),
              self._child("d", 10) | {"sid": "x"}, _failure("q", 11, t="OSError", m=self.QUOTED),
              self._child("e", 20), _failure("r", 200, t="OSError", m=self.QUOTED)],
             [(["c"], []), (["p"], []), (["d"], []), (["q"], []), (["e"], []), (["r"], [])]),
        ]
        for name, failures, expected in table:
            assert _shape(failures) == expected, name

    def test_headline_without_the_quoted_traceback(self):
        from agentlog.context.grouping import without_quoted_traceback

        note = "[the child's traceback, shown with the child]"
        assert without_quoted_traceback("child failed:\n" + self.QUOTED) == f"child failed: {note}"
        assert without_quoted_traceback("child failed: " + repr(self.QUOTED)) == f"child failed: {note}"
        assert without_quoted_traceback("child failed: b'" + self.QUOTED) == f"child failed: {note}"
        assert without_quoted_traceback("plain message") == "plain message"
        # What follows the quoted traceback stays (pytest's explanation of a failed assert).
        assert without_quoted_traceback(self.QUOTED + "\nassert 1 == 0\n +  where 1 = proc.returncode") == \
            f"{note}\nassert 1 == 0\n +  where 1 = proc.returncode"
