"""An MCP tool call through the tap + policy + trace, vs the same call with the plugin off, same run.

Usage: python benchmarks/bench_mcp.py [--quick]

Every figure is ms per ``tools/call`` (``get_weather``, readOnlyHint) made by the official ``mcp``
client (2.x, streamable HTTP, one session, N calls), median of 5 fresh sessions:

- loopback, plugin off: a real ``mcp`` SDK server (``MCPServer``, JSON answers) on a 127.0.0.1 port;
- loopback, tap: the same server and client, with the tap open and the test's guard installed as
  the plugin does (``open_tap`` + ``Guard`` + ``tap.gates``, allowlist ``mcp.weather.*``): each message
  is parsed once, named ``mcp.weather.get_weather``, judged and traced (loopback passes through);
- in-process, plugin off: the ``mcp`` client connected to the ``MCPServer`` object in memory (no HTTP:
  the floor a user would pick for a unit test);
- in-process, tap: ``fake_mcp`` mounted on the tap (no socket), through the same gate and trace.

Target (issue 13): loopback tap / loopback plugin off <= 1.3x.
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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


async def _calls(target: Any, n: int) -> float:
    from mcp import Client

    async with Client(target) as client:
        await client.list_tools()
        start = time.perf_counter()
        for i in range(n):
            result = await client.call_tool("get_weather", {"city": f"Paris {i}"})
            assert not result.is_error, result
        return (time.perf_counter() - start) / n * 1e3


def per_call_ms(target: Any, n: int, around: Callable[[], contextlib.AbstractContextManager[Any]]) -> float:
    with around():
        asyncio.run(_calls(target, min(n, 10)))  # warm-up
    times = []
    for _ in range(5):
        with around():
            times.append(asyncio.run(_calls(target, n)))
    return statistics.median(times)


@contextlib.contextmanager
def tapped(fake: Any = None) -> Iterator[Any]:
    from pytest_agentops.policy.engine import Guard, Policy
    from pytest_agentops.tap.opener import open_tap
    from pytest_agentops.tap.settings import Settings
    from pytest_agentops.trace.run import Run

    run = Run("bench")
    with tempfile.TemporaryDirectory() as tmp, open_tap(Settings(), run, Path(tmp) / "c.json") as tap:
        if fake is not None:
            fake.attach(tap)
        guard = Guard(run, policy=Policy(allow=["mcp.weather.*"]))
        guard.attach()
        tap.gates.append(guard.gate)
        try:
            yield run
        finally:
            tap.gates.remove(guard.gate)
        calls = [e for e in run.events if e.kind == "tool"]
        assert calls and all(e.tool == "mcp.weather.get_weather" and e.rule is None for e in calls), calls[:1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls")
    n = 50 if parser.parse_args().quick else 200
    logging.disable(logging.WARNING)  # the SDK logs every HTTP request at INFO

    from mcp_weather import serving, weather_server

    from pytest_agentops.backends.mcp import FakeMCP

    fake = FakeMCP("weather")
    fake.tool("get_weather", read_only=True, compute=lambda city: f"Sunny in {city}")
    with serving(weather_server(), json_response=True) as url:
        rows = [
            ("loopback, plugin off", per_call_ms(url, n, contextlib.nullcontext)),
            ("loopback, tap", per_call_ms(url, n, tapped)),
        ]
    rows += [
        ("in-process, plugin off", per_call_ms(weather_server(), n, contextlib.nullcontext)),
        ("in-process, tap (fake_mcp)", per_call_ms(fake.url, n, lambda: tapped(fake))),
    ]
    print(f"ms per tools/call, median of 5 sessions of {n} calls, mcp client 2.x (Python {sys.version.split()[0]})")
    print(f"{'configuration':<30}{'ms/call':>9}{'x plugin off':>14}")
    for index, (name, ms) in enumerate(rows):
        base = rows[index - index % 2][1]
        print(f"{name:<30}{ms:>9.3f}{ms / base:>13.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
