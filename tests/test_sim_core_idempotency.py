"""Idempotency-Key semantics (Stripe's documented rules) through ``Simulator.handle()``."""

from __future__ import annotations

import threading
import time
from collections import Counter
from urllib.parse import urlencode

import httpx
import pytest

from simulators.billing import BillingSimulator
from simulators.core.server import SimServer
from simulators.core.wire import SimResponse


@pytest.fixture
def sim() -> BillingSimulator:
    return BillingSimulator()


def post(
    sim: BillingSimulator, path: str, data: dict[str, object], key: str | None = None, token: str | None = None
) -> SimResponse:
    headers = {**sim.auth_headers(token), "Content-Type": "application/x-www-form-urlencoded"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return sim.handle("POST", sim.base_url + path, headers, urlencode(data).encode())


def test_same_key_same_params_replays_without_second_side_effect(sim: BillingSimulator) -> None:
    first = post(sim, "/v1/customers", {"email": "a@example.com"}, key="k1")
    again = post(sim, "/v1/customers", {"email": "a@example.com"}, key="k1")
    assert first.status == again.status == 200
    assert again.body == first.body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Original-Request"] == first.headers["Request-Id"]
    assert len(sim.all("customers")) == 1
    assert [e.outcome for e in sim.ledger] == ["applied", "replayed"]
    assert sim.ledger.entries[1].replay_of == sim.ledger.entries[0].seq
    sim.assert_no_duplicate_side_effects()


def test_saved_error_results_replay_with_their_status(sim: BillingSimulator) -> None:
    pi = sim.create_payment(1000)
    bad = post(sim, "/v1/refunds", {"payment_intent": pi.id, "amount": 5000}, key="r1")
    assert bad.status == 400 and bad.json()["error"]["code"] == "amount_too_large"
    again = post(sim, "/v1/refunds", {"payment_intent": pi.id, "amount": 5000}, key="r1")
    assert again.status == 400 and again.body == bad.body
    assert again.headers["Idempotent-Replayed"] == "true"


def test_same_key_different_params_is_400_and_saves_nothing(sim: BillingSimulator) -> None:
    post(sim, "/v1/customers", {"email": "a@example.com"}, key="k1")
    other = post(sim, "/v1/customers", {"email": "b@example.com"}, key="k1")
    assert other.status == 400
    err = other.json()["error"]
    assert (err["type"], err["code"]) == ("idempotency_error", "idempotency_error")
    assert len(sim.all("customers")) == 1
    # the first result is still what the key replays
    again = post(sim, "/v1/customers", {"email": "a@example.com"}, key="k1")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [e.outcome for e in sim.ledger] == ["applied", "refused", "replayed"]


def test_different_path_same_key_is_a_mismatch(sim: BillingSimulator) -> None:
    post(sim, "/v1/customers", {"email": "a@example.com"}, key="shared")
    assert post(sim, "/v1/payment_intents", {"amount": 100, "currency": "usd"}, key="shared").status == 400


def test_failed_validation_saves_nothing(sim: BillingSimulator) -> None:
    bad = post(sim, "/v1/payment_intents", {"amount": "lots", "currency": "usd"}, key="v1")
    assert bad.status == 400 and bad.json()["error"]["param"] == "amount"
    # a corrected request may reuse the key: it is not an idempotency_error nor a replay
    good = post(sim, "/v1/payment_intents", {"amount": 100, "currency": "usd"}, key="v1")
    assert good.status == 200 and "Idempotent-Replayed" not in good.headers
    assert [e.outcome for e in sim.ledger] == ["refused", "applied"]


def test_key_length_limit(sim: BillingSimulator) -> None:
    ok = post(sim, "/v1/customers", {"email": "a@example.com"}, key="k" * 255)
    assert ok.status == 200
    long = post(sim, "/v1/customers", {"email": "b@example.com"}, key="k" * 256)
    assert long.status == 400 and long.json()["error"]["code"] == "idempotency_key_too_long"
    assert len(sim.all("customers")) == 1
    assert sim.ledger.entries[-1].outcome == "refused"


def test_keys_expire_after_24_simulated_hours(sim: BillingSimulator) -> None:
    post(sim, "/v1/customers", {"email": "a@example.com"}, key="day")
    sim.clock.advance(hours=23, minutes=59)
    assert post(sim, "/v1/customers", {"email": "a@example.com"}, key="day").headers.get("Idempotent-Replayed")
    sim.clock.advance(minutes=1)
    fresh = post(sim, "/v1/customers", {"email": "a@example.com"}, key="day")
    assert "Idempotent-Replayed" not in fresh.headers
    assert len(sim.all("customers")) == 2
    # after expiry it is a new write, and the duplicate detector sees both
    assert len(sim.ledger.duplicates()) == 1


def test_keys_are_scoped_to_the_tenant(sim: BillingSimulator) -> None:
    other = sim.issue_token(tenant="acme")
    a = post(sim, "/v1/customers", {"email": "a@example.com"}, key="same")
    b = post(sim, "/v1/customers", {"email": "a@example.com"}, key="same", token=other)
    assert a.status == b.status == 200
    assert a.json()["id"] != b.json()["id"]
    assert "Idempotent-Replayed" not in b.headers


def test_reads_ignore_the_key(sim: BillingSimulator) -> None:
    headers = {**sim.auth_headers(), "Idempotency-Key": "x"}
    assert sim.handle("GET", sim.base_url + "/v1/customers", headers, b"").status == 200
    assert len(sim.idempotency) == 0


def test_in_flight_key_gets_409(sim: BillingSimulator) -> None:
    # only the first call is slow: it holds the key while it "runs"
    sim.faults.add("billing.customers.create", "latency", latency=0.3, times=1)
    results: list[SimResponse] = []
    t = threading.Thread(
        target=lambda: results.append(post(sim, "/v1/customers", {"email": "a@example.com"}, key="busy"))
    )
    t.start()
    deadline = time.monotonic() + 5
    while len(sim.idempotency) == 0 and time.monotonic() < deadline:  # until the key is reserved
        time.sleep(0.005)
    conflict = post(sim, "/v1/customers", {"email": "a@example.com"}, key="busy")
    t.join()
    assert conflict.status == 409
    assert conflict.json()["error"]["code"] == "idempotency_key_in_use"
    assert results[0].status == 200
    assert len(sim.all("customers")) == 1
    # the conflict saved nothing: the key now replays the first result
    assert post(sim, "/v1/customers", {"email": "a@example.com"}, key="busy").headers["Idempotent-Replayed"]


@pytest.mark.parametrize("slow", [False, True])
def test_eight_threads_same_key_one_side_effect(sim: BillingSimulator, slow: bool) -> None:
    if slow:  # widen the in-flight window so some threads must see the 409
        sim.faults.add("billing.refunds.create", "latency", latency=0.2)
    pi = sim.create_payment(5000)
    barrier = threading.Barrier(8)
    statuses: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        r = post(sim, "/v1/refunds", {"payment_intent": pi.id, "amount": 100}, key="refund-once")
        with lock:
            statuses.append((r.status, r.headers.get("Idempotent-Replayed")))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = Counter(s for s, _ in statuses)
    assert counts[200] >= 1 and set(counts) <= {200, 409}
    assert sum(1 for s, replayed in statuses if s == 200 and not replayed) == 1
    assert len(sim.all("refunds")) == 1
    assert len(sim.ledger.changes("refunds")) == 1
    sim.assert_no_duplicate_side_effects()
    if slow:
        assert counts[409] >= 1


def test_eight_threads_over_loopback(sim: BillingSimulator) -> None:
    pi = sim.create_payment(5000)
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)
    with SimServer(sim) as server:

        def worker() -> None:
            with httpx.Client(base_url=server.base_url, headers=sim.auth_headers()) as c:
                barrier.wait()
                r = c.post(
                    "/v1/refunds", data={"payment_intent": pi.id, "amount": 100}, headers={"Idempotency-Key": "loop"}
                )
            with lock:
                statuses.append(r.status_code)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert set(statuses) <= {200, 409} and 200 in statuses
    assert len(sim.all("refunds")) == 1
