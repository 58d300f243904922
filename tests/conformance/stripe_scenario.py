"""One scenario that calls every billing operation through the official ``stripe`` SDK, success
and error answers both, so the conformance test can check all of them against Stripe's spec.

It reads like what a refund or chargeback agent does: find the customer, look at charges and
invoices, refund, answer a dispute, change a subscription. Each step asserts the behaviour too,
so the scenario fails on wrong semantics, not only on wrong shapes.
"""

from __future__ import annotations

from typing import Any

import stripe


def _fails(call: Any, code: str | None = None, status: int | None = None) -> stripe.StripeError:
    try:
        call()
    except stripe.StripeError as err:
        assert code is None or err.code == code, (err.code, err.user_message)
        assert status is None or err.http_status == status
        return err
    raise AssertionError("expected a Stripe error")


def customers(c: stripe.StripeClient) -> dict[str, Any]:
    v = c.v1
    ana = v.customers.create(
        params={
            "email": "ana@example.com",
            "name": "Ana Lima",
            "metadata": {"tier": "gold"},
            "shipping": {"name": "Ana", "address": {"line1": "1 Main St", "city": "Lisbon", "country": "PT"}},
            "coupon": "SUMMER",
            "promotion_code": "promo_1",
            "tax_id_data": [{"type": "eu_vat", "value": "PT123456789"}],
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    bob = v.customers.create(params={"email": "bob@example.com", "name": "Bob"})
    assert v.customers.retrieve(ana.id).shipping.address.city == "Lisbon"  # type: ignore[union-attr]
    method = v.customers.retrieve(ana.id, params={"expand": ["invoice_settings.default_payment_method"]})
    assert method.invoice_settings.default_payment_method.card.last4 == "4242"  # type: ignore[union-attr]
    assert v.customers.update(bob.id, params={"metadata": {"tier": "silver"}}).metadata["tier"] == "silver"
    assert [x.id for x in v.customers.list(params={"email": "bob@example.com"}).data] == [bob.id]
    assert [x.id for x in v.customers.list(params={"created": {"gte": ana.created}}).data] == [bob.id, ana.id]
    found = v.customers.search(params={"query": 'metadata["tier"]:"gold"', "expand": ["total_count"]})
    assert [x.id for x in found.data] == [ana.id] and found.object == "search_result" and found.total_count == 1
    _fails(lambda: v.customers.retrieve("cus_missing"), "resource_missing", 404)
    _fails(lambda: v.customers.search(params={"query": "bogus:1"}), "parameter_invalid", 400)
    temp = v.customers.create(params={"email": "gone@example.com"})
    assert v.customers.delete(temp.id).deleted is True
    return {"ana": ana.id, "bob": bob.id}


def payments(c: stripe.StripeClient, ids: dict[str, Any]) -> None:
    v = c.v1
    pi = v.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "usd",
            "customer": ids["ana"],
            "description": "Order 1001",
            "metadata": {"order": "1001"},
            "payment_method_data": {"type": "card"},
            "payment_method_options": {"card": {"request_three_d_secure": "any"}},
            "shipping": {"name": "Ana", "address": {"line1": "1 Main St"}},
            "transfer_data": {"destination": "acct_1"},
        }
    )
    pi = v.payment_intents.update(pi.id, params={"description": "Order 1001 (gift)"})
    pi = v.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    expanded = v.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge.balance_transaction", "customer"]})
    assert pi.status == "succeeded" and expanded.latest_charge.id == pi.latest_charge  # type: ignore[union-attr]
    assert expanded.latest_charge.billing_details is not None  # type: ignore[union-attr]
    auth = v.payment_intents.create(
        params={"amount": 5000, "currency": "usd", "customer": ids["ana"], "capture_method": "manual",
                "payment_method": "pm_card_mastercard", "confirm": True}
    )  # fmt: skip
    auth = v.payment_intents.capture(auth.id, params={"amount_to_capture": 4000, "metadata": {"partial": "yes"}})
    assert auth.amount_received == 4000 and auth.metadata["partial"] == "yes"
    held = v.payment_intents.create(params={"amount": 900, "currency": "usd", "capture_method": "manual",
                                            "payment_method": "pm_card_visa", "confirm": True})  # fmt: skip
    charge = v.charges.capture(str(held.latest_charge))
    assert charge.captured is True
    dropped = v.payment_intents.cancel(
        v.payment_intents.create(params={"amount": 700, "currency": "eur"}).id,
        params={"cancellation_reason": "abandoned"},
    )
    assert dropped.status == "canceled"
    declined = {"amount": 500, "currency": "usd", "payment_method": "pm_card_chargeDeclinedInsufficientFunds",
                "confirm": True}  # fmt: skip
    err = _fails(lambda: v.payment_intents.create(params=declined), "card_declined", 402)
    assert err.error is not None and err.error.decline_code == "insufficient_funds"
    _fails(lambda: v.payment_intents.retrieve("pi_missing"), "resource_missing", 404)
    _fails(lambda: v.payment_intents.capture(pi.id), "payment_intent_unexpected_state", 400)
    assert [p.id for p in v.payment_intents.list(params={"customer": ids["ana"], "limit": 1}).data] == [auth.id]
    assert v.payment_intents.search(params={"query": 'status:"succeeded" AND amount>1000'}).data
    ids.update(pi=pi.id, charge=pi.latest_charge, auth=auth.id)


