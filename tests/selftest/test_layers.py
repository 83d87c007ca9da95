"""The layers stay layers: no import cycle among the project's modules, and every arrow points down.

Read from the code with `ast` (every import statement, also those inside
functions), so anyone can check it: `pytest tests/selftest/test_layers.py`.
The order (DESIGN.md): contracts -> strategies -> harness -> tests; inside
harness: transport and recording sit on the contract's data model, reporting
reads records and never imports pytest, the pytest integration sits on top.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("contracts", "strategies", "harness", "mock", "benchmarks", "tests")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "__pycache__" not in path.parts:
                found[_module_name(path)] = path
    return found


MODULES = _modules()


def _target(name: str) -> str | None:
    """The project module an import names (the longest known prefix), or None for a library."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return None


def imports_of(module: str) -> set[str]:
    """Project modules `module` imports, at the top or inside functions."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from package import submodule` names the submodule; any other name comes from the module itself.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        for name in names:
            target = _target(name)
            if target is not None and target != module:
                found.add(target)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in GRAPH.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle() -> None:
    assert _cycles() == []


# (importer prefix, forbidden import prefixes, why)
RULES = [
    ("contracts", ("strategies", "harness", "mock", "tests", "benchmarks"), "the contract is the bottom layer"),
    ("strategies", ("harness", "mock", "tests", "benchmarks"), "what we send is derived from the contract only"),
    ("mock", ("strategies", "harness", "tests", "benchmarks"), "the reference server knows only the contract"),
    ("harness", ("tests", "benchmarks"), "the harness serves the tests, not the other way round"),
    ("harness.transport", ("harness.recording", "harness.reporting", "harness.plugin", "harness.bridge",
                           "harness.conformance", "harness.verdict"), "transport sends; it records nothing"),
    ("harness.recording", ("harness.transport", "harness.reporting", "harness.plugin", "harness.bridge",
                           "harness.conformance"), "records are written from the data model alone"),
    ("harness.reporting", ("harness.transport", "harness.recording", "harness.plugin", "harness.bridge",
                           "harness.conformance"), "views are built from records, by reading them"),
    ("harness.bridge", ("harness.plugin",), "the bridge is used by the pytest integration, not the reverse"),
]


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize("importer, forbidden, why", RULES, ids=[r[0] for r in RULES])
def test_every_arrow_points_down(importer: str, forbidden: tuple[str, ...], why: str) -> None:
    wrong = sorted(f"{module} -> {target}" for module, targets in GRAPH.items() if _under(module, importer)
                   for target in targets if any(_under(target, f) for f in forbidden))
    assert not wrong, f"{why}: " + ", ".join(wrong)


def test_reporting_never_imports_pytest() -> None:
    for module, path in MODULES.items():
        if _under(module, "harness.reporting"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            names |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
            assert "pytest" not in names and "_pytest" not in names, module


def test_importing_strategies_loads_nothing_of_harness() -> None:
    code = "import sys, strategies; print(sorted(m for m in sys.modules if m.split('.')[0] in ('harness', 'tests')))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_graph_is_not_empty() -> None:
    """The reader works: it sees the arrows we know are there."""
    assert "contracts.loader" in GRAPH["contracts.checks.registry"]
    assert "harness.transport.session" in GRAPH["harness.transport.client"]
    assert "harness.recording.events" in GRAPH["harness.plugin.hooks"] or "harness.recording" in GRAPH["harness.plugin.hooks"]
