"""Customers and payment methods (cards), with their request parameters."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from .base import (
    Address,
    AddressParams,
    ListParams,
    Loose,
    Metadata,
    Params,
    ShippingParams,
    Sparse,
    StripeModel,
    StripeObject,
    Text,
)

#: accepted as Stripe accepts it, not interpreted by the simulator (documented per parameter)
Ignored = Any


class Shipping(Sparse):
    """API calls always give ``address`` and ``name``; a recorded object may hold ``{}``."""

    omitted_when_none: ClassVar[frozenset[str]] = frozenset({"address", "name"})
    address: Address | None = None
    carrier: str | None = None
    name: str | None = None
    phone: str | None = None
    tracking_number: str | None = None


class RenderingOptions(StripeObject):
    amount_tax_display: str | None = None
    template: str | None = None


class InvoiceSettings(StripeObject):
    custom_fields: list[dict[str, str]] | None = None
    default_payment_method: str | None = None
    footer: str | None = None
    rendering_options: RenderingOptions | None = None


class Customer(StripeObject):
    id: str
    object: Literal["customer"] = "customer"
    address: Address | None = None
    balance: int = 0
    created: int
    currency: str | None = None
    default_source: str | None = None
    delinquent: bool = False
    description: str | None = None
    discount: Loose = None
    email: str | None = None
    invoice_prefix: str | None = None
    invoice_settings: InvoiceSettings = Field(default_factory=InvoiceSettings)
    livemode: bool = False
    metadata: Metadata = Field(default_factory=dict)
    name: str | None = None
    next_invoice_sequence: int = 1
    phone: str | None = None
    preferred_locales: list[str] = Field(default_factory=list)
    shipping: Shipping | None = None
    tax_exempt: Literal["none", "exempt", "reverse"] = "none"
    test_clock: str | None = None


class DeletedCustomer(StripeObject):
    id: str
    object: Literal["customer"] = "customer"
    deleted: Literal[True] = True


class BillingDetails(StripeObject):
    address: Address | None = None
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    tax_id: str | None = None


class CardChecks(StripeObject):
    address_line1_check: str | None = None
    address_postal_code_check: str | None = None
    cvc_check: str | None = "pass"


class Networks(StripeObject):
    available: list[str]
    preferred: str | None = None


class PaymentMethodCard(StripeObject):
    brand: str
    checks: CardChecks | None = Field(default_factory=CardChecks)
    country: str | None = "US"
    display_brand: str | None = None
    exp_month: int = 12
    exp_year: int = 2034
    fingerprint: str | None = None
    funding: str = "credit"
    generated_from: Loose = None
    last4: str
    networks: Networks | None = None
    regulated_status: str | None = "unregulated"
    three_d_secure_usage: dict[str, bool] | None = {"supported": True}
    wallet: Loose = None


class PaymentMethod(Sparse):
    omitted_when_none: ClassVar[frozenset[str]] = frozenset({"card"})
    id: str
    object: Literal["payment_method"] = "payment_method"
    allow_redisplay: str | None = "unspecified"
    billing_details: BillingDetails = Field(default_factory=BillingDetails)
    card: PaymentMethodCard | None = None
    created: int
    customer: str | None = None
    customer_account: str | None = None
    livemode: bool = False
    metadata: Metadata = Field(default_factory=dict)
    type: str = "card"


# -------------------------------------------------------------------- params
class InvoiceSettingsParams(StripeModel):
    custom_fields: Ignored = None
    default_payment_method: str | None = None
    footer: Text | None = None
    rendering_options: Ignored = None


class CustomerCreateParams(Params):
    address: AddressParams | None = None
    balance: int | None = None
    cash_balance: Ignored = None
    coupon: str | None = None
    description: Text | None = None
    email: Annotated[str, Field(max_length=512)] | None = None
    invoice_prefix: Annotated[str, Field(pattern=r"^[A-Z0-9]{3,12}$")] | None = None
    invoice_settings: InvoiceSettingsParams | None = None
    metadata: Metadata | None = None
    name: Annotated[str, Field(max_length=256)] | None = None
    next_invoice_sequence: Annotated[int, Field(ge=1)] | None = None
    payment_method: str | None = None
    phone: Annotated[str, Field(max_length=20)] | None = None
    preferred_locales: list[str] | None = None
    promotion_code: str | None = None
    shipping: ShippingParams | None = None
    source: str | None = None
    tax: Ignored = None
    tax_exempt: Literal["none", "exempt", "reverse"] | None = None
    tax_id_data: Ignored = None
    test_clock: str | None = None


class CustomerUpdateParams(CustomerCreateParams):
    bank_account: Ignored = None
    card: Ignored = None
    default_alipay_account: Ignored = None
    default_bank_account: Ignored = None
    default_card: Ignored = None
    default_source: str | None = None


class CustomerListParams(ListParams):
    email: Annotated[str, Field(max_length=512)] | None = None
    test_clock: str | None = None


class PaymentMethodAttachParams(Params):
    customer: str


class PaymentMethodListParams(ListParams):
    type: str | None = None
