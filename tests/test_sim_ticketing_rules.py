"""Ticketing business rules through the in-process httpx client: Zendesk's status transitions,
search, pagination and error shapes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from simulators.ticketing import API_USER_ID, TicketingSimulator


@pytest.fixture
def sim() -> TicketingSimulator:
    return TicketingSimulator()


@pytest.fixture
def api(sim: TicketingSimulator) -> Iterator[httpx.Client]:
    with sim.client() as c:
        yield c


def invalid(r: httpx.Response) -> tuple[int, str, str]:
    """(status, details field, description) of a RecordInvalid answer."""
    body = r.json()
    assert body["error"] == "RecordInvalid" and body["description"] == "Record validation errors", body
    (field, [detail]), *_ = body["details"].items()
    return r.status_code, field, detail["description"]


def new_ticket(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    r = api.post("/api/v2/tickets.json", json={"ticket": {"comment": {"body": "Help!"}, **fields}})
    assert r.status_code == 201, r.text
    ticket: dict[str, Any] = r.json()["ticket"]
    return ticket


def put(api: httpx.Client, ident: int, **fields: Any) -> httpx.Response:
    return api.put(f"/api/v2/tickets/{ident}.json", json={"ticket": fields})


# ------------------------------------------------------------ transitions
def test_status_transitions(sim: TicketingSimulator, api: httpx.Client) -> None:
    agent = sim.create_user(name="Sam", email="sam@support.example.com", role="agent")
    customer = sim.create_user(name="Cus", email="cus@example.com")
    t = new_ticket(api, requester_id=customer.id)
    assert t["status"] == "new" and t["requester_id"] == customer.id and t["submitter_id"] == API_USER_ID

    # assigning a new ticket opens it
    assert put(api, t["id"], assignee_id=agent.id).json()["ticket"]["status"] == "open"
    for status in ("pending", "hold", "open", "solved", "open"):  # solved tickets can be reopened
        r = put(api, t["id"], status=status)
        assert r.status_code == 200 and r.json()["ticket"]["status"] == status
    assert invalid(put(api, t["id"], status="new")) == (
        422,
        "status",
        "Status: cannot be changed from open back to new",
    )
    code, field, text = invalid(put(api, t["id"], status="closed"))
    assert (code, field) == (422, "status") and "system" in text

    # an end user cannot be the assignee
    assert invalid(put(api, t["id"], assignee_id=customer.id)) == (
        422,
        "assignee_id",
        f"Assignee: user {customer.id} is not an agent",
    )
    assert invalid(put(api, t["id"], assignee_id=424242))[1] == "assignee_id"

    # every status a new ticket may move to
    for status in ("open", "pending", "hold", "solved"):
        fresh = new_ticket(api)
        moved = put(api, fresh["id"], status=status).json()["ticket"]
        assert moved["status"] == status
        assert moved["assignee_id"] == (API_USER_ID if status == "solved" else None)  # solving assigns the solver

    # closing is the system's job: only solved tickets, only after the delay
    put(api, t["id"], status="solved")
    sim.clock.advance(days=3)
    assert t["id"] not in sim.close_solved_tickets()
    sim.clock.advance(days=1)
    assert t["id"] in sim.close_solved_tickets()
    closed = api.get(f"/api/v2/tickets/{t['id']}.json").json()["ticket"]
    assert closed["status"] == "closed"
    for attempt in (
        put(api, t["id"], status="open"),
        put(api, t["id"], comment={"body": "hi"}),
        put(api, t["id"], priority="low"),
        api.put(f"/api/v2/tickets/{t['id']}/tags.json", json={"tags": ["x"]}),
    ):
        assert attempt.json() == {
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {"status": [{"description": "Status: closed prevents ticket update", "error": "InvalidValue"}]},
        }
        assert attempt.status_code == 422
    assert sim.get("tickets", t["id"]) == sim.get("tickets", t["id"])  # type: ignore[arg-type]
    refused = [e.error_code for e in sim.ledger.refused()]
    assert refused.count("ticket_closed") == 4


def test_create_rules(sim: TicketingSimulator, api: httpx.Client) -> None:
    assert invalid(api.post("/api/v2/tickets.json", json={"ticket": {"subject": "no body"}})) == (
        422,
        "description",
        "Description: cannot be blank",
    )
    code, field, _ = invalid(
        api.post(
            "/api/v2/tickets.json", json={"ticket": {"subject": "x", "status": "closed", "comment": {"body": "b"}}}
        )
    )
    assert (code, field) == (422, "status")
    # a requester by email is found or created
    a = new_ticket(api, requester={"email": "new@example.com", "name": "New Person"})
    b = new_ticket(api, requester={"email": "NEW@example.com"})
    assert a["requester_id"] == b["requester_id"]
    user = api.get(f"/api/v2/users/{a['requester_id']}.json").json()["user"]
    assert (user["name"], user["role"]) == ("New Person", "end-user")
    # description is the first comment; a private first comment makes a private ticket
    c = new_ticket(api, comment={"body": "Only agents see this.", "public": False}, subject="Internal")
    assert c["is_public"] is False and c["description"] == "Only agents see this."
    d = api.post("/api/v2/tickets.json", json={"ticket": {"description": "From description."}}).json()["ticket"]
    assert d["subject"] == "From description." and d["status"] == "new"
    comments = api.get(f"/api/v2/tickets/{d['id']}/comments.json").json()
    assert [x["body"] for x in comments["comments"]] == ["From description."]
    # tags are lower case without spaces; additional/remove tags on update
    e = new_ticket(api, tags=["VIP customer", "vip"])
    assert e["tags"] == ["vip", "customer"]
    assert put(api, e["id"], additional_tags=["Urgent"], remove_tags=["vip"]).json()["ticket"]["tags"] == [
        "customer",
        "urgent",
    ]
    # emails of users are unique
    r = api.post("/api/v2/users.json", json={"user": {"name": "Dup", "email": "new@example.com"}})
    assert invalid(r)[:2] == (422, "email")


def test_update_audit_and_noop(sim: TicketingSimulator, api: httpx.Client) -> None:
    t = new_ticket(api, priority="low")
    r = put(api, t["id"], priority="high", comment={"body": "Bumping priority.", "public": False})
    events = r.json()["audit"]["events"]
    assert [e["type"] for e in events] == ["Comment", "Change"]
    assert {"field_name": "priority", "value": "high", "previous_value": "low"}.items() <= events[1].items()
    # a round-trip of the fetched ticket changes nothing (read-only attributes are ignored)
    before = len(sim.ledger.writes())
    fetched = api.get(f"/api/v2/tickets/{t['id']}.json").json()["ticket"]
    assert put(api, t["id"], **fetched).status_code == 200
    assert len(sim.ledger.writes()) == before
    assert invalid(put(api, t["id"], stauts="open")) == (422, "stauts", "Received unknown parameter: ticket.stauts")
    assert invalid(put(api, t["id"], comment={"body": "  "}))[1] == "comment"


# ----------------------------------------------------------------- search
def search(api: httpx.Client, query: str, **params: Any) -> list[tuple[str, int]]:
    r = api.get("/api/v2/search.json", params={"query": query, **params})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] >= len(body["results"])
    return [(x["result_type"], x["id"]) for x in body["results"]]


def test_search_filters(sim: TicketingSimulator, api: httpx.Client) -> None:
    ids = sim.seed_demo()
    t1, t2, t3, t4 = ids["tickets"]
    sam, tess = ids["agents"]
    ticket_ids = lambda q, **kw: sorted(i for kind, i in search(api, q, **kw) if kind == "ticket")  # noqa: E731
    assert ticket_ids("type:ticket status:open") == [t1]
    assert ticket_ids("type:ticket status<solved") == [t1, t2, t3]
    assert ticket_ids("type:ticket status>=pending") == [t3, t4]
    assert ticket_ids("priority>normal") == [t1, t3]
    assert ticket_ids("priority:urgent priority:low") == [t3, t4]  # the same keyword twice is an OR
    assert ticket_ids("tags:enterprise tags:login") == [t2, t3]
    assert ticket_ids("tags:enterprise -status:new") == []
    assert ticket_ids("type:ticket -tags:refund -tags:login") == [t2, t4]
    assert ticket_ids("requester:grace@example.com") == [t1]
    assert ticket_ids("requester:Ada") == [t2, t4]
    assert ticket_ids(f"assignee:{sam}") == [t1, t4]
    assert ticket_ids("assignee:none") == [t2]
    assert ticket_ids("submitter:me") == [t1, t2, t3, t4]
    assert ticket_ids("ticket_type:problem") == [t3]
    assert ticket_ids("subject:login") == [t3]
    assert ticket_ids("comment:browser") == [t3]  # a later comment, not the description
    assert ticket_ids('"dark theme"') == [t4]
    assert ticket_ids('"theme dark"') == []
    assert ticket_ids("expor") == [t2]  # words match by prefix
    assert ticket_ids("xport") == []
    assert ticket_ids(str(t2)) == [t2]  # a bare number is also a ticket id
    assert ticket_ids("created>2024-12-31 created<2025-01-02") == [t1, t2, t3, t4]
    assert ticket_ids("created:2025-01-02") == []
    sim.clock.advance(days=10)
    late = sim.create_ticket(subject="Late", comment={"body": "Arrived later."})
    assert ticket_ids("created>2days") == [late.id]
    assert ticket_ids("updated<2days") == [t1, t2, t3, t4]
    users = [i for kind, i in search(api, "type:user role:agent")]
    assert sorted(users) == [sam, tess]
    grace, tess_ = ids["requesters"][1], tess
    # without type: tickets and users (Grace's notes say "refunded", Tess "handles ... refunds")
    assert sorted(search(api, "refund")) == [("ticket", t1), ("user", grace), ("user", tess_)]
    assert search(api, "refund", **{"filter[type]": "ticket"}) == [("ticket", t1)]
    assert search(api, "refund -type:user") == [("ticket", t1)]
    assert search(api, '"Tier 2 agent"') == [("user", tess)]
    ordered = [i for _, i in search(api, "type:ticket", sort_by="priority", sort_order="asc")]
    # no priority first, then low < normal < high < urgent
    assert ordered == [late.id, t4, t2, t1, t3]
    assert [i for _, i in search(api, "type:ticket order_by:created sort:asc")][-1] == late.id


def test_search_pages(sim: TicketingSimulator, api: httpx.Client) -> None:
    sim.seed({"tickets": [{"subject": f"Order {i}", "description": "Where is my order?"} for i in range(7)]})
    r = api.get("/api/v2/search.json", params={"query": "order", "per_page": 3}).json()
    assert r["count"] == 7 and len(r["results"]) == 3 and r["previous_page"] is None
    seen = [x["id"] for x in r["results"]]
    while r["next_page"]:
        r = api.get(r["next_page"]).json()
        seen += [x["id"] for x in r["results"]]
    assert sorted(seen) == list(range(1, 8)) and len(seen) == 7
    assert r["previous_page"] is not None


# ------------------------------------------------------------- pagination
def test_offset_pagination(sim: TicketingSimulator, api: httpx.Client) -> None:
    sim.seed({"tickets": [{"subject": f"t{i}", "description": "d"} for i in range(5)]})
    page = api.get("/api/v2/tickets.json", params={"per_page": 2}).json()
    assert ([t["id"] for t in page["tickets"]], page["count"], page["previous_page"]) == ([1, 2], 5, None)
    assert parse_qs(urlsplit(page["next_page"]).query) == {"page": ["2"], "per_page": ["2"]}
    assert page["next_page"].startswith(sim.base_url + "/api/v2/tickets.json")
    last = api.get("/api/v2/tickets.json", params={"per_page": 2, "page": 3}).json()
    assert [t["id"] for t in last["tickets"]] == [5] and last["next_page"] is None
    assert parse_qs(urlsplit(last["previous_page"]).query)["page"] == ["2"]
    desc = api.get("/api/v2/tickets.json", params={"sort_order": "desc", "per_page": 100000}).json()
    assert [t["id"] for t in desc["tickets"]] == [5, 4, 3, 2, 1]  # per_page is clamped, not refused
    assert api.get("/api/v2/tickets.json", params={"page": 9}).json()["tickets"] == []
    assert api.get("/api/v2/tickets.json", params={"page": 0}).status_code == 422


def test_cursor_pagination(sim: TicketingSimulator, api: httpx.Client) -> None:
    sim.seed({"tickets": [{"subject": f"t{i}", "description": "d"} for i in range(5)]})
    first = api.get("/api/v2/tickets.json", params={"page[size]": 2}).json()
    assert [t["id"] for t in first["tickets"]] == [1, 2] and first["meta"]["has_more"] is True
    assert "count" not in first and first["links"]["prev"] is None
    seen, page = [], first
    while True:
        seen += [t["id"] for t in page["tickets"]]
        if not page["meta"]["has_more"]:
            break
        page = api.get(page["links"]["next"]).json()
    assert seen == [1, 2, 3, 4, 5]
    back = api.get(
        "/api/v2/tickets.json", params={"page[size]": 2, "page[before]": page["meta"]["before_cursor"]}
    ).json()
    assert [t["id"] for t in back["tickets"]] == [3, 4] and back["meta"]["has_more"] is True
    bad = api.get("/api/v2/tickets.json", params={"page[size]": 2, "page[after]": "nope"})
    assert bad.status_code == 400 and bad.json()["error"] == "InvalidPaginationParameter"
    assert api.get("/api/v2/tickets.json", params={"page[size]": 101}).status_code == 422
    # comments and users paginate the same way
    sim.update_ticket(1, comment={"body": "second"})
    sim.update_ticket(1, comment={"body": "third", "public": False})
    cpage = api.get("/api/v2/tickets/1/comments.json", params={"page[size]": 2}).json()
    assert [c["body"] for c in cpage["comments"]] == ["d", "second"] and cpage["meta"]["has_more"]
    newest = api.get("/api/v2/tickets/1/comments.json", params={"sort_order": "desc"}).json()
    assert [c["body"] for c in newest["comments"]] == ["third", "second", "d"]
    sim.seed({"users": [{"name": f"u{i}", "role": "agent" if i % 2 else "end-user"} for i in range(3)]})
    agents = api.get("/api/v2/users.json", params={"role[]": ["agent", "admin"]}).json()
    assert [u["name"] for u in agents["users"]] == ["u1", "API Agent"]
    assert api.get("/api/v2/users.json", params={"role": "end-user"}).json()["count"] == 2


def test_links_follow_the_address_the_client_used(sim: TicketingSimulator) -> None:
    sim.seed({"tickets": [{"subject": f"t{i}", "description": "d"} for i in range(3)]})
    url = "http://127.0.0.1:9999/api/v2/tickets.json?per_page=1"
    r = sim.handle("GET", url, sim.auth_headers())
    assert r.json()["next_page"].startswith("http://127.0.0.1:9999/api/v2/tickets.json?")


# ------------------------------------------------------------ error shapes
def test_error_shapes(sim: TicketingSimulator, api: httpx.Client) -> None:
    assert api.get("/api/v2/tickets/424242.json").json() == {"error": "RecordNotFound", "description": "Not found"}
    assert api.get("/api/v2/tickets/abc.json").status_code == 404
    assert api.get("/api/v2/users/5.json").json()["error"] == "RecordNotFound"
    assert api.get("/api/v2/tickets/424242/comments.json").status_code == 404
    missing = api.get("/api/v2/nope.json")
    assert missing.status_code == 404 and missing.json()["error"] == "InvalidEndpoint"
    assert api.patch("/api/v2/tickets.json", json={}).status_code == 405
    bad = api.post("/api/v2/tickets.json", content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"] == "Unprocessable Entity"
    code, field, text = invalid(
        api.post("/api/v2/tickets.json", json={"ticket": {"priority": "asap", "comment": {"body": "x"}}})
    )
    assert (code, field) == (422, "priority") and "ticket.priority" in text
    assert invalid(api.post("/api/v2/tickets.json", json={}))[:2] == (422, "ticket")
    unauth = sim.handle("GET", sim.base_url + "/api/v2/tickets.json", {})
    assert unauth.status == 401 and unauth.json()["error"] == "Couldn't authenticate you"
    assert api.get("/api/v2/search.json").status_code == 422  # query is required
    assert sim.internal_errors == []
