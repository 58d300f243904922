"""Payment intents, charges and refunds, with their request parameters."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from .base import (
    Amount,
    Currency,
    ListParams,
    Loose,
    Metadata,
    Params,
    ShippingParams,
    Sparse,
    StripeList,
    StripeModel,
    StripeObject,
    Text,
)
from .customers import BillingDetails, CardChecks, Ignored, PaymentMethod, Shipping


class LastPaymentError(Sparse):
    omitted_when_none: ClassVar[frozenset[str]] = frozenset(
        {"charge", "code", "decline_code", "doc_url", "message", "payment_method"}
    )
    type: str = "card_error"
    charge: str | None = None
    code: str | None = None
    decline_code: str | None = None
    doc_url: str | None = None
    message: str | None = None
    payment_method: PaymentMethod | None = None


class AutomaticPaymentMethods(StripeObject):
    enabled: bool
    allow_redirects: Literal["always", "never"] | None = None


class TransferData(Sparse):
    omitted_when_none: ClassVar[frozenset[str]] = frozenset({"amount"})
    amount: int | None = None
    destination: str


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


def card_options(request_three_d_secure: str | None = "automatic") -> dict[str, Any]:
    return {
        "card": {
            "installments": None,
            "mandate_options": None,
            "network": None,
            "request_three_d_secure": request_three_d_secure,
        }
    }


class PaymentIntent(StripeObject):
    id: str
    object: Literal["payment_intent"] = "payment_intent"
    amount: int
    amount_capturable: int = 0
    amount_details: dict[str, Any] = {"tip": {}}
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
    customer_account: str | None = None
    description: str | None = None
    excluded_payment_method_types: list[str] | None = None
    invoice: str | None = None
    last_payment_error: LastPaymentError | None = None
    latest_charge: str | None = None
    livemode: bool = False
    managed_payments: Loose = None
    metadata: Metadata = Field(default_factory=dict)
    next_action: Loose = None
    on_behalf_of: str | None = None
    payment_method: str | None = None
    payment_method_configuration_details: Loose = None
    payment_method_options: dict[str, Any] | None = card_options()
    payment_method_types: list[str] = ["card"]
    processing: Loose = None
    receipt_email: str | None = None
    review: str | None = None
    setup_future_usage: Literal["on_session", "off_session"] | None = None
    shipping: Shipping | None = None
    source: str | None = None
    statement_descriptor: str | None = None
    statement_descriptor_suffix: str | None = None
    status: PaymentIntentStatus = "requires_payment_method"
    transfer_data: TransferData | None = None
    transfer_group: str | None = None


class CardDetails(StripeObject):
    amount_authorized: int | None = None
    authorization_code: str | None = None
    brand: str
    checks: CardChecks | None = Field(default_factory=CardChecks)
    country: str = "US"
    exp_month: int = 12
    exp_year: int = 2034
    extended_authorization: dict[str, str] | None = {"status": "disabled"}
    fingerprint: str | None = None
    funding: str = "credit"
    incremental_authorization: dict[str, str] | None = {"status": "unavailable"}
    installments: Loose = None
    last4: str
    mandate: str | None = None
    multicapture: dict[str, str] | None = {"status": "unavailable"}
    network: str | None = None
    network_token: dict[str, bool] | None = {"used": False}
    network_transaction_id: str | None = None
    overcapture: dict[str, Any] | None = None
    regulated_status: str | None = "unregulated"
    three_d_secure: Loose = None
    transaction_link_id: str | None = None
    wallet: Loose = None


class PaymentMethodDetails(StripeObject):
    type: Literal["card"] = "card"
    card: CardDetails


class ChargeOutcome(StripeObject):
    advice_code: str | None = None
    network_advice_code: str | None = None
    network_decline_code: str | None = None
    network_status: str | None = None
    reason: str | None = None
    risk_level: str = "normal"
    risk_score: int = 20
    seller_message: str | None = None
    type: str


RefundReason = Literal["duplicate", "fraudulent", "requested_by_customer", "expired_uncaptured_charge"]


class Refund(StripeObject):
    id: str
    object: Literal["refund"] = "refund"
    amount: int
    balance_transaction: str | None = None
    charge: str | None = None
    created: int
    currency: str
    customer: str | None = None
    customer_account: str | None = None
    destination_details: dict[str, Any] | None = {"card": {"type": "refund"}, "type": "card"}
    metadata: Metadata = Field(default_factory=dict)
    payment_intent: str | None = None
    payment_method: str | None = None
    reason: RefundReason | None = None
    receipt_number: str | None = None
    source_transfer_reversal: str | None = None
    status: Literal["pending", "requires_action", "succeeded", "failed", "canceled"] = "succeeded"
    transfer_reversal: str | None = None


class Charge(StripeObject):
    id: str
    object: Literal["charge"] = "charge"
    amount: int
    amount_captured: int = 0
    amount_refunded: int = 0
    application: str | None = None
    application_fee: str | None = None
    application_fee_amount: int | None = None
    balance_transaction: str | None = None
    billing_details: BillingDetails = Field(default_factory=BillingDetails)
    calculated_statement_descriptor: str | None = None
    captured: bool = False
    created: int
    currency: str
    customer: str | None = None
    description: str | None = None
    disputed: bool = False
    failure_balance_transaction: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    fraud_details: dict[str, str] | None = Field(default_factory=dict)
    invoice: str | None = None
    livemode: bool = False
    metadata: Metadata = Field(default_factory=dict)
    on_behalf_of: str | None = None
    outcome: ChargeOutcome | None = None
    paid: bool = False
    payment_intent: str | None = None
    payment_method: str | None = None
    payment_method_details: PaymentMethodDetails | None = None
    receipt_email: str | None = None
    receipt_number: str | None = None
    receipt_url: str | None = None
    refunded: bool = False
    refunds: StripeList[Refund] | None = None
    review: str | None = None
    shipping: Shipping | None = None
    source: Loose = None
    source_transfer: str | None = None
    statement_descriptor: str | None = None
    statement_descriptor_suffix: str | None = None
    status: Literal["succeeded", "pending", "failed"] = "succeeded"
    transfer_data: TransferData | None = None
    transfer_group: str | None = None


# -------------------------------------------------------------------- params
class AutomaticPaymentMethodsParams(StripeModel):
    enabled: bool
    allow_redirects: Literal["always", "never"] | None = None


class TransferDataParams(StripeModel):
    amount: int | None = None
    destination: str


class PaymentIntentWriteParams(Params):
    """What create, update and confirm share."""

    capture_method: Literal["automatic", "automatic_async", "manual"] | None = None
    payment_method: str | None = None
    payment_method_data: Ignored = None
    payment_method_options: Ignored = None
    payment_method_types: list[str] | None = None
    receipt_email: str | None = None
    setup_future_usage: Literal["on_session", "off_session", ""] | None = None
    shipping: ShippingParams | None = None


class PaymentIntentCreateParams(PaymentIntentWriteParams):
    amount: Amount
    currency: Currency
    application_fee_amount: int | None = None
    automatic_payment_methods: AutomaticPaymentMethodsParams | None = None
    confirm: bool = False
    confirmation_method: Literal["automatic", "manual"] | None = None
    customer: str | None = None
    description: Text | None = None
    error_on_requires_action: bool | None = None
    mandate: Ignored = None
    mandate_data: Ignored = None
    metadata: Metadata | None = None
    off_session: bool | Literal["one_off", "recurring"] | None = None
    on_behalf_of: str | None = None
    radar_options: Ignored = None
    return_url: str | None = None
    statement_descriptor: Annotated[str, Field(max_length=22)] | None = None
    statement_descriptor_suffix: Annotated[str, Field(max_length=22)] | None = None
    transfer_data: TransferDataParams | None = None
    transfer_group: str | None = None
    use_stripe_sdk: bool | None = None


class PaymentIntentUpdateParams(PaymentIntentWriteParams):
    amount: Amount | None = None
    application_fee_amount: int | None = None
    currency: Currency | None = None
    customer: str | None = None
    description: Text | None = None
    metadata: Metadata | None = None
    statement_descriptor: Annotated[str, Field(max_length=22)] | None = None
    statement_descriptor_suffix: Annotated[str, Field(max_length=22)] | None = None
    transfer_data: TransferDataParams | None = None
    transfer_group: str | None = None


class PaymentIntentConfirmParams(PaymentIntentWriteParams):
    client_secret: str | None = None
    error_on_requires_action: bool | None = None
    mandate: Ignored = None
    mandate_data: Ignored = None
    off_session: bool | Literal["one_off", "recurring"] | None = None
    radar_options: Ignored = None
    return_url: str | None = None
    use_stripe_sdk: bool | None = None


class PaymentIntentCaptureParams(Params):
    amount_to_capture: Amount | None = None
    application_fee_amount: int | None = None
    final_capture: bool | None = None
    metadata: Metadata | None = None
    statement_descriptor: Annotated[str, Field(max_length=22)] | None = None
    statement_descriptor_suffix: Annotated[str, Field(max_length=22)] | None = None
    transfer_data: Ignored = None


class PaymentIntentCancelParams(Params):
    cancellation_reason: CancellationReason | None = None


class PaymentIntentRetrieveParams(Params):
    client_secret: str | None = None


class PaymentIntentListParams(ListParams):
    customer: str | None = None


class ChargeListParams(ListParams):
    customer: str | None = None
    payment_intent: str | None = None
    transfer_group: str | None = None


class ChargeUpdateParams(Params):
    customer: str | None = None
    description: Text | None = None
    fraud_details: dict[str, str] | None = None
    metadata: Metadata | None = None
    receipt_email: str | None = None
    shipping: ShippingParams | None = None
    transfer_group: str | None = None


class ChargeCaptureParams(Params):
    amount: Amount | None = None
    application_fee: int | None = None
    application_fee_amount: int | None = None
    receipt_email: str | None = None
    statement_descriptor: Annotated[str, Field(max_length=22)] | None = None
    statement_descriptor_suffix: Annotated[str, Field(max_length=22)] | None = None
    transfer_data: Ignored = None
    transfer_group: str | None = None


class RefundCreateParams(Params):
    amount: Amount | None = None
    charge: str | None = None
    currency: Currency | None = None
    customer: str | None = None
    instructions_email: str | None = None
    metadata: Metadata | None = None
    origin: Literal["customer_balance"] | None = None
    payment_intent: str | None = None
    reason: Literal["duplicate", "fraudulent", "requested_by_customer"] | None = None
    refund_application_fee: bool | None = None
    reverse_transfer: bool | None = None


class RefundListParams(ListParams):
    charge: str | None = None
    payment_intent: str | None = None
