"""Billing endpoints, Stripe's REST surface for the resources we cover, one module per resource.

Every handler works inside the caller's tenant (``ctx``), returns a resource model (or an
expanded dict when ``expand[]`` was asked for) and raises :class:`SimError` for API errors.
Business rules follow Stripe's documented behaviour: statuses, refundable amounts, decline and
dispute outcomes of the ``pm_card_*`` test payment methods. Importing this package registers
the routes, in this order (it decides nothing: literal paths win over parameters anyway).
"""

from __future__ import annotations

from . import (
    balance,
    catalog,
    charges,
    customers,
    disputes,
    invoice_items,
    invoices,
    payment_intents,
    payment_methods,
    refunds,
    subscriptions,
)
from ._common import router, short_hash
from .cards import TEST_PAYMENT_METHODS
from .expand import EXPANDABLE
from .payment_intents import confirm_intent

_short_hash = short_hash  # the name BillingSimulator and older callers use

__all__ = [
    "EXPANDABLE",
    "TEST_PAYMENT_METHODS",
    "balance",
    "catalog",
    "charges",
    "confirm_intent",
    "customers",
    "disputes",
    "invoice_items",
    "invoices",
    "payment_intents",
    "payment_methods",
    "refunds",
    "router",
    "subscriptions",
]
