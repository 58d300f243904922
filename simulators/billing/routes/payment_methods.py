"""Payment methods: retrieve, attach to a customer, detach, list a customer's."""

from __future__ import annotations

from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..models import Params, PaymentMethod, PaymentMethodAttachParams, PaymentMethodListParams, StripeList
from . import cards
from ._common import NOT_FOUND, list_response, respond, router

_ERRORS = ("resource_missing", "payment_method_unexpected_state")


def attach(ctx: Context, pm: str, customer: str) -> PaymentMethod:
    """Attach ``pm`` to ``customer``: a magic ``pm_card_*`` id becomes a new stored method."""
    ctx.require("customers", customer, param="customer")
    if pm in cards.TEST_PAYMENT_METHODS:
        new = cards.payment_method_object(ctx, ctx.new_id("pm"), pm, customer)
        ctx.insert("payment_methods", new)
        return new
    stored: PaymentMethod = ctx.require("payment_methods", pm, param="payment_method")
    if stored.customer is not None and stored.customer != customer:
        raise SimError(
            "payment_method_unexpected_state",
            f"The payment method you provided has already been attached to a customer ({stored.customer}).",
            param="payment_method",
        )
    new = stored.model_copy(update={"customer": customer})
    ctx.update("payment_methods", new)
    return new


@router.get(
    "/v1/payment_methods/{payment_method}",
    tool="billing.payment_methods.retrieve",
    params=Params,
    response=PaymentMethod,
    errors=NOT_FOUND,
)
def retrieve_payment_method(ctx: Context, p: Params) -> Any:
    """Retrieve a payment method (Stripe's ``pm_card_*`` test ids work too)."""
    return respond(ctx, cards.lookup(ctx, ctx.path["payment_method"], param="payment_method"), p.expand)


@router.post(
    "/v1/payment_methods/{payment_method}/attach",
    tool="billing.payment_methods.attach",
    params=PaymentMethodAttachParams,
    response=PaymentMethod,
    errors=_ERRORS,
)
def attach_payment_method(ctx: Context, p: PaymentMethodAttachParams) -> Any:
    """Attach a payment method to a customer."""
    return respond(ctx, attach(ctx, ctx.path["payment_method"], p.customer), p.expand)


@router.post(
    "/v1/payment_methods/{payment_method}/detach",
    tool="billing.payment_methods.detach",
    params=Params,
    response=PaymentMethod,
    errors=_ERRORS,
)
def detach_payment_method(ctx: Context, p: Params) -> Any:
    """Detach a payment method from its customer (it can no longer be used)."""
    pm: PaymentMethod = ctx.require("payment_methods", ctx.path["payment_method"], param="payment_method")
    if pm.customer is None:
        raise SimError(
            "payment_method_unexpected_state",
            "The payment method you provided is not attached to a customer so detachment is impossible.",
            param="payment_method",
        )
    new = pm.model_copy(update={"customer": None})
    ctx.update("payment_methods", new)
    return respond(ctx, new, p.expand)


@router.get(
    "/v1/customers/{customer}/payment_methods",
    tool="billing.payment_methods.list",
    params=PaymentMethodListParams,
    response=StripeList[PaymentMethod],
    errors=NOT_FOUND,
)
def list_customer_payment_methods(ctx: Context, p: PaymentMethodListParams) -> Any:
    """List a customer's payment methods, newest first."""
    customer = ctx.path["customer"]
    ctx.require("customers", customer, param="customer")

    def keep(pm: PaymentMethod) -> bool:
        return pm.customer == customer and (p.type is None or pm.type == p.type)

    return list_response(ctx, "payment_methods", f"/v1/customers/{customer}/payment_methods", p, keep)
