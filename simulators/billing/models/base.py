"""Shared pieces of the Stripe shapes: object and parameter bases, lists, search results, filters.

Resources are frozen (handlers build new objects with ``model_copy(update=...)`` so the
ledger's before/after and snapshots stay exact) and keep fields they do not declare: a test may
seed an object recorded from the real API, newer fields included, and get it back as recorded.
Request models forbid unknown parameters, which is how Stripe answers a typo
(``parameter_unknown`` naming it).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

T = TypeVar("T")

_META_KEY = re.compile(r"^[^\[\]]{1,40}$")


def _metadata(value: Any) -> Any:
    # the form decoder turns metadata[0]=a into a list; Stripe keys are strings
    if isinstance(value, list):
        value = {str(i): v for i, v in enumerate(value)}
    if value == "" or value is None:
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
#: a nested object the simulator stores as sent but does not interpret (Stripe's ``shipping``...)
Loose = dict[str, Any] | None


class StripeModel(BaseModel):
    """Request parameters and their nested objects: unknown names are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class StripeObject(BaseModel):
    """A resource or a nested part of one: undeclared fields are kept as seeded (see the module)."""

    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)


class Sparse(StripeObject):
    """An object some of whose fields Stripe leaves out when unset (the spec marks them optional
    and not nullable): ``omitted_when_none`` names them."""

    omitted_when_none: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_unset(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name in self.omitted_when_none:
                if data.get(name, 0) is None:
                    del data[name]
        return data


class Address(StripeObject):
    city: str | None = None
    country: str | None = None
    line1: str | None = None
    line2: str | None = None
    postal_code: str | None = None
    state: str | None = None


class Period(StripeObject):
    start: int
    end: int


class StripeList(StripeObject, Generic[T]):
    object: Literal["list"] = "list"
    data: list[T]
    has_more: bool = False
    url: str


class SearchResult(Sparse, Generic[T]):
    """``total_count`` only when asked for with ``expand[]=total_count``, as Stripe does."""

    omitted_when_none: ClassVar[frozenset[str]] = frozenset({"total_count"})
    object: Literal["search_result"] = "search_result"
    data: list[T]
    has_more: bool = False
    next_page: str | None = None
    total_count: int | None = None
    url: str


class DeletedObject(StripeObject):
    id: str
    object: str
    deleted: Literal[True] = True


# -------------------------------------------------------------------- params
class AddressParams(StripeModel):
    city: str | None = None
    country: str | None = None
    line1: str | None = None
    line2: str | None = None
    postal_code: str | None = None
    state: str | None = None


class ShippingParams(StripeModel):
    address: AddressParams
    name: str
    carrier: str | None = None
    phone: str | None = None
    tracking_number: str | None = None


class RangeQuery(StripeModel):
    """``created[gt]=...&created[lte]=...``: Stripe's range filter on timestamps."""

    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None

    def admits(self, value: int | None) -> bool:
        if value is None:
            return False
        return (
            (self.gt is None or value > self.gt)
            and (self.gte is None or value >= self.gte)
            and (self.lt is None or value < self.lt)
            and (self.lte is None or value <= self.lte)
        )


Range = int | RangeQuery


def in_range(value: int | None, query: Range | None) -> bool:
    """Whether ``value`` passes a range filter given as an exact value or ``{gt, gte, lt, lte}``."""
    if query is None:
        return True
    if isinstance(query, int):
        return value == query
    return query.admits(value)


class Params(StripeModel):
    expand: list[Annotated[str, Field(max_length=200)]] = Field(default=[], max_length=20)


class ListParams(Params):
    limit: Annotated[int, Field(ge=1, le=100)] = 10
    starting_after: str | None = None
    ending_before: str | None = None
    created: Range | None = None


class SearchParams(Params):
    query: Annotated[str, Field(max_length=5000)]
    limit: Annotated[int, Field(ge=1, le=100)] = 10
    page: Annotated[str, Field(max_length=5000)] | None = None


class MetadataParams(Params):
    metadata: Metadata | None = None
