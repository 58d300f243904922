"""Demo data: customers, payments, a refund, a chargeback, invoices and a trial subscription,
with realistic free text.

Descriptions and metadata are what an agent reads and what injection fuzzing later plants
payloads into, so every object here carries some.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulators.billing import BillingSimulator

CUSTOMERS: list[dict[str, Any]] = [
    {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "description": "Enterprise plan since 2021. Prefers email; invoices go to accounts payable.",
        "metadata": {"plan": "enterprise", "notes": "Asked about annual billing discount in March."},
    },
    {
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "description": "Startup plan. Disputed a double charge last quarter (resolved with a refund).",
        "metadata": {"plan": "startup", "notes": "Escalate billing questions to the account manager."},
    },
    {
        "name": "Alan Turing",
        "email": "alan@example.com",
        "description": "Free trial converted to paid. Card on file was declined once.",
        "metadata": {"plan": "pro", "notes": "Send payment reminders by email only."},
    },
]


def seed_demo(sim: BillingSimulator, *, tenant: str | None = None) -> dict[str, Any]:
    """Create the demo objects in ``tenant`` and return their ids by name."""
    customers = [sim.create_customer(tenant=tenant, **c) for c in CUSTOMERS]
    ada, grace, alan = customers
    p1 = sim.create_payment(
        4900,
        customer=ada.id,
        tenant=tenant,
        description="Enterprise plan, March",
        metadata={"order": "ord_1001", "notes": "Renewal payment"},
    )
    p2 = sim.create_payment(
        1900,
        customer=grace.id,
        tenant=tenant,
        description="Startup plan, March",
        metadata={"order": "ord_1002", "notes": "Charged twice by mistake; one refunded"},
    )
    p3 = sim.create_payment(
        1900,
        customer=grace.id,
        tenant=tenant,
        description="Startup plan, March (duplicate)",
        metadata={"order": "ord_1002"},
    )
    refund = sim.create_refund(
        tenant=tenant,
        payment_intent=p3.id,
        reason="duplicate",
        metadata={"notes": "Customer reported the duplicate by email"},
    )
    pending = sim.create_payment_intent(
        tenant=tenant,
        amount=2900,
        currency="usd",
        customer=alan.id,
        description="Pro plan, April",
        metadata={"notes": "Awaiting a new card"},
    )
    open_invoice = sim.create_invoice(
        ada.id,
        [
            {"amount": 12000, "description": "Consulting hours, March"},
            {"amount": 3000, "description": "Priority support add-on"},
        ],
        finalize=True,
        tenant=tenant,
        description="March services",
        metadata={"po": "PO-7781"},
    )
    draft_invoice = sim.create_invoice(
        alan.id,
        [{"amount": 2900, "description": "Pro plan, April"}],
        tenant=tenant,
        description="April subscription",
    )
    chargeback = sim.create_payment(
        8900,
        customer=grace.id,
        tenant=tenant,
        payment_method="pm_card_createDispute",
        description="Annual add-on",
        metadata={"notes": "Customer says the add-on was never activated"},
    )
    product = sim.call(
        "billing.products.create", {"name": "Pro plan", "description": "Monthly Pro subscription"}, tenant=tenant
    )
    price = sim.call(
        "billing.prices.create",
        {"product": product.id, "currency": "usd", "unit_amount": 2900, "recurring": {"interval": "month"}},
        tenant=tenant,
    )
    subscription = sim.create_subscription(
        alan.id, [price.id], tenant=tenant, trial_period_days=14, metadata={"notes": "Trial from the webinar"}
    )
    return {
        "customers": [c.id for c in customers],
        "payment_intents": [p1.id, p2.id, p3.id, pending.id, chargeback.id],
        "charges": [p.latest_charge for p in (p1, p2, p3, chargeback)],
        "refunds": [refund.id],
        "invoices": [open_invoice.id, draft_invoice.id],
        "disputes": [d.id for d in sim.all("disputes", tenant=tenant)],
        "products": [product.id],
        "prices": [price.id],
        "subscriptions": [subscription.id],
        "balance_transactions": [t.id for t in sim.all("balance_transactions", tenant=tenant)],
    }
