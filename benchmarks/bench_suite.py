"""What the plugin costs a whole suite that does not use it: trivial tests, and tests that only use mocks.

Usage: python benchmarks/bench_suite.py [--quick] [--only trivial|mocks] [--instructions]

Two generated suites of N tests (2,000; --quick 500), each run in a fresh ``python -m pytest``
process, plugin on (as installed) against plugin off (``-p no:agentops``, the floor), alternating,
3 runs each (the median is quoted; CPU time of the child process too, which other load on the
machine disturbs less than wall time):

* ``trivial``: ``def test_n(): assert n + 1`` -- no request at all;
* ``mocks``: each test sends one request to an ``httpx.MockTransport`` and one through respx,
  as a suite that already mocks its HTTP does. The plugin must let both answer, and costs what its
  autouse fixture and its observer cost.

The per-test figure is (on - off) / N. Targets ("One path for every request"): at most 100 µs per
test that makes no request; a mock-only test stays within the same order.

``--instructions`` adds one valgrind run of each (``_instructions``): the instructions the plugin
adds per test, the same count whatever the machine's load, and that count in µs at the rate the
floor's timed runs executed instructions (the floor's median CPU seconds over its count).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _instructions

TRIVIAL = "import pytest\n\n\n@pytest.mark.parametrize('n', range({n}))\ndef test_trivial(n):\n    assert n + 1\n"
MOCKS = """\
import httpx
import pytest
import respx

TRANSPORT = httpx.MockTransport(lambda request: httpx.Response(200, json={{"ok": True}}))
CLIENT = httpx.Client(transport=TRANSPORT)


@pytest.mark.parametrize("n", range({n}))
def test_mocked(n):
    assert CLIENT.get(f"https://svc.example.com/items/{{n}}").json() == {{"ok": True}}
    with respx.mock(base_url="https://api.example.com") as router:
        router.get("/users/1").respond(200, json={{"id": 1}})
        assert httpx.get("https://api.example.com/users/1").json() == {{"id": 1}}
"""
INI = "[pytest]\naddopts = -p no:cacheprovider -p no:recording -p no:benchmark -p no:hypothesispytest -q\n"


def run(folder: Path, extra: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of one pytest process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    environ = {**os.environ, **(env or {})}
    # As a user's runs are: Python and pytest keep compiled and assertion-rewritten modules between
    # runs (the warm-up writes them). Without, every run compiles the plugin and the test files anew.
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *extra], cwd=folder, capture_output=True, text=True, env=environ
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"pytest {' '.join(extra)} failed in {folder}:\n{proc.stdout[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(name: str, source: str, n: int, runs: int, *, instructions: bool = False) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix=f"agentops-bench-{name}-"))
    (folder / "pytest.ini").write_text(INI)
    (folder / f"test_{name}.py").write_text(source.format(n=n))
    on: list[tuple[float, float]] = []
    off: list[tuple[float, float]] = []
    run(folder, [])  # warm-up: byte-compile, page cache
    for _ in range(runs):
        on.append(run(folder, []))
        off.append(run(folder, ["-p", "no:agentops"]))
    result = {}
    for label, index in (("wall", 0), ("cpu", 1)):
        a = statistics.median(x[index] for x in on)
        b = statistics.median(x[index] for x in off)
        result[label] = (a - b) / n * 1e6
        print(f"  {name:8} {label:4}: on {a:6.2f} s  off {b:6.2f} s  ratio {a / b:4.2f}x  {result[label]:7.1f} µs/test")
    if instructions:
        counted = _instructions.count_all(folder, {"on": ([], {}), "off": (["-p", "no:agentops"], {})})
        seconds_per_instruction = statistics.median(x[1] for x in off) / counted["off"]
        added = (counted["on"] - counted["off"]) / n
        result["instructions"] = added * seconds_per_instruction * 1e6
        on_count, off_count = counted["on"], counted["off"]
        print(
            f"  {name:8} instr: on {on_count:,}  off {off_count:,}  ratio {on_count / off_count:.3f}x"
            f"  {added:,.0f} a test, {result['instructions']:.1f} µs/test at the floor's rate"
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=("trivial", "mocks"), help="run one suite")
    parser.add_argument("--instructions", action="store_true", help="also count instructions (valgrind)")
    args = parser.parse_args()
    if args.instructions and (why := _instructions.available()):
        raise SystemExit(why)
    n, runs = (500, 3) if args.quick else (2000, 3)
    print(f"{n} tests per suite, {runs} alternating runs each (median), plugin on vs -p no:agentops")
    if args.only != "mocks":
        trivial = measure("trivial", TRIVIAL, n, runs, instructions=args.instructions)
        verdict = "PASS" if trivial["cpu"] <= 100 else "FAIL"
        print(f"[{verdict}] a test that makes no request costs {trivial['cpu']:.0f} µs of CPU (target <= 100 µs)")
        if args.instructions:
            counted = trivial["instructions"]
            verdict = "PASS" if counted <= 100 else "FAIL"
            print(f"[{verdict}] by instructions: {counted:.0f} µs a test at the floor's rate (target <= 100 µs)")
    if args.only != "trivial":
        mocks = measure("mocks", MOCKS, n, runs, instructions=args.instructions)
        print(f"[INFO] a mock-only test (2 mocked requests) costs {mocks['cpu']:.0f} µs of CPU")


if __name__ == "__main__":
    main()
