"""How many debugging facts a context holds, per token budget, over the corpus in ``benchmarks/corpus``.

Each case is a directory: a buggy program or test suite plus ``case.toml`` with ``run``
(the arguments after ``python``) and ``facts`` (label = regex a debugger needs to see).
For every case the program runs three ways in a fresh copy: plain ``python ...`` (the
traceback or pytest's report), ``python ... -l`` for pytest cases (pytest's locals), and
``python -m agentlog ...``, whose context is then read at each budget.

    python benchmarks/context_bench.py              # the summary table
    python benchmarks/context_bench.py --cases      # plus one row per case
    python benchmarks/context_bench.py --only none_return --show 300

Tokens are counted with o200k_base when ``bpe_openai`` is installed, else with AgentLog's
estimate (which errs high). The plain outputs are not cut: their column says what the whole
output holds and costs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

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


def load_cases(only: list[str] | None = None) -> list[tuple[str, dict]]:
    cases = []
    for case_dir in sorted(p for p in CORPUS.iterdir() if (p / "case.toml").exists()):
        if only and case_dir.name not in only:
            continue
        cases.append((case_dir.name, tomllib.loads((case_dir / "case.toml").read_text())))
    return cases


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG") and k != "PYTHONPATH"}
    env["AGENTLOG_DIR"] = str(data_dir)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


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
        for budget in BUDGETS:
            texts[str(budget)] = _run(["-m", "agentlog", "context", "--max-tokens", str(budget)], work, env)
    return texts


def score(text: str, facts: dict[str, str]) -> list[str]:
    """Labels of the facts ``text`` holds."""
    return [label for label, pattern in facts.items() if re.search(pattern, text, re.MULTILINE)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", action="store_true", help="one row per case too")
    parser.add_argument("--only", nargs="*", help="run only these cases")
    parser.add_argument("--show", help="print each case's text for this column (plain, 1500, ...)")
    opts = parser.parse_args(argv)
    counter_name, count = token_counter()
    cases = load_cases(opts.only)
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
            row.append(f"{len(held)}/{len(facts)} {tokens}t" + (f" (-{','.join(missing)})" if opts.cases else ""))
        rows.append(row)
    if opts.cases:
        for row in rows:
            print(" | ".join(row))
        print()
    print(f"{len(cases)} cases, tokens counted with {counter_name}")
    print("| context | facts held | share | mean tokens | cases |")
    print("| --- | --- | --- | --- | --- |")
    for column in columns:
        held, possible, tokens, n = totals[column]
        if n:
            label = column if not column.isdigit() else f"agentlog, {column} tokens"
            print(f"| {label} | {held}/{possible} | {held / possible:.0%} | {tokens // n} | {n} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
