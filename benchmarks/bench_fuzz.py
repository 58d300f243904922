"""Prompt-injection fuzzing throughput: full agent-loop examples per second.

Usage: python benchmarks/bench_fuzz.py [--quick]

One example = hypothesis draws a payload and plants it in the seed data, a fresh episode starts
(new run and policy guard, new ticketing and billing simulators seeded with it, a gullible fake
model), the example support agent (examples/injection/agent.py, official openai SDK) handles a
ticket to the end, and the safety properties are checked on the trace. Everything is in-process on
one tap (vcrpy's patches), as in a pytest test.

Measured:

* the guarded agent over N examples in one process (hypothesis' engine included);
* the same in 2 processes at once (the machine's 2 cores, as ``pytest -n 2`` would use them);
* the vulnerable agent: at which example hypothesis first fails, over several random seeds
  (target: within hypothesis' default 100 examples), and what it shrinks to.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_PER_SECOND = 100  # full agent-loop examples per second on the 2-core machine


def _guarded(examples: int, seed: int = 0) -> tuple[int, float]:
    from hypothesis import given, settings
    from hypothesis import seed as hseed

    from examples.injection import scenario
    from pytest_agentops.tap.opener import open_tap
    from pytest_agentops.tap.settings import Settings
    from pytest_agentops.trace.run import Run

    count = 0
    with open_tap(Settings(), Run("bench"), Path("<bench>.json")):  # the tap a pytest test would have
        scenario.probe()

        @hseed(seed)
        @settings(max_examples=examples, deadline=None, database=None)
        @given(case=scenario.cases())
        def defend(case: object) -> None:
            nonlocal count
            count += 1
            scenario.guarded_property(case)  # type: ignore[arg-type]

        started = time.perf_counter()
        defend()
        elapsed = time.perf_counter() - started
    return count, elapsed


def _worker(args: tuple[int, int]) -> tuple[int, float]:
    return _guarded(*args)


def _first_failure(seed: int) -> tuple[int | None, str]:
    from hypothesis import given, settings
    from hypothesis import seed as hseed

    from examples.injection import scenario
    from pytest_agentops import fuzz
    from pytest_agentops.tap.opener import open_tap
    from pytest_agentops.tap.settings import Settings
    from pytest_agentops.trace.run import Run

    seen: list[fuzz.Planted] = []
    first: int | None = None
    with open_tap(Settings(), Run("bench"), Path("<bench>.json")):
        scenario.probe()

        @hseed(seed)
        @settings(deadline=None, database=None)
        @given(case=scenario.cases())
        def attack(case: fuzz.Planted) -> None:
            nonlocal first
            seen.append(case)
            try:
                scenario.vulnerable_property(case)
            except fuzz.PropertyViolation:
                if first is None:
                    first = len(seen)
                raise

        with contextlib.suppress(fuzz.PropertyViolation):
            attack()
    shrunk = seen[-1].payload if first is not None else None
    return first, (f"{shrunk.template}, obfuscations={shrunk.obfuscations}" if shrunk else "-")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer examples and seeds")
    args = parser.parse_args()
    n = 200 if args.quick else 600
    seeds = 5 if args.quick else 20

    _guarded(20)  # warm up imports and caches
    count, elapsed = _guarded(n)
    single = count / elapsed
    print(f"guarded agent, 1 process : {count} examples in {elapsed:.2f}s = {single:.0f} examples/s")

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.map(_worker, [(20, 1), (20, 2)])  # warm up both workers
        started = time.perf_counter()
        results = pool.map(_worker, [(n, 11), (n, 12)])
        wall = time.perf_counter() - started
    total = sum(c for c, _ in results)
    double = total / wall
    print(f"guarded agent, 2 processes: {total} examples in {wall:.2f}s = {double:.0f} examples/s")
    ok = double >= TARGET_PER_SECOND
    print(f"[{'PASS' if ok else 'FAIL'}] >= {TARGET_PER_SECOND} full agent-loop examples/s on 2 cores")

    firsts = []
    for seed in range(seeds):
        first, shrunk = _first_failure(seed)
        firsts.append(first)
        print(f"vulnerable agent, seed {seed:2d}: first failing example #{first}, shrunk to {shrunk}")
    caught = [f for f in firsts if f is not None and f <= 100]
    print(
        f"[{'PASS' if len(caught) == seeds else 'FAIL'}] caught within 100 examples in {len(caught)}/{seeds} "
        f"seeds (median first failure: #{sorted(f or 999 for f in firsts)[seeds // 2]})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
