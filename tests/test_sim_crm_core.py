"""What the core gives the CRM simulator: tenants, idempotency, faults, ledger, OpenAPI, seeding,
snapshots, and "never a 500" for any input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from simulators import simulator_class
from simulators.core.wire import SimResponse
from simulators.crm import CrmSimulator
from simulators.crm.routes import OBJECT_TYPES
from simulators.crm.strategies import seed_data

MARKER = "TENANT-B-PRIVATE"


def call(
    sim: CrmSimulator, method: str, path: str, body: Any = None, token: str | None = None, **headers: str
) -> SimResponse:
    h = {**sim.auth_headers(token), **headers}
    raw = b""
    if body is not None:
        raw = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    return sim.handle(method, sim.base_url + path, h, raw)


# ----------------------------------------------------------------- tenants
def two_tenants() -> tuple[CrmSimulator, dict[str, list[str]], dict[str, list[str]]]:
    sim = CrmSimulator()
    a = sim.seed_demo()
    contact = sim.create_contact(tenant="b", email="secret@tenant-b.example", firstname="Bea", message=MARKER)
    company = sim.create_company(tenant="b", name="B Corp", description=MARKER)
    note = sim.create_note(f"{MARKER} call notes", about=[("contacts", contact.id)], tenant="b")
    deal = sim.create_deal(tenant="b", dealname="B deal", description=MARKER, amount=5)
    ticket = sim.create_object("tickets", tenant="b", subject="B ticket", content=MARKER, hs_pipeline_stage="1")
    b = {"contacts": [contact.id], "companies": [company.id], "notes": [note.id], "deals": [deal.id]}
    b["tickets"] = [ticket.id]
    return sim, a, b


ops = st.tuples(
    st.sampled_from(
        [
            "get",
            "patch",
            "delete",
            "assoc_v4",
            "assoc_v3",
            "assoc_list",
            "list",
            "search",
            "batch_read",
            "batch_update",
            "note_about",
            "get_by_email",
        ]
    ),
    st.sampled_from(OBJECT_TYPES),
    st.integers(0, 9),
    st.booleans(),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=1, max_size=15))
def test_tenant_a_token_never_reads_or_changes_tenant_b(steps: list[tuple[str, str, int, bool]]) -> None:
    sim, a_ids, b_ids = two_tenants()
    before_b = sim.store.copy()["b"]
    b_all = {(t, i) for t, ids in b_ids.items() for i in ids}
    for op, t, n, target_b in steps:
        pool = (b_ids if target_b else a_ids)[t]
        ident = pool[n % len(pool)]
        base = f"/crm/v3/objects/{t}"
        if op == "get":
            r = call(sim, "GET", f"{base}/{ident}?associations=contacts,notes&properties=message,description")
        elif op == "patch":
            prop = {
                "contacts": "jobtitle",
                "companies": "industry",
                "deals": "dealname",
                "notes": "hs_note_body",
                "tickets": "subject",
            }[t]
            r = call(sim, "PATCH", f"{base}/{ident}", {"properties": {prop: "changed"}})
        elif op == "delete":
            r = call(sim, "DELETE", f"{base}/{ident}")
        elif op == "assoc_v4":
            r = call(sim, "PUT", f"/crm/v4/objects/contacts/{a_ids['contacts'][0]}/associations/default/{t}/{ident}")
        elif op == "assoc_v3":
            other = "companies" if t != "companies" else "contacts"
            r = call(sim, "PUT", f"{base}/{ident}/associations/{other}/1/1")
        elif op == "assoc_list":
            r = call(sim, "GET", f"/crm/v4/objects/{t}/{ident}/associations/contacts")
        elif op == "list":
            r = call(sim, "GET", f"{base}?limit=100&properties=message,description,hs_note_body")
        elif op == "search":
            r = call(sim, "POST", f"{base}/search", {"query": "B", "properties": ["message", "hs_note_body"]})
        elif op == "batch_read":
            r = call(sim, "POST", f"{base}/batch/read", {"inputs": [{"id": ident}]})
        elif op == "batch_update":
            r = call(sim, "POST", f"{base}/batch/update", {"inputs": [{"id": ident, "properties": {}}]})
        elif op == "note_about":
            r = call(
                sim,
                "POST",
                "/crm/v3/objects/notes",
                {
                    "properties": {"hs_note_body": "x", "hs_timestamp": "2025-01-01"},
                    "associations": [
                        {
                            "to": {"id": b_ids["contacts"][0] if target_b else a_ids["contacts"][0]},
                            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
                        }
                    ],
                },
            )
        else:
            r = call(sim, "GET", "/crm/v3/objects/contacts/secret@tenant-b.example?idProperty=email")
        assert r.status < 500, r.body
        # echoing the caller's own input back leaks nothing
        text = r.body.decode().replace("secret@tenant-b.example", "<requested>")
        assert MARKER not in text and "tenant-b.example" not in text, (op, text[:300])
        if r.body:
            seen = {(t, str(row.get("id"))) for row in r.json().get("results", [])}
            assert not seen & b_all, (op, seen)  # ids are unique across tenants, so any B id is a leak
        if target_b and op in ("get", "patch", "delete", "assoc_list", "assoc_v3"):
            assert r.status == 404, (op, t, r.body)
        if target_b and op == "batch_read":
            assert r.status == 207 and r.json()["results"] == []
    assert sim.store.copy()["b"] == before_b
    assert sim.internal_errors == []


def test_b_token_sees_only_b_and_read_only_cannot_write() -> None:
    sim, _, b_ids = two_tenants()
    token_b = sim.issue_token(tenant="b")
    listed = call(sim, "GET", "/crm/v3/objects/contacts?properties=message", token=token_b).json()
    assert [(r["id"], r["properties"]["message"]) for r in listed["results"]] == [(b_ids["contacts"][0], MARKER)]
    reader = sim.issue_token(scopes=["read"])
    assert reader.startswith("pat-sim-ro-")
    assert call(sim, "POST", "/crm/v3/objects/contacts/search", {}, token=reader).status == 200  # search is a read
    r = call(sim, "POST", "/crm/v3/objects/contacts", {"properties": {"email": "x@example.com"}}, token=reader)
    assert r.status == 403 and r.json()["category"] == "MISSING_SCOPES"
    sim.assert_no_writes()
    with pytest.raises(AssertionError, match=r"crm\.contacts\.create.*403 unauthorized"):
        sim.assert_no_unauthorized_attempts()


# ------------------------------------------------------------- idempotency
def test_idempotency_key_on_create() -> None:
    sim = CrmSimulator()
    body = {"properties": {"hs_note_body": "Spoke to Ada", "hs_timestamp": "2025-01-01T00:00:00Z"}}
    first = call(sim, "POST", "/crm/v3/objects/notes", body, **{"Idempotency-Key": "note-1"})
    again = call(sim, "POST", "/crm/v3/objects/notes", body, **{"Idempotency-Key": "note-1"})
    assert first.status == again.status == 201 and first.body == again.body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(sim.all("notes")) == 1
    sim.assert_no_duplicate_side_effects()
    conflict = call(
        sim,
        "POST",
        "/crm/v3/objects/notes",
        {**body, "properties": {**body["properties"], "hs_note_body": "other"}},
        **{"Idempotency-Key": "note-1"},
    )
    assert conflict.status == 400 and conflict.json()["errors"][0]["code"] == "IDEMPOTENCY_ERROR"
    call(sim, "POST", "/crm/v3/objects/notes", body)  # the SDK sends no key: a retry duplicates
    assert len(sim.ledger.duplicates()) == 1


# ------------------------------------------------------------------ faults
def test_faults_on_one_route() -> None:
    sim = CrmSimulator()
    sim.faults.add("crm.contacts.search", "503", times=2)
    assert call(sim, "POST", "/crm/v3/objects/contacts/search", {}).status == 503
    assert call(sim, "POST", "/crm/v3/objects/contacts/search", {}).json()["category"] == "INTERNAL_ERROR"
    assert call(sim, "POST", "/crm/v3/objects/companies/search", {}).status == 200  # other routes unaffected
    assert call(sim, "POST", "/crm/v3/objects/contacts/search", {}).status == 200
    sim.faults.add("crm.*.create", "timeout", times=1)
    assert call(sim, "POST", "/crm/v3/objects/deals", {"properties": {"dealname": "x"}}).fault == "timeout"
    assert sim.all("deals") == [] and [e.fault for e in sim.ledger.faults()] == ["timeout"]


# ----------------------------------------------------------------- openapi
def test_openapi_is_valid_and_lists_every_route() -> None:
    sim = CrmSimulator()
    doc = json.loads(sim.handle("GET", sim.base_url + "/openapi.json", {}).body)
    validate(doc)
    ops = {(path, method.upper()): op for path, item in doc["paths"].items() for method, op in item.items()}
    for route in CrmSimulator.routes:
        op = ops[(route.path, route.method)]
        assert op["operationId"] == route.tool and op["x-agentops-kind"] == route.kind
        assert set(op["responses"]) == {*(str(s) for s in route.statuses), "default"}
        for code in route.errors:
            assert code in doc["x-agentops-error-codes"], (route.tool, code)
    assert len(ops) == len(CrmSimulator.routes) + 1
    tools = {t["tool"]: t for t in CrmSimulator.tools()}
    for name in (
        "crm.contacts.search",
        "crm.contacts.retrieve",
        "crm.contacts.update",
        "crm.notes.create",
        "crm.associations.create",
        "crm.deals.batch_update",
    ):
        assert name in tools
    assert tools["crm.contacts.search"]["kind"] == "read" and tools["crm.contacts.delete"]["kind"] == "write"
    assert "204" in ops[("/crm/v3/objects/contacts/{objectId}", "DELETE")]["responses"]
    assert simulator_class("crm") is CrmSimulator
    route = CrmSimulator.route_for("POST", "https://api.hubapi.com/crm/v3/objects/contacts/search")
    assert route is not None and route.tool == "crm.contacts.search"


# ------------------------------------------------------------ never a 500
_scalars = st.one_of(
    st.text(max_size=12),
    st.integers(-(10**18), 10**18),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.sampled_from(["", "1", "lead", "customer", "2025-01-01", "1735689600000", "a@b.c", "*x*"]),
)
_props = st.dictionaries(
    st.sampled_from(
        [
            "email",
            "firstname",
            "amount",
            "dealstage",
            "hs_note_body",
            "hs_timestamp",
            "closedate",
            "lifecyclestage",
            "hs_object_id",
            "bogus",
            "numberofemployees",
        ]
    ),
    _scalars,
    max_size=4,
)
_filter = st.fixed_dictionaries(
    {
        "propertyName": st.sampled_from(["email", "amount", "createdate", "x"]),
        "operator": st.sampled_from(
            ["EQ", "NEQ", "LT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "CONTAINS_TOKEN", "LIKE"]
        ),
    },
    optional={"value": _scalars, "highValue": _scalars, "values": st.lists(_scalars, max_size=3)},
)
_assoc = st.fixed_dictionaries(
    {
        "to": st.fixed_dictionaries({"id": st.sampled_from(["1", "2", "99", "x"])}),
        "types": st.lists(
            st.fixed_dictionaries(
                {
                    "associationCategory": st.sampled_from(["HUBSPOT_DEFINED", "USER_DEFINED"]),
                    "associationTypeId": st.sampled_from([1, 202, 279, 3, 999, -1]),
                }
            ),
            max_size=2,
        ),
    }
)
_bodies = st.one_of(
    st.fixed_dictionaries({"properties": _props}, optional={"associations": st.lists(_assoc, max_size=2)}),
    st.fixed_dictionaries(
        {},
        optional={
            "filterGroups": st.lists(st.fixed_dictionaries({"filters": st.lists(_filter, max_size=3)}), max_size=2),
            "sorts": st.lists(
                st.sampled_from(
                    ["email", "-amount", "nope", {"propertyName": "createdate", "direction": "DESCENDING"}]
                ),
                max_size=2,
            ),
            "query": st.text(max_size=10),
            "limit": st.integers(-1, 300),
            "after": st.one_of(st.text(max_size=5), st.integers(-5, 20_000)),
            "properties": st.lists(st.text(max_size=8), max_size=2),
        },
    ),
    st.fixed_dictionaries(
        {
            "inputs": st.lists(
                st.one_of(
                    st.fixed_dictionaries(
                        {"id": st.sampled_from(["1", "2", "x", ""])}, optional={"properties": _props}
                    ),
                    st.fixed_dictionaries({"properties": _props}),
                ),
                max_size=3,
            )
        },
        optional={"idProperty": st.sampled_from(["email", "nope"]), "properties": st.just(["email"])},
    ),
    st.dictionaries(st.text(max_size=6), _scalars, max_size=3),
)
_query = st.lists(
    st.tuples(
        st.sampled_from(["properties", "associations", "archived", "idProperty", "limit", "after", "x"]),
        st.one_of(
            st.text(max_size=10), st.sampled_from(["email,firstname", "companies", "true", "False", "email", "0", "2"])
        ),
    ),
    max_size=4,
)
_segment = st.one_of(
    st.sampled_from(
        [
            "1",
            "2",
            "3",
            "999",
            "x",
            "",
            "%00",
            "contacts",
            "notes",
            "0-1",
            "deals",
            "companies",
            "279",
            "202",
            "contact_to_company",
            "-1",
        ]
    ),
    st.text(max_size=5),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CrmSimulator.routes), _bodies, _query, st.lists(_segment, min_size=6, max_size=6))
def test_no_input_gets_a_500(route: Any, body: Any, query: list[tuple[str, str]], segments: list[str]) -> None:
    from urllib.parse import quote, urlencode

    sim = CrmSimulator()
    sim.seed_demo()
    path = route.path
    for name, seg in zip(route.path_params, segments, strict=False):
        path = path.replace("{" + name + "}", quote(seg, safe="") or "x")
    url = f"{sim.base_url}{path}?{urlencode(query)}"
    h = {**sim.auth_headers(), "Content-Type": "application/json"}
    r = sim.handle(route.method, url, h, json.dumps(body).encode() if route.method not in ("GET", "DELETE") else b"")
    assert r.status < 500, (route.tool, body, r.body)
    assert sim.internal_errors == []
    if r.status >= 400:
        err = r.json()
        assert err["status"] == "error" and err["category"]
        for e in err["errors"]:
            code = e["code"]
            assert code.lower() in CrmSimulator.all_error_codes() or code.isupper(), code


# ---------------------------------------------------------------- seeding
def test_seed_dict_and_snapshot_restore() -> None:
    sim = CrmSimulator()
    sim.seed(
        {
            "contacts": [
                {"id": "100", "email": "seeded@example.com", "message": "Prefers phone calls."},
                {"properties": {"email": "two@example.com"}},
            ],
            "notes": [{"id": 7, "hs_note_body": "Seeded note"}],
            "associations": [{"from_type": "notes", "from_id": "7", "to_type": "contact", "to_id": "100"}],
            "tenants": {"other": {"companies": [{"name": "Elsewhere"}]}},
        }
    )
    assert sim.get("contacts", "100").properties["message"] == "Prefers phone calls."
    assert sim.get("contacts", "101").properties["hs_object_id"] == "101"  # numbering continues after "100"
    assert sim.associated("contacts", "100", "notes") == ["7"]
    with sim.client() as c:
        got = c.get("/crm/v3/objects/notes/7", params={"properties": "hs_note_body", "associations": "contacts"})
        assert got.json()["associations"]["contacts"]["results"] == [{"id": "100", "type": "note_to_contact"}]
        assert c.get("/crm/v3/objects/companies").json()["results"] == []
    sim.assert_no_writes()
    snap = sim.snapshot()
    with sim.client() as c:
        made = c.post("/crm/v3/objects/contacts", json={"properties": {"email": "new@example.com"}}).json()
        c.patch("/crm/v3/objects/contacts/100", json={"properties": {"message": "changed"}})
    sim.restore(snap)
    assert sim.get("contacts", "100").properties["message"] == "Prefers phone calls."
    assert sim.get("contacts", made["id"]) is None and len(sim.ledger) == 0
    with sim.client() as c:
        again = c.post("/crm/v3/objects/contacts", json={"properties": {"email": "new@example.com"}}).json()
    assert again == made
    with pytest.raises(ValueError, match="does not exist"):
        sim.seed({"contacts": [{"emial": "typo@example.com"}]})
    with pytest.raises(ValueError):
        sim.seed({"associations": [{"from_type": "notes", "from_id": "7", "to_type": "notes", "to_id": "7"}]})


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed_data())
def test_seed_from_hypothesis_is_served_back(data: dict[str, Any]) -> None:
    sim = CrmSimulator()
    sim.seed(data)
    with sim.client() as c:
        listed = c.get("/crm/v3/objects/contacts", params={"limit": 100, "properties": "email,message"}).json()
        assert [r["properties"]["message"] or "" for r in listed["results"]] == [r["message"] for r in data["contacts"]]
        for note in data["notes"]:
            got = c.get(
                f"/crm/v3/objects/notes/{note['id']}", params={"properties": "hs_note_body", "associations": "contacts"}
            ).json()
            assert (got["properties"]["hs_note_body"] or "") == note["hs_note_body"]
            assert len(got["associations"]["contacts"]["results"]) == 1
        found = c.post(
            "/crm/v3/objects/contacts/search",
            json={
                "filterGroups": [
                    {"filters": [{"propertyName": "email", "operator": "EQ", "value": data["contacts"][0]["email"]}]}
                ]
            },
        ).json()
        assert [r["id"] for r in found["results"]] == ["1"]


def test_demo_has_free_text_and_is_not_agent_activity() -> None:
    sim = CrmSimulator()
    ids = sim.seed_demo()
    assert all(sim.get("notes", i).properties["hs_note_body"] for i in ids["notes"])
    assert all(sim.get("contacts", i).properties.get("message") for i in ids["contacts"])
    assert sim.associated("notes", ids["notes"][0], "deals") == [ids["deals"][0]]
    sim.assert_no_writes()
