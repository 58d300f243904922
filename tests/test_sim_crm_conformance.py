"""CRM against HubSpot's official API specs, driven by the official ``hubspot-api-client``.

Every operation runs through the SDK on loopback, and every answer, success or error, is
validated against the schema of its operation and status (``conformance.hubspot``; ``null``
allowed anywhere, as HubSpot sends it for unset properties). Coverage is checked both ways:
each route in a vendored document is an official operation, and the scenario reached each one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conformance.hubspot import hubspot_checker, hubspot_conformance  # noqa: F401
from conformance.hubspot_scenario import OWNERS, run
from conformance.recorder import Recorder
from hubspot import HubSpot

from simulators.core.server import SimServer
from simulators.crm import CrmSimulator


def _route_path(path: str) -> str:
    return path.replace("{", "").replace("}", "")


def op_of(route: Any) -> str:
    return hubspot_checker().operation(route.method, _route_path(route.path)).operation_id


#: routes no vendored document has: the v3 per-object association form HubSpot still serves
NOT_IN_THE_SPECS = {"crm.associations.create_v3", "crm.associations.list_v3", "crm.associations.delete_v3"}


@pytest.fixture
def recorder(hubspot_conformance: Recorder) -> Recorder:  # noqa: F811
    return hubspot_conformance


@pytest.fixture
def loopback() -> Iterator[tuple[CrmSimulator, HubSpot]]:
    sim = CrmSimulator()
    sim.seed({"owners": OWNERS})
    with SimServer(sim) as server:
        yield sim, HubSpot(access_token=sim.api_key, host=server.base_url)


#: what a CRM or support agent calls (issue 16's list): 61 operations
OBJECT_ACTIONS = ["create", "retrieve", "update", "delete", "list", "search"]
OBJECT_ACTIONS += ["batch_read", "batch_create", "batch_update", "batch_archive"]
AGENT_OPERATIONS = {
    **{t: OBJECT_ACTIONS for t in ("contacts", "companies", "deals", "tickets", "notes")},
    "associations": ["create", "create_labelled", "list", "delete", "batch_read"],
    "owners": ["list", "retrieve"],
    "pipelines": ["list", "retrieve", "stages"],
    "properties": ["list"],
}


def test_the_agent_operations_are_all_served() -> None:
    wanted = {f"crm.{resource}.{action}" for resource, actions in AGENT_OPERATIONS.items() for action in actions}
    assert len(wanted) == 61
    assert wanted - {r.tool for r in CrmSimulator.routes} == set()


def test_every_route_is_an_official_operation() -> None:
    for route in CrmSimulator.routes:
        if route.tool in NOT_IN_THE_SPECS:
            with pytest.raises(KeyError):
                op_of(route)
            continue
        op = hubspot_checker().operation(route.method, _route_path(route.path))
        assert op.template.count("/") == route.path.count("/"), (route.tool, op.template)


def test_every_operation_answers_as_the_spec_says_on_loopback(
    loopback: tuple[CrmSimulator, HubSpot], recorder: Recorder
) -> None:
    sim, hs = loopback
    run(hs)
    served = recorder.served()
    ok = {op for ex, op in served if ex.status < 300}
    # a 204 has no body to validate (the recorder keeps none): the ledger shows it was reached
    ok |= {op_of(r) for r in sim.routes if r.tool in {e.tool for e in sim.ledger.writes() if e.status == 204}}
    expected = {op_of(r) for r in sim.routes if r.tool not in NOT_IN_THE_SPECS}
    assert expected - ok == set(), "operations the scenario never reached with a success"
    assert {ex.status for ex, _ in served if ex.status >= 400} >= {400, 404}
    assert any(ex.status == 207 for ex, _ in served)
    assert sim.internal_errors == [] and recorder.undocumented() == []
    # the teardown of hubspot_conformance validates every one of these answers


class _DropsAField(CrmSimulator):
    """A simulator whose pipelines lose a required field: the check must notice."""

    def encode(self, result: Any) -> bytes:
        return super().encode(result).replace(b'"displayOrder":0,"stages"', b'"stages"')


def test_conformance_fails_when_a_required_field_is_removed(
    monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    check = Recorder(hubspot_checker())
    check.install(monkeypatch, _DropsAField)
    assert _DropsAField().client().get("/crm/v3/pipelines/tickets/0").status_code == 200
    assert [v.split(": ", 1)[1] for v in check.violations()] == [
        "get-/crm/v3/pipelines/{objectType}/{pipelineId}_getById 200 (body): 'displayOrder' is a required property"
    ]
    recorder.exchanges.clear()


def test_seed_accepts_an_object_as_hubspot_answers_it(recorder: Recorder) -> None:
    recorded = {
        "id": "51",
        "properties": {
            "email": "ada@example.com",
            "firstname": "Ada",
            "lifecyclestage": "customer",
            "hs_email_domain": "example.com",  # one of the hundreds of properties a real account has
            "createdate": "2024-03-01T10:00:00.000Z",
            "lastmodifieddate": "2024-03-02T10:00:00.000Z",
            "hs_object_id": "51",
        },
        "createdAt": "2024-03-01T10:00:00.000Z",
        "updatedAt": "2024-03-02T10:00:00.000Z",
        "archived": False,
    }
    sim = CrmSimulator()
    sim.seed({"contacts": [recorded]})
    got = sim.client().get("/crm/v3/objects/contacts/51?properties=email,lifecyclestage,hs_email_domain").json()
    assert got["properties"]["email"] == "ada@example.com" and got["properties"]["lifecyclestage"] == "customer"
    assert "hs_email_domain" not in got["properties"] and got["createdAt"] == recorded["createdAt"]
    assert recorder.violations() == []
    with pytest.raises(ValueError, match=r"contacts 52: .*PROPERTY_DOESNT_EXIST.*hs_email_domain"):
        sim.seed({"contacts": [{"id": "52", "email": "x@example.com", "hs_email_domain": "example.com"}]})
