"""Per-request cost of the tap + policy + trace, vs a bare respx mock, same run.

Usage: python benchmarks/bench_policy.py [--quick]

Every figure is µs per request through one real ``httpx.Client``: ``POST
https://kb.example.com/search`` with a distinct JSON body each time (``{"q": ..., "limit": 5}``),
answered with the same static JSON. The request is a registered HTTP tool (``register_tool``,
write, with a pydantic schema ``Search``). Configurations:

- respx: ``respx.mock`` answering a static response (no trace, no policy);
- tap + trace: the tap as the plugin's autouse fixture opens it (``session.open_tap``: vcrpy's
  patched transport -> tap -> trace event), the origin served by a static in-process handler
  (``tap.mount``), no guard;
- tap + policy + trace: the same plus the test's guard installed exactly as ``guard.activate``
  does (``Guard(run, policy=..., ...)``, ``guard.attach()``, ``tap.gates.append(guard.gate)``,
  ``tools.use_guard``), replicated outside pytest (no inner pytest session): an allowlist
  ``Policy(allow=["kb_search"], writes_require=["validate_step"])`` with the precondition satisfied,
  so every call is resolved to its tool, schema-validated, checked and named on its event;
- + budget: also ``Budget(max_tool_calls=10**9, max_repeated_calls=3)``: the check before each
  request reads running totals of the trace (``budget.Tally``); the limits are never reached.

Each timed repetition opens a fresh tap / run (a test's run), sends N requests and closes it;
median of 5 repetitions.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel

ORIGIN = "https://kb.example.com"
URL = ORIGIN + "/search"
ANSWER = {"hits": [{"id": "kb_1", "title": "Refund policy", "score": 0.93}], "total": 1}
ANSWER_BYTES = json.dumps(ANSWER).encode()


class Search(BaseModel):
    q: str
    limit: int = 10


Setup = Callable[[], contextlib.AbstractContextManager[httpx.Client]]


def send(client: httpx.Client, n: int) -> None:
    for i in range(n):
        response = client.post(URL, json={"q": f"refund {i}", "limit": 5})
        assert response.status_code == 200, response.text


def per_request_us(setup: Setup, n: int, repeats: int = 5) -> float:
    """Median µs/request of ``repeats`` fresh runs of ``n`` requests."""
    with setup() as client:
        send(client, min(n, 50))  # warm-up (imports, vcrpy patches)
    times = []
    for _ in range(repeats):
        with setup() as client:
            start = time.perf_counter()
            send(client, n)
            times.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(times)


@contextlib.contextmanager
def respx_mock() -> Iterator[httpx.Client]:
    import respx

    with respx.mock(assert_all_called=False) as mock:
        mock.post(URL).respond(200, json=ANSWER)
        with httpx.Client() as client:
            yield client


def _static(live: Any) -> tuple[int, dict[str, str], bytes]:
    return 200, {"content-type": "application/json"}, ANSWER_BYTES


@contextlib.contextmanager
def tapped(policy: Any = None, budget: Any = None) -> Iterator[httpx.Client]:
    from pytest_agentops.tap.opener import open_tap
    from pytest_agentops.tap.settings import Settings
    from pytest_agentops.trace.run import Run

    run = Run("bench")
    with tempfile.TemporaryDirectory() as tmp, open_tap(Settings(), run, Path(tmp) / "c.json") as tap:
        tap.mount(ORIGIN, _static)
        with guarded(run, tap, policy, budget), httpx.Client() as client:
            yield client
        events = run.events
        assert events and events[-1].backend == "simulator"
        if policy is not None:
            last = events[-1]
            assert last.tool == "kb_search" and last.arguments == {"q": f"refund {len(events) - 1}", "limit": 5}


@contextlib.contextmanager
def guarded(run: Any, tap: Any, policy: Any, budget: Any) -> Iterator[None]:
    """What ``guard.activate`` does for a test, without pytest."""
    if policy is None:
        yield
        return
    from pytest_agentops.policy.engine import Guard
    from pytest_agentops.policy.tools import use_guard

    guard = Guard(run, policy=policy, budget=budget)
    guard.attach()
    tap.gates.append(guard.gate)
    run.satisfy("validate_step")
    try:
        with use_guard(guard):
            yield
    finally:
        guard.detach()
        tap.gates.remove(guard.gate)
        assert not run.denials, run.denials[0].error


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    n = 200 if parser.parse_args().quick else 1000

    from pytest_agentops import Budget, Policy, register_tool, tool_registry

    with tool_registry.isolated():
        register_tool("kb_search", method="POST", url=URL, schema=Search, owner="support")
        policy = Policy(allow=["kb_search"], writes_require=["validate_step"])
        budget = Budget(max_tool_calls=10**9, max_repeated_calls=3)
        rows = [
            ("respx (static mock)", per_request_us(respx_mock, n)),
            ("tap + trace", per_request_us(tapped, n)),
            ("tap + policy + trace", per_request_us(lambda: tapped(policy), n)),
            ("  + budget", per_request_us(lambda: tapped(policy, budget), n)),
        ]
    base = rows[0][1]
    tap_only = rows[1][1]
    print(f"µs/request, median of 5 fresh runs of {n} requests, one httpx.Client (Python {sys.version.split()[0]})")
    print(f"{'configuration':<24}{'µs/req':>9}{'x respx':>10}{'x tap+trace':>13}")
    for name, us in rows:
        print(f"{name:<24}{us:>9.1f}{us / base:>9.2f}x{us / tap_only:>12.2f}x")
    policy_us = rows[2][1] - tap_only
    print(f"policy gate alone: {policy_us:.1f} µs/request (tap + policy + trace minus tap + trace)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
