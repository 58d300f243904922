"""One scenario that calls every crm operation through the official ``hubspot-api-client``,
success and error answers both, so the conformance test can check all of them against
HubSpot's specs.

It reads like what a CRM or support agent does: find the contact, open a ticket for them in the
support pipeline, assign an owner, associate it with the company (primary label), read the
pipeline's stages and a property's options, batch-update. Each step asserts the behaviour too,
so the scenario fails on wrong semantics, not only on wrong shapes.
"""

from __future__ import annotations

import importlib
from typing import Any

from hubspot import HubSpot

#: object type -> (SDK package, properties of a new object, a property to search and update)
TYPES: dict[str, tuple[str, dict[str, str], str]] = {
    "contacts": ("contacts", {"email": "ada@example.com", "firstname": "Ada"}, "firstname"),
    "companies": ("companies", {"name": "Analytical Engines", "domain": "engines.example"}, "name"),
    "deals": ("deals", {"dealname": "Renewal", "amount": "1200", "dealstage": "contractsent", "pipeline": "default"},
              "dealname"),
    "tickets": ("tickets", {"subject": "Wrong VAT number", "content": "Invoice needs fixing.", "hs_pipeline": "0",
                            "hs_pipeline_stage": "1", "hs_ticket_priority": "HIGH"}, "subject"),
    "notes": ("objects.notes", {"hs_note_body": "Called Ada", "hs_timestamp": "2025-01-01T00:00:00Z"},
              "hs_note_body"),
}  # fmt: skip

OWNERS = [
    {"id": "101", "email": "grace@support.example", "firstName": "Grace", "lastName": "Hopper", "userId": 9001},
    {"id": "102", "email": "alan@support.example", "firstName": "Alan", "lastName": "Turing", "userId": 9002},
]


def _status(call: Any) -> int:
    try:
        call()
    except Exception as err:  # each SDK package has its own ApiException class
        status: int = getattr(err, "status")  # noqa: B009
        return status
    raise AssertionError("expected a HubSpot error")


def _api(hs: HubSpot, package: str) -> Any:
    node: Any = hs.crm
    for part in package.split("."):
        node = getattr(node, part)
    return node


def objects(hs: HubSpot, t: str) -> str:
    """All eleven object operations of one type; answers the id of a live object."""
    package, props, field = TYPES[t]
    api, mod = _api(hs, package), importlib.import_module(f"hubspot.crm.{package}")
    made = api.basic_api.create(mod.SimplePublicObjectInputForCreate(properties=props))
    assert made.properties[field] == props[field]
    assert api.basic_api.get_by_id(made.id, properties=[field]).properties[field] == props[field]
    changed = api.basic_api.update(made.id, mod.SimplePublicObjectInput(properties={field: props[field] + " 2"}))
    assert changed.properties[field] == props[field] + " 2"
    assert [o.id for o in api.basic_api.get_page(limit=10).results] == [made.id]
    flt = mod.Filter(property_name=field, operator="CONTAINS_TOKEN", value=f"*{props[field].split()[0][1:]}*")
    found = api.search_api.do_search(mod.PublicObjectSearchRequest(filter_groups=[mod.FilterGroup(filters=[flt])]))
    assert found.total == 1 and found.results[0].id == made.id
    new = mod.SimplePublicObjectBatchInputForCreate(properties=_other(t, props))
    other = api.batch_api.create(mod.BatchInputSimplePublicObjectBatchInputForCreate(inputs=[new])).results[0].id
    read = api.batch_api.read(mod.BatchReadInputSimplePublicObjectId(inputs=[mod.SimplePublicObjectId(id=made.id)]))
    assert [o.id for o in read.results] == [made.id]
    update = mod.BatchInputSimplePublicObjectBatchInput(
        inputs=[mod.SimplePublicObjectBatchInput(id=other, properties={field: "batch"})]
    )
    assert api.batch_api.update(update).results[0].properties[field] == "batch"
    api.batch_api.archive(mod.BatchInputSimplePublicObjectId(inputs=[mod.SimplePublicObjectId(id=other)]))
    temp = api.basic_api.create(mod.SimplePublicObjectInputForCreate(properties=_other(t, props, "temp")))
    api.basic_api.archive(temp.id)
    assert _status(lambda: api.basic_api.get_by_id(temp.id)) == 404
    assert _status(lambda: api.basic_api.create(mod.SimplePublicObjectInputForCreate(properties={"bogus": "1"}))) == 400
    missing = mod.BatchReadInputSimplePublicObjectId(inputs=[mod.SimplePublicObjectId(id=made.id),
                                                             mod.SimplePublicObjectId(id="999")])  # fmt: skip
    assert api.batch_api.read(missing).num_errors == 1  # a 207 names the missing id
    upsert(api, mod, t, str(made.id), field)
    return str(made.id)


