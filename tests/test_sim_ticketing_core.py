"""What the core gives the ticketing simulator: tenants, idempotency, faults, ledger, OpenAPI,
seeding, snapshots, and "never a 500" for any input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from simulators import simulator_class
from simulators.core.wire import SimResponse
from simulators.ticketing import API_USER_ID, TicketingSimulator
from simulators.ticketing.exceptions import ERROR_TITLES
from simulators.ticketing.strategies import seed_data

MARKER = "TENANT-B-PRIVATE"


def call(
    sim: TicketingSimulator, method: str, path: str, body: Any = None, token: str | None = None, **headers: str
) -> SimResponse:
    h = {**sim.auth_headers(token), **headers}
    raw = b""
    if body is not None:
        raw = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    return sim.handle(method, sim.base_url + path, h, raw)


# ----------------------------------------------------------------- tenants
def two_tenants() -> tuple[TicketingSimulator, dict[str, Any], dict[str, list[int]]]:
    sim = TicketingSimulator()
    a = sim.seed_demo()
    customer = sim.create_user(tenant="b", name="Bea", email="bea@tenant-b.example", notes=MARKER)
    agent = sim.create_user(tenant="b", name="Bo", email="bo@tenant-b.example", role="agent")
    t1 = sim.create_ticket(
        tenant="b",
        subject=MARKER,
        comment={"body": f"{MARKER} refund please"},
        requester_id=customer.id,
        tags=["refund", "secret"],
    )
    t2 = sim.create_ticket(tenant="b", subject="Other", comment={"body": MARKER}, assignee_id=agent.id)
    return sim, a, {"tickets": [t1.id, t2.id], "users": [customer.id, agent.id]}


ops = st.tuples(
    st.sampled_from(
        [
            "show",
            "update",
            "comment",
            "tags_add",
            "tags_set",
            "tags_del",
            "tags_list",
            "comments",
            "list",
            "search",
            "users",
            "user",
            "create_for_b_requester",
            "assign_b_agent",
        ]
    ),
    st.integers(0, 9),
    st.booleans(),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=1, max_size=15))
def test_tenant_a_token_never_reads_or_changes_tenant_b(steps: list[tuple[str, int, bool]]) -> None:
    sim, a_ids, b_ids = two_tenants()
    before_b = sim.store.copy()["b"]
    b_emails = ("bea@tenant-b.example", "bo@tenant-b.example")
    for op, n, target_b in steps:
        tickets = b_ids["tickets"] if target_b else a_ids["tickets"]
        users = b_ids["users"] if target_b else a_ids["users"]
        tid, uid = tickets[n % len(tickets)], users[n % len(users)]
        if op == "show":
            r = call(sim, "GET", f"/api/v2/tickets/{tid}.json")
        elif op == "update":
            r = call(sim, "PUT", f"/api/v2/tickets/{tid}.json", {"ticket": {"status": "open", "priority": "low"}})
        elif op == "comment":
            r = call(sim, "PUT", f"/api/v2/tickets/{tid}.json", {"ticket": {"comment": {"body": "hi"}}})
        elif op == "tags_add":
            r = call(sim, "PUT", f"/api/v2/tickets/{tid}/tags.json", {"tags": ["x"]})
        elif op == "tags_set":
            r = call(sim, "POST", f"/api/v2/tickets/{tid}/tags.json", {"tags": ["y"]})
        elif op == "tags_del":
            r = call(sim, "DELETE", f"/api/v2/tickets/{tid}/tags.json", {"tags": ["refund"]})
        elif op == "tags_list":
            r = call(sim, "GET", f"/api/v2/tickets/{tid}/tags.json")
        elif op == "comments":
            r = call(sim, "GET", f"/api/v2/tickets/{tid}/comments.json")
        elif op == "list":
            r = call(sim, "GET", "/api/v2/tickets.json?per_page=100")
        elif op == "search":
            r = call(sim, "GET", f"/api/v2/search.json?query={MARKER if target_b else 'refund'}")
        elif op == "users":
            r = call(sim, "GET", "/api/v2/users.json")
        elif op == "user":
            r = call(sim, "GET", f"/api/v2/users/{uid}.json")
        elif op == "create_for_b_requester":
            r = call(sim, "POST", "/api/v2/tickets.json", {"ticket": {"comment": {"body": "x"}, "requester_id": uid}})
        else:
            r = call(sim, "PUT", f"/api/v2/tickets/{a_ids['tickets'][0]}.json", {"ticket": {"assignee_id": uid}})
        assert r.status < 500, r.body
        text = r.body.decode()
        assert MARKER not in text and not any(e in text for e in b_emails), (op, text[:300])
        data = r.json() if r.body else {}
        seen = {t["id"] for t in data.get("tickets", [])} | {
            x["id"] for x in data.get("results", []) if x["result_type"] == "ticket"
        }
        assert not seen & set(b_ids["tickets"])
        if target_b and op in (
            "show",
            "update",
            "comment",
            "tags_add",
            "tags_set",
            "tags_del",
            "tags_list",
            "comments",
        ):
            assert r.status == 404 and data == {"error": "RecordNotFound", "description": "Not found"}, (op, data)
        if target_b and op == "user":
            assert r.status == 404
        if target_b and op in ("create_for_b_requester", "assign_b_agent"):
            assert r.status == 422, (op, data)
    assert sim.store.copy()["b"] == before_b
    assert sim.internal_errors == []


def test_b_token_sees_only_b_and_read_only_tokens_cannot_write() -> None:
    sim, a_ids, b_ids = two_tenants()
    token_b = sim.issue_token(tenant="b")
    listed = call(sim, "GET", "/api/v2/tickets.json", token=token_b).json()
    assert [t["id"] for t in listed["tickets"]] == b_ids["tickets"]
    assert call(sim, "GET", f"/api/v2/tickets/{a_ids['tickets'][0]}.json", token=token_b).status == 404
    reader = sim.issue_token(scopes=["read"])
    assert reader.startswith("zd_ro_test_")
    r = call(sim, "POST", "/api/v2/tickets.json", {"ticket": {"comment": {"body": "x"}}}, token=reader)
    assert r.status == 403 and r.json()["error"] == "Forbidden"
    sim.assert_no_writes()
    with pytest.raises(AssertionError, match=r"ticketing\.tickets\.create.*403 unauthorized"):
        sim.assert_no_unauthorized_attempts()


# ------------------------------------------------------------- idempotency
def test_idempotency_key_on_create() -> None:
    sim = TicketingSimulator()
    body = {"ticket": {"subject": "Refund", "comment": {"body": "Please refund order 42."}}}
    first = call(sim, "POST", "/api/v2/tickets.json", body, **{"Idempotency-Key": "order-42"})
    again = call(sim, "POST", "/api/v2/tickets.json", body, **{"Idempotency-Key": "order-42"})
    assert first.status == again.status == 201 and again.body == first.body
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert len(sim.all("tickets")) == 1 and len(sim.all("comments")) == 1
    assert [e.outcome for e in sim.ledger] == ["applied", "replayed"]
    sim.assert_no_duplicate_side_effects()

    other = call(
        sim,
        "POST",
        "/api/v2/tickets.json",
        {"ticket": {"comment": {"body": "different"}}},
        **{"Idempotency-Key": "order-42"},
    )
    assert other.status == 400 and other.json()["error"] == "IdempotentRequestError"
    # Zendesk clients send no key by default: a blind retry is a second ticket, and the ledger says so
    call(sim, "POST", "/api/v2/tickets.json", body)
    with pytest.raises(AssertionError, match="more than once"):
        sim.assert_no_duplicate_side_effects()


# ------------------------------------------------------------------ faults
def test_fault_on_create_saves_nothing_and_commit_then_drop() -> None:
    sim = TicketingSimulator()
    rule = sim.faults.add("ticketing.tickets.create", "500", times=1)
    body = {"ticket": {"comment": {"body": "x"}}}
    r = call(sim, "POST", "/api/v2/tickets.json", body)
    assert r.status == 500 and r.json() == {"error": "InternalError", "description": r.json()["description"]}
    assert sim.all("tickets") == [] and rule.fired == 1
    assert call(sim, "POST", "/api/v2/tickets.json", body).status == 201
    sim.faults.add("ticketing.tickets.create", "commit_then_drop", times=1)
    dropped = call(sim, "POST", "/api/v2/tickets.json", body, **{"Idempotency-Key": "k"})
    assert dropped.fault == "drop" and len(sim.all("tickets")) == 2
    replay = call(sim, "POST", "/api/v2/tickets.json", body, **{"Idempotency-Key": "k"})
    assert replay.status == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert len(sim.all("tickets")) == 2
    sim.faults.clear()
    sim.faults.add("ticketing.*", "429", times=1, retry_after=3)
    limited = call(sim, "GET", "/api/v2/tickets.json")
    assert limited.status == 429 and limited.headers["Retry-After"] == "3"
    assert limited.json()["error"] == "APIRateLimitExceeded"


# ----------------------------------------------------------------- openapi
def test_openapi_is_valid_and_lists_every_route() -> None:
    sim = TicketingSimulator()
    r = sim.handle("GET", sim.base_url + "/openapi.json", {})
    doc = json.loads(r.body)
    validate(doc)
    ops = {(path, method.upper()): op for path, item in doc["paths"].items() for method, op in item.items()}
    for route in TicketingSimulator.routes:
        op = ops[(route.path, route.method)]
        assert op["operationId"] == route.tool and op["x-agentops-kind"] == route.kind
        assert set(op["responses"]) == {*(str(s) for s in route.statuses), "default"}
        if route.method in ("POST", "PUT", "DELETE") and route.params is not None:
            assert "application/json" in op["requestBody"]["content"]  # DELETE tags.json carries a body
        for code in route.errors:
            assert code in doc["x-agentops-error-codes"], (route.tool, code)
    assert len(ops) == len(TicketingSimulator.routes) + 1
    tools = {t["tool"] for t in TicketingSimulator.tools()}
    assert {
        "ticketing.tickets.create",
        "ticketing.tickets.update",
        "ticketing.tickets.search",
        "ticketing.comments.list",
        "ticketing.tags.update",
    } <= tools
    assert doc["x-agentops-error-codes"]["ticket_closed"]["status"] == 422
    assert simulator_class("ticketing") is TicketingSimulator
    route = TicketingSimulator.route_for("PUT", "https://acme.zendesk.com/api/v2/tickets/12.json")
    assert route is not None and route.tool == "ticketing.tickets.update"


# ------------------------------------------------------------ never a 500
_values = st.one_of(
    st.text(max_size=20),
    st.integers(-(10**16), 10**16),
    st.booleans(),
    st.none(),
    st.sampled_from(["open", "closed", "solved", "new", "urgent", "agent", "a@b.c", "", "1", "1000000001"]),
    st.lists(st.text(max_size=8), max_size=3),
    st.dictionaries(st.sampled_from(["body", "public", "email"]), st.text(max_size=8), max_size=2),
)
_fields = st.dictionaries(
    st.one_of(
        st.sampled_from(
            [
                "subject",
                "comment",
                "status",
                "priority",
                "assignee_id",
                "requester_id",
                "tags",
                "requester",
                "description",
                "type",
                "due_at",
                "custom_fields",
                "collaborator_ids",
                "additional_tags",
                "remove_tags",
                "id",
                "via",
                "assignee_email",
            ]
        ),
        st.text(max_size=8),
    ),
    _values,
    max_size=5,
)
_bodies = st.one_of(
    st.builds(lambda f: {"ticket": f}, _fields),
    st.builds(lambda f: {"user": f}, _fields),
    st.builds(lambda t: {"tags": t}, _values),
    _fields,
)
_query = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "query",
                "page",
                "per_page",
                "page[size]",
                "page[after]",
                "sort_by",
                "sort_order",
                "role",
                "role[]",
                "filter[type]",
                "x",
            ]
        ),
        st.one_of(
            st.text(max_size=12),
            st.integers(-5, 200).map(str),
            st.sampled_from(["status<solved tags:a -x", "aWQ6MQ", "desc"]),
        ),
    ),
    max_size=4,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(TicketingSimulator.routes),
    _bodies,
    _query,
    st.one_of(st.integers(0, 6), st.sampled_from(["abc", "", "%00", "-1", "1000000001", "9" * 30])),
)
def test_no_input_gets_a_500(route: Any, body: Any, query: list[tuple[str, str]], ident: Any) -> None:
    from urllib.parse import urlencode

    sim = TicketingSimulator()
    sim.seed_demo()
    sim.clock.advance(days=5)
    sim.close_solved_tickets()
    path = route.path
    for name in route.path_params:
        path = path.replace("{" + name + "}", str(ident) or "x")
    url = f"{sim.base_url}{path}?{urlencode(query)}"
    h = {**sim.auth_headers(), "Content-Type": "application/json"}
    r = sim.handle(route.method, url, h, json.dumps(body).encode() if route.method != "GET" else b"")
    assert r.status < 500, (route.tool, body, r.body)
    assert sim.internal_errors == []
    if r.status >= 400:
        assert r.json()["error"] in ERROR_TITLES
        if route.kind == "write":
            assert sim.ledger.entries[-1].error_code in TicketingSimulator.all_error_codes()


# ---------------------------------------------------------------- seeding
def test_seed_dict_and_snapshot_restore() -> None:
    sim = TicketingSimulator()
    sim.seed(
        {
            "users": [{"id": 7, "name": "Seeded Agent", "email": "agent7@example.com", "role": "agent"}],
            "tickets": [
                {
                    "id": 40,
                    "subject": "Old problem",
                    "description": "It broke.",
                    "status": "solved",
                    "requester": {"email": "old@example.com", "name": "Old Customer"},
                    "assignee_id": 7,
                    "comments": [{"body": "Fixed by restarting.", "public": False, "author_id": 7}],
                }
            ],
            "tenants": {"other": {"tickets": [{"subject": "elsewhere", "description": "x"}]}},
        }
    )
    t = sim.get("tickets", 40)  # type: ignore[arg-type]
    assert (t.status, t.assignee_id) == ("solved", 7)
    assert [(c.body, c.public) for c in sim.comments(40)] == [("It broke.", True), ("Fixed by restarting.", False)]
    assert sim.get("users", t.requester_id).email == "old@example.com"  # type: ignore[arg-type]
    assert len(sim.all("tickets", tenant="other")) == 1
    sim.assert_no_writes()
    snap = sim.snapshot()
    made = call(sim, "POST", "/api/v2/tickets.json", {"ticket": {"comment": {"body": "new"}}}).json()["ticket"]
    assert made["id"] == 42  # numbering continues after seeded ids (41 went to tenant "other")
    call(sim, "PUT", "/api/v2/tickets/40.json", {"ticket": {"status": "open"}})
    sim.restore(snap)
    assert sim.get("tickets", 40).status == "solved" and sim.get("tickets", 42) is None  # type: ignore[arg-type]
    assert len(sim.ledger) == 0
    again = call(sim, "POST", "/api/v2/tickets.json", {"ticket": {"comment": {"body": "new"}}}).json()["ticket"]
    assert again == made  # same ids, same timestamps: deterministic
    with pytest.raises(ValueError):
        sim.seed({"tickets": [{"subject": "x", "status": "bogus"}]})


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed_data())
def test_seed_from_hypothesis_is_served_back(data: dict[str, Any]) -> None:
    sim = TicketingSimulator()
    sim.seed(data)
    for row in data["tickets"]:
        got = call(sim, "GET", f"/api/v2/tickets/{row['id']}.json").json()["ticket"]
        assert (got["subject"], got["description"], got["status"]) == (
            row["subject"],
            row["description"],
            row["status"],
        )
        bodies = [c["body"] for c in call(sim, "GET", f"/api/v2/tickets/{row['id']}/comments.json").json()["comments"]]
        assert bodies == [row["description"], *(c["body"] for c in row["comments"])]
    users = call(sim, "GET", "/api/v2/users.json").json()["users"]
    assert {u["id"] for u in users} == {r["id"] for r in data["users"]} | {API_USER_ID}


def test_demo_has_free_text_and_is_not_agent_activity() -> None:
    sim = TicketingSimulator()
    ids = sim.seed_demo()
    assert all(sim.get("tickets", i).description for i in ids["tickets"])  # type: ignore[arg-type]
    assert any(not c.public for c in sim.all("comments"))
    assert all(sim.get("users", i).notes or sim.get("users", i).details for i in ids["users"])  # type: ignore[arg-type]
    sim.assert_no_writes()
    with sim.client() as c:
        c.put(f"/api/v2/tickets/{ids['tickets'][1]}.json", json={"ticket": {"comment": {"body": "On it."}}})
    sim.assert_wrote("comments", body="On it.", author_id=API_USER_ID)
    with pytest.raises(AssertionError, match=r"ticketing\.tickets\.update"):
        sim.assert_no_writes()


def test_get_takes_an_id_as_a_number_or_as_the_string_of_a_url() -> None:
    sim = TicketingSimulator()
    ticket = sim.create_ticket(subject="Charged twice", comment={"body": "refund please"})
    assert isinstance(ticket.id, int)
    assert sim.get("tickets", ticket.id) == sim.get("tickets", str(ticket.id)) == ticket
    assert sim.get("tickets", ticket.id + 1) is None and sim.get("tickets", "nope") is None
