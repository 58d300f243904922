"""What loading the pytest-agentops plugin adds to pytest start-up.

Usage: python benchmarks/bench_import.py [--quick]

1. ``python -X importtime``: the plugin module's import, ours vs what it pulls in (median of runs).
2. ``sys.modules`` after importing the plugin: vcr, respx and hypothesis must not be there.
3. Whole-process ``pytest --collect-only -q`` on a tiny test file, with ``-p no:agentops`` and with
   the plugin, alternating, median of >= 10 runs each. Target: under 150 ms added.
4. For information: a whole ``pytest`` run of trivial tests, where the plugin's autouse fixture opens
   the tap (importing vcrpy and the HTTP clients it patches on the first test).
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

TARGET_MS = 150.0
MUST_NOT_IMPORT = ("vcr", "respx", "hypothesis")
ALSO_SHOWN = ("httpx", "httpx2", "requests", "urllib3", "aiohttp", "yaml", "pydantic", "freezegun", "openai")

TINY_TESTS = """\
def test_one():
    assert 1 + 1 == 2


def test_two():
    assert "a".upper() == "A"


def test_three():
    assert sorted([3, 1, 2]) == [1, 2, 3]
"""

MANY_TESTS = """\
import pytest


@pytest.mark.parametrize("i", range(300))
def test_n(i):
    assert i >= 0
"""


@dataclass
class Node:
    name: str
    self_us: int
    cumulative_us: int
    children: list[Node] = field(default_factory=list)


def parse_importtime(stderr: str) -> list[Node]:
    """The import tree ``-X importtime`` printed (children are printed before their parent)."""
    pending: dict[int, list[Node]] = {}
    roots: list[Node] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        self_us, cumulative_us, raw = line[len("import time:") :].split("|", 2)
        level = (len(raw) - len(raw.lstrip(" ")) - 1) // 2
        node = Node(raw.strip(), int(self_us), int(cumulative_us), pending.pop(level + 1, []))
        pending.setdefault(level, []).append(node)
        if level == 0:
            roots.append(node)
    return roots


def importtime(code: str) -> list[Node]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True)
    return parse_importtime(proc.stderr)


def ours(name: str) -> bool:
    return name.split(".")[0] == "pytest_agentops"


def attribute(roots: list[Node]) -> tuple[dict[str, float], list[tuple[str, int]]]:
    """Split the time of the import trees rooted at our modules: our own code, pytest, other libraries.

    Also returns who it is spent on: each of our modules by its self time, each library it pulls in
    by that library's cumulative time.
    """
    totals = {"total": 0.0, "own": 0.0, "pytest": 0.0, "other": 0.0}
    spent: list[tuple[str, int]] = []

    def visit(node: Node) -> None:
        if ours(node.name):
            totals["own"] += node.self_us
            spent.append((node.name, node.self_us))
            for child in node.children:
                visit(child)
        elif node.name.split(".")[0] in ("pytest", "_pytest"):
            totals["pytest"] += node.cumulative_us
        else:
            totals["other"] += node.cumulative_us
            spent.append((node.name + " (library)", node.cumulative_us))

    for root in roots:
        if ours(root.name):
            totals["total"] += root.cumulative_us
            visit(root)
    return totals, spent


def run_pytest(cwd: Path, args: list[str]) -> tuple[float, float]:
    """One pytest process: (wall seconds, CPU seconds user+system)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"pytest {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


@dataclass
class Pair:
    """Processes without the plugin and with it: (wall, CPU) seconds per process."""

    without: list[tuple[float, float]] = field(default_factory=list)
    with_: list[tuple[float, float]] = field(default_factory=list)

    def median(self, which: str, index: int) -> float:
        return statistics.median(r[index] for r in (self.without if which == "without" else self.with_))

    def minimum(self, which: str, index: int) -> float:
        return min(r[index] for r in (self.without if which == "without" else self.with_))

    def added(self, index: int) -> float:
        return self.median("with", index) - self.median("without", index)


