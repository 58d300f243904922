"""Products, prices, subscriptions and their items, with their request parameters."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from .base import (
    Currency,
    ListParams,
    Loose,
    Metadata,
    Params,
    Range,
    StripeList,
    StripeModel,
    StripeObject,
    Text,
)

#: accepted as Stripe accepts it, not interpreted (kept local: customers imports from here too)
_Ignored = Any
Interval = Literal["day", "week", "month", "year"]


class Product(StripeObject):
    id: str
    object: Literal["product"] = "product"
    active: bool = True
    created: int
    default_price: str | None = None
    description: str | None = None
    features: list[dict[str, str]] = Field(default_factory=list)
    images: list[str] = Field(default_factory=list)
    livemode: bool = False
    marketing_features: list[dict[str, str]] = Field(default_factory=list)
    metadata: Metadata = Field(default_factory=dict)
    name: str
    package_dimensions: Loose = None
    shippable: bool | None = None
    statement_descriptor: str | None = None
    tax_code: str | None = None
    type: Literal["good", "service"] = "service"
    unit_label: str | None = None
    updated: int
    url: str | None = None


class Recurring(StripeObject):
    aggregate_usage: str | None = None
    interval: Interval
    interval_count: int = 1
    meter: str | None = None
    trial_period_days: int | None = None
    usage_type: Literal["licensed", "metered"] = "licensed"


class Price(StripeObject):
    id: str
    object: Literal["price"] = "price"
    active: bool = True
    billing_scheme: Literal["per_unit", "tiered"] = "per_unit"
    created: int
    currency: str
    custom_unit_amount: Loose = None
    livemode: bool = False
    lookup_key: str | None = None
    metadata: Metadata = Field(default_factory=dict)
    nickname: str | None = None
    product: str
    recurring: Recurring | None = None
    tax_behavior: Literal["exclusive", "inclusive", "unspecified"] | None = "unspecified"
    tiers_mode: Literal["graduated", "volume"] | None = None
    transform_quantity: Loose = None
    type: Literal["one_time", "recurring"] = "one_time"
    unit_amount: int | None = None
    unit_amount_decimal: str | None = None


class SubscriptionItem(StripeObject):
    id: str
    object: Literal["subscription_item"] = "subscription_item"
    billing_thresholds: Loose = None
    created: int
    current_period_end: int
    current_period_start: int
    discounts: list[str] = Field(default_factory=list)
    metadata: Metadata = Field(default_factory=dict)
    plan: Loose = None
    price: Price
    quantity: int = 1
    subscription: str
    tax_rates: list[Any] = Field(default_factory=list)


SubscriptionStatus = Literal[
    "active", "canceled", "incomplete", "incomplete_expired", "past_due", "paused", "trialing", "unpaid"
]


class CancellationDetails(StripeObject):
    comment: str | None = None
    feedback: str | None = None
    reason: str | None = None


class Subscription(StripeObject):
    id: str
    object: Literal["subscription"] = "subscription"
    application: str | None = None
    application_fee_percent: float | None = None
    automatic_tax: dict[str, Any] = {"disabled_reason": None, "enabled": False, "liability": None}
    billing_cycle_anchor: int
    billing_cycle_anchor_config: Loose = None
    billing_mode: Loose = None
    billing_schedules: list[Any] = Field(default_factory=list)
    billing_thresholds: Loose = None
    cancel_at: int | None = None
    cancel_at_period_end: bool = False
    canceled_at: int | None = None
    cancellation_details: CancellationDetails | None = Field(default_factory=CancellationDetails)
    collection_method: Literal["charge_automatically", "send_invoice"] = "charge_automatically"
    created: int
    currency: str
    current_period_end: int
    current_period_start: int
    customer: str
    customer_account: str | None = None
    days_until_due: int | None = None
    default_payment_method: str | None = None
    default_source: str | None = None
    default_tax_rates: list[Any] | None = Field(default_factory=list)
    description: str | None = None
    discount: Loose = None
    discounts: list[str] = Field(default_factory=list)
    ended_at: int | None = None
    invoice_settings: Loose = None
    items: StripeList[SubscriptionItem]
    latest_invoice: str | None = None
    livemode: bool = False
    managed_payments: Loose = None
    metadata: Metadata = Field(default_factory=dict)
    next_pending_invoice_item_invoice: int | None = None
    on_behalf_of: str | None = None
    pause_collection: Loose = None
    payment_settings: Loose = None
    pending_invoice_item_interval: Loose = None
    pending_setup_intent: str | None = None
    pending_update: Loose = None
    schedule: str | None = None
    start_date: int
    status: SubscriptionStatus = "active"
    test_clock: str | None = None
    transfer_data: Loose = None
    trial_end: int | None = None
    trial_settings: Loose = None
    trial_start: int | None = None


# -------------------------------------------------------------------- params
class ProductCreateParams(Params):
    name: Annotated[str, Field(min_length=1, max_length=5000)]
    active: bool | None = None
    default_price_data: _Ignored = None
    description: Text | None = None
    features: _Ignored = None
    id: str | None = None
    images: list[str] | None = None
    metadata: Metadata | None = None
    package_dimensions: _Ignored = None
    shippable: bool | None = None
    statement_descriptor: Annotated[str, Field(max_length=22)] | None = None
    tax_code: str | None = None
    unit_label: str | None = None
    url: str | None = None


class ProductListParams(ListParams):
    active: bool | None = None
    ids: list[str] | None = None
    shippable: bool | None = None
    url: str | None = None


class RecurringParams(StripeModel):
    interval: Interval
    interval_count: Annotated[int, Field(ge=1, le=365)] | None = None
    aggregate_usage: _Ignored = None
    trial_period_days: Annotated[int, Field(ge=0, le=730)] | None = None
    usage_type: Literal["licensed", "metered"] | None = None


class ProductDataParams(StripeModel):
    name: Annotated[str, Field(min_length=1, max_length=5000)]
    active: bool | None = None
    id: str | None = None
    metadata: Metadata | None = None
    statement_descriptor: str | None = None
    tax_code: str | None = None
    unit_label: str | None = None


class PriceCreateParams(Params):
    currency: Currency
    active: bool | None = None
    billing_scheme: Literal["per_unit", "tiered"] | None = None
    currency_options: _Ignored = None
    custom_unit_amount: _Ignored = None
    lookup_key: str | None = None
    metadata: Metadata | None = None
    nickname: str | None = None
    product: str | None = None
    product_data: ProductDataParams | None = None
    recurring: RecurringParams | None = None
    tax_behavior: Literal["exclusive", "inclusive", "unspecified"] | None = None
    tiers: _Ignored = None
    tiers_mode: Literal["graduated", "volume"] | None = None
    transfer_lookup_key: bool | None = None
    transform_quantity: _Ignored = None
    unit_amount: Annotated[int, Field(ge=0, le=99_999_999)] | None = None
    unit_amount_decimal: str | None = None


class PriceListParams(ListParams):
    active: bool | None = None
    currency: Currency | None = None
    lookup_keys: list[str] | None = None
    product: str | None = None
    recurring: _Ignored = None
    type: Literal["one_time", "recurring"] | None = None


class PriceDataParams(StripeModel):
    """Inline price of an invoice item or a subscription item."""

    currency: Currency
    product: str
    recurring: RecurringParams | None = None
    tax_behavior: Literal["exclusive", "inclusive", "unspecified"] | None = None
    unit_amount: Annotated[int, Field(ge=0, le=99_999_999)] | None = None
    unit_amount_decimal: str | None = None


class SubscriptionItemParams(StripeModel):
    id: str | None = None
    billing_thresholds: _Ignored = None
    clear_usage: bool | None = None
    deleted: bool | None = None
    discounts: _Ignored = None
    metadata: Metadata | None = None
    plan: str | None = None
    price: str | None = None
    price_data: PriceDataParams | None = None
    quantity: Annotated[int, Field(ge=0)] | None = None
    tax_rates: _Ignored = None


class SubscriptionWriteParams(Params):
    add_invoice_items: _Ignored = None
    application_fee_percent: float | None = None
    automatic_tax: _Ignored = None
    billing_thresholds: _Ignored = None
    cancel_at: int | None = None
    cancel_at_period_end: bool | None = None
    collection_method: Literal["charge_automatically", "send_invoice"] | None = None
    coupon: str | None = None
    days_until_due: Annotated[int, Field(ge=0, le=3650)] | None = None
    default_payment_method: str | None = None
    default_source: str | None = None
    default_tax_rates: _Ignored = None
    description: Text | None = None
    items: list[SubscriptionItemParams] | None = None
    metadata: Metadata | None = None
    off_session: bool | None = None
    on_behalf_of: str | None = None
    payment_behavior: (
        Literal["allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete"] | None
    ) = None
    payment_settings: _Ignored = None
    pending_invoice_item_interval: _Ignored = None
    promotion_code: str | None = None
    proration_behavior: Literal["always_invoice", "create_prorations", "none"] | None = None
    transfer_data: _Ignored = None
    trial_end: int | Literal["now"] | None = None
    trial_from_plan: bool | None = None
    trial_settings: _Ignored = None


class SubscriptionCreateParams(SubscriptionWriteParams):
    customer: str
    backdate_start_date: int | None = None
    billing_cycle_anchor: int | None = None
    currency: Currency | None = None
    trial_period_days: Annotated[int, Field(ge=0, le=730)] | None = None


class SubscriptionUpdateParams(SubscriptionWriteParams):
    billing_cycle_anchor: Literal["now", "unchanged"] | None = None
    cancellation_details: _Ignored = None
    pause_collection: _Ignored = None
    proration_date: int | None = None
    trial_end: int | Literal["now"] | None = None


class SubscriptionCancelParams(Params):
    cancellation_details: _Ignored = None
    invoice_now: bool | None = None
    prorate: bool | None = None


class SubscriptionListParams(ListParams):
    automatic_tax: _Ignored = None
    collection_method: Literal["charge_automatically", "send_invoice"] | None = None
    current_period_end: Range | None = None
    current_period_start: Range | None = None
    customer: str | None = None
    price: str | None = None
    status: SubscriptionStatus | Literal["all", "ended"] | None = None
    test_clock: str | None = None


class SubscriptionItemListParams(ListParams):
    subscription: str
