"""Cassette load: what checking every field (cassette/validate.py) adds to reading a cassette.

Usage: python benchmarks/bench_cassette_load.py [--quick]

The traffic of bench_replay.py (_common: OpenAI chat completions, 1.7-5.8 KB request bodies,
pretty-printed answers), written as our cassette. Times, best of several: ``json.loads`` of the
file alone, the field checks alone (``validate.check_document``), and the whole ``Cassette.load``
(read, parse, check, index). A file with ``\\u`` surrogate escapes takes the slower path that
checks every string; that is timed too, on the same interactions written with ``ensure_ascii``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import capture, make_exchanges, write_ours

from pytest_agentops.cassette import validate
from pytest_agentops.cassette.format import Cassette


def best_ms(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def measure(path: Path, repeats: int) -> tuple[float, float, float]:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    parse = best_ms(lambda: json.loads(text), repeats)
    check = best_ms(lambda: validate.check_document(path, data, text), repeats)
    load = best_ms(lambda: Cassette.load(path), repeats)
    return parse, check, load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 interactions, fewer repeats")
    args = parser.parse_args()
    sizes = [100, 1000] if args.quick else [100, 1000, 3000]
    repeats = 3 if args.quick else 7
    folder = Path(tempfile.mkdtemp(prefix="agentops-bench-load-"))
    print("     N | file MB | json.loads ms | checks ms | checks/parse | Cassette.load ms | escaped: checks ms")
    print("-" * 100)
    worst = 0.0
    for n in sizes:
        path = folder / f"c{n}.json"
        write_ours(path, capture(make_exchanges(n)))
        parse, check, load = measure(path, repeats)
        escaped = folder / f"e{n}.json"
        document = json.loads(path.read_text())
        document["meta"]["note"] = "\U0001f600"  # written as a surrogate pair escape: every string gets checked
        escaped.write_text(json.dumps(document, indent=2, ensure_ascii=True))
        text = escaped.read_text()
        data = json.loads(text)
        slow = best_ms(
            lambda data=data, text=text, escaped=escaped: validate.check_document(escaped, data, text), repeats
        )
        size = path.stat().st_size / 1e6
        worst = max(worst, check / parse)
        ratio = check / parse
        print(f"{n:>6,} | {size:7.1f} | {parse:13.1f} | {check:9.1f} | {ratio:11.2f}x | {load:16.1f} | {slow:8.1f}")
    print("\nTargets")
    ok = worst <= 1.5
    print(f"  [{'PASS' if ok else 'FAIL'}] field checks cost at most 1.5x json.loads of the same file: {worst:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
