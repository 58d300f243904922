"""A Zendesk-compatible ticketing simulator (Support API v2 subset, in-memory, embedded).

``zenpy`` works against it unchanged over the loopback server (``ZENPY_FORCE_NETLOC`` /
``ZENPY_FORCE_SCHEME``; email/token basic auth or an OAuth bearer token): tickets with public
comments and internal notes, Zendesk's status rules, tags, users, search, and offset or cursor
pagination, organizations, groups, macros (previewed, never applied by the API) and ticket
fields. Direct helpers (``create_ticket``...) seed data through the same handlers, so seeded
objects obey the API's rules, without touching the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar, Literal

from simulators.core.errors import SimError
from simulators.core.simulator import Simulator
from simulators.core.state import ResourceSpec
from simulators.core.wire import SimResponse

from . import routes
from .account import Group, Macro, Organization, TicketField
from .exceptions import TICKETING_ERROR_CODES, status_of, zendesk_error_body
from .models import CUSTOM_STATUS_IDS, Comment, Ticket, User, ZendeskError
from .routes import API_USER_ID, api_user

__all__ = ["API_USER_ID", "TicketingSimulator"]


class TicketingSimulator(Simulator):
    name: ClassVar[str] = "ticketing"
    title: ClassVar[str] = "Ticketing simulator (Zendesk Support API v2 subset)"
    router = routes.router
    body_format: ClassVar[Literal["form", "json"]] = "json"
    error_codes: ClassVar[dict[str, tuple[int, str]]] = TICKETING_ERROR_CODES
    token_prefixes: ClassVar[tuple[str, str]] = ("zd_test_", "zd_ro_test_")
    api_version: ClassVar[str] = "v2"
    validated_against: ClassVar[str] = (
        'Zendesk\'s Support API OpenAPI document ("Support API" 2.0.0): every success answer, `null` allowed '
        "where Zendesk sends it; error answers (the spec documents none) as Zendesk's error object; objects "
        "carry the spec's fields"
    )
    # Zendesk's DELETE /tickets/{id}/tags.json carries a JSON body
    query_methods: ClassVar[frozenset[str]] = frozenset({"GET", "HEAD"})
    resources: ClassVar[tuple[ResourceSpec, ...]] = (
        ResourceSpec("tickets", Ticket, "ticket", "ticket", numeric_ids=True),
        ResourceSpec("comments", Comment, "comment", "comment", numeric_ids=True),
        ResourceSpec("users", User, "user", "user", numeric_ids=True),
        ResourceSpec("organizations", Organization, "organization", "organization", numeric_ids=True),
        ResourceSpec("groups", Group, "group", "group", numeric_ids=True),
        ResourceSpec("macros", Macro, "macro", "macro", numeric_ids=True),
        ResourceSpec("ticket_fields", TicketField, "ticket_field", "ticket field", numeric_ids=True),
    )

    # ------------------------------------------------------- wire hooks
    def handle(
        self, method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes | None = b""
    ) -> SimResponse:
        if method.upper() == "PUT" and "/update_many.json?" in url:
            body = routes.bulk.ids_into_body(url, body)
        return super().handle(method, url, headers, body)

    def error_body(self, err: SimError, request_id: str | None) -> Any:
        return zendesk_error_body(err)

    @classmethod
    def error_model(cls) -> Any:
        return ZendeskError

    def validation_error(self, err: SimError) -> SimError:
        # Zendesk refuses a bad attribute with 422 RecordInvalid, not 400
        err.status = status_of(err.code)
        return err

    def extra_headers(self, request_id: str) -> dict[str, str]:
        return {"X-Zendesk-API-Version": "v2", "X-Request-Id": request_id}

    # -------------------------------------------------------- assertions
    def field_value(self, resource: str, obj: Mapping[str, Any], name: str) -> Any:
        """Zendesk's nested fields by flat name: ``custom_fields={360001: "gold"}`` matches the
        ``[{"id": 360001, "value": "gold"}]`` list by id (other ids may be there too)."""
        value = super().field_value(resource, obj, name)
        if name == "custom_fields" and isinstance(value, list):
            return _CustomFields(value)
        return value

    def wrote_hint(self, resource: str, fields: Mapping[str, Any]) -> str | None:
        if resource in ("tickets", "ticket") and fields.keys() & {"comment", "comments", "body"}:
            return (
                "a ticket's comments are their own resource: "
                "ticketing.assert_wrote('comments', ticket_id=<id>, body=..., public=...)"
            )
        return None

    # ----------------------------------------------------------- seeding
    def api_user(self, *, tenant: str | None = None) -> User:
        """The tenant's API Agent: the user every token acts as (``/api/v2/users/me.json``)."""
        return api_user(self.store, tenant or self.default_tenant, self.base_url, self.clock.datetime())

    def prepare_seed(self, resource: str, row: dict[str, Any]) -> dict[str, Any]:
        """Defaults for a seed row. A row with a ``url`` is a recorded answer (or one of Zendesk's
        examples): the fields the simulator does not model are dropped, where a hand-written row
        with an unknown field is refused, naming it."""
        if "url" in row:
            known = self._resources[resource].model.model_fields
            row = {k: v for k, v in row.items() if k in known}
        ident = row["id"]
        now = self.clock.datetime().replace(microsecond=0)
        row.setdefault("created_at", now)
        if resource != "comments":
            row.setdefault("updated_at", row["created_at"])
        if resource == "tickets":
            row.setdefault("url", f"{self.base_url}/api/v2/tickets/{ident}.json")
            row.setdefault("description", "")
            if row.get("tags"):
                row["tags"] = routes.normalize_tags(row["tags"])
            if row.get("subject") is not None:
                row.setdefault("raw_subject", row["subject"])
            row.setdefault("custom_status_id", CUSTOM_STATUS_IDS.get(row.get("status") or "new"))
        elif resource == "comments":
            row.setdefault("plain_body", row.get("body", ""))
            row.setdefault("html_body", routes.html_body(str(row.get("body", ""))))
        elif resource == "users":
            row.setdefault("url", f"{self.base_url}/api/v2/users/{ident}.json")
            row.setdefault("name", (row.get("email") or f"user{ident}").split("@", 1)[0])
            for key, value in routes.role_defaults(row.get("role") or "end-user").items():
                row.setdefault(key, value)
        else:
            row.setdefault("url", f"{self.base_url}/api/v2/{resource}/{ident}.json")
            if resource in ("ticket_fields", "macros"):
                row.setdefault("raw_title", row.get("title"))
        return row

    def seed_object(self, resource: str, row: Any, *, tenant: str | None = None) -> Any:
        """Tickets take ``requester`` (``{"email", "name"}``, found or created), default to the
        API Agent as requester/submitter, and get their description as the first public comment,
        followed by ``comments`` (``[{"body", "public", "author_id"}]``)."""
        if resource != "tickets":
            return super().seed_object(resource, row, tenant=tenant)
        target = tenant or self.default_tenant
        data = dict(row)
        extra = list(data.pop("comments", None) or [])
        agent = self.api_user(tenant=target)
        requester = data.pop("requester", None)
        if requester is not None and "requester_id" not in data:
            email = requester["email"]
            found = next((u for u in self.all("users", tenant=target) if u.email == email), None)
            if found is None:
                found = super().seed_object("users", dict(requester), tenant=target)
            data["requester_id"] = found.id
        data.setdefault("requester_id", agent.id)
        data.setdefault("submitter_id", data["requester_id"])
        if data.get("status") in ("solved", "closed") and data.get("assignee_id") is None:
            data["assignee_id"] = agent.id
        ticket: Ticket = super().seed_object("tickets", data, tenant=target)
        if ticket.description:
            self.seed_object(
                "comments",
                {
                    "ticket_id": ticket.id,
                    "author_id": ticket.requester_id,
                    "body": ticket.description,
                    "public": ticket.is_public,
                    "created_at": ticket.created_at,
                },
                tenant=target,
            )
        for c in extra:
            self.seed_object(
                "comments",
                {"ticket_id": ticket.id, "author_id": agent.id, "created_at": ticket.updated_at, **c},
                tenant=target,
            )
        return ticket

    # ----------------------------------------------------- direct helpers
    def create_user(self, *, tenant: str | None = None, **fields: Any) -> User:
        """Create a user without HTTP (same validation, not in the ledger)."""
        result: User = self.call("ticketing.users.create", {"user": fields}, tenant=tenant).body["user"]
        return result

    def create_ticket(self, *, tenant: str | None = None, **fields: Any) -> Ticket:
        """Create a ticket without HTTP: ``create_ticket(subject=..., comment={"body": ...})``."""
        result: Ticket = self.call("ticketing.tickets.create", {"ticket": fields}, tenant=tenant).body["ticket"]
        return result

    def update_ticket(self, ticket_id: int, *, tenant: str | None = None, **fields: Any) -> Ticket:
        result: Ticket = self.call(
            "ticketing.tickets.update", {"ticket": fields}, tenant=tenant, ticket_id=str(ticket_id)
        )["ticket"]
        return result

    def comments(self, ticket_id: int, *, tenant: str | None = None) -> list[Comment]:
        """A ticket's comments, oldest first (for assertions)."""
        rows = [c for c in self.all("comments", tenant=tenant) if c.ticket_id == ticket_id]
        return sorted(rows, key=lambda c: (c.created_at, c.id))

    def close_solved_tickets(self, after_days: float = 4.0, *, tenant: str | None = None) -> list[int]:
        """What Zendesk's automation does: close tickets solved at least ``after_days`` ago (by
        simulated time). A system action, so it is not in the ledger. Returns the closed ids."""
        target = tenant or self.default_tenant
        edge = self.clock.datetime() - timedelta(days=after_days)
        closed: list[int] = []
        with self._lock:
            rows = self.store.table(target, "tickets")
            for ident, t in list(rows.items()):
                if t.status == "solved" and t.updated_at <= edge:
                    rows[ident] = t.model_copy(
                        update={"status": "closed", "updated_at": self.clock.datetime().replace(microsecond=0)}
                    )
                    closed.append(t.id)
        return closed

    def seed_demo(self, *, tenant: str | None = None) -> dict[str, Any]:
        """A small, realistic data set with the free-text fields an agent reads."""
        from .demo import seed_demo

        return seed_demo(self, tenant=tenant)


class _CustomFields(list[Any]):
    """Zendesk's ``custom_fields`` list, which a ``{id: value}`` dict also matches (a subset, by id)."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            values = {str(f.get("id")): f.get("value") for f in self if isinstance(f, Mapping)}
            return all(str(k) in values and values[str(k)] == v for k, v in other.items())
        return list.__eq__(self, other)

    __hash__ = None  # a list: unhashable
