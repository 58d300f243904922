"""A stdio MCP server through ``agentops mcp proxy`` (record and replay) vs launched directly, same run.

Usage: python benchmarks/bench_mcp_stdio.py [--quick]

The official ``mcp`` 2.x client calls ``get_weather`` (readOnlyHint) on the ``mcp`` SDK's stdio
weather server (tests/mcp_weather_stdio.py), one session, N calls, median of 5 sessions:

- direct: ``Client(StdioServerParameters(python, server))``, no plugin: what a user runs today, and
  the floor (there is no other tool that records stdio MCP to compare with);
- proxy, recording: the client launches the proxy (``mcp_stdio.server(...)``'s command) with the
  tap open in record mode and the guard installed as the plugin does; each line is judged, traced,
  answered by the real server and recorded;
- proxy, replay: the same calls answered from the cassette just recorded; the server never starts.

Per call (ms) and per session start (client open + ``tools/list``, ms), each with its ratio to direct.
Target: a replayed call within 1.3x of the direct call (recording pays two extra local hops per
message, the proxy process and the test's socket, and is reported without a target).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SERVER = str(Path(__file__).resolve().parent.parent / "tests" / "mcp_weather_stdio.py")


async def _session(parameters: Any, n: int) -> tuple[float, float]:
    from mcp import Client

    opened = time.perf_counter()
    async with Client(parameters) as client:
        await client.list_tools()
        start = time.perf_counter()
        for i in range(n):
            result = await client.call_tool("get_weather", {"city": f"Paris {i}"})
            assert not result.is_error, result
        done = time.perf_counter()
    return (done - start) / n * 1e3, (start - opened) * 1e3


@contextlib.contextmanager
def proxied(cassette: Path, record: str) -> Iterator[Any]:
    from pytest_agentops.mcp.stdio import StdioBridge
    from pytest_agentops.policy.engine import Guard, Policy
    from pytest_agentops.tap.opener import open_tap
    from pytest_agentops.tap.settings import Settings
    from pytest_agentops.trace.run import Run

    run = Run("bench")
    with open_tap(Settings(record=record), run, cassette) as tap:
        guard = Guard(run, policy=Policy(allow=["mcp.weather.*"]))
        guard.attach()
        tap.gates.append(guard.gate)
        bridge = StdioBridge(tap)
        try:
            yield bridge.server("weather", sys.executable, SERVER).parameters()
        finally:
            bridge.close()
            tap.gates.remove(guard.gate)
    calls = [e for e in run.events if e.kind == "tool"]
    assert calls and all(e.tool == "mcp.weather.get_weather" and e.rule is None for e in calls), calls[:1]
    assert not run.misses, run.misses[:1]


def measure(n: int, kind: str, tmp: Path) -> tuple[float, float]:
    from mcp import StdioServerParameters

    times = []
    for index in range(5):
        if kind == "direct":
            times.append(asyncio.run(_session(StdioServerParameters(command=sys.executable, args=[SERVER]), n)))
            continue
        cassette = tmp / f"s{index}.json"
        with proxied(cassette, "new" if kind == "record" else "none") as parameters:
            times.append(asyncio.run(_session(parameters, n)))
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls")
    n = 30 if parser.parse_args().quick else 150
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        rows = [(kind, *measure(n, kind, tmp)) for kind in ("direct", "record", "replay")]
    print(f"stdio MCP, ms per tools/call and per session start, median of 5 sessions of {n} calls, mcp 2.x")
    print(f"{'configuration':<20}{'ms/call':>9}{'x direct':>10}{'start ms':>10}{'x direct':>10}")
    labels = {"direct": "direct (no plugin)", "record": "proxy, recording", "replay": "proxy, replay"}
    base_call, base_start = rows[0][1], rows[0][2]
    for kind, call, start in rows:
        print(f"{labels[kind]:<20}{call:>9.3f}{call / base_call:>9.2f}x{start:>10.1f}{start / base_start:>9.2f}x")
    ratio = rows[2][1] / base_call
    print(f"[{'PASS' if ratio <= 1.3 else 'FAIL'}] replay through the proxy within 1.3x of direct stdio: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
