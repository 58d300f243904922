"""Billing endpoints, Stripe's REST surface for the resources we cover.

Every handler works inside the caller's tenant (``ctx``), returns a resource model (or an
expanded dict when ``expand[]`` was asked for) and raises :class:`SimError` for API errors.
Business rules follow Stripe's documented behaviour: statuses, refundable amounts, decline
outcomes of the ``pm_card_*`` test payment methods.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from simulators.core.errors import SimError
from simulators.core.pagination import paginate
from simulators.core.routing import Router
from simulators.core.simulator import Context

from .models import (
    Card,
    Charge,
    ChargeListParams,
    ChargeOutcome,
    Customer,
    CustomerCreateParams,
    CustomerListParams,
    CustomerUpdateParams,
    DeletedCustomer,
    Invoice,
    InvoiceCreateParams,
    InvoiceFinalizeParams,
    InvoiceItem,
    InvoiceItemCreateParams,
    InvoiceItemListParams,
    InvoiceLineItem,
    InvoiceListParams,
    InvoicePayParams,
    InvoiceSettings,
    LastPaymentError,
    ListParams,
    Params,
    PaymentErrorPaymentMethod,
    PaymentIntent,
    PaymentIntentCancelParams,
    PaymentIntentCaptureParams,
    PaymentIntentConfirmParams,
    PaymentIntentCreateParams,
    PaymentIntentListParams,
    PaymentIntentUpdateParams,
    PaymentMethodDetails,
    Refund,
    RefundCreateParams,
    RefundListParams,
    StripeList,
)

router = Router("billing")

#: Stripe's test payment methods: id -> (brand, last4, decline_code or None for success).
TEST_PAYMENT_METHODS: dict[str, tuple[str, str, str | None]] = {
    "pm_card_visa": ("visa", "4242", None),
    "pm_card_visa_debit": ("visa", "5556", None),
    "pm_card_mastercard": ("mastercard", "4444", None),
    "pm_card_amex": ("amex", "8431", None),
    "pm_card_discover": ("discover", "1117", None),
    "pm_card_chargeDeclined": ("visa", "0002", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": ("visa", "9995", "insufficient_funds"),
    "pm_card_chargeDeclinedFraudulent": ("visa", "0019", "fraudulent"),
    "pm_card_chargeDeclinedLostCard": ("visa", "9987", "lost_card"),
    "pm_card_chargeDeclinedExpiredCard": ("visa", "0069", "expired_card"),
}

_DECLINE_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
    "lost_card": "Your card was declined.",
    "fraudulent": "Your card was declined.",
    "generic_decline": "Your card was declined.",
}

#: object type -> field -> resource table it can be expanded from
EXPANDABLE: dict[str, dict[str, str]] = {
    "payment_intent": {"customer": "customers", "latest_charge": "charges", "invoice": "invoices"},
    "charge": {"customer": "customers", "payment_intent": "payment_intents", "invoice": "invoices"},
    "refund": {"charge": "charges", "payment_intent": "payment_intents"},
    "invoice": {"customer": "customers", "charge": "charges", "payment_intent": "payment_intents"},
    "invoiceitem": {"customer": "customers", "invoice": "invoices"},
    "customer": {},
}

_CUSTOMER_ERRORS = ("resource_missing", "parameter_invalid", "parameter_unknown")
_PI_STATE = ("payment_intent_unexpected_state", "resource_missing")


# ---------------------------------------------------------------- helpers
def _expand_node(ctx: Context, node: Any, path: list[str]) -> Any:
    if isinstance(node, list):
        return [_expand_node(ctx, item, path) for item in node]
    if not isinstance(node, dict) or not path:
        return node
    head, rest = path[0], path[1:]
    if head == "data" and node.get("object") == "list":
        node["data"] = _expand_node(ctx, node["data"], rest)
        return node
    table = EXPANDABLE.get(str(node.get("object")), {}).get(head)
    if table is None:
        return node
    value = node.get(head)
    if isinstance(value, str):
        target = ctx.get(table, value)
        if target is not None:
            value = target.model_dump(mode="json")
    node[head] = _expand_node(ctx, value, rest) if rest else value
    return node


_OBJECT_OF_TABLE = {
    "customers": "customer",
    "charges": "charge",
    "payment_intents": "payment_intent",
    "invoices": "invoice",
    "refunds": "refund",
    "invoice_items": "invoiceitem",
}


def _check_expand(object_type: str, path: str) -> None:
    """Reject a path that cannot be expanded whatever the data (Stripe checks it up front)."""
    parts = path.split(".")
    if len(parts) > 4:
        raise SimError("parameter_invalid", f"You cannot expand more than 4 levels ({path}).", param="expand")
    current = object_type
    for part in parts:
        table = EXPANDABLE.get(current, {}).get(part)
        if table is None:
            raise SimError("parameter_invalid", f"This property cannot be expanded ({path}).", param="expand")
        current = _OBJECT_OF_TABLE[table]


def respond(ctx: Context, obj: Any, expand: Iterable[str], item_type: str | None = None) -> Any:
    """``obj`` itself (fast JSON path) unless ``expand[]`` asks for nested objects."""
    paths = [p for p in expand if p]
    if not paths:
        return obj
    for p in paths:
        if item_type is not None:
            if not p.startswith("data."):
                raise SimError("parameter_invalid", f"This property cannot be expanded ({p}).", param="expand")
            _check_expand(item_type, p[5:])
        else:
            _check_expand(obj.object, p)
    data = obj.model_dump(mode="json")
    for p in paths:
        data = _expand_node(ctx, data, p.split("."))
    return data


def _created(obj: Any) -> int:
    stamp = getattr(obj, "created", None)
    return int(getattr(obj, "date", 0) if stamp is None else stamp)


def newest_first(rows: list[Any]) -> list[Any]:
    """Stripe lists newest first; equal timestamps (a frozen clock) keep reverse insertion order."""
    return sorted(reversed(rows), key=_created, reverse=True)


def list_response(
    ctx: Context, resource: str, url: str, p: ListParams, keep: Callable[[Any], bool] | None = None
) -> Any:
    rows = newest_first(ctx.all(resource))
    if keep is not None:
        rows = [r for r in rows if keep(r)]
    page = paginate(rows, limit=p.limit, starting_after=p.starting_after, ending_before=p.ending_before)
    result = StripeList[Any](data=page.items, has_more=page.has_more, url=url)
    return respond(ctx, result, p.expand, item_type=_OBJECT_OF_TABLE[resource])


def _short_hash(*parts: str, n: int = 8) -> str:
    return hashlib.blake2b("/".join(parts).encode(), digest_size=16).hexdigest()[:n]


def _require_payment_method(pm: str, param: str = "payment_method") -> tuple[str, str, str | None]:
    card = TEST_PAYMENT_METHODS.get(pm)
    if card is None:
        raise SimError("resource_missing", f"No such PaymentMethod: '{pm}'", param=param)
    return card


def _metadata_update(old: dict[str, str], new: dict[str, str] | None) -> dict[str, str]:
    """Stripe merges metadata; an empty value unsets a key, an empty ``metadata`` clears all."""
    if new is None:
        return old
    if not new:
        return {}
    merged = dict(old)
    for k, v in new.items():
        if v == "":
            merged.pop(k, None)
        else:
            merged[k] = v
    return merged


def _upsert(ctx: Context, resource: str, obj: Any) -> None:
    if ctx.get(resource, obj.id) is None:
        ctx.insert(resource, obj)
    else:
        ctx.update(resource, obj)


def _blank_to_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if v == "" else v) for k, v in fields.items()}


# -------------------------------------------------------------- customers
@router.post(
    "/v1/customers",
    tool="billing.customers.create",
    params=CustomerCreateParams,
    response=Customer,
    errors=_CUSTOMER_ERRORS,
)
def create_customer(ctx: Context, p: CustomerCreateParams) -> Any:
    """Create a customer."""
    if p.payment_method is not None:
        _require_payment_method(p.payment_method)
    ident = ctx.new_id("cus")
    fields = p.model_dump(exclude={"expand", "payment_method", "invoice_settings"}, exclude_none=True)
    settings = InvoiceSettings(**p.invoice_settings.model_dump()) if p.invoice_settings else InvoiceSettings()
    if settings.default_payment_method:
        _require_payment_method(settings.default_payment_method, "invoice_settings[default_payment_method]")
    cust = Customer(
        id=ident,
        created=ctx.timestamp,
        invoice_prefix=fields.pop("invoice_prefix", None) or _short_hash(ident).upper(),
        invoice_settings=settings,
        **fields,
    )
    ctx.insert("customers", cust)
    return respond(ctx, cust, p.expand)


@router.get(
    "/v1/customers/{customer}",
    tool="billing.customers.retrieve",
    params=Params,
    response=Customer,
    errors=("resource_missing",),
)
def retrieve_customer(ctx: Context, p: Params) -> Any:
    """Retrieve a customer."""
    return respond(ctx, ctx.require("customers", ctx.path["customer"]), p.expand)


@router.post(
    "/v1/customers/{customer}",
    tool="billing.customers.update",
    params=CustomerUpdateParams,
    response=Customer,
    errors=_CUSTOMER_ERRORS,
)
def update_customer(ctx: Context, p: CustomerUpdateParams) -> Any:
    """Update a customer; unset fields stay, empty strings clear them (Stripe semantics)."""
    cust: Customer = ctx.require("customers", ctx.path["customer"])
    if p.payment_method is not None:
        _require_payment_method(p.payment_method)
    names = p.model_fields_set - {"expand", "payment_method", "metadata", "invoice_settings"}
    changes = _blank_to_none({k: getattr(p, k) for k in names})
    if "tax_exempt" in changes and changes["tax_exempt"] is None:
        changes["tax_exempt"] = "none"
    if "balance" in changes and changes["balance"] is None:
        changes["balance"] = 0
    if p.invoice_settings is not None:
        pm = p.invoice_settings.default_payment_method
        if pm:
            _require_payment_method(pm, "invoice_settings[default_payment_method]")
        settings = p.invoice_settings
        changes["invoice_settings"] = cust.invoice_settings.model_copy(
            update=_blank_to_none({k: getattr(settings, k) for k in settings.model_fields_set})
        )
    changes["metadata"] = _metadata_update(cust.metadata, p.metadata)
    new = cust.model_copy(update=changes)
    ctx.update("customers", new)
    return respond(ctx, new, p.expand)


@router.delete(
    "/v1/customers/{customer}", tool="billing.customers.delete", response=DeletedCustomer, errors=("resource_missing",)
)
def delete_customer(ctx: Context, p: None) -> Any:
    """Delete a customer (its payments and invoices stay)."""
    ident = ctx.path["customer"]
    ctx.require("customers", ident)
    ctx.delete("customers", ident)
    return DeletedCustomer(id=ident)


@router.get(
    "/v1/customers",
    tool="billing.customers.list",
    params=CustomerListParams,
    response=StripeList[Customer],
    errors=("resource_missing",),
)
def list_customers(ctx: Context, p: CustomerListParams) -> Any:
    """List customers, newest first."""
    keep = (lambda c: c.email == p.email) if p.email is not None else None
    return list_response(ctx, "customers", "/v1/customers", p, keep)


# -------------------------------------------------------- payment intents
def _new_charge(ctx: Context, pi: PaymentIntent, pm: str, invoice: str | None = None) -> Charge:
    brand, last4, decline = TEST_PAYMENT_METHODS[pm]
    ok = decline is None
    capture = ok and pi.capture_method != "manual"
    charge = Charge(
        id=ctx.new_id("ch"),
        amount=pi.amount,
        amount_captured=pi.amount if capture else 0,
        balance_transaction=ctx.new_id("txn") if capture else None,
        captured=capture,
        created=ctx.timestamp,
        currency=pi.currency,
        customer=pi.customer,
        description=pi.description,
        failure_code=None if ok else ("expired_card" if decline == "expired_card" else "card_declined"),
        failure_message=None if ok else _DECLINE_MESSAGES.get(decline or "", "Your card was declined."),
        invoice=invoice or pi.invoice,
        metadata=pi.metadata,
        outcome=ChargeOutcome(
            network_status="approved_by_network" if ok else "declined_by_network",
            reason=decline,
            seller_message="Payment complete." if ok else "The bank did not return any further details.",
            type="authorized" if ok else "issuer_declined",
        ),
        paid=ok,
        payment_intent=pi.id,
        payment_method=pm,
        payment_method_details=PaymentMethodDetails(card=Card(brand=brand, last4=last4)),
        receipt_email=pi.receipt_email,
        statement_descriptor=pi.statement_descriptor,
        status="succeeded" if ok else "failed",
    )
    return ctx.insert("charges", charge)  # type: ignore[no-any-return]


_CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")


def confirm_intent(ctx: Context, pi: PaymentIntent, pm: str | None, receipt_email: str | None = None) -> PaymentIntent:
    """Run a payment: create the charge and move the intent to its next status.

    A decline keeps the failed charge and the intent's ``last_payment_error`` (Stripe records
    them), then answers 402 ``card_declined``.
    """
    if pi.status not in _CONFIRMABLE:
        raise SimError(
            "payment_intent_unexpected_state",
            f"You cannot confirm this PaymentIntent because it has a status of {pi.status}.",
            extra={"payment_intent": pi.model_dump(mode="json")},
        )
    pm = pm or pi.payment_method
    if pm is None:
        raise SimError(
            "payment_intent_unexpected_state",
            "You cannot confirm this PaymentIntent because it's missing a payment method. "
            "Pass `payment_method` when confirming.",
            param="payment_method",
        )
    _require_payment_method(pm)
    if receipt_email is not None:
        pi = pi.model_copy(update={"receipt_email": receipt_email})
    charge = _new_charge(ctx, pi, pm)
    if charge.status == "succeeded":
        manual = pi.capture_method == "manual"
        new = pi.model_copy(
            update={
                "status": "requires_capture" if manual else "succeeded",
                "amount_capturable": pi.amount if manual else 0,
                "amount_received": 0 if manual else pi.amount,
                "latest_charge": charge.id,
                "payment_method": pm,
                "last_payment_error": None,
            }
        )
        _upsert(ctx, "payment_intents", new)
        return new
    error = LastPaymentError(
        code=charge.failure_code,
        decline_code=charge.outcome.reason if charge.outcome else None,
        message=charge.failure_message,
        charge=charge.id,
        payment_method=PaymentErrorPaymentMethod(id=pm),
    )
    new = pi.model_copy(
        update={
            "status": "requires_payment_method",
            "latest_charge": charge.id,
            "payment_method": None,
            "last_payment_error": error,
        }
    )
    _upsert(ctx, "payment_intents", new)
    raise SimError(
        charge.failure_code or "card_declined",
        charge.failure_message,
        status=402,
        commit=True,
        extra={
            "decline_code": error.decline_code,
            "charge": charge.id,
            "payment_intent": new.model_dump(mode="json"),
        },
    )


@router.post(
    "/v1/payment_intents",
    tool="billing.payment_intents.create",
    params=PaymentIntentCreateParams,
    response=PaymentIntent,
    errors=("resource_missing", "card_declined", "payment_intent_unexpected_state", "parameter_invalid"),
)
def create_payment_intent(ctx: Context, p: PaymentIntentCreateParams) -> Any:
    """Create a payment intent (``confirm=true`` also runs the payment)."""
    if p.customer is not None:
        ctx.require("customers", p.customer, param="customer")
    if p.payment_method is not None:
        _require_payment_method(p.payment_method)
    ident = ctx.new_id("pi")
    fields = p.model_dump(exclude={"expand", "confirm", "off_session", "return_url"}, exclude_none=True)
    if fields.get("payment_method_types") is None:
        fields["payment_method_types"] = ["card"]
    pi = PaymentIntent(
        id=ident,
        created=ctx.timestamp,
        client_secret=f"{ident}_secret_{_short_hash(ident, 'secret', n=24)}",
        status="requires_confirmation" if p.payment_method else "requires_payment_method",
        **fields,
    )
    if p.confirm:
        pi = confirm_intent(ctx, pi, p.payment_method)
    else:
        ctx.insert("payment_intents", pi)
    return respond(ctx, pi, p.expand)


@router.get(
    "/v1/payment_intents/{intent}",
    tool="billing.payment_intents.retrieve",
    params=Params,
    response=PaymentIntent,
    errors=("resource_missing",),
)
def retrieve_payment_intent(ctx: Context, p: Params) -> Any:
    """Retrieve a payment intent."""
    return respond(ctx, ctx.require("payment_intents", ctx.path["intent"]), p.expand)


@router.post(
    "/v1/payment_intents/{intent}",
    tool="billing.payment_intents.update",
    params=PaymentIntentUpdateParams,
    response=PaymentIntent,
    errors=_PI_STATE,
)
def update_payment_intent(ctx: Context, p: PaymentIntentUpdateParams) -> Any:
    """Update a payment intent; amounts and payment method only before it is paid."""
    pi: PaymentIntent = ctx.require("payment_intents", ctx.path["intent"])
    changes = _blank_to_none(p.model_dump(exclude={"expand", "metadata"}, exclude_unset=True))
    money = {"amount", "currency", "payment_method", "customer"} & changes.keys()
    if money and pi.status not in _CONFIRMABLE:
        raise SimError(
            "payment_intent_unexpected_state",
            f"You cannot update {', '.join(sorted(money))} of a PaymentIntent with status {pi.status}.",
            param=sorted(money)[0],
        )
    if changes.get("customer"):
        ctx.require("customers", changes["customer"], param="customer")
    if changes.get("payment_method"):
        _require_payment_method(changes["payment_method"])
        if pi.status == "requires_payment_method":
            changes["status"] = "requires_confirmation"
    changes["metadata"] = _metadata_update(pi.metadata, p.metadata)
    new = pi.model_copy(update=changes)
    ctx.update("payment_intents", new)
    return respond(ctx, new, p.expand)


@router.post(
    "/v1/payment_intents/{intent}/confirm",
    tool="billing.payment_intents.confirm",
    params=PaymentIntentConfirmParams,
    response=PaymentIntent,
    errors=("card_declined", *_PI_STATE),
)
def confirm_payment_intent(ctx: Context, p: PaymentIntentConfirmParams) -> Any:
    """Confirm a payment intent: charges the payment method."""
    pi: PaymentIntent = ctx.require("payment_intents", ctx.path["intent"])
    return respond(ctx, confirm_intent(ctx, pi, p.payment_method, p.receipt_email), p.expand)


@router.post(
    "/v1/payment_intents/{intent}/capture",
    tool="billing.payment_intents.capture",
    params=PaymentIntentCaptureParams,
    response=PaymentIntent,
    errors=(*_PI_STATE, "amount_too_large"),
)
def capture_payment_intent(ctx: Context, p: PaymentIntentCaptureParams) -> Any:
    """Capture an authorized (``capture_method=manual``) payment intent."""
    pi: PaymentIntent = ctx.require("payment_intents", ctx.path["intent"])
    if pi.status != "requires_capture" or pi.latest_charge is None:
        raise SimError(
            "payment_intent_unexpected_state",
            f"This PaymentIntent could not be captured because it has a status of {pi.status}. "
            "Only a PaymentIntent with one of the following statuses may be captured: requires_capture.",
        )
    amount = p.amount_to_capture if p.amount_to_capture is not None else pi.amount_capturable
    if amount > pi.amount_capturable:
        raise SimError(
            "amount_too_large",
            f"The amount to capture ({amount}) is greater than the capturable amount ({pi.amount_capturable}).",
            param="amount_to_capture",
        )
    charge: Charge = ctx.require("charges", pi.latest_charge, param=None)
    ctx.update(
        "charges",
        charge.model_copy(
            update={
                "captured": True,
                "amount_captured": amount,
                "balance_transaction": ctx.new_id("txn"),
                "amount_refunded": pi.amount - amount,
                "refunded": False,
            }
        ),
    )
    new = pi.model_copy(update={"status": "succeeded", "amount_received": amount, "amount_capturable": 0})
    ctx.update("payment_intents", new)
    return respond(ctx, new, p.expand)


_CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing")


@router.post(
    "/v1/payment_intents/{intent}/cancel",
    tool="billing.payment_intents.cancel",
    params=PaymentIntentCancelParams,
    response=PaymentIntent,
    errors=_PI_STATE,
)
def cancel_payment_intent(ctx: Context, p: PaymentIntentCancelParams) -> Any:
    """Cancel a payment intent that has not succeeded (releases an uncaptured authorization)."""
    pi: PaymentIntent = ctx.require("payment_intents", ctx.path["intent"])
    if pi.status not in _CANCELABLE:
        raise SimError(
            "payment_intent_unexpected_state",
            f"You cannot cancel this PaymentIntent because it has a status of {pi.status}. Only a PaymentIntent "
            f"with one of the following statuses may be canceled: {', '.join(_CANCELABLE)}.",
        )
    if pi.status == "requires_capture" and pi.latest_charge:
        charge: Charge | None = ctx.get("charges", pi.latest_charge)
        if charge is not None:
            ctx.update("charges", charge.model_copy(update={"refunded": True, "amount_refunded": charge.amount}))
    new = pi.model_copy(
        update={
            "status": "canceled",
            "canceled_at": ctx.timestamp,
            "cancellation_reason": p.cancellation_reason,
            "amount_capturable": 0,
        }
    )
    ctx.update("payment_intents", new)
    return respond(ctx, new, p.expand)


@router.get(
    "/v1/payment_intents",
    tool="billing.payment_intents.list",
    params=PaymentIntentListParams,
    response=StripeList[PaymentIntent],
    errors=("resource_missing",),
)
def list_payment_intents(ctx: Context, p: PaymentIntentListParams) -> Any:
    """List payment intents, newest first."""
    keep = (lambda o: o.customer == p.customer) if p.customer is not None else None
    return list_response(ctx, "payment_intents", "/v1/payment_intents", p, keep)


# ---------------------------------------------------------------- charges
@router.get(
    "/v1/charges/{charge}",
    tool="billing.charges.retrieve",
    params=Params,
    response=Charge,
    errors=("resource_missing",),
)
def retrieve_charge(ctx: Context, p: Params) -> Any:
    """Retrieve a charge (charges are created by confirming payment intents)."""
    return respond(ctx, ctx.require("charges", ctx.path["charge"]), p.expand)


@router.get(
    "/v1/charges",
    tool="billing.charges.list",
    params=ChargeListParams,
    response=StripeList[Charge],
    errors=("resource_missing",),
)
def list_charges(ctx: Context, p: ChargeListParams) -> Any:
    """List charges, newest first."""

    def keep(c: Charge) -> bool:
        return (p.customer is None or c.customer == p.customer) and (
            p.payment_intent is None or c.payment_intent == p.payment_intent
        )

    return list_response(ctx, "charges", "/v1/charges", p, keep)


# ---------------------------------------------------------------- refunds
def _refundable_charge(ctx: Context, p: RefundCreateParams) -> Charge:
    if p.charge is None and p.payment_intent is None:
        raise SimError(
            "parameter_missing",
            "One of the following params should be provided for this request: payment_intent or charge.",
            param="charge",
        )
    if p.payment_intent is not None:
        pi: PaymentIntent = ctx.require("payment_intents", p.payment_intent, param="payment_intent")
        if pi.status != "succeeded" or pi.latest_charge is None:
            raise SimError(
                "payment_intent_unexpected_state",
                f"This PaymentIntent ({pi.id}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        if p.charge is not None and p.charge != pi.latest_charge:
            raise SimError(
                "parameter_invalid", f"Charge {p.charge} does not belong to PaymentIntent {pi.id}.", param="charge"
            )
        charge_id = pi.latest_charge
    else:
        charge_id = p.charge or ""
    charge: Charge = ctx.require("charges", charge_id, param="charge")
    if charge.status != "succeeded" or not charge.captured:
        raise SimError(
            "charge_not_refundable", f"Charge {charge.id} has not succeeded and cannot be refunded.", param="charge"
        )
    return charge


@router.post(
    "/v1/refunds",
    tool="billing.refunds.create",
    params=RefundCreateParams,
    response=Refund,
    errors=(
        "amount_too_large",
        "charge_already_refunded",
        "charge_not_refundable",
        "parameter_missing",
        "payment_intent_unexpected_state",
        "resource_missing",
    ),
)
def create_refund(ctx: Context, p: RefundCreateParams) -> Any:
    """Refund all or part of a charge; never more than is left to refund."""
    charge = _refundable_charge(ctx, p)
    # an uncaptured remainder counts as refunded already (Stripe releases it on partial capture)
    remaining = charge.amount - charge.amount_refunded
    if remaining <= 0:
        raise SimError("charge_already_refunded", f"Charge {charge.id} has already been refunded.")
    amount = p.amount if p.amount is not None else remaining
    if amount > remaining:
        raise SimError(
            "amount_too_large",
            f"Refund amount ({amount} {charge.currency}) is greater than unrefunded amount on charge "
            f"({remaining} {charge.currency}).",
            param="amount",
        )
    refund = Refund(
        id=ctx.new_id("re"),
        amount=amount,
        balance_transaction=ctx.new_id("txn"),
        charge=charge.id,
        created=ctx.timestamp,
        currency=charge.currency,
        metadata=p.metadata or {},
        payment_intent=charge.payment_intent,
        reason=p.reason,
    )
    ctx.insert("refunds", refund)
    refunded = charge.amount_refunded + amount
    ctx.update(
        "charges", charge.model_copy(update={"amount_refunded": refunded, "refunded": refunded >= charge.amount})
    )
    return respond(ctx, refund, p.expand)


@router.get(
    "/v1/refunds/{refund}",
    tool="billing.refunds.retrieve",
    params=Params,
    response=Refund,
    errors=("resource_missing",),
)
def retrieve_refund(ctx: Context, p: Params) -> Any:
    """Retrieve a refund."""
    return respond(ctx, ctx.require("refunds", ctx.path["refund"]), p.expand)


@router.get(
    "/v1/refunds",
    tool="billing.refunds.list",
    params=RefundListParams,
    response=StripeList[Refund],
    errors=("resource_missing",),
)
def list_refunds(ctx: Context, p: RefundListParams) -> Any:
    """List refunds, newest first."""

    def keep(r: Refund) -> bool:
        return (p.charge is None or r.charge == p.charge) and (
            p.payment_intent is None or r.payment_intent == p.payment_intent
        )

    return list_response(ctx, "refunds", "/v1/refunds", p, keep)


# --------------------------------------------------------------- invoices
def _with_lines(ctx: Context, inv: Invoice) -> Invoice:
    """Recompute lines and totals from the invoice items attached to ``inv``."""
    items = [i for i in ctx.all("invoice_items") if i.invoice == inv.id]
    lines = [
        InvoiceLineItem(
            id="il_" + i.id.split("_", 1)[1],
            amount=i.amount,
            currency=i.currency,
            description=i.description,
            invoice=inv.id,
            invoice_item=i.id,
            metadata=i.metadata,
            period=i.period,
            quantity=i.quantity,
        )
        for i in items
    ]
    total = sum(line.amount for line in lines)
    return inv.model_copy(
        update={
            "lines": StripeList[InvoiceLineItem](data=lines, url=f"/v1/invoices/{inv.id}/lines"),
            "subtotal": total,
            "total": total,
            "amount_due": total if inv.status == "draft" else inv.amount_due,
            "amount_remaining": total if inv.status == "draft" else inv.amount_remaining,
        }
    )


@router.post(
    "/v1/invoices",
    tool="billing.invoices.create",
    params=InvoiceCreateParams,
    response=Invoice,
    errors=("resource_missing", "parameter_missing"),
)
def create_invoice(ctx: Context, p: InvoiceCreateParams) -> Any:
    """Create a draft invoice (``pending_invoice_items_behavior=include`` pulls in pending items)."""
    cust: Customer = ctx.require("customers", p.customer, param="customer")
    method = p.collection_method or "charge_automatically"
    due = p.due_date
    if method == "send_invoice":
        if due is None and p.days_until_due is None:
            raise SimError("parameter_missing", "Missing required param: days_until_due.", param="days_until_due")
        if due is None:
            due = ctx.timestamp + 86400 * (p.days_until_due or 0)
    ident = ctx.new_id("in")
    inv = Invoice(
        id=ident,
        auto_advance=bool(p.auto_advance),
        collection_method=method,
        created=ctx.timestamp,
        currency=p.currency or cust.currency or "usd",
        customer=cust.id,
        customer_email=cust.email,
        customer_name=cust.name,
        description=p.description,
        due_date=due,
        footer=p.footer or cust.invoice_settings.footer,
        metadata=p.metadata or {},
        period_end=ctx.timestamp,
        period_start=ctx.timestamp,
    )
    ctx.insert("invoices", inv)
    if p.pending_invoice_items_behavior == "include":
        for item in ctx.all("invoice_items"):
            if item.customer == cust.id and item.invoice is None and item.currency == inv.currency:
                ctx.update("invoice_items", item.model_copy(update={"invoice": ident}))
    inv = _with_lines(ctx, inv)
    ctx.update("invoices", inv)
    return respond(ctx, inv, p.expand)


@router.get(
    "/v1/invoices/{invoice}",
    tool="billing.invoices.retrieve",
    params=Params,
    response=Invoice,
    errors=("resource_missing",),
)
def retrieve_invoice(ctx: Context, p: Params) -> Any:
    """Retrieve an invoice."""
    return respond(ctx, ctx.require("invoices", ctx.path["invoice"]), p.expand)


def finalize(ctx: Context, inv: Invoice, auto_advance: bool | None = None) -> Invoice:
    if inv.status != "draft":
        raise SimError(
            "invoice_unexpected_state",
            f"This invoice is already finalized (status {inv.status}); only draft invoices can be finalized.",
        )
    cust: Customer | None = ctx.get("customers", inv.customer)
    number = None
    if cust is not None:
        number = f"{cust.invoice_prefix}-{cust.next_invoice_sequence:04d}"
        ctx.update("customers", cust.model_copy(update={"next_invoice_sequence": cust.next_invoice_sequence + 1}))
    paid = inv.total <= 0
    new = inv.model_copy(
        update={
            "status": "paid" if paid else "open",
            "number": number,
            "amount_due": max(inv.total, 0),
            "amount_remaining": 0 if paid else inv.total,
            "auto_advance": inv.auto_advance if auto_advance is None else auto_advance,
            "hosted_invoice_url": f"https://invoice.sim.agentops.local/{inv.id}",
            "status_transitions": inv.status_transitions.model_copy(
                update={"finalized_at": ctx.timestamp, "paid_at": ctx.timestamp if paid else None}
            ),
        }
    )
    ctx.update("invoices", new)
    return new


@router.post(
    "/v1/invoices/{invoice}/finalize",
    tool="billing.invoices.finalize",
    params=InvoiceFinalizeParams,
    response=Invoice,
    errors=("invoice_unexpected_state", "resource_missing"),
)
def finalize_invoice(ctx: Context, p: InvoiceFinalizeParams) -> Any:
    """Finalize a draft invoice: it gets a number and becomes payable (``open``)."""
    inv: Invoice = ctx.require("invoices", ctx.path["invoice"])
    return respond(ctx, finalize(ctx, inv, p.auto_advance), p.expand)


@router.post(
    "/v1/invoices/{invoice}/pay",
    tool="billing.invoices.pay",
    params=InvoicePayParams,
    response=Invoice,
    errors=("invoice_unexpected_state", "card_declined", "parameter_missing", "resource_missing"),
)
def pay_invoice(ctx: Context, p: InvoicePayParams) -> Any:
    """Pay an invoice now (finalizing a draft first), by card or ``paid_out_of_band``."""
    inv: Invoice = ctx.require("invoices", ctx.path["invoice"])
    if inv.status == "draft":
        inv = finalize(ctx, inv)
    if inv.status != "open":
        raise SimError("invoice_unexpected_state", f"Invoice is already {inv.status}.")
    transitions = inv.status_transitions.model_copy(update={"paid_at": ctx.timestamp})
    if p.paid_out_of_band:
        new = inv.model_copy(
            update={
                "status": "paid",
                "amount_paid": inv.amount_due,
                "amount_remaining": 0,
                "status_transitions": transitions,
            }
        )
        ctx.update("invoices", new)
        return respond(ctx, new, p.expand)
    cust: Customer | None = ctx.get("customers", inv.customer)
    pm = p.payment_method or (cust.invoice_settings.default_payment_method if cust else None)
    if pm is None:
        raise SimError(
            "parameter_missing",
            "The customer has no default payment method (invoice_settings[default_payment_method]); "
            "pass payment_method.",
            param="payment_method",
        )
    _require_payment_method(pm)
    pi = PaymentIntent(
        id=ctx.new_id("pi"),
        amount=inv.amount_remaining,
        created=ctx.timestamp,
        currency=inv.currency,
        customer=inv.customer,
        description=f"Payment for Invoice {inv.number}",
        invoice=inv.id,
        payment_method=pm,
        status="requires_confirmation",
    )
    attempted = inv.model_copy(
        update={"attempted": True, "attempt_count": inv.attempt_count + 1, "payment_intent": pi.id}
    )
    ctx.update("invoices", attempted)
    pi = confirm_intent(ctx, pi, pm)  # a decline raises 402 and keeps the attempt
    new = attempted.model_copy(
        update={
            "status": "paid",
            "amount_paid": inv.amount_remaining,
            "amount_remaining": 0,
            "charge": pi.latest_charge,
            "status_transitions": transitions,
        }
    )
    ctx.update("invoices", new)
    return respond(ctx, new, p.expand)


@router.post(
    "/v1/invoices/{invoice}/void",
    tool="billing.invoices.void",
    params=Params,
    response=Invoice,
    errors=("invoice_unexpected_state", "resource_missing"),
)
def void_invoice(ctx: Context, p: Params) -> Any:
    """Void an open invoice."""
    inv: Invoice = ctx.require("invoices", ctx.path["invoice"])
    if inv.status != "open":
        raise SimError("invoice_unexpected_state", f"You can only void open invoices; this one is {inv.status}.")
    new = inv.model_copy(
        update={
            "status": "void",
            "amount_remaining": 0,
            "status_transitions": inv.status_transitions.model_copy(update={"voided_at": ctx.timestamp}),
        }
    )
    ctx.update("invoices", new)
    return respond(ctx, new, p.expand)


@router.get(
    "/v1/invoices",
    tool="billing.invoices.list",
    params=InvoiceListParams,
    response=StripeList[Invoice],
    errors=("resource_missing",),
)
def list_invoices(ctx: Context, p: InvoiceListParams) -> Any:
    """List invoices, newest first."""

    def keep(i: Invoice) -> bool:
        return (p.customer is None or i.customer == p.customer) and (p.status is None or i.status == p.status)

    return list_response(ctx, "invoices", "/v1/invoices", p, keep)


# ----------------------------------------------------------- invoice items
@router.post(
    "/v1/invoiceitems",
    tool="billing.invoice_items.create",
    params=InvoiceItemCreateParams,
    response=InvoiceItem,
    errors=("invoice_not_editable", "resource_missing"),
)
def create_invoice_item(ctx: Context, p: InvoiceItemCreateParams) -> Any:
    """Add a line to a draft invoice, or a pending item for the customer's next invoice."""
    cust: Customer = ctx.require("customers", p.customer, param="customer")
    inv: Invoice | None = None
    if p.invoice is not None:
        inv = ctx.require("invoices", p.invoice, param="invoice")
        if inv.status != "draft":
            raise SimError(
                "invoice_not_editable", f"Invoice {inv.id} is {inv.status}; only drafts can change.", param="invoice"
            )
        if inv.customer != cust.id:
            raise SimError("parameter_invalid", "The invoice belongs to another customer.", param="invoice")
    item = InvoiceItem(
        id=ctx.new_id("ii"),
        amount=p.amount,
        currency=p.currency or (inv.currency if inv else None) or cust.currency or "usd",
        customer=cust.id,
        date=ctx.timestamp,
        description=p.description,
        invoice=p.invoice,
        metadata=p.metadata or {},
    )
    ctx.insert("invoice_items", item)
    if inv is not None:
        ctx.update("invoices", _with_lines(ctx, inv))
    return respond(ctx, item, p.expand)


@router.get(
    "/v1/invoiceitems/{invoiceitem}",
    tool="billing.invoice_items.retrieve",
    params=Params,
    response=InvoiceItem,
    errors=("resource_missing",),
)
def retrieve_invoice_item(ctx: Context, p: Params) -> Any:
    """Retrieve an invoice item."""
    return respond(ctx, ctx.require("invoice_items", ctx.path["invoiceitem"]), p.expand)


@router.get(
    "/v1/invoiceitems",
    tool="billing.invoice_items.list",
    params=InvoiceItemListParams,
    response=StripeList[InvoiceItem],
    errors=("resource_missing",),
)
def list_invoice_items(ctx: Context, p: InvoiceItemListParams) -> Any:
    """List invoice items, newest first (``pending=true``: not yet on an invoice)."""

    def keep(i: InvoiceItem) -> bool:
        return (
            (p.customer is None or i.customer == p.customer)
            and (p.invoice is None or i.invoice == p.invoice)
            and (p.pending is None or (i.invoice is None) == p.pending)
        )

    return list_response(ctx, "invoice_items", "/v1/invoiceitems", p, keep)


__all__ = ["EXPANDABLE", "TEST_PAYMENT_METHODS", "confirm_intent", "router"]