def upsert(api: Any, mod: Any, t: str, made: str, field: str) -> None:
    """Batch upsert by record id (updates), and for contacts by email: created, then updated."""
    by_id = mod.SimplePublicObjectBatchInputUpsert(id=made, properties={field: "upserted"})
    got = api.batch_api.upsert(mod.BatchInputSimplePublicObjectBatchInputUpsert(inputs=[by_id])).results
    assert [(o.id, o.new, o.properties[field]) for o in got] == [(made, False, "upserted")]
    if t != "contacts":
        return
    ids = []
    for name in ("Grace", "Grace H."):
        item = mod.SimplePublicObjectBatchInputUpsert(id="grace@example.com", id_property="email",
                                                      properties={"firstname": name})  # fmt: skip
        batch = mod.BatchInputSimplePublicObjectBatchInputUpsert(inputs=[item])
        ids += [(o.id, o.new) for o in api.batch_api.upsert(batch).results]
    assert ids == [(ids[0][0], True), (ids[0][0], False)] and ids[0][0] != made


def _other(t: str, props: dict[str, str], tag: str = "other") -> dict[str, str]:
    return {**props, "email": f"{tag}@example.com"} if t == "contacts" else props


def account(hs: HubSpot) -> None:
    owners = hs.crm.owners.owners_api.get_page()
    assert [o.email for o in owners.results] == ["grace@support.example", "alan@support.example"]
    assert hs.crm.owners.owners_api.get_by_id("102").first_name == "Alan"
    assert hs.crm.owners.owners_api.get_by_id("9001", id_property="userId").id == "101"
    assert _status(lambda: hs.crm.owners.owners_api.get_by_id("999")) == 404
    pipelines = hs.crm.pipelines.pipelines_api.get_all("tickets").results
    assert [(p.id, p.stages[0].label) for p in pipelines] == [("0", "New")]
    assert hs.crm.pipelines.pipelines_api.get_by_id("deals", "default").label == "Sales Pipeline"
    stages = hs.crm.pipelines.pipeline_stages_api.get_all("deals", "default").results
    assert stages[-1].id == "closedlost" and stages[-1].metadata["isClosed"] == "true"
    assert _status(lambda: hs.crm.pipelines.pipelines_api.get_by_id("tickets", "nope")) == 404
    names = [p.name for p in hs.crm.properties.core_api.get_all("tickets").results]
    assert {"subject", "hs_pipeline_stage", "hs_ticket_priority"} <= set(names)
    priority = hs.crm.properties.core_api.get_by_name("tickets", "hs_ticket_priority")
    assert [o.value for o in priority.options] == ["LOW", "MEDIUM", "HIGH", "URGENT"]
    assert _status(lambda: hs.crm.properties.core_api.get_by_name("tickets", "bogus")) == 404


def associations(hs: HubSpot, ids: dict[str, str]) -> None:
    from hubspot.crm.associations.v4 import (
        AssociationSpec,
        BatchInputPublicFetchAssociationsBatchRequest,
        PublicFetchAssociationsBatchRequest,
    )

    v4 = hs.crm.associations.v4
    v4.basic_api.create_default("tickets", ids["tickets"], "contacts", ids["contacts"])
    primary = [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)]
    labelled = v4.basic_api.create("contacts", ids["contacts"], "companies", ids["companies"], primary)
    assert labelled.labels == ["Primary"] and labelled.to_object_id == ids["companies"]
    page = v4.basic_api.get_page("contacts", ids["contacts"], "tickets")
    assert [(r.to_object_id, r.association_types[0].type_id) for r in page.results] == [(ids["tickets"], 15)]
    request = BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[PublicFetchAssociationsBatchRequest(id=ids["contacts"]), PublicFetchAssociationsBatchRequest(id="999")]
    )
    batch = v4.batch_api.get_page("contacts", "companies", request)
    assert [t.to_object_id for t in batch.results[0].to] == [ids["companies"]] and batch.num_errors == 1
    v4.basic_api.archive("tickets", ids["tickets"], "contacts", ids["contacts"])
    assert v4.basic_api.get_page("tickets", ids["tickets"], "contacts").results == []
    bad = [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=4)]
    assert _status(lambda: v4.basic_api.create("contacts", ids["contacts"], "companies", ids["companies"], bad)) == 400


def run(hs: HubSpot) -> dict[str, str]:
    """Every crm operation, in an agent's order (the simulator is seeded with ``OWNERS``)."""
    ids = {t: objects(hs, t) for t in TYPES}
    account(hs)
    associations(hs, ids)
    return ids
