"""A Stripe-compatible billing simulator (in-memory, embedded).

The official ``stripe`` SDK works against it unchanged (form bodies with bracket notation,
``Idempotency-Key``, ``cus_``/``pi_``/``ch_``/``re_``/``in_``/``sub_``/``dp_``/``txn_`` ids,
Stripe's error object, list and search objects). Direct helpers (``create_customer``...) seed
data through the same handlers, so seeded objects obey the API's rules, without touching the
ledger.

API version: whatever ``Stripe-Version`` a client sends, the simulator answers the shapes of
:attr:`BillingSimulator.api_version` (the version of the official OpenAPI spec its answers are
validated against, with the fields later versions added to its objects) and says so in every
response's ``Stripe-Version`` header.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import ValidationError

from simulators.core.errors import SimError
from simulators.core.simulator import Context, Simulator
from simulators.core.state import ResourceSpec

from . import routes, seeding
from .exceptions import BILLING_ERROR_CODES, stripe_error_body, validation_failure
from .models import (
    BalanceTransaction,
    Charge,
    Customer,
    Dispute,
    Invoice,
    InvoiceItem,
    PaymentIntent,
    PaymentMethod,
    Price,
    Product,
    Refund,
    StripeErrorBody,
    Subscription,
)

__all__ = ["BillingSimulator"]


class BillingSimulator(Simulator):
    name: ClassVar[str] = "billing"
    title: ClassVar[str] = "Billing simulator (Stripe API v1 subset)"
    router = routes.router
    body_format: ClassVar[Literal["form", "json"]] = "form"
    error_codes: ClassVar[dict[str, tuple[int, str]]] = BILLING_ERROR_CODES
    token_prefixes: ClassVar[tuple[str, str]] = ("sk_test_", "rk_test_")
    #: the API version whose shapes the simulator answers (see the module docstring)
    api_version: ClassVar[str] = "2023-08-16"
    validated_against: ClassVar[str] = (
        "Stripe's OpenAPI spec `spec3.json` for API 2023-08-16 (github.com/stripe/openapi 63a67463), every "
        "answer strictly; objects carry the fields of Stripe's current `fixtures3.json`"
    )
    resources: ClassVar[tuple[ResourceSpec, ...]] = (
        ResourceSpec("customers", Customer, "cus", "customer"),
        ResourceSpec("payment_methods", PaymentMethod, "pm", "payment_method"),
        ResourceSpec("payment_intents", PaymentIntent, "pi", "payment_intent"),
        ResourceSpec("charges", Charge, "ch", "charge"),
        ResourceSpec("refunds", Refund, "re", "refund"),
        ResourceSpec("balance_transactions", BalanceTransaction, "txn", "balance_transaction"),
        ResourceSpec("disputes", Dispute, "dp", "dispute"),
        ResourceSpec("products", Product, "prod", "product"),
        ResourceSpec("prices", Price, "price", "price"),
        ResourceSpec("subscriptions", Subscription, "sub", "subscription"),
        ResourceSpec("invoices", Invoice, "in", "invoice"),
        ResourceSpec("invoice_items", InvoiceItem, "ii", "invoiceitem"),
    )

    # ------------------------------------------------------- wire hooks
    def format_param(self, loc: tuple[Any, ...]) -> str:
        head, *rest = (str(p) for p in loc)
        return head + "".join(f"[{p}]" for p in rest)

    def validation_failure(self, exc: ValidationError) -> SimError:
        return validation_failure(exc, self.format_param)

    def error_body(self, err: SimError, request_id: str | None) -> Any:
        body = stripe_error_body(err)
        if request_id and err.status < 500:
            body["error"]["request_log_url"] = f"https://dashboard.sim.agentops.local/logs/{request_id}"
        return body

    @classmethod
    def error_model(cls) -> Any:
        return StripeErrorBody

    def extra_headers(self, request_id: str) -> dict[str, str]:
        return {"Stripe-Version": self.api_version}

    def prepare_seed(self, resource: str, row: dict[str, Any]) -> dict[str, Any]:
        seeding.check_fields(resource, row, self._resources[resource].model.model_fields)
        return seeding.prepare(resource, row)

    # ----------------------------------------------------- direct helpers
    def create_customer(self, *, tenant: str | None = None, **fields: Any) -> Customer:
        """Create a customer without HTTP (same validation, not in the ledger)."""
        result: Customer = self.call("billing.customers.create", fields, tenant=tenant)
        return result

    def create_payment_intent(self, *, tenant: str | None = None, **fields: Any) -> PaymentIntent:
        result: PaymentIntent = self.call("billing.payment_intents.create", fields, tenant=tenant)
        return result

    def create_payment(
        self,
        amount: int,
        currency: str = "usd",
        *,
        customer: str | None = None,
        payment_method: str = "pm_card_visa",
        tenant: str | None = None,
        **fields: Any,
    ) -> PaymentIntent:
        """A confirmed, succeeded payment intent (its charge is ``latest_charge``)."""
        params = {"amount": amount, "currency": currency, "payment_method": payment_method, "confirm": True, **fields}
        if customer is not None:
            params["customer"] = customer
        return self.create_payment_intent(tenant=tenant, **params)

    def create_refund(self, *, tenant: str | None = None, **fields: Any) -> Refund:
        result: Refund = self.call("billing.refunds.create", fields, tenant=tenant)
        return result

    def create_dispute(
        self,
        charge: str,
        *,
        reason: str = "fraudulent",
        amount: int | None = None,
        inquiry: bool = False,
        tenant: str | None = None,
    ) -> Dispute:
        """Dispute a succeeded charge, as a cardholder's bank would (the test helper for disputes).

        A chargeback (default) withdraws the amount plus the dispute fee; ``inquiry=True`` opens a
        ``warning_needs_response`` inquiry that moves no money.
        """
        from .routes.disputes import open_dispute

        with self._lock:
            route = self.router.by_tool("billing.disputes.retrieve")
            ctx = Context(self, tenant or self.default_tenant, None, route, {})
            try:
                found: Charge = ctx.require("charges", charge, param="charge")
                if found.status != "succeeded" or not found.captured:
                    raise SimError("charge_not_refundable", f"Charge {charge} has no captured payment to dispute.")
                open_dispute(
                    ctx,
                    found,
                    status="warning_needs_response" if inquiry else "needs_response",
                    reason=reason,
                    amount=amount,
                )
            except BaseException:
                ctx.rollback()
                raise
            dispute: Dispute = ctx.all("disputes")[-1]
        return dispute

    def create_subscription(
        self, customer: str, prices: list[str], *, tenant: str | None = None, **fields: Any
    ) -> Subscription:
        """Subscribe ``customer`` to ``prices`` (quantity 1 each) through the API's own handler."""
        items = [{"price": p} for p in prices]
        result: Subscription = self.call(
            "billing.subscriptions.create", {"customer": customer, "items": items, **fields}, tenant=tenant
        )
        return result

    def create_invoice(
        self,
        customer: str,
        items: list[dict[str, Any]] | None = None,
        *,
        finalize: bool = False,
        tenant: str | None = None,
        **fields: Any,
    ) -> Invoice:
        """A draft invoice with ``items`` (``{"amount", "description", ...}``), optionally finalized."""
        inv: Invoice = self.call("billing.invoices.create", {"customer": customer, **fields}, tenant=tenant)
        for item in items or []:
            self.call("billing.invoice_items.create", {"customer": customer, "invoice": inv.id, **item}, tenant=tenant)
        if finalize:
            inv = self.call("billing.invoices.finalize", {}, tenant=tenant, invoice=inv.id)
        else:
            inv = self.get("invoices", inv.id, tenant=tenant)
        return inv

    def seed_demo(self, *, tenant: str | None = None) -> dict[str, Any]:
        """A small, realistic data set with the free-text fields an agent reads."""
        from .demo import seed_demo

        return seed_demo(self, tenant=tenant)
