"""Simulator throughput: in-process through the tap and on loopback, vs a bare respx mock, same run.

Usage: python benchmarks/bench_simulators.py [--quick]

Every figure is requests per second through one real ``httpx.Client``, for a read
(GET a customer) and an idempotent write (POST a customer with a fresh Idempotency-Key):

- respx: ``respx.mock`` answering a static response (what a user would otherwise write; no state,
  no validation, no idempotency, no trace);
- tap: the billing simulator mounted on the tap exactly as the ``billing`` fixture does it
  (vcrpy's patched transport -> tap -> trace event -> simulator ``handle()``), no socket, with
  the other two simulators mounted as well; ``+ policy`` adds a test policy (``allow=["billing.*"]``),
  so the gate resolves each request to its tool (the simulator's route) before the simulator runs;
- direct: the simulator's own ``SimTransport`` (``handle()`` without the tap), for reference;
- loopback: the simulator's real HTTP server on 127.0.0.1 (what ``agent_sims`` serves).

The issue's target: in-process (tap) overhead within 5x of the bare respx mock.

``--instructions`` also counts, with valgrind (``_instructions.count_region``), the instructions of
1,000 reads and 1,000 writes through respx and through the tap (after a warm-up, start-up
excluded): the same count on every run however loaded the machine is, where the timed ratio moves
by several percent between runs of the same code.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _instructions

BASE = "https://billing.sim.agentops.local"


def rate(fn: Callable[[int], None], n: int, repeats: int = 5) -> float:
    """Median requests/second of ``repeats`` runs of ``n`` requests."""
    fn(min(n, 50))  # warm-up
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(n)
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def workload(client: httpx.Client, customer: str, headers: dict[str, str]) -> tuple[Callable[[int], None], ...]:
    def read(n: int) -> None:
        for _ in range(n):
            response = client.get(f"/v1/customers/{customer}", headers=headers)
            assert response.status_code == 200, response.text

    def write(n: int) -> None:
        for _ in range(n):
            key = {"Idempotency-Key": uuid.uuid4().hex, **headers}
            response = client.post("/v1/customers", data={"email": "bench@shop.test"}, headers=key)
            assert response.status_code == 200, response.text

    return read, write


@contextlib.contextmanager
def respx_client() -> Iterator[tuple[httpx.Client, str]]:
    """A client whose two routes a static ``respx`` mock answers, and the customer id to read."""
    import respx

    body = {"id": "cus_1", "object": "customer", "email": "bench@shop.test"}
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"{BASE}/v1/customers/cus_1").respond(200, json=body)
        mock.post(f"{BASE}/v1/customers").respond(200, json=body)
        with httpx.Client(base_url=BASE) as client:
            yield client, "cus_1"


def bench_respx(n: int) -> tuple[float, float]:
    with respx_client() as (client, customer):
        read, write = workload(client, customer, {})
        return rate(read, n), rate(write, n)


def _sim() -> Any:
    from simulators import simulator_class

    sim = simulator_class("billing")()
    customer = sim.create_customer(email="seed@shop.test").id
    return sim, customer


@contextlib.contextmanager
def tap_client(policy: Any = None) -> Iterator[tuple[httpx.Client, str]]:
    """The billing simulator's client on a test's tap, as the ``billing`` fixture mounts it, and a
    seeded customer's id; with ``policy``, every request passes the test's gate too."""
    import tempfile

    from pytest_agentops.backends.sims import SimSet
    from pytest_agentops.tap.opener import open_tap
    from pytest_agentops.tap.settings import Settings
    from pytest_agentops.trace.run import Run

    run = Run("bench")
    with tempfile.TemporaryDirectory() as tmp, open_tap(Settings(), run, Path(tmp) / "c.json") as tap:
        sims = SimSet(tap, {}, recording=False)
        billing = sims.get("billing")
        sims.get("ticketing"), sims.get("crm")  # as in a test that uses all three
        customer = billing.create_customer(email="seed@shop.test").id
        with guarded(run, tap, policy) if policy is not None else contextlib.nullcontext(), billing.client() as client:
            yield client, customer
        if policy is not None:
            assert run.events[-1].tool == "billing.customers.create" and not run.denials


def bench_tap(n: int, policy: Any = None) -> tuple[float, float]:
    with tap_client(policy) as (client, customer):
        read, write = workload(client, customer, {})
        return rate(read, n), rate(write, n)


def guarded(run: Any, tap: Any, policy: Any) -> Any:
    """The test's policy gate, installed as ``plugin/gating`` does it (see bench_policy.py)."""
    from pytest_agentops.policy.engine import Guard
    from pytest_agentops.policy.tools import use_guard

    @contextlib.contextmanager
    def installed() -> Any:
        guard = Guard(run, policy=policy)
        guard.attach()
        tap.gates.append(guard.gate)
        try:
            with use_guard(guard):
                yield
        finally:
            guard.detach()
            tap.gates.remove(guard.gate)

    return installed()


