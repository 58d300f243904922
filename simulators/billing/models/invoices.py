"""Invoices, their lines and invoice items, with their request parameters."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from .base import (
    Address,
    Currency,
    ListParams,
    Loose,
    Metadata,
    Params,
    Period,
    Range,
    Sparse,
    StripeList,
    StripeModel,
    StripeObject,
    Text,
)
from .customers import Ignored, Shipping
from .subscriptions import Price, PriceDataParams


class InvoiceItem(StripeObject):
    id: str
    object: Literal["invoiceitem"] = "invoiceitem"
    amount: int
    currency: str
    customer: str
    customer_account: str | None = None
    date: int
    description: str | None = None
    discountable: bool = True
    discounts: list[str] = Field(default_factory=list)
    invoice: str | None = None
    livemode: bool = False
    metadata: Metadata = Field(default_factory=dict)
    net_amount: int | None = None
    parent: Loose = None
    period: Period
    price: Price | None = None
    pricing: Loose = None
    proration: bool = False
    quantity: int = 1
    quantity_decimal: str | None = None
    subscription: str | None = None
    tax_rates: list[Any] = Field(default_factory=list)
    test_clock: str | None = None
    unit_amount: int | None = None
    unit_amount_decimal: str | None = None


class InvoiceLineItem(Sparse):
    omitted_when_none: ClassVar[frozenset[str]] = frozenset({"invoice_item", "subscription_item"})
    id: str
    object: Literal["line_item"] = "line_item"
    amount: int
    amount_excluding_tax: int | None = None
    currency: str
    description: str | None = None
    discount_amounts: list[Any] = Field(default_factory=list)
    discountable: bool = True
    discounts: list[str] = Field(default_factory=list)
    invoice: str | None = None
    invoice_item: str | None = None
    livemode: bool = False
    metadata: Metadata = Field(default_factory=dict)
    parent: Loose = None
    period: Period
    pretax_credit_amounts: list[Any] | None = None
    price: Price | None = None
    pricing: Loose = None
    proration: bool = False
    proration_details: Loose = None
    quantity: int | None = 1
    quantity_decimal: str | None = None
    subscription: str | None = None
    subscription_item: str | None = None
    subtotal: int | None = None
    tax_amounts: list[Any] = Field(default_factory=list)
    tax_rates: list[Any] = Field(default_factory=list)
    taxes: list[Any] | None = None
    type: Literal["invoiceitem", "subscription"] = "invoiceitem"
    unit_amount_excluding_tax: str | None = None


class StatusTransitions(StripeObject):
    finalized_at: int | None = None
    marked_uncollectible_at: int | None = None
    paid_at: int | None = None
    voided_at: int | None = None


class AutomaticTax(StripeObject):
    disabled_reason: str | None = None
    enabled: bool = False
    liability: Loose = None
    provider: str | None = None
    status: str | None = None


class PaymentSettings(StripeObject):
    default_mandate: str | None = None
    payment_method_options: Loose = None
    payment_method_types: list[str] | None = None


InvoiceStatus = Literal["draft", "open", "paid", "uncollectible", "void"]


class Invoice(StripeObject):
    id: str
    object: Literal["invoice"] = "invoice"
    account_country: str | None = "US"
    account_name: str | None = "Simulated Stripe account"
    account_tax_ids: list[str] | None = None
    amount_due: int = 0
    amount_overpaid: int = 0
    amount_paid: int = 0
    amount_remaining: int = 0
    amount_shipping: int = 0
    application: str | None = None
    application_fee_amount: int | None = None
    attempt_count: int = 0
    attempted: bool = False
    auto_advance: bool = False
    automatic_tax: AutomaticTax = Field(default_factory=AutomaticTax)
    automatically_finalizes_at: int | None = None
    billing_reason: str | None = "manual"
    charge: str | None = None
    collection_method: Literal["charge_automatically", "send_invoice"] = "charge_automatically"
    created: int
    currency: str = "usd"
    custom_fields: list[dict[str, str]] | None = None
    customer: str | None = None
    customer_account: str | None = None
    customer_address: Address | None = None
    customer_email: str | None = None
    customer_name: str | None = None
    customer_phone: str | None = None
    customer_shipping: Shipping | None = None
    customer_tax_exempt: Literal["none", "exempt", "reverse"] | None = "none"
    customer_tax_ids: list[Any] | None = Field(default_factory=list)
    default_payment_method: str | None = None
    default_source: str | None = None
    default_tax_rates: list[Any] = Field(default_factory=list)
    description: str | None = None
    discount: Loose = None
    discounts: list[str] = Field(default_factory=list)
    due_date: int | None = None
    effective_at: int | None = None
    ending_balance: int | None = None
    footer: str | None = None
    from_invoice: Loose = None
    hosted_invoice_url: str | None = None
    invoice_pdf: str | None = None
    issuer: dict[str, Any] | None = {"type": "self"}
    last_finalization_error: Loose = None
    latest_revision: str | None = None
    lines: StripeList[InvoiceLineItem] | None = None
    livemode: bool = False
    metadata: Metadata = Field(default_factory=dict)
    next_payment_attempt: int | None = None
    number: str | None = None
    on_behalf_of: str | None = None
    paid: bool = False
    paid_out_of_band: bool = False
    parent: Loose = None
    payment_intent: str | None = None
    payment_settings: PaymentSettings = Field(default_factory=PaymentSettings)
    period_end: int = 0
    period_start: int = 0
    post_payment_credit_notes_amount: int = 0
    pre_payment_credit_notes_amount: int = 0
    quote: str | None = None
    receipt_number: str | None = None
    rendering: Loose = None
    rendering_options: Loose = None
    shipping_cost: Loose = None
    shipping_details: Shipping | None = None
    starting_balance: int = 0
    statement_descriptor: str | None = None
    status: InvoiceStatus = "draft"
    status_transitions: StatusTransitions = Field(default_factory=StatusTransitions)
    subscription: str | None = None
    subscription_details: Loose = None
    subtotal: int = 0
    subtotal_excluding_tax: int | None = 0
    tax: int | None = None
    test_clock: str | None = None
    total: int = 0
    total_discount_amounts: list[Any] | None = Field(default_factory=list)
    total_excluding_tax: int | None = 0
    total_pretax_credit_amounts: list[Any] | None = None
    total_tax_amounts: list[Any] = Field(default_factory=list)
    total_taxes: list[Any] | None = None
    transfer_data: Loose = None
    webhooks_delivered_at: int | None = None


class DeletedInvoice(StripeObject):
    id: str
    object: Literal["invoice"] = "invoice"
    deleted: Literal[True] = True


class DeletedInvoiceItem(StripeObject):
    id: str
    object: Literal["invoiceitem"] = "invoiceitem"
    deleted: Literal[True] = True


# -------------------------------------------------------------------- params
class InvoiceWriteParams(Params):
    account_tax_ids: Ignored = None
    application_fee_amount: int | None = None
    auto_advance: bool | None = None
    automatic_tax: Ignored = None
    collection_method: Literal["charge_automatically", "send_invoice"] | None = None
    custom_fields: Ignored = None
    days_until_due: Annotated[int, Field(ge=0, le=3650)] | None = None
    default_payment_method: str | None = None
    default_source: str | None = None
    default_tax_rates: Ignored = None
    description: Text | None = None
    discounts: Ignored = None
    due_date: int | None = None
    effective_at: int | None = None
    footer: Text | None = None
    metadata: Metadata | None = None
    on_behalf_of: str | None = None
    payment_settings: Ignored = None
    rendering_options: Ignored = None
    shipping_cost: Ignored = None
    shipping_details: Ignored = None
    statement_descriptor: Annotated[str, Field(max_length=22)] | None = None
    transfer_data: Ignored = None


class InvoiceCreateParams(InvoiceWriteParams):
    customer: str | None = None
    currency: Currency | None = None
    from_invoice: Ignored = None
    pending_invoice_items_behavior: Literal["exclude", "include", "include_and_require"] | None = None
    subscription: str | None = None


class InvoiceUpdateParams(InvoiceWriteParams):
    pass


class InvoiceFinalizeParams(Params):
    auto_advance: bool | None = None


class InvoicePayParams(Params):
    forgive: bool | None = None
    mandate: Ignored = None
    off_session: bool | None = None
    paid_out_of_band: bool = False
    payment_method: str | None = None
    source: str | None = None


class InvoiceListParams(ListParams):
    collection_method: Literal["charge_automatically", "send_invoice"] | None = None
    customer: str | None = None
    due_date: Range | None = None
    status: InvoiceStatus | None = None
    subscription: str | None = None


class InvoiceLinesParams(Params):
    limit: Annotated[int, Field(ge=1, le=100)] = 10
    starting_after: str | None = None
    ending_before: str | None = None


class PeriodParams(StripeModel):
    start: int
    end: int


class InvoiceItemWriteParams(Params):
    amount: Annotated[int, Field(ge=-99_999_999, le=99_999_999)] | None = None
    description: Text | None = None
    discountable: bool | None = None
    discounts: Ignored = None
    metadata: Metadata | None = None
    period: PeriodParams | None = None
    price: str | None = None
    price_data: PriceDataParams | None = None
    quantity: Annotated[int, Field(ge=0)] | None = None
    tax_behavior: Literal["exclusive", "inclusive", "unspecified"] | None = None
    tax_code: str | None = None
    tax_rates: Ignored = None
    unit_amount: Annotated[int, Field(ge=-99_999_999, le=99_999_999)] | None = None
    unit_amount_decimal: str | None = None


class InvoiceItemCreateParams(InvoiceItemWriteParams):
    customer: str
    currency: Currency | None = None
    invoice: str | None = None
    subscription: str | None = None


class InvoiceItemUpdateParams(InvoiceItemWriteParams):
    pass


class InvoiceItemListParams(ListParams):
    customer: str | None = None
    invoice: str | None = None
    pending: bool | None = None
