"""Benchmark workloads: plain user code (this file is neither stdlib nor site-packages).

Each workload takes a scale factor and returns something so work is not optimised away.
"""

from __future__ import annotations

import collections
import csv
import datetime
import io
import json
import re
import textwrap


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def call_heavy(scale: float) -> int:
    """Recursive fib: one user call per ~30 ns of work, the tracer's worst case."""
    return fib(24 + round(6 * min(scale, 1.0)))  # fib(30): 2.7M calls at scale 1


class Vec:
    __slots__ = ("x", "y")

    def __init__(self, x: float, y: float) -> None:
        self.x, self.y = x, y

    def add(self, other: Vec) -> Vec:
        return Vec(self.x + other.x, self.y + other.y)

    def norm2(self) -> float:
        return self.x * self.x + self.y * self.y


def _json_round_trip(i: int) -> int:
    doc = {"id": i, "name": f"item-{i}", "tags": ["a", "b", "c"], "score": i / 7, "ok": True}
    return len(json.loads(json.dumps(doc))["tags"])


def _strings(i: int) -> int:
    words = f"the quick brown fox {i} jumps over the lazy dog".split()
    return len("-".join(w.upper() for w in words if len(w) > 3))


def mixed(scale: float) -> float:
    """json round trips, small classes, comprehensions and string work."""
    total = 0.0
    for i in range(int(20000 * scale)):
        total += _json_round_trip(i)
        v = Vec(1.0, 2.0).add(Vec(i, 0.5))
        total += v.norm2() % 3
        total += sum([k * k for k in range(20) if k % 3])
        total += _strings(i)
    return total


def _risky(i: int) -> int:
    if i % 2:
        raise ValueError(i)
    return i


def exception_heavy(scale: float) -> int:
    """Raise-and-catch loop: half the calls raise into the caller's except."""
    caught = 0
    for i in range(int(300000 * scale)):
        try:
            _risky(i)
        except ValueError:
            caught += 1
    return caught


CSV_ROWS = "\n".join(f"{i},user{i % 97},{i * 3.5:.2f},2024-0{1 + i % 9}-1{i % 10}" for i in range(400))
LOG_RE = re.compile(r"user(\d+)")


def _report(rows: list[list[str]]) -> str:
    per_user = collections.Counter(LOG_RE.sub(r"\1", r[1]) for r in rows)
    months = collections.Counter(datetime.date.fromisoformat(r[3]).month for r in rows)
    lines = [f"{u}: {n}" for u, n in per_user.most_common(10)] + [str(months)]
    return textwrap.fill(" ".join(lines), 60)


def realistic(scale: float) -> int:
    """A stdlib-heavy script: csv, re, collections, datetime, textwrap, json."""
    out = 0
    for _ in range(int(120 * scale)):
        rows = list(csv.reader(io.StringIO(CSV_ROWS)))
        out += len(json.dumps({"report": _report(rows)}))
    return out


def genexpr(scale: float) -> int:
    """A loop whose body sums a generator expression: 60 items per call, everyday Python."""
    total = 0
    for _ in range(int(40000 * scale)):
        total += sum(x * 2 for x in range(60))
    return total


WORKLOADS = {
    "call-heavy": call_heavy,
    "mixed": mixed,
    "exception-heavy": exception_heavy,
    "realistic": realistic,
    "genexpr": genexpr,
}
