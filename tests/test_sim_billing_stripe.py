"""The official ``stripe`` SDK, unchanged, against the billing simulator on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from conformance.stripe import stripe_conformance  # noqa: F401  (every answer checked against Stripe's spec)
from stripe._http_client import HTTPClient

from simulators.billing import BillingSimulator
from simulators.core.server import SimServer


@pytest.fixture
def sim() -> BillingSimulator:
    return BillingSimulator()


@pytest.fixture
def server(sim: BillingSimulator) -> Iterator[SimServer]:
    srv = SimServer(sim).start()
    yield srv
    srv.stop()


@pytest.fixture
def client(sim: BillingSimulator, server: SimServer, monkeypatch: pytest.MonkeyPatch) -> stripe.StripeClient:
    # keep the SDK's real retry logic, only shorten its back-off so the suite stays fast
    monkeypatch.setattr(HTTPClient, "INITIAL_DELAY", 0.01)
    return stripe.StripeClient(sim.api_key, base_addresses={"api": server.base_url}, max_network_retries=2)


def test_customer_payment_refund_flow(sim: BillingSimulator, client: stripe.StripeClient) -> None:
    cust = client.v1.customers.create(
        params={"email": "ada@example.com", "name": "Ada", "metadata": {"plan": "pro", "notes": "VIP"}}
    )
    assert cust.id.startswith("cus_")
    assert cust.metadata["notes"] == "VIP"  # type: ignore[index]
    assert client.v1.customers.retrieve(cust.id).email == "ada@example.com"

    pi = client.v1.payment_intents.create(
        params={"amount": 2000, "currency": "USD", "customer": cust.id, "description": "Pro plan"}
    )
    assert pi.id.startswith("pi_") and pi.status == "requires_payment_method"
    assert pi.currency == "usd"

    pi = client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert pi.status == "succeeded"
    assert pi.amount_received == 2000
    charge = client.v1.charges.retrieve(pi.latest_charge)  # type: ignore[arg-type]
    assert charge.id.startswith("ch_") and charge.paid and charge.payment_intent == pi.id
    assert charge.payment_method_details.card.last4 == "4242"  # type: ignore[union-attr]

    refund = client.v1.refunds.create(
        params={"payment_intent": pi.id, "amount": 500, "reason": "requested_by_customer"}
    )
    assert refund.id.startswith("re_") and refund.amount == 500 and refund.charge == charge.id
    assert client.v1.charges.retrieve(charge.id).amount_refunded == 500

    # the rest of the charge, then nothing is left
    rest = client.v1.refunds.create(params={"charge": charge.id})
    assert rest.amount == 1500
    assert client.v1.charges.retrieve(charge.id).refunded is True
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 1})
    assert exc.value.code == "charge_already_refunded"

    sim.assert_wrote("refunds", amount=500, charge=charge.id)
    sim.assert_wrote("payment_intents", status="succeeded", id=pi.id)
    sim.assert_no_duplicate_side_effects()
    sim.assert_no_unauthorized_attempts()


def test_expand_and_deleted_customer(client: stripe.StripeClient) -> None:
    cust = client.v1.customers.create(params={"email": "e@example.com"})
    pi = client.v1.payment_intents.create(
        params={
            "amount": 700,
            "currency": "eur",
            "customer": cust.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "expand": ["customer", "latest_charge"],
        }
    )
    assert pi.customer.email == "e@example.com"  # type: ignore[union-attr]
    assert pi.latest_charge.object == "charge"  # type: ignore[union-attr]
    again = client.v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge.customer"]})
    assert again.latest_charge.customer.id == cust.id  # type: ignore[union-attr]

    deleted = client.v1.customers.delete(cust.id)
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.retrieve(cust.id)
    assert exc.value.http_status == 404 and exc.value.code == "resource_missing"


def test_list_pagination(sim: BillingSimulator, client: stripe.StripeClient) -> None:
    made = [client.v1.customers.create(params={"email": f"c{i}@example.com"}).id for i in range(7)]
    page = client.v1.customers.list(params={"limit": 3})
    assert page["object"] == "list" and page.url == "/v1/customers"
    assert [c.id for c in page.data] == made[::-1][:3]  # newest first
    assert page.has_more is True

    page2 = client.v1.customers.list(params={"limit": 3, "starting_after": page.data[-1].id})
    assert [c.id for c in page2.data] == made[::-1][3:6]
    back = client.v1.customers.list(params={"limit": 2, "ending_before": page2.data[0].id})
    assert [c.id for c in back.data] == made[::-1][1:3]
    assert back.has_more is True

    # the SDK's own auto-pagination walks every page via `url` and `starting_after`
    assert [c.id for c in page.auto_paging_iter()] == made[::-1]
    only = client.v1.customers.list(params={"email": "c4@example.com"})
    assert [c.id for c in only.data] == [made[4]]
    sim.assert_no_duplicate_side_effects()


def test_retry_with_same_idempotency_key_makes_one_charge(sim: BillingSimulator, client: stripe.StripeClient) -> None:
    params = {"amount": 1234, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    opts: stripe.RequestOptions = {"idempotency_key": "order-42"}
    first = client.v1.payment_intents.create(params=params, options=opts)  # type: ignore[arg-type]
    second = client.v1.payment_intents.create(params=params, options=opts)  # type: ignore[arg-type]
    assert second.id == first.id
    assert second.last_response.headers.get("Idempotent-Replayed") == "true"  # type: ignore[union-attr]
    assert first.last_response.headers.get("Idempotent-Replayed") is None  # type: ignore[union-attr]

    charges = client.v1.charges.list()
    assert len(charges.data) == 1
    assert len(sim.ledger.changes("charges")) == 1
    outcomes = [e.outcome for e in sim.ledger if e.tool == "billing.payment_intents.create"]
    assert outcomes == ["applied", "replayed"]
    sim.assert_no_duplicate_side_effects()

    # the same write without a shared key is a second side effect, and the ledger says so
    client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="more than once"):
        sim.assert_no_duplicate_side_effects()
    assert len(sim.ledger.duplicates()) == 1


def test_same_key_different_params_is_idempotency_error(client: stripe.StripeClient) -> None:
    opts: stripe.RequestOptions = {"idempotency_key": "k-1"}
    client.v1.customers.create(params={"email": "a@example.com"}, options=opts)
    with pytest.raises(stripe.IdempotencyError) as exc:
        client.v1.customers.create(params={"email": "b@example.com"}, options=opts)
    assert exc.value.http_status == 400


def test_errors_map_to_sdk_exceptions(sim: BillingSimulator, client: stripe.StripeClient, server: SimServer) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.create(params={"currency": "usd"})  # type: ignore[typeddict-item]
    assert (exc.value.code, exc.value.param) == ("parameter_missing", "amount")

    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.create(params={"amount": "ten", "currency": "usd"})  # type: ignore[typeddict-item]
    assert (exc.value.code, exc.value.param) == ("parameter_invalid_integer", "amount")

    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.create(params={"emial": "typo@example.com"})  # type: ignore[arg-type]
    assert (exc.value.code, exc.value.param) == ("parameter_unknown", "emial")

    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.create(params={"metadata": {"k" * 41: "v"}})
    assert exc.value.code == "parameter_invalid" and exc.value.param == "metadata"

    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.retrieve("cus_doesnotexist")
    assert (exc.value.http_status, exc.value.code, exc.value.param) == (404, "resource_missing", "id")

    pi = client.v1.payment_intents.create(params={"amount": 900, "currency": "usd"})
    with pytest.raises(stripe.CardError) as card:
        client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_chargeDeclinedInsufficientFunds"})
    assert card.value.code == "card_declined"
    assert card.value.error.decline_code == "insufficient_funds"  # type: ignore[union-attr]
    after = client.v1.payment_intents.retrieve(pi.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.decline_code == "insufficient_funds"  # type: ignore[union-attr]
    failed = client.v1.charges.retrieve(after.latest_charge)  # type: ignore[arg-type]
    assert failed.status == "failed"

    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert (exc.value.code, exc.value.param) == ("payment_intent_unexpected_state", "payment_intent")

    ok = client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": ok.id, "amount": 901})
    assert (exc.value.code, exc.value.param) == ("amount_too_large", "amount")
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.cancel(ok.id)
    assert exc.value.code == "payment_intent_unexpected_state"

    bad = stripe.StripeClient("sk_test_nope", base_addresses={"api": server.base_url})
    with pytest.raises(stripe.AuthenticationError):
        bad.v1.customers.list()
    reader = stripe.StripeClient(sim.issue_token(scopes=["read"]), base_addresses={"api": server.base_url})
    assert reader.v1.customers.list()["object"] == "list"
    with pytest.raises(stripe.PermissionError):
        reader.v1.customers.create(params={"email": "x@example.com"})
    assert len(sim.ledger.unauthorized()) == 2
    # the refused writes are in the ledger too, with their codes
    codes = [e.error_code for e in sim.ledger.refused()]
    assert "parameter_missing" in codes and "amount_too_large" in codes


def test_invoices(sim: BillingSimulator, client: stripe.StripeClient) -> None:
    cust = client.v1.customers.create(
        params={"email": "inv@example.com", "invoice_settings": {"default_payment_method": "pm_card_visa"}}
    )
    client.v1.invoice_items.create(params={"customer": cust.id, "amount": 1500, "description": "Setup fee"})
    inv = client.v1.invoices.create(
        params={"customer": cust.id, "pending_invoice_items_behavior": "include", "description": "March"}
    )
    assert inv.id.startswith("in_") and inv.status == "draft" and inv.total == 1500
    assert inv.lines.data[0].description == "Setup fee"
    client.v1.invoice_items.create(params={"customer": cust.id, "amount": 500, "invoice": inv.id})
    inv = client.v1.invoices.finalize_invoice(inv.id)
    assert inv.status == "open" and inv.amount_due == 2000 and inv.number.endswith("-0001")  # type: ignore[union-attr]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.invoice_items.create(params={"customer": cust.id, "amount": 1, "invoice": inv.id})
    assert exc.value.code == "invoice_not_editable"
    paid = client.v1.invoices.pay(inv.id)
    assert paid.status == "paid" and paid.amount_paid == 2000 and paid.amount_remaining == 0
    assert client.v1.charges.list(params={"customer": cust.id}).data[0]["invoice"] == inv.id
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.invoices.pay(inv.id)
    assert exc.value.code == "invoice_unexpected_state"
    listed = client.v1.invoices.list(params={"customer": cust.id, "status": "paid"})
    assert [i.id for i in listed.data] == [inv.id]
    sim.assert_wrote("invoices", id=inv.id, status="paid")


def test_legacy_global_api_base(sim: BillingSimulator, server: SimServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe, "api_base", server.base_url)
    monkeypatch.setattr(stripe, "api_key", sim.api_key)
    cust = stripe.Customer.create(email="legacy@example.com")
    assert stripe.Customer.retrieve(cust.id).email == "legacy@example.com"
