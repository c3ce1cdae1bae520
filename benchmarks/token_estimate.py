"""Measure ``agentlog.context.tokencount`` against real BPE tokenizers (o200k_base, cl100k_base).

    python benchmarks/token_estimate.py           # 150 chunks per category, 5 throughput rounds
    python benchmarks/token_estimate.py --quick   # 40 chunks per category, 3 rounds

Needs the installed agentlog and ``bpe_openai`` (both installed by ``./run bench tokens``).
The corpus is generated at run time from the interpreter's own stdlib (source, docstrings,
real tracebacks) plus seeded JSON, debug-context lines and unicode, cut into 200-4000 char
chunks. Ratios are estimate / real count per chunk: above 1 the estimate errs high.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import random
import statistics
import string
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from agentlog.context.tokencount import count_tokens

ENCODINGS = ("o200k_base", "cl100k_base")
CHUNK_MIN, CHUNK_MAX = 200, 4000

_SOURCE_MODULES = (
    "argparse",
    "json.decoder",
    "textwrap",
    "dataclasses",
    "pathlib",
    "functools",
    "email.utils",
    "csv",
    "shlex",
    "string",
    "calendar",
    "difflib",
    "ipaddress",
)
_PROSE_MODULES = (
    "argparse",
    "collections",
    "difflib",
    "inspect",
    "typing",
    "email",
    "logging",
    "subprocess",
    "threading",
    "pathlib",
    "unittest",
    "asyncio",
    "http.client",
)
_UNICODE_WORDS = (
    "Zürich",
    "naïve",
    "façade",
    "crème brûlée",
    "Ærøskøbing",
    "señor",
    "Łódź",
    "Straße",
    "Привет мир",
    "ошибка сервера",
    "Καλημέρα",
    "δεδομένα",
    "東京都",
    "数据库连接失败",
    "ファイルが見つかりません",
    "데이터베이스",
    "مرحبا بالعالم",
    "שלום",
    "नमस्ते दुनिया",
    "ยินดีต้อนรับ",
    "🚀",
    "✅",
    "❌",
    "⚠️",
    "👍🏽",
    "→",
    "…",
    "±",
    "€",
    "“quoted”",
    "—",
)


def _source(rng: random.Random) -> str:
    """Concatenated source text of a shuffled set of stdlib modules."""
    names = list(_SOURCE_MODULES)
    rng.shuffle(names)
    return "\n\n".join(inspect.getsource(importlib.import_module(n)) for n in names)


def _prose(rng: random.Random) -> str:
    """English docstrings of stdlib modules, classes and functions."""
    docs: list[str] = []
    for name in _PROSE_MODULES:
        module = importlib.import_module(name)
        for obj in [module, *vars(module).values()]:
            doc = inspect.getdoc(obj) if callable(obj) or obj is module else None
            if doc and len(doc) > 120 and doc not in docs:
                docs.append(doc)
    rng.shuffle(docs)
    return "\n\n".join(docs)


def _failures(rng: random.Random) -> list[Callable[[], object]]:
    """Callables that fail inside real stdlib code with randomised inputs."""
    key = f"user_{rng.getrandbits(32):08x}"
    bad_json = f'{{"id": {rng.randrange(10**6)}, "name": "x'
    return [
        lambda: json.loads(bad_json),
        lambda: int(f"{rng.random():.6f}"),
        lambda: {"a": 1}[key],
        lambda: importlib.import_module(f"missing_mod_{rng.randrange(999)}"),
        lambda: time.strptime(f"2024-13-{rng.randrange(40)}", "%Y-%m-%d"),
        lambda: Path(f"/nonexistent/{key}/config.toml").read_text(),
        lambda: [1, 2, 3][rng.randrange(5, 50)],
        lambda: string.Template("$who ${").substitute(who=key),
    ]


def _traceback(rng: random.Random) -> str:
    """Real formatted tracebacks, some chained, raised through nested frames."""

    def handler(call: Callable[[], object], depth: int) -> object:
        if depth:
            return handler(call, depth - 1)
        return call()

    parts: list[str] = []
    for _ in range(60):
        call = rng.choice(_failures(rng))
        try:
            try:
                handler(call, rng.randrange(4))
            except Exception as exc:
                if rng.random() < 0.4:
                    raise RuntimeError(f"request {rng.getrandbits(64):016x} failed") from exc
                raise
        except Exception:  # noqa: BLE001 - any error makes a traceback for the corpus
            parts.append(traceback.format_exc())
    # The same text wherever the checkout and the stdlib lie: their paths would otherwise change the corpus.
    text = "\n".join(parts).replace(str(Path(__file__).resolve().parent), "/home/dev/project/benchmarks")
    return text.replace(str(Path(json.__file__).parent.parent), "/usr/lib/python3")


def _value(rng: random.Random, depth: int = 0) -> object:
    """A random JSON-able value shaped like application data."""
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.randrange(-(10**9), 10**9)
    if kind == 1:
        return round(rng.uniform(-1e4, 1e4), rng.randrange(1, 8))
    if kind == 2:
        return f"{rng.getrandbits(128):032x}"
    if kind == 3:
        return " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(1, 6)))
    if kind == 4:
        return rng.choice([True, False, None, f"/srv/app/{rng.choice(_WORDS)}.py"])
    if kind == 5:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(1, 5))]
    return {
        rng.choice(_WORDS) + rng.choice(["", "_id", "Count", "_at"]): _value(rng, depth + 1)
        for _ in range(rng.randrange(1, 6))
    }


_WORDS = (
    "user",
    "order",
    "status",
    "payload",
    "timeout",
    "retry",
    "session",
    "token",
    "amount",
    "currency",
    "created",
    "updated",
    "items",
    "price",
    "quantity",
    "address",
    "email",
    "config",
    "handler",
    "request",
    "response",
    "error",
    "message",
    "trace",
    "span",
    "metrics",
)


def _json(rng: random.Random) -> str:
    """JSON documents, indented and compact."""
    docs = [json.dumps(_value(rng), indent=rng.choice([None, 2, 4])) for _ in range(400)]
    return "\n".join(docs)


def _debug(rng: random.Random) -> str:
    """Debug-context lines: typed locals, call trail, paths, hex ids, numbers, random ids."""
    lines: list[str] = []
    for _ in range(1500):
        name = rng.choice(_WORDS) + rng.choice(["", "_id", "s", "_map", "Count"])
        kind = rng.randrange(7)
        if kind == 0:
            lines.append(f"{name}: int = {rng.randrange(-(10**12), 10**12)}")
        elif kind == 1:
            lines.append(f"{name}: float = {rng.uniform(-1e6, 1e6)!r}")
        elif kind == 2:
            token = "".join(rng.choices(string.ascii_letters + string.digits + "-_", k=22))
            lines.append(f"{name}: str = {token!r}")
        elif kind == 3:
            obj = f"<app.models.{name.title()} object at 0x{rng.getrandbits(48):x}>"
            lines.append(f"{name}: Obj = {obj}")
        elif kind == 4:
            pkg = "/".join(rng.choices(_WORDS, k=rng.randrange(1, 4)))
            line_no = rng.randrange(1, 3000)
            lines.append(f"  at /home/dev/project/src/{pkg}/{name}.py:{line_no} in {name}")
        elif kind == 5:
            mapping = dict(zip(rng.sample(_WORDS, 3), range(3), strict=True))
            lines.append(f"{name}: dict = {mapping!r}")
        else:
            lines.append(f"sha={rng.getrandbits(160):040x} t={time.ctime(rng.randrange(2**31))}")
    return "\n".join(lines)


def _unicode(rng: random.Random) -> str:
    """Debug lines mixing ASCII with accented Latin, Cyrillic, Greek, CJK, RTL and emoji."""
    lines: list[str] = []
    for _ in range(1200):
        words = rng.choices(_UNICODE_WORDS, k=rng.randrange(1, 4))
        name = rng.choice(_WORDS)
        if rng.random() < 0.5:
            lines.append(f"{name}: str = {' '.join(words)!r}")
        else:
            lines.append(f"{name} = {' '.join(words)} ({rng.choice(_WORDS)} {rng.randrange(999)})")
    return "\n".join(lines)


CATEGORIES: dict[str, Callable[[random.Random], str]] = {
    "source": _source,
    "traceback": _traceback,
    "json": _json,
    "prose": _prose,
    "debug": _debug,
    "unicode": _unicode,
}


def build_corpus(seed: int = 0, per_category: int = 150) -> dict[str, list[str]]:
    """Chunks of CHUNK_MIN..CHUNK_MAX characters per category, reproducible from ``seed``."""
    corpus: dict[str, list[str]] = {}
    for category, make in CATEGORIES.items():
        rng = random.Random(f"{seed}:{category}")
        text = make(rng)
        chunks = []
        for _ in range(per_category):
            size = min(len(text), rng.randint(CHUNK_MIN, CHUNK_MAX))
            start = rng.randrange(len(text) - size + 1)
            chunks.append(text[start : start + size])
        corpus[category] = chunks
    return corpus


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of ``values`` (``q`` in 0..1)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _harness() -> ModuleType:
    """benchmarks/harness.py, imported on first use: tests import this module for its corpus alone."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import harness

    return harness


