"""The import rules of docs/how-it-works.md, checked on the source text (nothing is imported).

Every module of ``pytest_agentops/`` and ``simulators/`` is parsed with ``ast`` and its imports
become edges of one graph. An import at module level (or in a class body) is a *runtime* edge: it
runs when the module is first imported. An import inside a function is *lazy*: it runs when the
function is called. Imports under ``if TYPE_CHECKING:`` never run and are not edges. A call
``importlib.import_module("a.constant.name")`` is a lazy edge too (a computed name is not seen).

The rules, one test each, and for each a test that the checker catches a planted violation:

- no import cycle among the runtime edges (lazy edges may close a loop: they run later);
- ``pytest_agentops.trace`` imports nothing else of the package, not even lazily;
- nothing imports ``pytest_agentops.plugin`` but the plugin itself (pytest loads it by its entry
  point), not even lazily;
- ``simulators`` never imports ``pytest_agentops``;
- layers: an import (runtime or lazy) never goes up a tier (``TIERS``); a new subpackage must be
  given a tier before it can import anything.

``python tests/test_import_rules.py`` prints the graph's cross-package edges, runtime and lazy apart.
"""

from __future__ import annotations

import ast
import functools
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pytest_agentops", "simulators")

# Bottom to top (docs/how-it-works.md, "Import rules"). A module belongs to the longest prefix
# listed; an import may go to its own tier or a lower one, never up.
TIERS: dict[str, int] = {
    "pytest_agentops.trace": 0,  # data: Run, Event, the request and verdict, providers, prices
    "pytest_agentops._version": 0,
    "pytest_agentops._moved": 0,
    "pytest_agentops.tap": 1,
    "pytest_agentops.backends": 1,
    "pytest_agentops.cassette": 1,
    "pytest_agentops.policy": 1,
    "pytest_agentops.readers": 1,
    "pytest_agentops.mcp": 1,
    "pytest_agentops.fuzz": 2,  # public APIs of the tiers below
    "pytest_agentops.cli": 2,
    "pytest_agentops.plugin": 2,
    "pytest_agentops": 2,  # the package's facade (its __init__): nothing below imports it
}


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``target`` at ``line``; ``lazy`` when the import is inside a function."""

    source: str
    target: str
    line: int
    lazy: bool

    def __str__(self) -> str:
        return f"{self.source}:{self.line} -> {self.target}{' (lazy)' if self.lazy else ''}"


@dataclass
class Graph:
    modules: dict[str, Path] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def runtime(self) -> list[Edge]:
        return [e for e in self.edges if not e.lazy]

    def lazy(self) -> list[Edge]:
        return [e for e in self.edges if e.lazy]


def _module_name(root: Path, path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Imports(ast.NodeVisitor):
    """Collects (dotted name, line, lazy) for every import statement that can run."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.package = module if is_package else module.rpartition(".")[0]
        self.depth = 0
        # (module, name imported from it or None, line, lazy)
        self.found: list[tuple[str, str | None, int, bool]] = []

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [(alias.name, None, node.lineno, self.depth > 0) for alias in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            parts = self.package.split(".")
            parts = parts[: len(parts) - (node.level - 1)]
            base = ".".join([*parts, base] if base else parts)
        self.found += [(base, alias.name, node.lineno, self.depth > 0) for alias in node.names]

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        for stmt in node.orelse:  # only the else branch of ``if TYPE_CHECKING:`` runs
            self.visit(stmt)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        first = node.args[0] if node.args else None
        if name in ("import_module", "__import__") and isinstance(first, ast.Constant) and isinstance(first.value, str):
            self.found.append((first.value, None, node.lineno, True))
        self.generic_visit(node)


def _resolve(module: str, name: str | None, modules: dict[str, Path]) -> str:
    """The module an import lands in: ``from a import b`` is the module ``a.b`` when there is one, else
    ``a``; a name of ours that is no module is its longest known prefix; anything else stays as it is."""
    if name is not None and f"{module}.{name}" in modules:
        return f"{module}.{name}"
    probe = module
    while probe:
        if probe in modules:
            return probe
        probe = probe.rpartition(".")[0]
    return module


def build_graph(root: Path, packages: Sequence[str] = PACKAGES) -> Graph:
    """Parse every ``.py`` under ``root/<package>`` and return its import graph."""
    graph = Graph()
    parsed: list[tuple[str, bool, ast.Module]] = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            name, is_package = _module_name(root, path)
            graph.modules[name] = path
            parsed.append((name, is_package, ast.parse(path.read_text(encoding="utf-8"), str(path))))
    for name, is_package, tree in parsed:
        collector = _Imports(name, is_package)
        collector.visit(tree)
        seen: set[tuple[str, bool]] = set()
        for module, imported, line, lazy in collector.found:
            target = _resolve(module, imported, graph.modules)
            if target == name or (target, lazy) in seen:
                continue
            seen.add((target, lazy))
            graph.edges.append(Edge(name, target, line, lazy))
    return graph


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# ---- the rules: each returns what breaks it (empty when it holds) ---------------------------------


def cycles(graph: Graph) -> list[list[str]]:
    """Runtime import cycles: each strongly connected set of modules, as one loop through it."""
    succ: dict[str, list[str]] = {m: [] for m in graph.modules}
    for edge in graph.runtime():
        if edge.target in succ:
            succ[edge.source].append(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in succ[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            members = []
            while True:
                member = stack.pop()
                members.append(member)
                if member == node:
                    break
            if len(members) > 1:
                found.append(_loop(sorted(members), succ))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(succ) + 100))
    try:
        for node in succ:
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return found


def _loop(members: list[str], succ: dict[str, list[str]]) -> list[str]:
    """One loop through a strongly connected set, from its first member back to it (for the message)."""
    allowed, start = set(members), members[0]
    paths: dict[str, list[str]] = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in succ[node]:
            if nxt == start:
                return [*paths[node], start]
            if nxt in allowed and nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    return members  # unreachable for a strongly connected set


def trace_imports(graph: Graph) -> list[Edge]:
    """Imports from ``pytest_agentops.trace`` into the rest of the package (lazy ones included)."""
    return [
        e
        for e in graph.edges
        if _inside(e.source, "pytest_agentops.trace")
        and _inside(e.target, "pytest_agentops")
        and not _inside(e.target, "pytest_agentops.trace")
    ]


def plugin_importers(graph: Graph) -> list[Edge]:
    """Imports of ``pytest_agentops.plugin`` from outside it (lazy ones included)."""
    return [
        e
        for e in graph.edges
        if _inside(e.target, "pytest_agentops.plugin") and not _inside(e.source, "pytest_agentops.plugin")
    ]


def simulator_imports(graph: Graph) -> list[Edge]:
    """Imports of ``pytest_agentops`` from ``simulators`` (lazy ones included)."""
    return [e for e in graph.edges if _inside(e.source, "simulators") and _inside(e.target, "pytest_agentops")]


def tier(module: str, tiers: dict[str, int] = TIERS) -> int | None:
    """The tier of the longest listed prefix; a top-level name (the facade) stands for itself only."""
    best = max((p for p in tiers if p == module or ("." in p and _inside(module, p))), key=len, default=None)
    return None if best is None else tiers[best]


def layer_breaks(graph: Graph, tiers: dict[str, int] = TIERS) -> list[str]:
    """Imports that go up a tier, and imports from a ``pytest_agentops`` module that has no tier."""
    found = []
    for e in graph.edges:
        if not (_inside(e.source, "pytest_agentops") and _inside(e.target, "pytest_agentops")):
            continue
        here, there = tier(e.source, tiers), tier(e.target, tiers)
        if here is None or there is None:
            found.append(f"{e}: {e.source if here is None else e.target} has no tier in TIERS")
        elif there > here:
            found.append(f"{e}: tier {here} imports tier {there}")
    return found


# ---- the rules hold on the code --------------------------------------------------------------------


def _lines(items: Iterable[object]) -> str:
    return "\n  ".join(str(item) for item in items)


@functools.cache
def _code() -> Graph:
    graph = build_graph(ROOT)
    assert "pytest_agentops.trace.run" in graph.modules and "simulators.core.registry" in graph.modules
    assert len(graph.runtime()) > 100 and graph.lazy(), "the graph is nearly empty: the parser lost imports"
    return graph


def test_no_runtime_import_cycles() -> None:
    found = cycles(_code())
    loops = (" -> ".join(c) for c in found)
    assert not found, "runtime import cycles (make one edge go down a layer):\n  " + _lines(loops)


def test_trace_imports_nothing_else_of_the_package() -> None:
    found = trace_imports(_code())
    assert not found, "pytest_agentops.trace is the bottom layer; it imports:\n  " + _lines(found)


def test_nothing_imports_the_plugin() -> None:
    found = plugin_importers(_code())
    assert not found, "pytest_agentops.plugin is imported (pass what is needed down instead):\n  " + _lines(found)


def test_simulators_never_import_pytest_agentops() -> None:
    found = simulator_imports(_code())
    assert not found, "simulators must work without pytest_agentops:\n  " + _lines(found)


def test_imports_never_go_up_a_layer() -> None:
    found = layer_breaks(_code())
    assert not found, "imports going up a layer:\n  " + _lines(found)


# ---- the checker catches what it should (planted trees and graphs) ---------------------------------


def _tree(root: Path, files: dict[str, str]) -> Graph:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return build_graph(root)


def test_the_parser_tells_runtime_lazy_and_type_checking_imports_apart(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "pytest_agentops/__init__.py": "",
            "pytest_agentops/trace/__init__.py": "from . import run\n",
            "pytest_agentops/trace/run.py": "import json\n",
            "pytest_agentops/policy/__init__.py": "",
            "pytest_agentops/policy/engine.py": (
                "from typing import TYPE_CHECKING\n"
                "from ..trace.run import Event\n"
                "if TYPE_CHECKING:\n"
                "    from pytest_agentops.readers import figures\n"
                "else:\n"
                "    import pytest_agentops.readers.assertions\n"
                "class Guard:\n"
                "    from pytest_agentops.cassette import format\n"
                "    def check(self):\n"
                "        from pytest_agentops.tap import core\n"
                "        import importlib\n"
                "        importlib.import_module('pytest_agentops.backends.sims')\n"
            ),
            "pytest_agentops/readers/__init__.py": "",
            "pytest_agentops/readers/assertions.py": "",
            "pytest_agentops/readers/figures.py": "",
            "pytest_agentops/cassette/__init__.py": "",
            "pytest_agentops/cassette/format.py": "",
            "pytest_agentops/tap/__init__.py": "",
            "pytest_agentops/tap/core.py": "",
            "pytest_agentops/backends/__init__.py": "",
            "pytest_agentops/backends/sims.py": "",
            "simulators/__init__.py": "",
        },
    )
    got = {(e.target, e.lazy) for e in graph.edges if e.source == "pytest_agentops.policy.engine"}
    assert got == {
        ("typing", False),
        ("pytest_agentops.trace.run", False),  # relative, two levels up
        ("pytest_agentops.readers.assertions", False),  # the else branch of TYPE_CHECKING runs
        ("pytest_agentops.cassette.format", False),  # a class body runs at import
        ("pytest_agentops.tap.core", True),
        ("importlib", True),
        ("pytest_agentops.backends.sims", True),  # import_module with a constant name
    }
    assert ("pytest_agentops.trace", "pytest_agentops.trace.run") in {(e.source, e.target) for e in graph.edges}


