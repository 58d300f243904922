"""Stripe's test payment methods and the cards behind them.

``pm_card_*`` ids are Stripe's magic test methods: they work without being created, and
attaching one to a customer makes a new ``pm_`` object with the same card. A card's behaviour
(success, a decline code, a dispute after payment) follows the magic method it came from,
found again through the card's fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..models import CardDetails, DisputeStatus, PaymentMethod, PaymentMethodCard, PaymentMethodDetails
from ._common import short_hash

#: Stripe's test payment methods: id -> (brand, last4, decline_code or None for success).
TEST_PAYMENT_METHODS: dict[str, tuple[str, str, str | None]] = {
    "pm_card_visa": ("visa", "4242", None),
    "pm_card_visa_debit": ("visa", "5556", None),
    "pm_card_mastercard": ("mastercard", "4444", None),
    "pm_card_amex": ("amex", "8431", None),
    "pm_card_discover": ("discover", "1117", None),
    "pm_card_createDispute": ("visa", "0259", None),
    "pm_card_createDisputeInquiry": ("visa", "1976", None),
    "pm_card_chargeDeclined": ("visa", "0002", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": ("visa", "9995", "insufficient_funds"),
    "pm_card_chargeDeclinedFraudulent": ("visa", "0019", "fraudulent"),
    "pm_card_chargeDeclinedLostCard": ("visa", "9987", "lost_card"),
    "pm_card_chargeDeclinedExpiredCard": ("visa", "0069", "expired_card"),
}

#: the magic methods whose successful payments are disputed: id -> dispute status
DISPUTING: dict[str, DisputeStatus] = {
    "pm_card_createDispute": "needs_response",
    "pm_card_createDisputeInquiry": "warning_needs_response",
}

DECLINE_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
    "lost_card": "Your card was declined.",
    "fraudulent": "Your card was declined.",
    "generic_decline": "Your card was declined.",
}


def fingerprint(magic: str) -> str:
    return short_hash(magic, "fingerprint", n=16)


_BY_FINGERPRINT = {fingerprint(m): m for m in TEST_PAYMENT_METHODS}


@dataclass(frozen=True, slots=True)
class Card:
    """A usable card: the payment method id to record, and how payments with it end."""

    payment_method: str
    magic: str
    brand: str
    last4: str
    decline: str | None

    def details(self, amount: int) -> PaymentMethodDetails:
        card = CardDetails(
            brand=self.brand,
            last4=self.last4,
            fingerprint=fingerprint(self.magic),
            network=self.brand,
            amount_authorized=amount if self.decline is None else None,
            overcapture={"maximum_amount_capturable": amount, "status": "unavailable"},
        )
        return PaymentMethodDetails(card=card)


def resolve(ctx: Context, pm: str, param: str = "payment_method") -> Card:
    """The card behind a magic ``pm_card_*`` id or a stored payment method; 404 naming ``param``."""
    magic = pm if pm in TEST_PAYMENT_METHODS else None
    if magic is None:
        stored: PaymentMethod | None = ctx.get("payment_methods", pm)
        if stored is not None and stored.card is not None:
            magic = _BY_FINGERPRINT.get(stored.card.fingerprint or "")
    if magic is None:
        raise SimError("resource_missing", f"No such PaymentMethod: '{pm}'", param=param)
    brand, last4, decline = TEST_PAYMENT_METHODS[magic]
    return Card(pm, magic, brand, last4, decline)


def payment_method_object(ctx: Context, ident: str, magic: str, customer: str | None = None) -> PaymentMethod:
    """A ``payment_method`` for ``magic``'s card (not stored)."""
    brand, last4, _ = TEST_PAYMENT_METHODS[magic]
    card = PaymentMethodCard(
        brand=brand,
        last4=last4,
        display_brand=brand,
        fingerprint=fingerprint(magic),
        networks={"available": [brand], "preferred": None},  # type: ignore[arg-type]
        generated_from=None,
    )
    return PaymentMethod(id=ident, card=card, created=ctx.timestamp, customer=customer)


def lookup(ctx: Context, pm: str, param: str = "payment_method") -> PaymentMethod:
    """A stored payment method, or the object of a magic id; 404 naming ``param``."""
    stored: PaymentMethod | None = ctx.get("payment_methods", pm)
    if stored is not None:
        return stored
    if pm in TEST_PAYMENT_METHODS:
        return payment_method_object(ctx, pm, pm)
    raise SimError("resource_missing", f"No such PaymentMethod: '{pm}'", param=param)
