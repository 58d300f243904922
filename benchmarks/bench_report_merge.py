"""How long ``agentops report merge`` takes for N CI shards, against the bare floor of the same job.

Usage: python benchmarks/bench_report_merge.py [--quick]

The suite: 2,000 tests (``--quick``: 400), each a support conversation built by bench_report.py's
``build_run`` (1-4 model turns with tool calls, some denials, loops, failures and escalations),
dealt round-robin to S shards (8; ``--quick``: 4). Each shard is written as the plugin writes it:
its trace files (``tracefile.write_trace``, payloads in ``payloads/``) and its report
(``scorecard.figures`` per test, ``scorecard.build``, ``report.write``, with ``trace_dir``).

Timed in the same run, median of 5, wall clock:

* **merge, reports only**: ``merge.merge`` on the S reports (no trace folders recorded): load and
  check each report, refuse overlapping tests, re-aggregate every test with ``scorecard.build``,
  then ``report.write``;
* **floor, reports only**: what no merge can skip: ``json.loads`` of each file, the test lists
  concatenated, one ``json.dumps`` written (no checks, no aggregation: a wrong scorecard);
* **merge, with traces**: the same plus copying every shard's trace folder into one (each file
  compared when two shards have it);
* **floor, with traces**: the reports floor plus ``shutil.copytree`` of each shard's folder.

The merged figures are checked against ``scorecard.build`` of the whole suite (one unsharded run).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_report import build_run  # the same synthetic runs as the HTML report's bench


def write_shards(root: Path, tests: int, shards: int, traces: bool) -> tuple[list[Path], list[dict[str, Any]]]:
    """S shard folders (report + traces); every test's figures, for the unsharded check."""
    import random

    from pytest_agentops.readers import baseline as report
    from pytest_agentops.readers import scorecard
    from pytest_agentops.readers.merge import relative_trace_dir
    from pytest_agentops.readers.tracefile import write_trace

    rng = random.Random(42)
    per_shard: list[list[dict[str, Any]]] = [[] for _ in range(shards)]
    for i in range(tests):
        run, meta = build_run(i, rng)
        shard = root / f"shard-{i % shards}"
        figs = scorecard.figures(
            run, nodeid=run.test_id, outcome=meta["outcome"], duration_s=meta["duration_s"], contract="support_triage"
        )
        if traces:
            path = write_trace(shard / "traces", run, meta)
            assert path is not None
            figs["trace_file"] = path.relative_to(shard / "traces").as_posix()
        per_shard[i % shards].append(figs)
    paths = []
    for k, figures in enumerate(per_shard):
        built = scorecard.build(figures)
        path = root / f"shard-{k}" / "agentops-report.json"
        if traces:
            built["trace_dir"] = relative_trace_dir(root / f"shard-{k}" / "traces", path)
        report.write(path, built)
        paths.append(path)
    return paths, [f for figures in per_shard for f in figures]


def floor(inputs: list[Path], output: Path, trace_target: Path | None) -> None:
    tests: list[Any] = []
    for path in inputs:
        tests.extend(json.loads(path.read_text(encoding="utf-8"))["tests"])
    output.write_text(json.dumps({"tests": tests}, indent=2), encoding="utf-8")
    if trace_target is not None:
        for path in inputs:
            shutil.copytree(path.parent / "traces", trace_target, dirs_exist_ok=True)


def do_merge(inputs: list[Path], output: Path, trace_target: Path | None) -> dict[str, Any]:
    from pytest_agentops.readers import baseline as report
    from pytest_agentops.readers.merge import merge

    merged = merge(inputs, output, trace_target)
    report.write(output, merged.report)
    return merged.report


def median_time(fn: Callable[[], Any], reset: Callable[[], None], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        reset()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _timeless(report: dict[str, Any]) -> dict[str, Any]:
    return {k: report[k] for k in ("agents", "total", "pass_k")}


def measure(tmp: Path, tests: int, shards: int, traces: bool) -> tuple[float, float, bool]:
    """(merge seconds, floor seconds, figures equal to the unsharded build)."""
    from pytest_agentops.readers import scorecard

    root = tmp / ("with-traces" if traces else "reports-only")
    inputs, everything = write_shards(root, tests, shards, traces)
    out = root / "out"
    target = out / "traces" if traces else None

    def reset() -> None:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)

    merge_s = median_time(lambda: do_merge(inputs, out / "merged.json", target), reset)
    floor_s = median_time(lambda: floor(inputs, out / "floor.json", target), reset)
    reset()
    merged = do_merge(inputs, out / "merged.json", target)
    same = _timeless(merged) == _timeless(scorecard.build(everything)) and len(merged["tests"]) == tests
    return merge_s, floor_s, same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="400 tests in 4 shards instead of 2,000 in 8")
    quick = parser.parse_args().quick
    tests, shards = (400, 4) if quick else (2000, 8)
    print(f"agentops report merge: {tests:,} tests in {shards} shards (Python {sys.version.split()[0]}), median of 5")
    print(f"  {'':<16}{'merge':>10}{'floor':>10}{'ratio':>8}{'merge/test':>12}  figures = unsharded")
    ok = True
    with tempfile.TemporaryDirectory(prefix="agentops-bench-merge-") as tmp:
        for traces in (False, True):
            merge_s, floor_s, same = measure(Path(tmp), tests, shards, traces)
            label = "with traces" if traces else "reports only"
            ratio = merge_s / floor_s if floor_s else float("inf")
            per_test = merge_s / tests * 1000
            print(
                f"  {label:<16}{merge_s * 1000:>8,.0f} ms{floor_s * 1000:>7,.0f} ms{ratio:>7.1f}x"
                f"{per_test:>9.3f} ms  {'yes' if same else 'NO'}"
            )
            ok = ok and same
            if not traces:
                fast = per_test < 1.0
                print(f"[{'PASS' if fast else 'FAIL'}] reports only: under 1 ms per test ({per_test:.3f} ms)")
    print(f"[{'PASS' if ok else 'FAIL'}] merged figures equal the unsharded scorecard.build")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