def test_a_planted_cycle_is_found_and_a_lazy_loop_is_not(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "pytest_agentops/__init__.py": "",
            "pytest_agentops/a.py": "from pytest_agentops import b\n",
            "pytest_agentops/b.py": "import pytest_agentops.c\n",
            "pytest_agentops/c.py": "from pytest_agentops.a import x\n",
            "pytest_agentops/d.py": "import pytest_agentops.e\n",
            "pytest_agentops/e.py": "def f():\n    import pytest_agentops.d\n",
        },
    )
    assert cycles(graph) == [["pytest_agentops.a", "pytest_agentops.b", "pytest_agentops.c", "pytest_agentops.a"]]


def test_a_planted_trace_import_is_found_even_when_lazy() -> None:
    graph = Graph(
        modules={m: Path() for m in ("pytest_agentops.trace.run", "pytest_agentops.trace.sse")},
        edges=[
            Edge("pytest_agentops.trace.run", "pytest_agentops.trace.sse", 1, False),
            Edge("pytest_agentops.trace.run", "json", 2, False),
            Edge("pytest_agentops.trace.run", "pytest_agentops.readers", 9, True),
        ],
    )
    assert [str(e) for e in trace_imports(graph)] == ["pytest_agentops.trace.run:9 -> pytest_agentops.readers (lazy)"]


