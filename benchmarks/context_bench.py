"""How many debugging facts a context holds, per token budget: synthetic cases and real projects.

Synthetic corpus (``benchmarks/corpus``): each case is a directory, a buggy program or test
suite plus ``case.toml`` with ``run`` (the arguments after ``python``) and ``facts`` (label =
regex a debugger needs to see). Each runs three ways in a fresh copy: plain ``python ...``
(the traceback or pytest's report), ``python ... -l`` for pytest cases (pytest's locals),
and ``python -m agentlog ...``, whose context is then read at each budget.

Real projects (``benchmarks/realprojects``, see ``realprojects.py``): pinned sdists of
third-party projects with one injected one-line bug each, run with the project's own failing
test: ``pytest -x TEST``, ``pytest -x -l TEST`` and ``python -m agentlog -m pytest -x TEST``,
scored on the bug's decisive values (all must be held).

    python benchmarks/context_bench.py              # both summary tables
    python benchmarks/context_bench.py --quick      # every third case and bug
    python benchmarks/context_bench.py --cases      # plus one row per case and bug
    python benchmarks/context_bench.py --corpus real --only semver_compare_slice --show 400

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
import realprojects

CORPUS = Path(__file__).resolve().parent / "corpus"
BUDGETS = (300, 400, 800, 1500)
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


def _texts(name: str, args: list[str], work: Path, data: Path) -> dict[str, str]:
    """Plain output, pytest -l output (pytest runs), and AgentLog's context per budget of ``python ARGS``."""
    env = _env(data)
    texts = {"plain": _run(args, work, env)}
    if args[:2] == ["-m", "pytest"]:
        texts["pytest -l"] = _run([*args, "-l"], work, env)
    _run(["-m", "agentlog", *args], work, env)
    check_engine(name, data)
    for budget in BUDGETS:
        texts[str(budget)] = _run(["-m", "agentlog", "context", "--max-tokens", str(budget)], work, env)
    return texts


def run_case(name: str, case: dict) -> dict[str, str]:
    """The texts to score of a synthetic case."""
    with tempfile.TemporaryDirectory(prefix=f"ctxbench-{name}-") as tmp:
        work = Path(tmp) / name
        shutil.copytree(CORPUS / name, work, ignore=shutil.ignore_patterns("case.toml", "__pycache__"))
        return _texts(name, list(case["run"]), work, Path(tmp) / "data")


def run_bug(bug: realprojects.Bug, project: realprojects.Project, pristine: Path) -> dict[str, str]:
    """The texts to score of a real-project bug: a copy of the unpacked sdist with the bug applied."""
    with tempfile.TemporaryDirectory(prefix=f"ctxbench-{bug.name}-") as tmp:
        work = Path(tmp) / pristine.name
        shutil.copytree(pristine, work)
        realprojects.apply(bug, work)
        return _texts(bug.name, realprojects.pytest_args(bug, project), work, Path(tmp) / "data")


def score(text: str, facts: dict[str, str]) -> list[str]:
    """Labels of the facts ``text`` holds."""
    return [label for label, pattern in facts.items() if re.search(pattern, text, re.MULTILINE)]


def _label(column: str, plain: str) -> str:
    return plain if column == "plain" else f"agentlog, {column} tokens" if column.isdigit() else column


