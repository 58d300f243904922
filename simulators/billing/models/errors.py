"""Stripe's error object (``{"error": {...}}``), the schema of every error answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


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
    payment_method: dict[str, Any] | None = None


class StripeErrorBody(BaseModel):
    error: StripeErrorDetail
