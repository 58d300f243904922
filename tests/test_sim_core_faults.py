"""Fault injection: scripted and seeded faults, seen through real clients."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import requests
import stripe
from stripe._http_client import HTTPClient

from simulators.billing import BillingSimulator
from simulators.core.server import SimServer


@pytest.fixture
def sim() -> BillingSimulator:
    return BillingSimulator()


@pytest.fixture
def server(sim: BillingSimulator) -> Iterator[SimServer]:
    with SimServer(sim) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # the SDK's retry decisions stay real; only its sleep between retries is shortened
    monkeypatch.setattr(HTTPClient, "INITIAL_DELAY", 0.01)


def sdk(sim: BillingSimulator, server: SimServer, retries: int) -> stripe.StripeClient:
    return stripe.StripeClient(sim.api_key, base_addresses={"api": server.base_url}, max_network_retries=retries)


def test_first_two_calls_fail_then_sdk_retry_succeeds_once(sim: BillingSimulator, server: SimServer) -> None:
    pi = sim.create_payment(3000)
    rule = sim.faults.add("billing.refunds.create", "500", times=2)
    refund = sdk(sim, server, retries=2).v1.refunds.create(params={"payment_intent": pi.id, "amount": 1000})
    assert refund.amount == 1000
    assert (rule.calls, rule.fired) == (3, 2)
    assert len(sim.all("refunds")) == 1
    entries = [e for e in sim.ledger if e.tool == "billing.refunds.create"]
    assert [(e.outcome, e.status) for e in entries] == [("fault", 500), ("fault", 500), ("applied", 200)]
    # the SDK reused one idempotency key across its retries; faults saved nothing under it
    assert len({e.idempotency_key for e in entries}) == 1
    sim.assert_no_duplicate_side_effects()


def test_more_failures_than_retries_surface_as_api_error(sim: BillingSimulator, server: SimServer) -> None:
    sim.faults.add("billing.customers.create", "503", times=3)
    with pytest.raises(stripe.APIError) as exc:
        sdk(sim, server, retries=2).v1.customers.create(params={"email": "x@example.com"})
    assert exc.value.http_status == 503
    sim.assert_no_writes()
    assert len(sim.ledger.faults()) == 3


def test_429_with_retry_after(sim: BillingSimulator, server: SimServer) -> None:
    sim.faults.add("billing.customers.list", "429", times=1, retry_after=7)
    r = sim.handle("GET", sim.base_url + "/v1/customers", sim.auth_headers())
    assert r.status == 429 and r.headers["Retry-After"] == "7"
    assert r.json()["error"]["code"] == "rate_limit"
    sim.faults.add("billing.customers.list", "429", times=1)
    with pytest.raises(stripe.RateLimitError):
        sdk(sim, server, retries=0).v1.customers.list()
    assert sdk(sim, server, retries=0).v1.customers.list()["object"] == "list"
    assert sim.ledger.faults() == []  # reads are not ledger entries, faulted or not


def test_commit_then_drop_and_retry_with_same_key_replays(sim: BillingSimulator, server: SimServer) -> None:
    pi = sim.create_payment(3000)
    sim.faults.add("billing.refunds.create", "commit_then_drop", times=1)
    client = sdk(sim, server, retries=0)
    opts: stripe.RequestOptions = {"idempotency_key": "refund-1"}
    with pytest.raises(stripe.APIConnectionError):
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 700}, options=opts)
    # the write happened although the client never saw an answer
    assert len(sim.all("refunds")) == 1
    assert sim.ledger.writes()[0].fault == "commit_then_drop"
    again = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 700}, options=opts)
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"  # type: ignore[union-attr]
    assert len(sim.all("refunds")) == 1
    sim.assert_no_duplicate_side_effects()


def test_commit_then_drop_healed_by_sdk_auto_retry(sim: BillingSimulator, server: SimServer) -> None:
    pi = sim.create_payment(3000)
    sim.faults.add("billing.refunds.create", "commit_then_drop", times=1)
    refund = sdk(sim, server, retries=2).v1.refunds.create(params={"payment_intent": pi.id, "amount": 700})
    assert refund.amount == 700
    assert [e.outcome for e in sim.ledger if e.tool == "billing.refunds.create"] == ["applied", "replayed"]
    assert len(sim.all("refunds")) == 1


def test_commit_then_drop_without_key_duplicates_and_ledger_catches_it(sim: BillingSimulator) -> None:
    pi = sim.create_payment(3000)
    sim.faults.add("billing.refunds.create", "commit_then_drop", times=1)
    with sim.client() as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.post("/v1/refunds", data={"payment_intent": pi.id, "amount": 700})
        # a naive agent retries without an idempotency key
        assert c.post("/v1/refunds", data={"payment_intent": pi.id, "amount": 700}).status_code == 200
    assert len(sim.all("refunds")) == 2
    with pytest.raises(AssertionError, match=r"2x billing\.refunds\.create"):
        sim.assert_no_duplicate_side_effects()


def test_drop_and_timeout_are_transport_errors(sim: BillingSimulator, server: SimServer) -> None:
    sim.faults.add("billing.customers.retrieve", "drop", times=1)
    sim.faults.add("billing.customers.list", "timeout", times=1)
    assert sim.handle("GET", sim.base_url + "/v1/customers", sim.auth_headers()).fault == "timeout"
    with sim.client() as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.get("/v1/customers/cus_x")
        assert c.get("/v1/customers/cus_x").status_code == 404
    sim.faults.add("billing.customers.create", "drop", times=1)
    with pytest.raises(requests.ConnectionError):
        requests.post(
            server.base_url + "/v1/customers", data={"email": "a@example.com"}, headers=sim.auth_headers(), timeout=5
        )
    sim.assert_no_writes()
    # the server survives the dropped connection
    ok = requests.post(
        server.base_url + "/v1/customers", data={"email": "a@example.com"}, headers=sim.auth_headers(), timeout=5
    )
    assert ok.status_code == 200


def test_probabilistic_faults_are_reproducible_under_a_seed() -> None:
    def pattern(seed: int) -> list[int]:
        sim = BillingSimulator()
        sim.faults.add("billing.*.list", "500", probability=0.3, seed=seed)
        return [sim.handle("GET", sim.base_url + "/v1/charges", sim.auth_headers()).status for _ in range(200)]

    a, b, c = pattern(1), pattern(1), pattern(2)
    assert a == b and a != c
    assert 30 <= a.count(500) <= 90
    assert set(a) == {200, 500}


def test_patterns_and_latency(sim: BillingSimulator) -> None:
    sim.faults.add("billing.*.create", "500")
    assert sim.handle("GET", sim.base_url + "/v1/customers", sim.auth_headers()).status == 200
    assert sim.handle("POST", sim.base_url + "/v1/customers", sim.auth_headers(), b"").status == 500
    sim.faults.clear()
    sim.faults.add("billing.customers.list", "latency", latency=0.05)
    t0 = time.perf_counter()
    assert sim.handle("GET", sim.base_url + "/v1/customers", sim.auth_headers()).status == 200
    assert time.perf_counter() - t0 >= 0.05
    with pytest.raises(ValueError, match="unknown fault kind"):
        sim.faults.add("billing.*", "teapot")