def charges_and_refunds(c: stripe.StripeClient, ids: dict[str, Any], sim: Any) -> None:
    v = c.v1
    charge = v.charges.retrieve(ids["charge"], params={"expand": ["balance_transaction", "customer"]})
    assert charge.balance_transaction.fee == 88 and charge.balance_transaction.net == 1912  # type: ignore[union-attr]
    v.charges.update(ids["charge"], params={"metadata": {"ticket": "T-9"}, "description": "Order 1001"})
    assert v.charges.list(params={"customer": ids["ana"], "created": {"lte": charge.created}}).data
    assert [x.id for x in v.charges.search(params={"query": 'metadata["ticket"]:"T-9"'}).data] == [charge.id]
    refund = v.refunds.create(
        params={"payment_intent": ids["pi"], "amount": 500, "reason": "requested_by_customer",
                "instructions_email": "ana@example.com", "reverse_transfer": False, "metadata": {"case": "42"}}
    )  # fmt: skip
    assert v.refunds.retrieve(refund.id).amount == 500
    assert v.refunds.update(refund.id, params={"metadata": {"case": "43"}}).metadata["case"] == "43"
    assert [r.id for r in v.refunds.list(params={"charge": ids["charge"]}).data] == [refund.id]
    err = _fails(lambda: v.refunds.create(params={"charge": ids["charge"], "amount": 5000}), "amount_too_large", 400)
    assert "($50.00)" in str(err.user_message) and "($15.00)" in str(err.user_message)
    _fails(lambda: v.refunds.cancel(refund.id), None, 400)
    # card refunds succeed at once; one waiting for the customer (seeded) can be canceled
    sim.seed({"refunds": [{"id": "re_waiting", "amount": 100, "currency": "usd", "status": "requires_action"}]})
    assert v.refunds.cancel("re_waiting").status == "canceled"
    _fails(lambda: v.refunds.create(params={"charge": "ch_missing"}), "resource_missing", 404)
    txns = v.balance_transactions.list(params={"type": "refund"})
    assert [t.amount for t in txns.data] == [-500]
    assert v.balance_transactions.retrieve(txns.data[0].id).source == refund.id


def invoicing(c: stripe.StripeClient, ids: dict[str, Any]) -> None:
    v = c.v1
    product = v.products.create(params={"name": "Support plan", "metadata": {"sku": "sup"}})
    assert v.products.retrieve(product.id).name == "Support plan" and v.products.list().data
    price = v.prices.create(params={"product": product.id, "currency": "usd", "unit_amount": 1500})
    assert v.prices.retrieve(price.id).unit_amount == 1500 and v.prices.list(params={"product": product.id}).data
    inv = v.invoices.create(params={"customer": ids["bob"], "description": "March"})
    item = v.invoice_items.create(params={"customer": ids["bob"], "invoice": inv.id, "price": price.id, "quantity": 2})
    assert item.amount == 3000
    v.invoice_items.update(item.id, params={"description": "2 x support"})
    extra = v.invoice_items.create(params={"customer": ids["bob"], "invoice": inv.id, "unit_amount": 250})
    assert v.invoice_items.retrieve(extra.id).amount == 250
    v.invoice_items.delete(extra.id)
    assert [i.id for i in v.invoice_items.list(params={"invoice": inv.id}).data] == [item.id]
    inv = v.invoices.update(inv.id, params={"metadata": {"po": "77"}, "footer": "Thanks"})
    assert [line.amount for line in v.invoices.line_items.list(inv.id).data] == [3000]
    inv = v.invoices.finalize_invoice(inv.id)
    assert inv.status == "open" and inv.number is not None
    v.invoices.send_invoice(inv.id)
    paid = v.invoices.pay(inv.id, params={"payment_method": "pm_card_visa", "forgive": True, "off_session": True})
    assert paid.status == "paid" and paid.paid is True
    draft = v.invoices.create(params={"customer": ids["bob"]})
    v.invoices.delete(draft.id)
    lost = v.invoices.create(params={"customer": ids["bob"], "collection_method": "send_invoice", "days_until_due": 30})
    v.invoice_items.create(params={"customer": ids["bob"], "invoice": lost.id, "amount": 990})
    v.invoices.finalize_invoice(lost.id)
    assert v.invoices.mark_uncollectible(lost.id).status == "uncollectible"
    void = v.invoices.create(params={"customer": ids["bob"], "description": "sent twice by mistake"})
    v.invoice_items.create(params={"customer": ids["bob"], "invoice": void.id, "amount": 100})
    v.invoices.finalize_invoice(void.id)
    assert v.invoices.void_invoice(void.id).status == "void"
    assert v.invoices.retrieve(paid.id).charge is not None
    assert {i.id for i in v.invoices.list(params={"customer": ids["bob"]}).data} == {paid.id, lost.id, void.id}
    assert [i.id for i in v.invoices.search(params={"query": 'status:"paid" AND metadata["po"]:"77"'}).data] == [
        paid.id
    ]
    _fails(lambda: v.invoices.finalize_invoice(paid.id), "invoice_unexpected_state", 400)
    _fails(lambda: v.invoice_items.create(params={"customer": ids["bob"], "invoice": paid.id, "amount": 1}),
           "invoice_not_editable", 400)  # fmt: skip
    ids.update(price=price.id, product=product.id)