def bench_direct(n: int) -> tuple[float, float]:
    sim, customer = _sim()
    with sim.client() as client:
        read, write = workload(client, customer, {})
        return rate(read, n), rate(write, n)


def bench_loopback(n: int) -> tuple[float, float]:
    sim, customer = _sim()
    server = sim.serve()
    try:
        with httpx.Client(base_url=server.base_url, headers=sim.auth_headers()) as client:
            read, write = workload(client, customer, {})
            return rate(read, n), rate(write, n)
    finally:
        server.stop()


# ---- instructions ------------------------------------------------------------------------------

COUNTED = 1000  # requests in a counted region


def child(variant: str, kind: str) -> int:
    """A warm-up, then ``COUNTED`` requests of one kind through one variant, the counted region."""
    with respx_client() if variant == "respx" else tap_client() as (client, customer):
        read, write = workload(client, customer, {})
        send = read if kind == "read" else write
        region = os.environ.pop(_instructions.REGION_ENV, "")
        send(200)  # first-use costs (lazy imports, validators built) are not a request's
        os.environ[_instructions.REGION_ENV] = region
        _instructions.mark("-z")
        send(COUNTED)
        _instructions.mark("-d")
    return 0


def report_instructions() -> None:
    script = str(Path(__file__).resolve())
    runs = [(variant, kind) for kind in ("read", "write") for variant in ("respx", "tap")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {run: pool.submit(_instructions.count_region, [script, "--child", *run], Path.cwd()) for run in runs}
        per = {run: future.result() / COUNTED for run, future in futures.items()}
    print(f"instructions a request, {COUNTED:,} of each (one valgrind run each, start-up and warm-up excluded)")
    ratios = []
    for kind in ("read", "write"):
        respx, tap = per[("respx", kind)], per[("tap", kind)]
        ratios.append(tap / respx)
        print(f"  {kind:5}: respx {respx:,.0f}, simulator via the tap {tap:,.0f}: {tap / respx:.2f}x")
    verdict = "PASS" if max(ratios) <= 1.2 else "FAIL"
    print(f"[{verdict}] by instructions: the simulator via the tap within 1.2x of bare respx: worst {max(ratios):.2f}x")


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        return child(sys.argv[2], sys.argv[3])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    parser.add_argument("--instructions", action="store_true", help="also count instructions (valgrind)")
    args = parser.parse_args()
    if args.instructions and (why := _instructions.available()):
        raise SystemExit(why)
    n = 200 if args.quick else 1000
    from pytest_agentops import Policy

    rows = [
        ("respx (static mock)", bench_respx(n)),
        ("simulator via tap", bench_tap(n)),
        ("  + policy", bench_tap(n, Policy(allow=["billing.*"]))),
        ("simulator direct", bench_direct(n)),
        ("simulator loopback", bench_loopback(n)),
    ]
    base_read, base_write = rows[0][1]
    print(f"requests/second, median of 5 runs of {n} requests, one httpx.Client (Python {sys.version.split()[0]})")
    print(f"{'backend':<22}{'read req/s':>12}{'write req/s':>13}{'read x respx':>15}{'write x respx':>15}")
    for name, (read, write) in rows:
        print(f"{name:<22}{read:>12,.0f}{write:>13,.0f}{base_read / read:>14.1f}x{base_write / write:>14.1f}x")
    tap_read, tap_write = rows[1][1]
    worst = max(base_read / tap_read, base_write / tap_write)
    verdict = "PASS" if worst <= 5 else "FAIL"
    print(f"target: in-process (tap) overhead within 5x of bare respx: worst {worst:.1f}x -> {verdict}")
    # Paired: respx and the tap in turn, so both see the same machine (its speed drifts between rows).
    pairs = []
    for _ in range(3):
        (r_read, r_write), (t_read, t_write) = bench_respx(n), bench_tap(n)
        pairs.append((r_read / t_read, r_write / t_write))
    read_x = statistics.median(p[0] for p in pairs)
    write_x = statistics.median(p[1] for p in pairs)
    verdict = "PASS" if max(read_x, write_x) <= 1.2 else "FAIL"
    print(
        f"target (issue 12): the simulator via the tap within 1.2x of bare respx, paired (median of 3): "
        f"read {read_x:.2f}x, write {write_x:.2f}x -> {verdict}"
    )
    if args.instructions:
        report_instructions()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
