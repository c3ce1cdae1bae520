"""The package's layout: one package per stage, and a lower stage never imports a higher one.

Every ``agentlog`` import is counted, module-level or inside a function, since a
deferred import is still a dependency. docs/DESIGN.md lists the stages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import agentlog

ROOT = Path(agentlog.__file__).parent

# Lowest first. A module may import its own stage and the stages before it.
STAGES = ["core", "store", "work", "history", "capture", "runtime", "context", "integrations", "commands"]
# __version__ is the root package's one eager name (every import initialises the root anyway);
# _tracer is the compiled hot path of runtime/, built from src_c/.
NOT_MODULES = {"agentlog.__version__", "agentlog._tracer"}
TOP = {"agentlog", "agentlog.cli", "agentlog.__main__"}  # the public face: may import anything


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def resolve(name: str) -> str:
    """The module an imported name lives in: ``agentlog.core.selflog`` for ``from agentlog.core import selflog``."""
    while name not in MODULES and name.count("."):
        name = name.rpartition(".")[0]
    return name


def imports_of(module: str) -> set[str]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(resolve(n) for n in names if n.startswith("agentlog.") and n not in NOT_MODULES)
    found.discard(module)
    return {m for m in found if m in MODULES}


GRAPH = {m: imports_of(m) for m in MODULES}


def stage(module: str) -> int:
    if module in TOP:
        return len(STAGES)
    return STAGES.index(module.split(".")[1])


def test_every_module_belongs_to_a_stage() -> None:
    strays = [m for m in MODULES if m not in TOP and m.split(".")[1] not in STAGES]
    assert strays == []


def test_no_stage_imports_a_later_stage() -> None:
    upward = sorted(f"{m} imports {t}" for m, targets in GRAPH.items() for t in targets if stage(t) > stage(m))
    assert upward == []


def test_no_import_cycles() -> None:
    # A package's __init__ importing its own submodules is how a package re-exports; not a cycle.
    edges = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in GRAPH.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target):], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert cycles == []


def test_the_checker_sees_deferred_imports() -> None:
    # The graph must include imports made inside functions, or the two tests above prove little.
    assert "agentlog.commands.run" in GRAPH["agentlog.cli"]  # imported inside main()