def alternate(cwd: Path, args: list[str], runs: int) -> Pair:
    """``runs`` processes without the plugin and ``runs`` with it, alternating which goes first."""
    pair = Pair()
    run_pytest(cwd, ["-p", "no:agentops", *args])  # warm the file cache
    run_pytest(cwd, args)
    for i in range(runs):
        order = [("without", ["-p", "no:agentops", *args]), ("with", args)]
        for label, argv in order if i % 2 == 0 else reversed(order):
            (pair.without if label == "without" else pair.with_).append(run_pytest(cwd, argv))
    return pair


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    runs = 10 if args.quick else 15
    wall = time.perf_counter()
    print(f"import / start-up benchmark (python {sys.version.split()[0]}, {os.cpu_count()} cpu(s))\n")

    # 1. -X importtime
    reps = 5 if args.quick else 9
    print(f"1. python -X importtime (median of {reps} processes, ms)")
    for label, code in (
        ("import pytest_agentops.plugin", "import pytest_agentops.plugin"),
        ("same, pytest already imported (as under pytest)", "import pytest; import pytest_agentops.plugin"),
    ):
        results = [attribute(importtime(code)) for _ in range(reps)]

        def med(key: str, results: list[tuple[dict[str, float], list[tuple[str, int]]]] = results) -> float:
            return statistics.median(r[0][key] for r in results) / 1000

        print(
            f"   {label}:\n      our modules, cumulative {med('total'):6.1f} = own code {med('own'):5.1f}"
            f" + pytest {med('pytest'):6.1f} + other libraries {med('other'):5.1f}"
        )
        if "already" in label:
            plugin_total = med("total")
            by_name: dict[str, list[int]] = {}
            for _, spent in results:
                for name, us in spent:
                    by_name.setdefault(name, []).append(us)
            top = sorted(by_name.items(), key=lambda kv: statistics.median(kv[1]), reverse=True)[:8]
            print("      heaviest: " + ", ".join(f"{name} {statistics.median(v) / 1000:.1f}" for name, v in top))

    # 2. sys.modules
    code = (
        "import json, sys; import pytest; before = set(sys.modules); import pytest_agentops.plugin; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    added = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    tops = {m.split(".")[0] for m in added}
    leaked = [m for m in MUST_NOT_IMPORT if m in tops]
    print("\n2. modules the plugin import adds to sys.modules (pytest already imported):")
    print("   " + ", ".join(sorted(tops)))
    print(
        f"   [{'PASS' if not leaked else 'FAIL'}] not imported by loading the plugin: "
        + ", ".join(f"{m} {'IMPORTED' if m in tops else 'no'}" for m in MUST_NOT_IMPORT)
    )
    print(
        "   also not imported: "
        + ", ".join(m for m in ALSO_SHOWN if m not in tops)
        + ("; imported: " + ", ".join(m for m in ALSO_SHOWN if m in tops) if any(m in tops for m in ALSO_SHOWN) else "")
    )

    with tempfile.TemporaryDirectory(prefix="agentops-import-") as tmp:
        root = Path(tmp)
        (root / "pytest.ini").write_text("[pytest]\n")
        (root / "test_tiny.py").write_text(TINY_TESTS)
        (root / "test_many.py").write_text(MANY_TESTS)

        # 3. whole process, collect only
        collect = alternate(root, ["--collect-only", "test_tiny.py"], runs)
        added_s = collect.added(0)
        print(f"\n3. whole process: pytest --collect-only -q test_tiny.py ({runs} runs each, alternating)")
        for which, label in (("without", "-p no:agentops "), ("with", "with the plugin")):
            print(
                f"   {label}  wall median {ms(collect.median(which, 0))} (min {ms(collect.minimum(which, 0))}), "
                f"CPU median {ms(collect.median(which, 1))}"
            )
        print(
            f"   [{'PASS' if added_s * 1000 < TARGET_MS else 'FAIL'}] added by the plugin: {ms(added_s)} wall "
            f"(target < {TARGET_MS:.0f} ms); {ms(collect.added(1))} CPU"
        )

        # 4. whole process, running trivial tests (the tap opens for every test)
        small = max(4, runs // 2)
        few = alternate(root, ["test_tiny.py"], small)
        many = alternate(root, ["test_many.py"], max(3, small // 2))
        per_test = (many.added(1) - few.added(1)) / (300 - 3)
        print("\n4. for information: whole process running trivial tests (no HTTP), CPU time medians")
        print(
            f"   3 tests:   {ms(few.median('without', 1))} without, {ms(few.median('with', 1))} with "
            f"-> {ms(few.added(1))} added (includes importing vcrpy + the HTTP clients at the first test)"
        )
        print(
            f"   300 tests: {ms(many.median('without', 1))} without, {ms(many.median('with', 1))} with "
            f"-> {ms(many.added(1))} added, about {per_test * 1e6:,.0f} us per test for opening/closing the tap"
        )

    print(
        f"\nsummary: plugin import {plugin_total:.1f} ms (-X importtime, under pytest), "
        f"collect-only start-up +{added_s * 1000:.0f} ms wall, "
        f"vcr/respx/hypothesis imported: {', '.join(leaked) or 'none'}"
    )
    print(f"total {time.perf_counter() - wall:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
