"""``pytest_agentops/fuzz/`` stands on public ground: it reads no private name of code it did not write.

The fuzzer is a client of the tap, the cassette and the policy (docs/how-it-works.md, "Import
rules": fuzz uses public APIs only), so a change inside those never breaks it silently. Checked
on the source text with ``ast``, as ``tests/test_import_rules.py`` checks imports:

- ``obj._name`` (read, written or deleted) is allowed only when some module of the package defines
  ``_name``: a module-level name, a class attribute or method, or ``self._name = ...`` in a method;
- ``from elsewhere import _name`` is never allowed (from a module of the package it is).

Dunder names (``__name__``) are public. The check goes by name, not by type: a foreign object's
``_x`` passes when the package defines a ``_x`` of its own, so keep private names distinct.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "pytest_agentops" / "fuzz"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _trees(package: Path) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(package.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _targets(node: ast.AST) -> Iterator[ast.expr]:
    if isinstance(node, ast.Assign):
        yield from node.targets
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        yield node.target


def _names_of(targets: list[ast.expr]) -> Iterator[str]:
    for target in targets:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                yield node.id


def _on_self(target: ast.expr) -> bool:
    """``self.<name>`` or ``cls.<name>``: an attribute the method's own class defines."""
    return (
        isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id in ("self", "cls")
    )


def _defined(body: list[ast.stmt]) -> Iterator[str]:
    """Names a module or class body binds: functions, classes, assignments, imports, and in each
    method the ``self.<name>`` / ``cls.<name>`` it assigns."""
    for stmt in body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield stmt.name
        if isinstance(stmt, ast.ClassDef):
            yield from _defined(stmt.body)
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(stmt):
                yield from (target.attr for target in _targets(node) if _on_self(target))
        yield from _names_of(list(_targets(stmt)))
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            yield from (alias.asname or alias.name.split(".")[0] for alias in stmt.names)


def _module(package: Path, path: Path) -> str:
    rel = path.relative_to(package.parent.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _source_module(node: ast.ImportFrom, here: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = here.split(".") if is_package else here.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def private_access(package: Path) -> list[str]:
    """Each access in ``package`` to a private name it does not define: ``file:line: what``."""
    trees = list(_trees(package))
    own = {name for _, tree in trees for name in _defined(tree.body) if _private(name)}
    inside = _module(package, package / "__init__.py")
    found = []
    for path, tree in trees:
        here = _module(package, path)
        where = path.relative_to(package.parent.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in own:
                found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
            elif isinstance(node, ast.ImportFrom):
                source = _source_module(node, here, path.name == "__init__.py")
                if source == inside or source.startswith(inside + "."):
                    continue
                found.extend(
                    f"{where}:{node.lineno}: from {source} import {alias.name}"
                    for alias in node.names
                    if _private(alias.name)
                )
    return sorted(found, key=lambda line: (line.split(":")[0], int(line.split(":")[1])))


def test_fuzz_reads_no_private_name_of_other_modules() -> None:
    assert len(list(FUZZ.glob("*.py"))) > 5, "the fuzz package moved: point FUZZ at it"
    found = private_access(FUZZ)
    assert not found, "pytest_agentops/fuzz/ uses private names of code it did not define:\n  " + "\n  ".join(found)


def test_a_planted_private_access_is_found(tmp_path: Path) -> None:
    package = tmp_path / "pkg" / "fuzz"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from pkg.fuzz.mine import _helper as _helper\n", encoding="utf-8")
    (package / "mine.py").write_text(
        "from pkg.tap import Tap, _route\n"
        "from . import _own\n"
        "_own = 1\n"
        "\n"
        "def _helper(tap: Tap) -> None:\n"
        "    tap._origins()\n"  # a private method of the tap
        "    tap._cassette_origins = None\n"  # a private attribute, written
        "    x = Box()\n"
        "    x._kept.append(tap.__class__.__name__)\n"  # defined below: its own
        "\n"
        "class Box:\n"
        "    def __init__(self) -> None:\n"
        "        self._kept: list[str] = []\n",
        encoding="utf-8",
    )
    assert private_access(package) == [
        "pkg/fuzz/mine.py:1: from pkg.tap import _route",
        "pkg/fuzz/mine.py:6: tap._origins",
        "pkg/fuzz/mine.py:7: tap._cassette_origins",
    ]