def test_a_planted_plugin_import_is_found_and_the_plugin_may_import_itself() -> None:
    graph = Graph(
        edges=[
            Edge("pytest_agentops.plugin", "pytest_agentops.plugin.tapping", 1, False),
            Edge("pytest_agentops.plugin.checks", "pytest_agentops.plugin.gating", 3, True),
            Edge("pytest_agentops.tap", "pytest_agentops.plugin.checks", 379, True),
            Edge("pytest_agentops.pluginx", "pytest_agentops.trace", 1, False),  # a prefix is not the package
        ]
    )
    assert [(e.source, e.line) for e in plugin_importers(graph)] == [("pytest_agentops.tap", 379)]


def test_a_planted_simulator_import_of_the_package_is_found(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "pytest_agentops/__init__.py": "",
            "simulators/__init__.py": "from simulators.core import registry\n",
            "simulators/core/__init__.py": "",
            "simulators/core/registry.py": "def f():\n    from pytest_agentops import tool\n",
        },
    )
    assert [(e.source, e.target, e.lazy) for e in simulator_imports(graph)] == [
        ("simulators.core.registry", "pytest_agentops", True)
    ]


def test_a_planted_upward_import_and_an_unplaced_package_are_found() -> None:
    graph = Graph(
        edges=[
            Edge("pytest_agentops.tap.core", "pytest_agentops.policy.engine", 1, False),  # same tier
            Edge("pytest_agentops.plugin", "pytest_agentops.tap", 2, False),  # down
            Edge("pytest_agentops.cassette.owners", "pytest_agentops.cli", 7, True),  # up
            Edge("pytest_agentops.newthing.x", "pytest_agentops.trace", 1, False),  # no tier
            Edge("pytest_agentops.readers.otel", "opentelemetry.trace", 3, False),  # outside: not judged
        ]
    )
    found = layer_breaks(graph)
    assert found == [
        "pytest_agentops.cassette.owners:7 -> pytest_agentops.cli (lazy): tier 1 imports tier 2",
        "pytest_agentops.newthing.x:1 -> pytest_agentops.trace: pytest_agentops.newthing.x has no tier in TIERS",
    ]
    assert tier("pytest_agentops.newthing.x", {"pytest_agentops.trace": 0}) is None


def _report(graph: Graph) -> Iterator[str]:
    """The cross-package edges, runtime then lazy (the lazy ones are allowed; they are shown to be seen)."""

    def area(module: str) -> str:
        return ".".join(module.split(".")[:2])

    for label, edges in (("runtime", graph.runtime()), ("lazy", graph.lazy())):
        pairs: dict[tuple[str, str], int] = {}
        for e in edges:
            if e.target in graph.modules and area(e.source) != area(e.target):
                pairs[area(e.source), area(e.target)] = pairs.get((area(e.source), area(e.target)), 0) + 1
        yield f"{label} imports between packages ({sum(pairs.values())}):"
        yield from (f"  {a} -> {b}  x{n}" for (a, b), n in sorted(pairs.items()))


if __name__ == "__main__":
    print("\n".join(_report(build_graph(ROOT))))
