"""How many debugging facts a context holds, per token budget, over the corpus in ``benchmarks/corpus``.

Each case is a directory: a buggy program or test suite plus ``case.toml`` with ``run``
(the arguments after ``python``) and ``facts`` (label = regex a debugger needs to see).
For every case the program runs three ways in a fresh copy: plain ``python ...`` (the
traceback or pytest's report), ``python ... -l`` for pytest cases (pytest's locals), and
``python -m agentlog ...``, whose context is then read at each budget.

    python benchmarks/context_bench.py              # the summary table
    python benchmarks/context_bench.py --quick      # every third case
    python benchmarks/context_bench.py --cases      # plus one row per case
    python benchmarks/context_bench.py --only none_return --show 300

Tokens are counted with o200k_base when ``bpe_openai`` is installed, else with AgentLog's
estimate (which errs high). The plain outputs are not cut: their column says what the whole
output holds and costs. Every case runs in a copy outside the checkout with the installed
agentlog; a case whose records do not say the C engine recorded it stops the run.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # harness
import harness

CORPUS = Path(__file__).resolve().parent / "corpus"
BUDGETS = (1500, 600, 300)
TIMEOUT_S = 120


def token_counter():
    """o200k_base if available, else AgentLog's estimate; returns (name, count function)."""
    try:
        import bpe_openai

        encoder = bpe_openai.get_encoding("o200k_base")
        return "o200k_base", lambda text: len(encoder.encode(text))
    except ImportError:
        from agentlog.context.tokencount import count_tokens

        return "agentlog estimate", count_tokens


def load_cases() -> list[tuple[str, dict]]:
    """(name, case.toml) of every case in the corpus, by name."""
    dirs = sorted(p for p in CORPUS.iterdir() if (p / "case.toml").exists())
    return [(d.name, tomllib.loads((d / "case.toml").read_text())) for d in dirs]


def _env(data_dir: Path) -> dict[str, str]:
    return harness.child_env({"AGENTLOG_DIR": str(data_dir), "PYTHONDONTWRITEBYTECODE": "1"})


def _engines(value: object) -> set[str]:
    """Every ``engine`` field in a record (the failure's trail, the profile)."""
    if isinstance(value, dict):
        found = {value["engine"]} if isinstance(value.get("engine"), str) else set()
        return found.union(*(_engines(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_engines(v) for v in value))
    return set()


def check_engine(name: str, data: Path) -> None:
    """BenchError unless the case's records say the C engine recorded its trail."""
    engines: set[str] = set()
    for path in data.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            engines |= _engines(json.loads(line))
    if engines != {"c"}:
        raise harness.BenchError(f"{name}: the records name the engines {sorted(engines)}, not the C engine alone")


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S)
    return done.stdout + done.stderr


def run_case(name: str, case: dict) -> dict[str, str]:
    """The texts to score: plain output, pytest -l output (pytest cases), context per budget."""
    with tempfile.TemporaryDirectory(prefix=f"ctxbench-{name}-") as tmp:
        work = Path(tmp) / name
        shutil.copytree(CORPUS / name, work, ignore=shutil.ignore_patterns("case.toml", "__pycache__"))
        data = Path(tmp) / "data"
        env = _env(data)
        args = list(case["run"])
        texts = {"plain": _run(args, work, env)}
        if args[:2] == ["-m", "pytest"]:
            texts["pytest -l"] = _run([*args, "-l"], work, env)
        _run(["-m", "agentlog", *args], work, env)
        check_engine(name, data)
        for budget in BUDGETS:
            texts[str(budget)] = _run(["-m", "agentlog", "context", "--max-tokens", str(budget)], work, env)
    return texts


def score(text: str, facts: dict[str, str]) -> list[str]:
    """Labels of the facts ``text`` holds."""
    return [label for label, pattern in facts.items() if re.search(pattern, text, re.MULTILINE)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every third case only")
    parser.add_argument("--cases", action="store_true", help="one row per case too")
    parser.add_argument("--only", nargs="*", help="run only these cases")
    parser.add_argument("--show", help="print each case's text for this column (plain, 1500, ...)")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown (for the README)")
    opts = parser.parse_args(argv)
    package, version = harness.agentlog_origin()
    counter_name, count = token_counter()
    every = load_cases()
    cases = [c for c in every if c[0] in opts.only] if opts.only else every[::3] if opts.quick else every
    if opts.only and len(cases) != len(set(opts.only)):
        raise harness.BenchError(f"no such case: {sorted(set(opts.only) - {c[0] for c in cases})}")
    columns = ["plain", "pytest -l", *map(str, BUDGETS)]
    totals = {c: [0, 0, 0, 0] for c in columns}  # facts held, facts possible, tokens, cases
    rows = []
    for name, case in cases:
        facts = case["facts"]
        texts = run_case(name, case)
        if opts.show and opts.show in texts:
            print(f"===== {name} [{opts.show}]\n{texts[opts.show]}")
        row = [name]
        for column in columns:
            if column not in texts:
                row.append("-")
                continue
            held = score(texts[column], facts)
            tokens = count(texts[column])
            total = totals[column]
            total[0] += len(held)
            total[1] += len(facts)
            total[2] += tokens
            total[3] += 1
            missing = sorted(set(facts) - set(held))
            row.append(f"{len(held)}/{len(facts)} {tokens}t" + (f" (-{','.join(missing)})" if missing else ""))
        rows.append(row)
    print(f"AgentLog context facts: {harness.machine()}, agentlog {version} from {package}")
    print(f"{len(cases)} of {len(every)} cases, {sum(len(c['facts']) for _, c in cases)} facts; "
          f"tokens counted with {counter_name}")  # fmt: skip
    if opts.cases:
        print("\n".join(harness.table(["case", *columns], rows, opts.markdown)))
        print()
    summary = []
    for column in columns:
        held, possible, tokens, n = totals[column]
        if n:
            label = column if not column.isdigit() else f"agentlog, {column} tokens"
            summary.append([label, f"{held}/{possible}", f"{held / possible:.0%}", str(tokens // n), str(n)])
    print("\n".join(harness.table(["context", "facts held", "share", "mean tokens", "cases"], summary, opts.markdown)))
    return 0


if __name__ == "__main__":
    raise SystemExit(harness.run(main, "context_bench.py"))