def main(argv: list[str] | None = None) -> int:
    """Print per-encoding, per-category estimate/real ratios and the estimator's throughput."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="40 chunks per category, 3 throughput rounds")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    harness = _harness()
    package, version = harness.agentlog_origin()
    if Path(sys.modules["agentlog"].__file__ or "").resolve().parent != package:
        raise harness.BenchError(f"this process imported agentlog from {sys.modules['agentlog'].__file__}, "
                                 f"not the installed {package}")  # fmt: skip
    try:
        import bpe_openai
    except ImportError:
        raise harness.BenchError("needs bpe_openai: `./run bench tokens` installs it") from None
    per_category, rounds = (40, 3) if args.quick else (150, 5)
    load_start = harness.load_average()
    corpus = build_corpus(per_category=per_category)
    rows = []
    for name in ENCODINGS:
        encoding = bpe_openai.get_encoding(name)
        every: list[float] = []
        for category, chunks in [*corpus.items(), ("ALL", None)]:
            if chunks is None:
                ratios = every
            else:
                ratios = [count_tokens(c) / len(encoding.encode_ordinary(c)) for c in chunks]
                every.extend(ratios)
            rows.append([name, category, str(len(ratios)), f"{sum(ratios) / len(ratios):.3f}",
                         *(f"{v:.3f}" for v in (min(ratios), _percentile(ratios, 0.05),
                                                _percentile(ratios, 0.95), max(ratios)))])  # fmt: skip
    text = "\n".join(c for chunks in corpus.values() for c in chunks)
    mb = len(text.encode()) / 1e6
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        count_tokens(text)
        seconds.append(time.perf_counter() - start)
    print(f"AgentLog token estimate: {harness.machine()}, agentlog {version} from {package}")
    print(f"{per_category} chunks of {CHUNK_MIN}-{CHUNK_MAX} characters per category; "
          "ratio = estimate / real tokens per chunk")  # fmt: skip
    print(f"load average at start: {load_start}")
    header = ["encoding", "category", "chunks", "mean", "min", "p5", "p95", "max"]
    print("\n".join(harness.table(header, rows, args.markdown)))
    print(f"load average at end: {harness.load_average()}")
    print(f"throughput: {mb / statistics.median(seconds):.1f} MB/s, {mb:.1f} MB in "
          f"{harness.median_min([s * 1000 for s in seconds], 0, ' ms')} over {rounds} rounds")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(_harness().run(main, "token_estimate.py"))
