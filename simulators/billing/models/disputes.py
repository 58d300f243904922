"""Disputes and balance transactions, with their request parameters."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from .base import Currency, ListParams, Metadata, Params, Sparse, StripeModel, StripeObject

EVIDENCE_FIELDS = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)

_EvidenceText = Annotated[str, Field(max_length=20000)]


class DisputeEvidence(StripeObject):
    """Free text (or file ids) that Stripe keeps as sent; the names are ``EVIDENCE_FIELDS``."""

    enhanced_evidence: dict[str, Any] = Field(default_factory=dict)
    access_activity_log: str | None = None
    billing_address: str | None = None
    cancellation_policy: str | None = None
    cancellation_policy_disclosure: str | None = None
    cancellation_rebuttal: str | None = None
    customer_communication: str | None = None
    customer_email_address: str | None = None
    customer_name: str | None = None
    customer_purchase_ip: str | None = None
    customer_signature: str | None = None
    duplicate_charge_documentation: str | None = None
    duplicate_charge_explanation: str | None = None
    duplicate_charge_id: str | None = None
    product_description: str | None = None
    receipt: str | None = None
    refund_policy: str | None = None
    refund_policy_disclosure: str | None = None
    refund_refusal_explanation: str | None = None
    service_date: str | None = None
    service_documentation: str | None = None
    shipping_address: str | None = None
    shipping_carrier: str | None = None
    shipping_date: str | None = None
    shipping_documentation: str | None = None
    shipping_tracking_number: str | None = None
    uncategorized_file: str | None = None
    uncategorized_text: str | None = None


class DisputeEvidenceParams(StripeModel):
    enhanced_evidence: Any = None
    access_activity_log: _EvidenceText | None = None
    billing_address: _EvidenceText | None = None
    cancellation_policy: _EvidenceText | None = None
    cancellation_policy_disclosure: _EvidenceText | None = None
    cancellation_rebuttal: _EvidenceText | None = None
    customer_communication: _EvidenceText | None = None
    customer_email_address: _EvidenceText | None = None
    customer_name: _EvidenceText | None = None
    customer_purchase_ip: _EvidenceText | None = None
    customer_signature: _EvidenceText | None = None
    duplicate_charge_documentation: _EvidenceText | None = None
    duplicate_charge_explanation: _EvidenceText | None = None
    duplicate_charge_id: _EvidenceText | None = None
    product_description: _EvidenceText | None = None
    receipt: _EvidenceText | None = None
    refund_policy: _EvidenceText | None = None
    refund_policy_disclosure: _EvidenceText | None = None
    refund_refusal_explanation: _EvidenceText | None = None
    service_date: _EvidenceText | None = None
    service_documentation: _EvidenceText | None = None
    shipping_address: _EvidenceText | None = None
    shipping_carrier: _EvidenceText | None = None
    shipping_date: _EvidenceText | None = None
    shipping_documentation: _EvidenceText | None = None
    shipping_tracking_number: _EvidenceText | None = None
    uncategorized_file: _EvidenceText | None = None
    uncategorized_text: _EvidenceText | None = None


class EvidenceDetails(StripeObject):
    due_by: int | None = None
    enhanced_eligibility: dict[str, Any] = Field(default_factory=dict)
    has_evidence: bool = False
    past_due: bool = False
    submission_count: int = 0


class Fee(StripeObject):
    amount: int
    application: str | None = None
    currency: str
    description: str | None = None
    type: str


class BalanceTransaction(StripeObject):
    id: str
    object: Literal["balance_transaction"] = "balance_transaction"
    amount: int
    available_on: int
    balance_type: str | None = "payments"
    created: int
    currency: str
    description: str | None = None
    exchange_rate: float | None = None
    fee: int = 0
    fee_details: list[Fee] = Field(default_factory=list)
    net: int
    reporting_category: str
    source: str | None = None
    status: Literal["available", "pending"] = "pending"
    type: str


DisputeStatus = Literal[
    "lost", "needs_response", "under_review", "warning_closed", "warning_needs_response", "warning_under_review", "won"
]


class Dispute(Sparse):
    omitted_when_none: ClassVar[frozenset[str]] = frozenset({"payment_method_details"})
    id: str
    object: Literal["dispute"] = "dispute"
    amount: int
    balance_transactions: list[BalanceTransaction] = Field(default_factory=list)
    charge: str
    created: int
    currency: str
    enhanced_eligibility_types: list[str] = Field(default_factory=list)
    evidence: DisputeEvidence = Field(default_factory=DisputeEvidence)
    evidence_details: EvidenceDetails = Field(default_factory=EvidenceDetails)
    is_charge_refundable: bool = False
    livemode: bool = False
    metadata: Metadata = Field(default_factory=dict)
    payment_intent: str | None = None
    payment_method_details: dict[str, Any] | None = None
    reason: str = "fraudulent"
    status: DisputeStatus = "needs_response"


# -------------------------------------------------------------------- params
class DisputeUpdateParams(Params):
    evidence: DisputeEvidenceParams | None = None
    metadata: Metadata | None = None
    submit: bool | None = None


class DisputeListParams(ListParams):
    charge: str | None = None
    payment_intent: str | None = None


class BalanceTransactionListParams(ListParams):
    currency: Currency | None = None
    payout: str | None = None
    source: str | None = None
    type: str | None = None
