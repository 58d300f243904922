"""Ticketing against Zendesk's official Support API spec, driven by the official ``zenpy``.

Every operation runs (zenpy on loopback, raw HTTP where zenpy has no call), and every answer is
validated against the schema of its operation and status (``conformance.zendesk``; ``null``
allowed anywhere, as the real service sends it). Coverage is checked both ways: each route is an
official operation, and the scenario reached each one with a success.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from conformance.recorder import Recorder
from conformance.zendesk import SPEC_FILE, zendesk_checker, zendesk_conformance  # noqa: F401
from conformance.zendesk_scenario import SEED, run
from zenpy import Zenpy

from simulators.core.server import SimServer
from simulators.ticketing import TicketingSimulator
from simulators.ticketing.exceptions import ERROR_TITLES

SPEC_DIR = SPEC_FILE.parent


def _route_path(path: str) -> str:
    return path.replace("{", "").replace("}", "")


def op_of(route: Any) -> str:
    return zendesk_checker().operation(route.method, _route_path(route.path)).operation_id


@pytest.fixture
def recorder(zendesk_conformance: Recorder) -> Recorder:  # noqa: F811
    return zendesk_conformance


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TicketingSimulator, Zenpy, httpx.Client]]:
    sim = TicketingSimulator()
    sim.seed(SEED)
    with SimServer(sim) as server:
        monkeypatch.setenv("ZENPY_FORCE_NETLOC", urlsplit(server.base_url).netloc)
        monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
        zd = Zenpy(subdomain="acme", email="agent@example.com", token=sim.api_key, disable_cache=True)
        with httpx.Client(base_url=server.base_url, headers=sim.auth_headers()) as http:
            yield sim, zd, http


#: what a triage agent calls (issue 16's list): 31 operations
AGENT_OPERATIONS = {
    "tickets": ["list", "retrieve", "create", "update", "delete", "show_many", "update_many"],
    "comments": ["list"],
    "search": ["tickets.search"],
    "users": ["list", "retrieve", "create", "update", "search", "show_many"],
    "organizations": ["list", "retrieve", "create", "update", "delete"],
    "groups": ["list", "retrieve"],
    "macros": ["list", "retrieve", "apply"],
    "ticket_fields": ["list", "retrieve"],
    "tags": ["list", "set", "update", "delete"],
}


def _tools() -> set[str]:
    out = set()
    for resource, actions in AGENT_OPERATIONS.items():
        out |= {f"ticketing.{a}" if resource == "search" else f"ticketing.{resource}.{a}" for a in actions}
    return out


def test_the_agent_operations_are_all_served() -> None:
    wanted = _tools()
    assert len(wanted) == 31
    assert wanted - {r.tool for r in TicketingSimulator.routes} == set()


def test_every_route_is_an_official_operation() -> None:
    checker = zendesk_checker()
    for route in TicketingSimulator.routes:
        op = checker.operation(route.method, _route_path(route.path))
        assert op.template.count("/") == route.path.count("/"), (route.tool, op.template)


def test_every_operation_answers_as_the_spec_says_on_loopback(
    loopback: tuple[TicketingSimulator, Zenpy, httpx.Client], recorder: Recorder
) -> None:
    sim, zd, http = loopback
    run(zd, http)
    served = recorder.served()
    ok = {op for ex, op in served if ex.status < 300}
    # a 204 has no body to validate (the recorder keeps none): the ledger shows it was reached
    ok |= {op_of(r) for r in sim.routes if r.tool in {e.tool for e in sim.ledger.writes() if e.status == 204}}
    expected = {op_of(r) for r in sim.routes}
    assert expected - ok == set(), "operations the scenario never reached with a success"
    assert {ex.status for ex, _ in served if ex.status >= 400} >= {404, 422}
    assert sim.internal_errors == []
    # Zendesk's spec documents no error bodies: they are Zendesk's documented error object
    errors = recorder.undocumented()
    assert errors and all(ex.body["error"] in ERROR_TITLES for ex in errors)
    # the teardown of zendesk_conformance validates every documented answer


class _DropsAField(TicketingSimulator):
    """A simulator whose organizations lose their required name: the check must notice."""

    def encode(self, result: Any) -> bytes:
        body = super().encode(result)
        return body.replace(b'"name":"Acme",', b"")


def test_conformance_fails_when_a_required_field_is_removed(
    monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    check = Recorder(zendesk_checker())
    check.install(monkeypatch, _DropsAField)
    sim = _DropsAField()
    made = sim.client().post("/api/v2/organizations.json", json={"organization": {"name": "Acme"}})
    assert made.status_code == 201
    assert check.violations() == [
        "POST /api/v2/organizations.json: CreateOrganization 201 .organization: 'name' is a required property"
    ]
    recorder.exchanges.clear()


def _properties(schema: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    out = set(schema.get("properties", {}))
    for part in schema.get("allOf", []) + schema.get("anyOf", [])[:1]:
        ref = part.get("$ref")
        out |= _properties(schemas[ref.rsplit("/", 1)[1]] if ref else part, schemas)
    return out


#: table -> the spec's schema of the object; fields the spec lists only for writes are left out
_OBJECTS = {
    "tickets": ("TicketObject", {"comment", "requester", "assignee_email", "collaborators", "email_ccs", "followers",
                                 "macro_id", "macro_ids", "metadata", "safe_update", "updated_stamp", "voice_comment",
                                 "attribute_value_ids", "via_followup_source_id", "via_id", "forum_topic_id"}),
    "users": ("UserObject", {"remote_photo_url"}),
    "comments": ("TicketCommentObject", {"uploads"}),
    "organizations": ("OrganizationObject", set()),
    "groups": ("GroupObject", set()),
    "macros": ("MacroObject", {"app_installation", "categories", "permissions", "usage_1h", "usage_24h", "usage_30d",
                               "usage_7d"}),
    "ticket_fields": ("TicketFieldObject", {"custom_statuses", "relationship_filter", "relationship_target_type"}),
}  # fmt: skip


def test_objects_carry_the_fields_of_the_official_schemas(
    loopback: tuple[TicketingSimulator, Zenpy, httpx.Client],
) -> None:
    sim, zd, http = loopback
    run(zd, http)
    schemas = zendesk_checker().document["components"]["schemas"]
    missing = {}
    for table, (name, write_only) in _OBJECTS.items():
        want = _properties(schemas[name], schemas) - write_only
        have = set(json.loads(sim.encode(sim.all(table)[-1])))
        missing[table] = sorted(want - have)
        assert len(want & have) / len(want) >= 0.95, (table, missing[table])
    assert missing["users"] == [] and missing["tickets"] == [], missing


_EXAMPLES = {
    "tickets": ("TicketResponseExample", "ticket"),
    "users": ("UserResponseExample", "user"),
    "organizations": ("OrganizationResponseExample", "organization"),
    "groups": ("GroupResponseExample", "group"),
    "macros": ("MacroResponseExample", "macro"),
    "ticket_fields": ("TicketFieldResponseExample", "ticket_field"),
}


def test_seed_accepts_zendesks_example_objects_and_answers_them_back(recorder: Recorder) -> None:
    examples = json.loads((SPEC_DIR / "zendesk_examples.json").read_text())["examples"]
    sim = TicketingSimulator()
    for table, (name, key) in _EXAMPLES.items():
        row = dict(examples[name][key])
        if table == "tickets":
            row["generated_timestamp"] = 1700000000  # a field a recording carries and the simulator does not model
        sim.seed({table: [row]})
    api = sim.client()
    for table, (name, key) in _EXAMPLES.items():
        given = examples[name][key]
        got = api.get(f"/api/v2/{table}/{given['id']}.json").json()[key]
        scalars = {k: v for k, v in given.items() if not isinstance(v, dict | list) and k != "url"}
        assert {k: got[k] for k in scalars} == scalars, table
    assert sim.get("tickets", 35436).custom_fields[0].value == "745"  # type: ignore[arg-type]
    assert len(recorder.served()) == len(_EXAMPLES) and recorder.violations() == []
    with pytest.raises(ValueError, match="generated_timestamp"):
        sim.seed({"tickets": [{"id": 7, "subject": "hand-written", "generated_timestamp": 1}]})
