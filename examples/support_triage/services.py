"""Thin clients for the three services the agent works with, over plain httpx.

- ticketing: the Zendesk Support API v2 (``/api/v2/tickets/{id}.json``)
- crm: the HubSpot CRM v3 API (``/crm/v3/objects/contacts/search``, notes)
- billing: the Stripe API v1 (form bodies, ``Idempotency-Key``)

In the tests, the base URLs are the ``ticketing``, ``crm`` and ``billing`` simulator fixtures; in
production they would be the real services. Only what the agent needs is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    api_key: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=10.0)


@dataclass(frozen=True)
class Services:
    ticketing: Endpoint
    crm: Endpoint
    billing: Endpoint


class Refused(Exception):
    """The service (or the policy engine in front of it) refused a write; the message says why."""


def _refusal(response: httpx.Response) -> Refused:
    try:
        error = response.json().get("error")
    except ValueError:
        error = None
    message = error.get("message") if isinstance(error, dict) else None
    return Refused(f"HTTP {response.status_code}: {message or response.text[:200]}")


class _Api:
    def __init__(self, endpoint: Endpoint) -> None:
        self.http = endpoint.client()

    def close(self) -> None:
        self.http.close()


class Ticketing(_Api):
    """Zendesk Support API v2."""

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        response = self.http.get(f"/api/v2/tickets/{ticket_id}.json")
        response.raise_for_status()
        return dict(response.json()["ticket"])

    def user(self, user_id: int) -> dict[str, Any]:
        response = self.http.get(f"/api/v2/users/{user_id}.json")
        response.raise_for_status()
        return dict(response.json()["user"])

    def update(self, ticket_id: int, **fields: Any) -> dict[str, Any]:
        response = self.http.put(f"/api/v2/tickets/{ticket_id}.json", json={"ticket": fields})
        if response.is_error:
            raise _refusal(response)
        return dict(response.json()["ticket"])


class Crm(_Api):
    """HubSpot CRM v3."""

    NOTE_TO_CONTACT = 202  # HubSpot's association type id: note -> contact

    def find_contact(self, email: str) -> dict[str, Any] | None:
        response = self.http.post(
            "/crm/v3/objects/contacts/search",
            json={
                "filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}],
                "properties": ["email", "firstname", "lastname", "lifecyclestage"],
                "limit": 1,
            },
        )
        response.raise_for_status()
        results = response.json()["results"]
        return dict(results[0]) if results else None

    def add_note(self, contact_id: str, body: str) -> dict[str, Any]:
        response = self.http.post(
            "/crm/v3/objects/notes",
            json={
                "properties": {"hs_note_body": body, "hs_timestamp": datetime.now(UTC).isoformat()},
                "associations": [
                    {
                        "to": {"id": contact_id},
                        "types": [
                            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": self.NOTE_TO_CONTACT}
                        ],
                    }
                ],
            },
        )
        if response.is_error:
            raise _refusal(response)
        return dict(response.json())


class Billing(_Api):
    """Stripe API v1."""

    attempts = 3  # of a refund whose answer was lost

    def find_customer(self, email: str) -> dict[str, Any] | None:
        response = self.http.get("/v1/customers", params={"email": email, "limit": 1})
        response.raise_for_status()
        found = response.json()["data"]
        return dict(found[0]) if found else None

    def charges(self, customer_id: str) -> list[dict[str, Any]]:
        response = self.http.get("/v1/charges", params={"customer": customer_id, "limit": 10})
        response.raise_for_status()
        return list(response.json()["data"])

    def refund(
        self, *, charge: str, amount: int, reason: str, idempotency_key: str, metadata: dict[str, str]
    ) -> dict[str, Any]:
        """Refund ``amount`` cents of ``charge``. A lost answer is retried with the same key, so the
        refund happens at most once however many times this runs."""
        form = {"charge": charge, "amount": str(amount), "reason": reason}
        form.update({f"metadata[{key}]": value for key, value in metadata.items()})
        headers = {"Idempotency-Key": idempotency_key}
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.http.post("/v1/refunds", data=form, headers=headers)
            except httpx.TransportError:  # timeout, dropped connection: did it happen? ask again, same key
                if attempt == self.attempts:
                    raise
                continue
            if response.is_error:
                raise _refusal(response)
            return dict(response.json())
        raise AssertionError("unreachable")
