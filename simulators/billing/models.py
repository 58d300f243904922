"""Stripe-shaped resources and request parameters.

Resources are frozen: handlers build a new object with ``model_copy(update=...)`` so the
ledger's before/after and snapshots stay exact. Request models forbid unknown parameters,
which is how Stripe answers a typo (``parameter_unknown`` naming it).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

T = TypeVar("T")

_META_KEY = re.compile(r"^[^\[\]]{1,40}$")


def _metadata(value: Any) -> Any:
    # the form decoder turns metadata[0]=a into a list; Stripe keys are strings
    if isinstance(value, list):
        value = {str(i): v for i, v in enumerate(value)}
    if value == "":
        return {}
    if isinstance(value, dict):
        if len(value) > 50:
            raise ValueError("metadata may have at most 50 keys")
        for k, v in value.items():
            if not isinstance(k, str) or not _META_KEY.match(k):
                raise ValueError(f"metadata keys are 1-40 characters without brackets: {k!r}")
            if isinstance(v, str) and len(v) > 500:
                raise ValueError(f"metadata values are at most 500 characters (key {k!r})")
    return value


Metadata = Annotated[dict[str, str], BeforeValidator(_metadata)]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$"), AfterValidator(str.lower)]
Text = Annotated[str, Field(max_length=5000)]
Amount = Annotated[int, Field(ge=1, le=99_999_999)]


class StripeModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ----------------------------------------------------------------- resources
class Address(StripeModel):
    city: str | None = None
    country: str | None = None
    line1: str | None = None
    line2: str | None = None
    postal_code: str | None = None
    state: str | None = None


class InvoiceSettings(StripeModel):
    custom_fields: list[dict[str, str]] | None = None
    default_payment_method: str | None = None
    footer: str | None = None


class Customer(StripeModel):
    id: str
    object: Literal["customer"] = "customer"
    address: Address | None = None
    balance: int = 0
    created: int
    currency: str | None = None
    default_source: str | None = None
    delinquent: bool = False
    description: str | None = None
    email: str | None = None
    invoice_prefix: str | None = None
    invoice_settings: InvoiceSettings = InvoiceSettings()
    livemode: bool = False
    metadata: Metadata = {}
    name: str | None = None
    next_invoice_sequence: int = 1
    phone: str | None = None
    preferred_locales: list[str] = []
    tax_exempt: Literal["none", "exempt", "reverse"] = "none"
    test_clock: str | None = None


class DeletedCustomer(StripeModel):
    id: str
    object: Literal["customer"] = "customer"
    deleted: Literal[True] = True


class PaymentErrorPaymentMethod(StripeModel):
    id: str
    object: Literal["payment_method"] = "payment_method"
    type: str = "card"


class LastPaymentError(StripeModel):
    type: str = "card_error"
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None
    charge: str | None = None
    payment_method: PaymentErrorPaymentMethod | None = None


class AutomaticPaymentMethods(StripeModel):
    enabled: bool
    allow_redirects: Literal["always", "never"] | None = None


PaymentIntentStatus = Literal[
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "processing",
    "requires_capture",
    "canceled",
    "succeeded",
]
CaptureMethod = Literal["automatic", "automatic_async", "manual"]
CancellationReason = Literal["duplicate", "fraudulent", "requested_by_customer", "abandoned"]


class PaymentIntent(StripeModel):
    id: str
    object: Literal["payment_intent"] = "payment_intent"
    amount: int
    amount_capturable: int = 0
    amount_received: int = 0
    application: str | None = None
    application_fee_amount: int | None = None
    automatic_payment_methods: AutomaticPaymentMethods | None = None
    canceled_at: int | None = None
    cancellation_reason: CancellationReason | None = None
    capture_method: CaptureMethod = "automatic"
    client_secret: str | None = None
    confirmation_method: Literal["automatic", "manual"] = "automatic"
    created: int
    currency: str
    customer: str | None = None
    description: str | None = None
    invoice: str | None = None
    last_payment_error: LastPaymentError | None = None
    latest_charge: str | None = None
    livemode: bool = False
    metadata: Metadata = {}
    next_action: dict[str, Any] | None = None
    payment_method: str | None = None
    payment_method_types: list[str] = ["card"]
    receipt_email: str | None = None
    setup_future_usage: Literal["on_session", "off_session"] | None = None
    statement_descriptor: str | None = None
    statement_descriptor_suffix: str | None = None
    status: PaymentIntentStatus = "requires_payment_method"


class Card(StripeModel):
    brand: str
    last4: str
    exp_month: int = 12
    exp_year: int = 2034
    funding: str = "credit"
    country: str = "US"


class PaymentMethodDetails(StripeModel):
    type: Literal["card"] = "card"
    card: Card


class ChargeOutcome(StripeModel):
    network_status: str
    reason: str | None = None
    risk_level: str = "normal"
    seller_message: str
    type: str


class Charge(StripeModel):
    id: str
    object: Literal["charge"] = "charge"
    amount: int
    amount_captured: int = 0
    amount_refunded: int = 0
    balance_transaction: str | None = None
    captured: bool = False
    created: int
    currency: str
    customer: str | None = None
    description: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    invoice: str | None = None
    livemode: bool = False
    metadata: Metadata = {}
    outcome: ChargeOutcome | None = None
    paid: bool = False
    payment_intent: str | None = None
    payment_method: str | None = None
    payment_method_details: PaymentMethodDetails | None = None
    receipt_email: str | None = None
    refunded: bool = False
    statement_descriptor: str | None = None
    status: Literal["succeeded", "pending", "failed"] = "succeeded"


RefundReason = Literal["duplicate", "fraudulent", "requested_by_customer", "expired_uncaptured_charge"]


class Refund(StripeModel):
    id: str
    object: Literal["refund"] = "refund"
    amount: int
    balance_transaction: str | None = None
    charge: str | None = None
    created: int
    currency: str
    description: str | None = None
    metadata: Metadata = {}
    payment_intent: str | None = None
    reason: RefundReason | None = None
    receipt_number: str | None = None
    status: Literal["pending", "requires_action", "succeeded", "failed", "canceled"] = "succeeded"


class Period(StripeModel):
    start: int
    end: int


class InvoiceItem(StripeModel):
    id: str
    object: Literal["invoiceitem"] = "invoiceitem"
    amount: int
    currency: str
    customer: str
    date: int
    description: str | None = None
    discountable: bool = True
    invoice: str | None = None
    livemode: bool = False
    metadata: Metadata = {}
    period: Period | None = None
    proration: bool = False
    quantity: int = 1


class InvoiceLineItem(StripeModel):
    id: str
    object: Literal["line_item"] = "line_item"
    amount: int
    currency: str
    description: str | None = None
    invoice: str | None = None
    invoice_item: str | None = None
    livemode: bool = False
    metadata: Metadata = {}
    period: Period | None = None
    quantity: int = 1


class StatusTransitions(StripeModel):
    finalized_at: int | None = None
    marked_uncollectible_at: int | None = None
    paid_at: int | None = None
    voided_at: int | None = None


class StripeList(StripeModel, Generic[T]):
    object: Literal["list"] = "list"
    data: list[T]
    has_more: bool = False
    url: str


InvoiceStatus = Literal["draft", "open", "paid", "uncollectible", "void"]


class Invoice(StripeModel):
    id: str
    object: Literal["invoice"] = "invoice"
    amount_due: int = 0
    amount_paid: int = 0
    amount_remaining: int = 0
    attempt_count: int = 0
    attempted: bool = False
    auto_advance: bool = False
    charge: str | None = None
    collection_method: Literal["charge_automatically", "send_invoice"] = "charge_automatically"
    created: int
    currency: str = "usd"
    customer: str
    customer_email: str | None = None
    customer_name: str | None = None
    description: str | None = None
    due_date: int | None = None
    footer: str | None = None
    hosted_invoice_url: str | None = None
    lines: StripeList[InvoiceLineItem] | None = None
    livemode: bool = False
    metadata: Metadata = {}
    number: str | None = None
    payment_intent: str | None = None
    period_end: int | None = None
    period_start: int | None = None
    status: InvoiceStatus = "draft"
    status_transitions: StatusTransitions = StatusTransitions()
    subtotal: int = 0
    total: int = 0


# -------------------------------------------------------------------- params
class Params(StripeModel):
    expand: list[Annotated[str, Field(max_length=200)]] = Field(default=[], max_length=20)


class ListParams(Params):
    limit: Annotated[int, Field(ge=1, le=100)] = 10
    starting_after: str | None = None
    ending_before: str | None = None


class InvoiceSettingsParams(StripeModel):
    default_payment_method: str | None = None
    footer: Text | None = None


class CustomerCreateParams(Params):
    address: Address | None = None
    balance: int | None = None
    description: Text | None = None
    email: Annotated[str, Field(max_length=512)] | None = None
    invoice_prefix: Annotated[str, Field(pattern=r"^[A-Z0-9]{3,12}$")] | None = None
    invoice_settings: InvoiceSettingsParams | None = None
    metadata: Metadata | None = None
    name: Annotated[str, Field(max_length=256)] | None = None
    payment_method: str | None = None
    phone: Annotated[str, Field(max_length=20)] | None = None
    preferred_locales: list[str] | None = None
    tax_exempt: Literal["none", "exempt", "reverse"] | None = None


class CustomerUpdateParams(CustomerCreateParams):
    pass


class CustomerListParams(ListParams):
    email: str | None = None


class PaymentIntentCreateParams(Params):
    amount: Amount
    currency: Currency
    automatic_payment_methods: AutomaticPaymentMethods | None = None
    capture_method: CaptureMethod | None = None
    confirm: bool = False
    customer: str | None = None
    description: Text | None = None
    metadata: Metadata | None = None
    off_session: bool | Literal["one_off", "recurring"] | None = None
    payment_method: str | None = None
    payment_method_types: list[str] | None = None
    receipt_email: str | None = None
    return_url: str | None = None
    setup_future_usage: Literal["on_session", "off_session"] | None = None
    statement_descriptor: Annotated[str, Field(max_length=22)] | None = None
    statement_descriptor_suffix: Annotated[str, Field(max_length=22)] | None = None


class PaymentIntentUpdateParams(Params):
    amount: Amount | None = None
    currency: Currency | None = None
    customer: str | None = None
    description: Text | None = None
    metadata: Metadata | None = None
    payment_method: str | None = None
    receipt_email: str | None = None


class PaymentIntentConfirmParams(Params):
    off_session: bool | Literal["one_off", "recurring"] | None = None
    payment_method: str | None = None
    receipt_email: str | None = None
    return_url: str | None = None


class PaymentIntentCaptureParams(Params):
    amount_to_capture: Amount | None = None


class PaymentIntentCancelParams(Params):
    cancellation_reason: CancellationReason | None = None


class PaymentIntentListParams(ListParams):
    customer: str | None = None


class ChargeListParams(ListParams):
    customer: str | None = None
    payment_intent: str | None = None


class RefundCreateParams(Params):
    amount: Amount | None = None
    charge: str | None = None
    metadata: Metadata | None = None
    payment_intent: str | None = None
    reason: Literal["duplicate", "fraudulent", "requested_by_customer"] | None = None


class RefundListParams(ListParams):
    charge: str | None = None
    payment_intent: str | None = None


class InvoiceCreateParams(Params):
    customer: str
    auto_advance: bool | None = None
    collection_method: Literal["charge_automatically", "send_invoice"] | None = None
    currency: Currency | None = None
    days_until_due: Annotated[int, Field(ge=0, le=3650)] | None = None
    description: Text | None = None
    due_date: int | None = None
    footer: Text | None = None
    metadata: Metadata | None = None
    pending_invoice_items_behavior: Literal["exclude", "include"] | None = None


class InvoiceFinalizeParams(Params):
    auto_advance: bool | None = None


class InvoicePayParams(Params):
    paid_out_of_band: bool = False
    payment_method: str | None = None


class InvoiceListParams(ListParams):
    customer: str | None = None
    status: InvoiceStatus | None = None


class InvoiceItemCreateParams(Params):
    customer: str
    amount: Annotated[int, Field(ge=-99_999_999, le=99_999_999)]
    currency: Currency | None = None
    description: Text | None = None
    invoice: str | None = None
    metadata: Metadata | None = None


class InvoiceItemListParams(ListParams):
    customer: str | None = None
    invoice: str | None = None
    pending: bool | None = None


# ------------------------------------------------------------------- errors
class StripeErrorDetail(BaseModel):
    type: Literal["api_error", "card_error", "idempotency_error", "invalid_request_error"]
    code: str | None = None
    message: str
    param: str | None = None
    decline_code: str | None = None
    charge: str | None = None
    doc_url: str | None = None
    request_log_url: str | None = None
    payment_intent: dict[str, Any] | None = None


class StripeErrorBody(BaseModel):
    error: StripeErrorDetail
