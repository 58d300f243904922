"""Demo data: customers, payments, a refund, a chargeback, invoices and a trial subscription,
with realistic free text.

Descriptions and metadata are what an agent reads and what injection fuzzing later plants
payloads into, so every object here carries some.
"""

from __future__ import annotations

import copy
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


# The objects below name their customer by first name (of CUSTOMERS); seed_demo creates them in
# this order (payments, the refund of the duplicate, a pending intent, invoices, a payment that is
# disputed, a product, its price and a trial), so the ids are stable.
PAYMENTS: list[dict[str, Any]] = [
    {
        "amount": 4900,
        "customer": "ada",
        "description": "Enterprise plan, March",
        "metadata": {"order": "ord_1001", "notes": "Renewal payment"},
    },
    {
        "amount": 1900,
        "customer": "grace",
        "description": "Startup plan, March",
        "metadata": {"order": "ord_1002", "notes": "Charged twice by mistake; one refunded"},
    },
    {
        "amount": 1900,
        "customer": "grace",
        "description": "Startup plan, March (duplicate)",
        "metadata": {"order": "ord_1002"},
    },
]
REFUND: dict[str, Any] = {"reason": "duplicate", "metadata": {"notes": "Customer reported the duplicate by email"}}
PENDING: dict[str, Any] = {
    "amount": 2900,
    "currency": "usd",
    "customer": "alan",
    "description": "Pro plan, April",
    "metadata": {"notes": "Awaiting a new card"},
}
INVOICES: list[dict[str, Any]] = [
    {
        "customer": "ada",
        "items": [
            {"amount": 12000, "description": "Consulting hours, March"},
            {"amount": 3000, "description": "Priority support add-on"},
        ],
        "finalize": True,
        "description": "March services",
        "metadata": {"po": "PO-7781"},
    },
    {
        "customer": "alan",
        "items": [{"amount": 2900, "description": "Pro plan, April"}],
        "description": "April subscription",
    },
]
CHARGEBACK: dict[str, Any] = {
    "amount": 8900,
    "customer": "grace",
    "payment_method": "pm_card_createDispute",
    "description": "Annual add-on",
    "metadata": {"notes": "Customer says the add-on was never activated"},
}
PRODUCT: dict[str, Any] = {"name": "Pro plan", "description": "Monthly Pro subscription"}
PRICE: dict[str, Any] = {"currency": "usd", "unit_amount": 2900, "recurring": {"interval": "month"}}
TRIAL: dict[str, Any] = {
    "customer": "alan",
    "trial_period_days": 14,
    "metadata": {"notes": "Trial from the webinar"},
}


def seed_demo(sim: BillingSimulator, *, tenant: str | None = None) -> dict[str, Any]:
    """Create the demo objects in ``tenant`` and return their ids by name."""
    customers = [sim.create_customer(tenant=tenant, **c) for c in CUSTOMERS]
    ids = {c["name"].split()[0].lower(): made.id for c, made in zip(CUSTOMERS, customers, strict=True)}

    def of(spec: dict[str, Any]) -> dict[str, Any]:
        """A fresh copy of ``spec`` with its customer's id in place of the first name."""
        return {**copy.deepcopy(spec), "customer": ids[spec["customer"]]}

    paid = [sim.create_payment(tenant=tenant, **of(p)) for p in PAYMENTS]
    refund = sim.create_refund(tenant=tenant, payment_intent=paid[-1].id, **copy.deepcopy(REFUND))
    pending = sim.create_payment_intent(tenant=tenant, **of(PENDING))
    invoices = [sim.create_invoice(tenant=tenant, **of(spec)) for spec in INVOICES]
    chargeback = sim.create_payment(tenant=tenant, **of(CHARGEBACK))
    product = sim.call("billing.products.create", copy.deepcopy(PRODUCT), tenant=tenant)
    price = sim.call("billing.prices.create", {"product": product.id, **copy.deepcopy(PRICE)}, tenant=tenant)
    trial = of(TRIAL)
    subscription = sim.create_subscription(trial.pop("customer"), [price.id], tenant=tenant, **trial)
    payments = [*paid, chargeback]
    return {
        "customers": [c.id for c in customers],
        "payment_intents": [*(p.id for p in paid), pending.id, chargeback.id],
        "charges": [p.latest_charge for p in payments],
        "refunds": [refund.id],
        "invoices": [i.id for i in invoices],
        "disputes": [d.id for d in sim.all("disputes", tenant=tenant)],
        "products": [product.id],
        "prices": [price.id],
        "subscriptions": [subscription.id],
        "balance_transactions": [t.id for t in sim.all("balance_transactions", tenant=tenant)],
    }