def subscriptions(c: stripe.StripeClient, ids: dict[str, Any]) -> None:
    v = c.v1
    monthly = v.prices.create(
        params={"product": ids["product"], "currency": "usd", "unit_amount": 2900, "recurring": {"interval": "month"}}
    )
    sub = v.subscriptions.create(params={"customer": ids["ana"], "items": [{"price": monthly.id}]})
    assert sub.status == "active" and sub.latest_invoice is not None
    trial = v.subscriptions.create(
        params={"customer": ids["bob"], "items": [{"price": monthly.id, "quantity": 2}], "trial_period_days": 14,
                "metadata": {"plan": "team"}}
    )  # fmt: skip
    assert trial.status == "trialing" and trial.trial_end == trial.created + 14 * 86400
    assert v.subscriptions.retrieve(trial.id).items.data[0].quantity == 2
    items = v.subscription_items.list(params={"subscription": trial.id})
    trial = v.subscriptions.update(
        trial.id, params={"cancel_at_period_end": True, "items": [{"id": items.data[0].id, "quantity": 3}]}
    )
    assert trial.cancel_at_period_end is True and trial.items.data[0].quantity == 3
    assert [s.id for s in v.subscriptions.list(params={"customer": ids["bob"]}).data] == [trial.id]
    assert [s.id for s in v.subscriptions.search(params={"query": 'metadata["plan"]:"team"'}).data] == [trial.id]
    canceled = v.subscriptions.cancel(sub.id)
    assert canceled.status == "canceled"
    assert v.subscriptions.list(params={"customer": ids["ana"]}).data == []
    _fails(lambda: v.subscriptions.update(sub.id, params={"cancel_at_period_end": True}), None, 400)
    _fails(lambda: v.subscriptions.create(params={"customer": ids["ana"], "items": [{"price": ids["price"]}]}),
           "parameter_invalid", 400)  # fmt: skip


def disputes_and_methods(c: stripe.StripeClient, ids: dict[str, Any]) -> None:
    v = c.v1
    pm = v.payment_methods.attach("pm_card_createDispute", params={"customer": ids["bob"]})
    assert pm.customer == ids["bob"] and v.payment_methods.retrieve(pm.id).card.last4 == "0259"  # type: ignore[union-attr]
    assert [m.id for m in v.customers.payment_methods.list(ids["bob"]).data] == [pm.id]
    pi = v.payment_intents.create(
        params={"amount": 3000, "currency": "usd", "customer": ids["bob"], "payment_method": pm.id, "confirm": True}
    )
    dispute = v.disputes.list(params={"payment_intent": pi.id}).data[0]
    assert dispute.status == "needs_response" and dispute.amount == 3000
    assert [t.net for t in dispute.balance_transactions] == [-4500]
    assert v.charges.retrieve(str(pi.latest_charge)).disputed is True
    _fails(lambda: v.refunds.create(params={"payment_intent": pi.id}), "charge_disputed", 400)
    dispute = v.disputes.update(
        dispute.id, params={"evidence": {"uncategorized_text": "Delivered on 3 May"}, "metadata": {"agent": "1"}}
    )
    assert dispute.status == "under_review" and dispute.evidence.uncategorized_text == "Delivered on 3 May"
    _fails(lambda: v.disputes.close(dispute.id), None, 400)
    again = v.payment_intents.create(
        params={"amount": 1200, "currency": "usd", "payment_method": "pm_card_createDispute", "confirm": True}
    )
    other = v.disputes.list(params={"charge": str(again.latest_charge)}).data[0]
    assert v.disputes.close(other.id).status == "lost"
    assert v.disputes.retrieve(other.id).status == "lost"
    assert v.payment_methods.detach(pm.id).customer is None
    _fails(lambda: v.payment_methods.detach(pm.id), "payment_method_unexpected_state", 400)


def run(c: stripe.StripeClient, sim: Any) -> dict[str, Any]:
    """Every billing operation, in an agent's order (``sim`` seeds what no API call can make)."""
    ids = customers(c)
    payments(c, ids)
    charges_and_refunds(c, ids, sim)
    invoicing(c, ids)
    subscriptions(c, ids)
    disputes_and_methods(c, ids)
    return ids
