"""Billing behaviours the official SDK and spec pin down: parameters, search, filters, errors,
the API version (raw HTTP here, so each request is exactly what the test says)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from conformance.stripe import stripe_checker, stripe_conformance  # noqa: F401

from simulators.billing import BillingSimulator
from simulators.billing.routes.search import parse


@pytest.fixture
def sim() -> BillingSimulator:
    return BillingSimulator()


@pytest.fixture
def api(sim: BillingSimulator) -> httpx.Client:
    return sim.client()


def _official_params(method: str, path: str) -> set[str]:
    op = stripe_checker().operation(method, path.replace("{", "").replace("}", "")).spec
    names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
    body = op.get("requestBody", {}).get("content", {}).get("application/x-www-form-urlencoded", {})
    return names | set(body.get("schema", {}).get("properties", {}))


def test_every_official_parameter_of_every_operation_is_accepted() -> None:
    missing = {}
    for route in BillingSimulator.routes:
        ours = set(route.params.model_fields) if route.params else set()
        gap = _official_params(route.method, route.path) - ours
        if gap:
            missing[route.tool] = sorted(gap)
    assert missing == {}


def test_the_parameters_of_issue_16_are_accepted(sim: BillingSimulator, api: httpx.Client) -> None:
    cust = api.post(
        "/v1/customers",
        data={"shipping[name]": "Ana", "shipping[address][line1]": "1 Main St", "coupon": "X", "promotion_code": "p",
              "tax_id_data[0][type]": "eu_vat", "tax_id_data[0][value]": "PT1"},
    )  # fmt: skip
    assert cust.status_code == 200, cust.text
    assert cust.json()["shipping"]["address"]["line1"] == "1 Main St"
    pi = api.post(
        "/v1/payment_intents",
        data={"amount": "900", "currency": "usd", "capture_method": "manual", "payment_method": "pm_card_visa",
              "confirm": "true", "payment_method_data[type]": "card",
              "payment_method_options[card][request_three_d_secure]": "any", "shipping[name]": "Ana",
              "shipping[address][city]": "Porto", "transfer_data[destination]": "acct_1"},
    )  # fmt: skip
    assert pi.status_code == 200, pi.text
    assert pi.json()["transfer_data"] == {"destination": "acct_1"}
    assert pi.json()["payment_method_options"]["card"]["request_three_d_secure"] == "any"
    captured = api.post(f"/v1/payment_intents/{pi.json()['id']}/capture", data={"metadata[k]": "v"})
    assert captured.json()["metadata"] == {"k": "v"}
    refund = api.post(
        "/v1/refunds",
        data={"payment_intent": pi.json()["id"], "instructions_email": "a@b.c", "origin": "customer_balance",
              "reverse_transfer": "false"},
    )  # fmt: skip
    assert refund.status_code == 200 and "description" not in refund.json()
    inv = sim.create_invoice(cust.json()["id"], [{"amount": 500}], finalize=True)
    paid = api.post(
        f"/v1/invoices/{inv.id}/pay", data={"forgive": "true", "off_session": "true", "paid_out_of_band": "true"}
    )
    assert paid.json()["paid_out_of_band"] is True and paid.json()["status"] == "paid"


def test_invoice_items_and_invoices_need_what_stripe_needs(sim: BillingSimulator, api: httpx.Client) -> None:
    cust = sim.create_customer(email="a@b.c")
    product = api.post("/v1/products", data={"name": "Seat"}).json()
    price = api.post("/v1/prices", data={"product": product["id"], "currency": "usd", "unit_amount": "700"}).json()
    assert (
        api.post("/v1/invoiceitems", data={"customer": cust.id, "price": price["id"], "quantity": "3"}).json()["amount"]
        == 2100
    )
    assert (
        api.post("/v1/invoiceitems", data={"customer": cust.id, "unit_amount": "50", "quantity": "2"}).json()["amount"]
        == 100
    )
    inline = {"customer": cust.id, "price_data[currency]": "usd", "price_data[product]": product["id"],
              "price_data[unit_amount]": "30"}  # fmt: skip
    assert api.post("/v1/invoiceitems", data=inline).json()["amount"] == 30
    missing = api.post("/v1/invoiceitems", data={"customer": cust.id}).json()["error"]
    assert missing["code"] == "parameter_missing" and missing["param"] == "amount"
    assert api.post("/v1/invoices", data={}).status_code == 200  # customer is optional, as in the spec


def test_stripe_version_is_answered_honestly(api: httpx.Client) -> None:
    for sent in ("2026-10-28.endive", "2020-08-27", None):
        headers = {"Stripe-Version": sent} if sent else {}
        response = api.get("/v1/customers", headers=headers)
        assert response.status_code == 200
        assert response.headers["Stripe-Version"] == BillingSimulator.api_version == "2023-08-16"
    assert stripe_checker().document["info"]["version"] == BillingSimulator.api_version


@pytest.mark.parametrize(
    ("data", "param", "code", "message"),
    [
        ({"amount": "abc", "currency": "usd"}, "amount", "parameter_invalid_integer", "Invalid integer: abc"),
        ({"amount": "0", "currency": "usd"}, "amount", "parameter_invalid_integer",
         "This value must be greater than or equal to 1."),
        ({"currency": "usd"}, "amount", "parameter_missing", "Missing required param: amount."),
        ({"amount": "5", "currency": "usd", "confirm": "maybe"}, "confirm", "parameter_invalid",
         "Invalid boolean: maybe"),
        ({"amount": "5", "currency": "usd", "capture_method": "later"}, "capture_method", "parameter_invalid",
         "Invalid capture_method: must be one of automatic, automatic_async, or manual"),
        ({"amount": "5", "currency": "usd", "bogus": "1"}, "bogus", "parameter_unknown",
         "Received unknown parameter: bogus"),
        ({"amount": "", "currency": "usd"}, "amount", "parameter_invalid_empty", None),
    ],
)  # fmt: skip
def test_parameter_errors_read_like_stripes(
    api: httpx.Client, data: dict[str, str], param: str, code: str, message: str | None
) -> None:
    error = api.post("/v1/payment_intents", data=data).json()["error"]
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")
    if message is not None:
        assert error["message"] == message
    else:
        assert error["message"].startswith(f"You passed an empty string for '{param}'.")


def test_resource_errors_name_the_path_parameter_as_stripe_does(api: httpx.Client) -> None:
    pi = api.get("/v1/payment_intents/pi_nope").json()["error"]
    assert (pi["code"], pi["param"], pi["message"]) == (
        "resource_missing",
        "intent",
        "No such payment_intent: 'pi_nope'",
    )
    assert api.get("/v1/customers/cus_nope").json()["error"]["param"] == "id"


def _seed_customers(sim: BillingSimulator) -> list[Any]:
    rows = [
        {"email": "ana@shop.test", "name": "Ana Lima", "metadata": {"tier": "gold"}},
        {"email": "bob@shop.test", "name": "Bob Stone", "metadata": {"tier": "silver"}},
        {"email": "cy@else.test", "name": "Cy Lima", "metadata": {"tier": "gold", "vip": "yes"}},
    ]
    out = []
    for row in rows:
        out.append(sim.create_customer(**row))
        sim.clock.advance(60)
    return out


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('email:"ana@shop.test"', ["ana"]),
        ('EMAIL:"x"', "error"),
        ('name~"lima"', ["cy", "ana"]),
        ('metadata["tier"]:"gold" AND -metadata["vip"]:"yes"', ["ana"]),
        ('metadata["tier"]:"silver" OR email:"cy@else.test"', ["cy", "bob"]),
        ('name~"lima" email:"cy@else.test"', ["cy"]),
        ("created>{t1}", ["cy"]),
        ("created>={t1}", ["cy", "bob"]),
        ("created>={t1} AND created<{t2}", ["bob"]),
        ('name:"a" AND email:"b" OR phone:"c"', "error"),
        ('name~"li"', "error"),
        ("amount>5", "error"),
        ('email:"unterminated', "error"),
    ],
)
def test_search_query_language(sim: BillingSimulator, api: httpx.Client, query: str, expected: Any) -> None:
    ana, bob, cy = _seed_customers(sim)
    names = {ana.id: "ana", bob.id: "bob", cy.id: "cy"}
    response = api.get("/v1/customers/search", params={"query": query.format(t1=bob.created, t2=cy.created)})
    if expected == "error":
        error = response.json()["error"]
        assert response.status_code == 400 and error["param"] == "query", error
        return
    assert response.status_code == 200, response.text
    assert [names[c["id"]] for c in response.json()["data"]] == expected


def test_search_pages_with_next_page(sim: BillingSimulator, api: httpx.Client) -> None:
    for i in range(5):
        sim.create_payment(1000 + i, metadata={"batch": "b1"})
    seen: list[int] = []
    params: dict[str, Any] = {"query": 'metadata["batch"]:"b1"', "limit": 2}
    while True:
        page = api.get("/v1/charges/search", params=params).json()
        seen += [c["amount"] for c in page["data"]]
        if not page["has_more"]:
            assert page["next_page"] is None
            break
        params["page"] = page["next_page"]
    assert sorted(seen) == [1000, 1001, 1002, 1003, 1004] and len(seen) == 5
    counted = api.get("/v1/charges/search", params={"query": 'metadata["batch"]:"b1"', "expand[]": "total_count"})
    assert counted.json()["total_count"] == 5 and "total_count" not in page
    bad = api.get("/v1/charges/search", params={"query": 'status:"failed"', "page": params["page"]})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "page"


def test_created_range_filters_on_every_list(sim: BillingSimulator, api: httpx.Client) -> None:
    first = sim.create_payment(100)
    sim.clock.advance(100)
    second = sim.create_payment(200)
    mid = first.created + 50
    for path in ("/v1/payment_intents", "/v1/charges", "/v1/balance_transactions"):
        newer = api.get(path, params={"created[gt]": mid}).json()["data"]
        older = api.get(path, params={"created[lte]": mid}).json()["data"]
        assert [o["amount"] for o in newer] == [200] and [o["amount"] for o in older] == [100], path
        exact = api.get(path, params={"created": second.created}).json()["data"]
        assert [o["amount"] for o in exact] == [200]
    bad = api.get("/v1/charges", params={"created[gt]": "soon"}).json()["error"]
    assert (bad["param"], bad["message"]) == ("created[gt]", "Invalid integer: soon")


def test_parse_refuses_fields_a_resource_cannot_search() -> None:
    with pytest.raises(Exception, match="unsupported search field for resource `subscriptions`"):
        parse('email:"a"', "subscriptions")
    assert parse('status:"active"', "subscriptions")({"status": "ACTIVE"})


def test_subscription_lifecycle_follows_the_clock(sim: BillingSimulator, api: httpx.Client) -> None:
    cust = sim.create_customer(email="t@shop.test", invoice_settings={"default_payment_method": "pm_card_visa"})
    product = api.post("/v1/products", data={"name": "Pro"}).json()
    price = api.post(
        "/v1/prices",
        data={"product": product["id"], "currency": "usd", "unit_amount": "1000", "recurring[interval]": "month"},
    ).json()
    sub = sim.create_subscription(cust.id, [price["id"]], trial_period_days=7)
    assert sub.status == "trialing"
    invoice = api.get(f"/v1/invoices/{sub.latest_invoice}").json()
    assert (invoice["total"], invoice["status"], invoice["lines"]["data"][0]["type"]) == (0, "paid", "subscription")
    sim.clock.advance(8 * 86400)
    assert api.get(f"/v1/subscriptions/{sub.id}").json()["status"] == "active"
    api.post(f"/v1/subscriptions/{sub.id}", data={"cancel_at_period_end": "true"})
    assert api.get(f"/v1/subscriptions/{sub.id}").json()["status"] == "active"
    sim.clock.advance(40 * 86400)
    assert api.get(f"/v1/subscriptions/{sub.id}").json()["status"] == "canceled"
    assert api.get("/v1/subscriptions", params={"status": "canceled"}).json()["data"][0]["id"] == sub.id
    paid = sim.create_subscription(cust.id, [price["id"]])
    first = api.get(f"/v1/invoices/{paid.latest_invoice}", params={"expand[]": "charge"}).json()
    assert paid.status == "active" and first["amount_paid"] == 1000 and first["charge"]["amount"] == 1000
    nobody = sim.create_customer(email="n@shop.test")
    assert sim.create_subscription(nobody.id, [price["id"]]).status == "incomplete"


def test_dispute_helper_and_balance(sim: BillingSimulator, api: httpx.Client) -> None:
    pay = sim.create_payment(10000)
    dispute = sim.create_dispute(str(pay.latest_charge), reason="product_not_received")
    assert (dispute.status, dispute.reason, dispute.amount) == ("needs_response", "product_not_received", 10000)
    txns = api.get("/v1/balance_transactions").json()["data"]
    assert [(t["type"], t["amount"], t["fee"], t["net"]) for t in txns] == [
        ("adjustment", -10000, 1500, -11500),
        ("charge", 10000, 320, 9680),
    ]
    inquiry = sim.create_dispute(str(sim.create_payment(500).latest_charge), inquiry=True)
    assert inquiry.status == "warning_needs_response" and inquiry.balance_transactions == []
    refund = api.post("/v1/refunds", data={"charge": inquiry.charge})
    assert refund.status_code == 200  # an inquiry does not block refunds
    expanded = api.get(f"/v1/balance_transactions/{txns[0]['id']}", params={"expand[]": "source"}).json()
    assert expanded["source"]["object"] == "dispute"


def test_subscription_items_page_and_bill_together(sim: BillingSimulator, api: httpx.Client) -> None:
    cust = sim.create_customer(email="p@shop.test", invoice_settings={"default_payment_method": "pm_card_visa"})
    product = api.post("/v1/products", data={"name": "Seats"}).json()
    prices = [
        api.post(
            "/v1/prices",
            data={"product": product["id"], "currency": "usd", "unit_amount": str(a), "recurring[interval]": "year"},
        ).json()["id"]
        for a in (100, 200)
    ]
    sub = sim.create_subscription(cust.id, prices)
    first = api.get("/v1/subscription_items", params={"subscription": sub.id, "limit": 1}).json()
    rest = api.get("/v1/subscription_items", params={"subscription": sub.id, "starting_after": first["data"][0]["id"]})
    assert first["has_more"] is True and rest.json()["has_more"] is False
    assert {first["data"][0]["id"], rest.json()["data"][0]["id"]} == {i.id for i in sub.items.data}
    assert api.get(f"/v1/invoices/{sub.latest_invoice}").json()["amount_paid"] == 300
    assert sub.current_period_end - sub.current_period_start in (365 * 86400, 366 * 86400)