def synthetic(cases: list[tuple[str, dict]], count, opts: argparse.Namespace) -> None:
    """Run the synthetic cases; print their per-case rows (``--cases``) and summary."""
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
    print(f"Synthetic corpus: {len(cases)} cases, {sum(len(c['facts']) for _, c in cases)} facts")
    if opts.cases:
        print("\n".join(harness.table(["case", *columns], rows, opts.markdown)))
        print()
    summary = []
    for column in columns:
        held, possible, tokens, n = totals[column]
        if n:
            summary.append([_label(column, "plain"), f"{held}/{possible}", f"{held / possible:.0%}", str(tokens // n),
                            str(n)])  # fmt: skip
    print("\n".join(harness.table(["context", "facts held", "share", "mean tokens", "cases"], summary, opts.markdown)))


def real(bugs: list[realprojects.Bug], count, opts: argparse.Namespace) -> None:
    """Run the real-project bugs; print their per-bug rows (``--cases``) and summary."""
    projects = realprojects.load_projects()
    columns = ["plain", "pytest -l", *map(str, BUDGETS)]
    held = {c: [] for c in columns}  # per column: (held?, direct?, tokens) per bug
    rows = []
    with tempfile.TemporaryDirectory(prefix="ctxbench-sdists-") as tmp:
        pristine: dict[str, Path] = {}
        for bug in bugs:
            project = projects[bug.project]
            if bug.project not in pristine:
                pristine[bug.project] = realprojects.unpack(realprojects.fetch(project, opts.cache),
                                                            Path(tmp) / bug.project)  # fmt: skip
            texts = run_bug(bug, project, pristine[bug.project])
            if opts.show and opts.show in texts:
                print(f"===== {bug.name} [{opts.show}]\n{texts[opts.show]}")
            row = [bug.name, "direct" if bug.direct else "helper"]
            for column in columns:
                ok = len(score(texts[column], bug.decisive)) == len(bug.decisive)
                tokens = count(texts[column])
                held[column].append((ok, bug.direct, tokens))
                row.append(f"{'yes' if ok else 'no'} {tokens}t")
            rows.append(row)
    names = sorted({b.project for b in bugs})
    helpers = sum(not b.direct for b in bugs)
    print(f"Real projects: {len(bugs)} injected bugs in {len(names)} projects ({', '.join(names)}), "
          f"{helpers} of them in a helper away from what the test calls")  # fmt: skip
    if opts.cases:
        print("\n".join(harness.table(["bug", "where", *columns], rows, opts.markdown)))
        print()
    summary = []
    for column in columns:
        results = held[column]
        n_held = sum(ok for ok, _, _ in results)
        n_helper = sum(ok for ok, direct, _ in results if not direct)
        tokens = [t for _, _, t in results]
        summary.append([_label(column, "pytest -x").replace("pytest -l", "pytest -x -l"), f"{n_held}/{len(results)}",
                        f"{n_helper}/{helpers}", f"{n_held / len(results):.0%}", str(sum(tokens) // len(tokens)),
                        f"{min(tokens)}-{max(tokens)}"])  # fmt: skip
    header = ["context", "decisive held", "of them in a helper", "share", "mean tokens", "tokens min-max"]
    print("\n".join(harness.table(header, summary, opts.markdown)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every third case and bug only")
    parser.add_argument("--corpus", choices=("all", "synthetic", "real"), default="all",
                        help="the synthetic cases, the real-project bugs, or both (default)")  # fmt: skip
    parser.add_argument("--cases", action="store_true", help="one row per case and bug too")
    parser.add_argument("--only", nargs="*", help="run only these cases or bugs")
    parser.add_argument("--show", help="print each case's text for this column (plain, pytest -l, 300, ...)")
    parser.add_argument("--cache", type=Path, default=realprojects.DEFAULT_CACHE,
                        help=f"where the pinned sdists are kept (default {realprojects.DEFAULT_CACHE})")  # fmt: skip
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown (for the README)")
    opts = parser.parse_args(argv)
    package, version = harness.agentlog_origin()
    counter_name, count = token_counter()
    every = load_cases() if opts.corpus != "real" else []
    every_bug = realprojects.load_bugs() if opts.corpus != "synthetic" else []
    if opts.only:
        cases = [c for c in every if c[0] in opts.only]
        bugs = [b for b in every_bug if b.name in opts.only]
        unknown = set(opts.only) - {c[0] for c in cases} - {b.name for b in bugs}
        if unknown:
            raise harness.BenchError(f"no such case: {sorted(unknown)}")
    else:
        cases, bugs = (every[::3], every_bug[::3]) if opts.quick else (every, every_bug)
    print(f"AgentLog context facts: {harness.machine()}, agentlog {version} from {package}; "
          f"tokens counted with {counter_name}; budgets {', '.join(map(str, BUDGETS))}")  # fmt: skip
    if cases:
        synthetic(cases, count, opts)
    if cases and bugs:
        print()
    if bugs:
        real(bugs, count, opts)
    return 0


if __name__ == "__main__":
    raise SystemExit(harness.run(main, "context_bench.py"))
