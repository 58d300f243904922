"""Tenants and tokens: isolation (property-based), expiry, rotation, scopes."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulators.billing import BillingSimulator
from simulators.core.wire import SimResponse

MARKER = "TENANT-B-PRIVATE"


def call(
    sim: BillingSimulator, method: str, path: str, data: dict[str, Any] | None = None, token: str | None = None
) -> SimResponse:
    headers = sim.auth_headers(token)
    body = b""
    if method == "GET" and data:
        path = f"{path}?{urlencode(data)}"
    elif data:
        body = urlencode(data).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return sim.handle(method, sim.base_url + path, headers, body)


def two_tenants() -> tuple[BillingSimulator, dict[str, list[str]], dict[str, list[str]]]:
    sim = BillingSimulator()
    a = sim.seed_demo()
    b: dict[str, list[str]] = {}
    cust = sim.create_customer(tenant="b", email="b@example.com", description=MARKER, metadata={"n": MARKER})
    pay = sim.create_payment(4000, customer=cust.id, tenant="b", description=MARKER)
    pending = sim.create_payment_intent(tenant="b", amount=100, currency="usd", customer=cust.id)
    inv = sim.create_invoice(cust.id, [{"amount": 500, "description": MARKER}], tenant="b")
    b = {
        "customers": [cust.id],
        "payment_intents": [pay.id, pending.id],
        "charges": [str(pay.latest_charge)],
        "invoices": [inv.id],
    }
    return sim, a, b


PATHS = {
    "customers": "/v1/customers",
    "payment_intents": "/v1/payment_intents",
    "charges": "/v1/charges",
    "refunds": "/v1/refunds",
    "invoices": "/v1/invoices",
}

ops = st.one_of(
    st.tuples(st.just("retrieve"), st.sampled_from(sorted(PATHS)), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("list"), st.sampled_from(sorted(PATHS)), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("update_customer"), st.just("customers"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("refund"), st.just("payment_intents"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("confirm"), st.just("payment_intents"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("cancel"), st.just("payment_intents"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("charge_customer"), st.just("customers"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("pay_invoice"), st.just("invoices"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("invoice_item"), st.just("customers"), st.integers(0, 9), st.booleans()),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=1, max_size=20))
def test_tenant_a_token_never_reads_or_changes_tenant_b(steps: list[tuple[str, str, int, bool]]) -> None:
    sim, a_ids, b_ids = two_tenants()
    before_b = sim.store.copy()["b"]
    b_all = {i for ids in b_ids.values() for i in ids}
    for op, resource, n, target_b in steps:
        pool = (b_ids if target_b else a_ids).get(resource) or ["missing"]
        ident = pool[n % len(pool)]
        base = PATHS[resource]
        if op == "retrieve":
            r = call(sim, "GET", f"{base}/{ident}", {"expand[]": "customer"} if resource == "charges" else None)
        elif op == "list":
            r = call(sim, "GET", base, {"limit": 100, "starting_after": ident} if target_b else {"limit": 100})
        elif op == "update_customer":
            r = call(sim, "POST", f"{base}/{ident}", {"metadata[touched]": "yes", "description": "x"})
        elif op == "refund":
            r = call(sim, "POST", "/v1/refunds", {"payment_intent": ident, "amount": 1})
        elif op == "confirm":
            r = call(sim, "POST", f"{base}/{ident}/confirm", {"payment_method": "pm_card_visa"})
        elif op == "cancel":
            r = call(sim, "POST", f"{base}/{ident}/cancel")
        elif op == "charge_customer":
            r = call(sim, "POST", "/v1/payment_intents", {"amount": 50, "currency": "usd", "customer": ident})
        elif op == "pay_invoice":
            r = call(sim, "POST", f"{base}/{ident}/pay", {"paid_out_of_band": "true"})
        else:
            r = call(sim, "POST", "/v1/invoiceitems", {"customer": ident, "amount": 10})
        assert r.status < 500, r.body
        text = r.body.decode().replace(ident, "<requested id>")  # echoing the caller's input leaks nothing
        assert MARKER not in text
        assert not any(i in text for i in b_all), (op, ident, text[:300])
        if target_b and ident != "missing":
            assert r.status == 404 and r.json()["error"]["code"] == "resource_missing", (op, r.body)
    assert sim.store.copy()["b"] == before_b
    assert sim.internal_errors == []


def test_b_token_sees_only_b() -> None:
    sim, a_ids, b_ids = two_tenants()
    token_b = sim.issue_token(tenant="b")
    listed = call(sim, "GET", "/v1/customers", token=token_b).json()
    assert [c["id"] for c in listed["data"]] == b_ids["customers"]
    assert call(sim, "GET", f"/v1/customers/{a_ids['customers'][0]}", token=token_b).status == 404


def test_expired_token_is_401() -> None:
    sim = BillingSimulator()
    short = sim.issue_token(ttl=60)
    assert call(sim, "GET", "/v1/customers", token=short).status == 200
    sim.clock.advance(60)
    r = call(sim, "GET", "/v1/customers", token=short)
    assert r.status == 401 and r.json()["error"]["code"] == "api_key_expired"
    entry = sim.ledger.unauthorized()[0]
    assert (entry.tenant, entry.error_code, entry.tool) == ("default", "api_key_expired", "billing.customers.list")


def test_rotation_and_revocation() -> None:
    sim = BillingSimulator()
    old = sim.api_key
    new = sim.rotate_token()
    assert sim.api_key == new != old
    r = call(sim, "GET", "/v1/customers", token=old)
    assert r.status == 401 and r.json()["error"]["code"] == "api_key_revoked"
    assert call(sim, "GET", "/v1/customers", token=new).status == 200

    graceful = sim.issue_token(tenant="b")
    successor = sim.rotate_token(graceful, grace=300)
    assert call(sim, "GET", "/v1/customers", token=graceful).status == 200
    sim.clock.advance(301)
    assert call(sim, "GET", "/v1/customers", token=graceful).status == 401
    assert call(sim, "GET", "/v1/customers", token=successor).status == 200
    assert sim.token_info(successor).tenant == "b"

    sim.revoke_token(successor)
    assert call(sim, "GET", "/v1/customers", token=successor).status == 401


def test_read_only_token_cannot_write_and_is_recorded() -> None:
    sim = BillingSimulator()
    reader = sim.issue_token(scopes=["read"])
    assert reader.startswith("rk_test_")
    assert call(sim, "GET", "/v1/customers", token=reader).status == 200
    r = call(sim, "POST", "/v1/customers", {"email": "x@example.com"}, token=reader)
    assert r.status == 403 and r.json()["error"]["code"] == "insufficient_permissions"
    sim.assert_no_writes()
    with pytest.raises(AssertionError, match=r"billing\.customers\.create.*403 unauthorized"):
        sim.assert_no_unauthorized_attempts()

    writer = sim.issue_token(scopes="write")
    assert call(sim, "GET", "/v1/customers", token=writer).status == 403
    assert call(sim, "POST", "/v1/customers", {"email": "x@example.com"}, token=writer).status == 200


def test_missing_and_unknown_credentials() -> None:
    sim = BillingSimulator()
    r = sim.handle("GET", sim.base_url + "/v1/customers", {}, b"")
    assert r.status == 401 and r.json()["error"]["code"] == "authentication_required"
    r = call(sim, "GET", "/v1/customers", token="sk_test_guess")
    assert r.status == 401 and r.json()["error"]["code"] == "api_key_invalid"
    assert "sk_test_guess" not in r.body.decode()  # never echo a secret in full
    assert [e.token_id for e in sim.ledger.unauthorized()] == [None, None]
    basic = base64.b64encode(f"{sim.api_key}:".encode()).decode()
    assert sim.handle("GET", sim.base_url + "/v1/customers", {"Authorization": f"Basic {basic}"}).status == 200
    # openapi.json needs no token
    assert sim.handle("GET", sim.base_url + "/openapi.json", {}).status == 200
