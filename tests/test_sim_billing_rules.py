"""Billing business rules through the in-process httpx client (no socket)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conformance.stripe import stripe_conformance  # noqa: F401  (every answer checked against Stripe's spec)

from simulators.billing import BillingSimulator


@pytest.fixture
def sim() -> BillingSimulator:
    return BillingSimulator()


@pytest.fixture
def api(sim: BillingSimulator) -> Iterator[httpx.Client]:
    with sim.client() as c:
        yield c


def err(r: httpx.Response) -> tuple[int, str, Any]:
    e = r.json()["error"]
    return r.status_code, e["code"], e.get("param")


def test_metadata_and_blank_update_semantics(api: httpx.Client) -> None:
    cid = api.post("/v1/customers", data={"description": "d", "metadata[a]": "1", "metadata[b]": "2"}).json()["id"]
    got = api.post(f"/v1/customers/{cid}", data={"metadata[b]": "", "metadata[c]": "3", "description": ""}).json()
    assert got["metadata"] == {"a": "1", "c": "3"} and got["description"] is None
    assert api.post(f"/v1/customers/{cid}", data={"metadata": ""}).json()["metadata"] == {}
    addr = api.post(f"/v1/customers/{cid}", data={"address[city]": "Paris"}).json()["address"]
    assert addr["city"] == "Paris"


def test_manual_capture_and_cancel(sim: BillingSimulator, api: httpx.Client) -> None:
    pi = api.post(
        "/v1/payment_intents",
        data={
            "amount": 1000,
            "currency": "usd",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "confirm": "true",
        },
    ).json()
    assert pi["status"] == "requires_capture" and pi["amount_capturable"] == 1000
    assert err(api.post("/v1/refunds", data={"payment_intent": pi["id"]}))[1] == "payment_intent_unexpected_state"
    assert err(api.post(f"/v1/payment_intents/{pi['id']}/capture", data={"amount_to_capture": 2000})) == (
        400,
        "amount_too_large",
        "amount_to_capture",
    )
    done = api.post(f"/v1/payment_intents/{pi['id']}/capture", data={"amount_to_capture": 600}).json()
    assert done["status"] == "succeeded" and done["amount_received"] == 600
    # only the captured 600 can be refunded
    assert err(api.post("/v1/refunds", data={"payment_intent": pi["id"], "amount": 700}))[1] == "amount_too_large"
    assert api.post("/v1/refunds", data={"payment_intent": pi["id"]}).json()["amount"] == 600

    held = sim.create_payment_intent(
        amount=500, currency="usd", capture_method="manual", payment_method="pm_card_visa", confirm=True
    )
    canceled = api.post(f"/v1/payment_intents/{held.id}/cancel", data={"cancellation_reason": "abandoned"}).json()
    assert canceled["status"] == "canceled" and canceled["canceled_at"] == sim.clock.timestamp()
    assert api.get(f"/v1/charges/{held.latest_charge}").json()["refunded"] is True
    assert err(api.post(f"/v1/payment_intents/{held.id}/confirm", data={"payment_method": "pm_card_visa"}))[1] == (
        "payment_intent_unexpected_state"
    )
    # ledger params are the tool arguments: path parameters plus typed values
    capture = next(e for e in sim.ledger if e.tool == "billing.payment_intents.capture" and e.side_effect)
    assert capture.params == {"intent": pi["id"], "amount_to_capture": 600}
    refused = sim.ledger.refused()[-1]
    assert (refused.tool, refused.params["intent"]) == ("billing.payment_intents.confirm", held.id)


def test_decline_on_create_keeps_the_intent_and_failed_charge(sim: BillingSimulator, api: httpx.Client) -> None:
    r = api.post(
        "/v1/payment_intents",
        data={"amount": 800, "currency": "usd", "confirm": "true", "payment_method": "pm_card_chargeDeclined"},
    )
    assert r.status_code == 402
    body = r.json()["error"]
    assert (body["type"], body["code"], body["decline_code"]) == ("card_error", "card_declined", "generic_decline")
    pi = body["payment_intent"]
    assert api.get(f"/v1/payment_intents/{pi['id']}").json()["status"] == "requires_payment_method"
    charges = api.get("/v1/charges", params={"payment_intent": pi["id"]}).json()["data"]
    assert [c["status"] for c in charges] == ["failed"]
    entry = sim.ledger.writes()[0]
    assert (entry.outcome, entry.status, entry.error_code) == ("applied", 402, "card_declined")
    assert {c.resource for c in entry.changes} == {"charges", "payment_intents"}


def test_validation_errors_name_the_param(api: httpx.Client) -> None:
    base = {"amount": 100, "currency": "usd"}
    assert err(api.post("/v1/payment_intents", data={**base, "off_session": "maybe"}))[2] == "off_session"
    assert err(api.post("/v1/payment_intents", data={**base, "customer": "cus_nope"})) == (
        404,
        "resource_missing",
        "customer",
    )
    assert err(api.post("/v1/payment_intents", data={**base, "payment_method": "pm_nope"})) == (
        404,
        "resource_missing",
        "payment_method",
    )
    assert err(api.post("/v1/payment_intents", data={**base, "currency": "dollars"}))[2] == "currency"
    assert err(api.post("/v1/customers", data={"address[planet]": "Mars"})) == (
        400,
        "parameter_unknown",
        "address[planet]",
    )
    assert err(api.get("/v1/customers", params={"limit": 1000})) == (400, "parameter_invalid_integer", "limit")
    assert err(api.get("/v1/customers", params={"starting_after": "cus_gone"})) == (
        404,
        "resource_missing",
        "starting_after",
    )
    assert err(api.get("/v1/charges", params={"expand[]": "data.refunds"}))[1:] == ("parameter_invalid", "expand")
    assert err(api.post("/v1/refunds", data={})) == (400, "parameter_missing", "charge")
    assert err(api.post("/v1/invoices", data={"customer": "cus_x", "collection_method": "send_invoice"}))[1] == (
        "resource_missing"
    )
    assert api.get("/v1/nowhere").status_code == 404


def test_invoice_lifecycle(sim: BillingSimulator, api: httpx.Client) -> None:
    cust = sim.create_customer(email="i@example.com", name="Inv")
    r = api.post("/v1/invoices", data={"customer": cust.id, "collection_method": "send_invoice"})
    assert err(r) == (400, "parameter_missing", "days_until_due")
    inv = api.post(
        "/v1/invoices",
        data={"customer": cust.id, "collection_method": "send_invoice", "days_until_due": 30, "description": "Q1"},
    ).json()
    assert inv["due_date"] == sim.clock.timestamp() + 30 * 86400 and inv["customer_name"] == "Inv"
    api.post(
        "/v1/invoiceitems", data={"customer": cust.id, "invoice": inv["id"], "amount": 900, "description": "Hours"}
    )
    assert err(api.post(f"/v1/invoices/{inv['id']}/pay")) == (400, "parameter_missing", "payment_method")
    declined = api.post(f"/v1/invoices/{inv['id']}/pay", data={"payment_method": "pm_card_chargeDeclined"})
    assert declined.status_code == 402
    after = api.get(f"/v1/invoices/{inv['id']}").json()
    assert (after["status"], after["attempt_count"], after["amount_remaining"]) == ("open", 1, 900)
    voided = api.post(f"/v1/invoices/{inv['id']}/void").json()
    assert voided["status"] == "void"
    assert err(api.post(f"/v1/invoices/{inv['id']}/finalize"))[1] == "invoice_unexpected_state"

    free = sim.create_invoice(cust.id, finalize=True)
    assert free.status == "paid"  # a zero-total invoice is paid on finalization
    oob = sim.create_invoice(cust.id, [{"amount": 100}], finalize=True)
    paid = api.post(f"/v1/invoices/{oob.id}/pay", data={"paid_out_of_band": "true"}).json()
    assert paid["status"] == "paid" and paid["amount_paid"] == 100
    assert oob.number and oob.number.endswith("-0003")
    pending = api.get("/v1/invoiceitems", params={"pending": "true"}).json()["data"]
    assert pending == []


def test_list_ordering_with_a_frozen_clock_and_filters(sim: BillingSimulator, api: httpx.Client) -> None:
    a = sim.create_payment(100)
    sim.clock.advance(10)
    b = sim.create_payment(200)
    c = sim.create_payment(300)
    ids = [x["id"] for x in api.get("/v1/payment_intents").json()["data"]]
    assert ids == [c.id, b.id, a.id]
    assert [x["amount"] for x in api.get("/v1/charges", params={"limit": 2}).json()["data"]] == [300, 200]
    assert api.get("/v1/refunds", params={"charge": a.latest_charge}).json()["data"] == []
