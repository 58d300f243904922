"""The official ``hubspot-api-client``, unchanged, against the CRM simulator on a loopback port.

``HubSpot(access_token=..., host=URL)`` sets each generated API client's ``Configuration.host``,
so every request goes to ``URL + /crm/v3/...`` with ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.objects.notes import ApiException as NotesApiException
from hubspot.crm.objects.notes import AssociationSpec, PublicAssociationsForObject, PublicObjectId
from hubspot.crm.objects.notes import SimplePublicObjectInputForCreate as NoteInput

from simulators.core.server import SimServer
from simulators.crm import CrmSimulator


@pytest.fixture
def sim() -> CrmSimulator:
    return CrmSimulator()


@pytest.fixture
def server(sim: CrmSimulator) -> Iterator[SimServer]:
    with SimServer(sim) as srv:
        yield srv


@pytest.fixture
def hs(sim: CrmSimulator, server: SimServer) -> HubSpot:
    return HubSpot(access_token=sim.api_key, host=server.base_url)


def test_contact_create_get_update_search(sim: CrmSimulator, hs: HubSpot) -> None:
    made = hs.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"email": "ada@example.com", "firstname": "Ada", "message": "Call me after 5pm."}
        )
    )
    assert made.id == "1" and made.archived is False
    assert made.properties["email"] == "ada@example.com" and made.properties["hs_object_id"] == "1"
    assert made.created_at.year == 2025

    got = hs.crm.contacts.basic_api.get_by_id(made.id, properties=["email", "message", "jobtitle"])
    assert got.properties == {"email": "ada@example.com", "message": "Call me after 5pm.", "jobtitle": None}
    default = hs.crm.contacts.basic_api.get_by_id(made.id)
    assert set(default.properties) == {
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    }
    by_email = hs.crm.contacts.basic_api.get_by_id("ADA@example.com", id_property="email")
    assert by_email.id == made.id

    sim.clock.advance(hours=1)
    updated = hs.crm.contacts.basic_api.update(
        made.id, SimplePublicObjectInput(properties={"lastname": "Lovelace", "lifecyclestage": "customer"})
    )
    assert updated.properties["lastname"] == "Lovelace"
    assert updated.updated_at > updated.created_at

    hs.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"email": "grace@example.com", "firstname": "Grace", "lifecyclestage": "lead"}
        )
    )
    found = hs.crm.contacts.search_api.do_search(
        PublicObjectSearchRequest(
            filter_groups=[
                FilterGroup(filters=[Filter(property_name="lifecyclestage", operator="EQ", value="customer")])
            ],
            properties=["email", "lastname"],
        )
    )
    assert found.total == 1 and found.results[0].properties["lastname"] == "Lovelace"
    by_text = hs.crm.contacts.search_api.do_search(PublicObjectSearchRequest(query="grac"))
    assert [r.id for r in by_text.results] == ["2"]
    assert len(hs.crm.contacts.get_all()) == 2

    batch = hs.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id="1"), SimplePublicObjectId(id="2")],
            properties=["email"],
            properties_with_history=[],
        )
    )
    assert sorted(r.properties["email"] for r in batch.results) == ["ada@example.com", "grace@example.com"]

    hs.crm.contacts.basic_api.archive("2")
    with pytest.raises(ApiException) as exc:
        hs.crm.contacts.basic_api.get_by_id("2")
    assert exc.value.status == 404
    assert hs.crm.contacts.basic_api.get_by_id("2", archived=True).archived is True
    hs.crm.contacts.batch_api.archive(BatchInputSimplePublicObjectId(inputs=[SimplePublicObjectId(id="1")]))
    assert hs.crm.contacts.get_all() == []
    sim.assert_wrote("contacts", properties={"lastname": "Lovelace", "lifecyclestage": "customer"})
    sim.assert_no_duplicate_side_effects()
    assert sim.internal_errors == []


def test_note_with_association(sim: CrmSimulator, hs: HubSpot) -> None:
    contact = sim.create_contact(email="ada@example.com", firstname="Ada")
    note = hs.crm.objects.notes.basic_api.create(
        NoteInput(
            properties={"hs_note_body": "Ada asked for a renewal quote.", "hs_timestamp": "2025-01-01T12:00:00Z"},
            associations=[
                PublicAssociationsForObject(
                    to=PublicObjectId(id=contact.id),
                    types=[AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=202)],
                )
            ],
        )
    )
    assert note.properties["hs_note_body"] == "Ada asked for a renewal quote."
    assert note.properties["hs_timestamp"] == "2025-01-01T12:00:00.000Z"
    page = hs.crm.associations.v4.basic_api.get_page("contacts", contact.id, "notes")
    assert [(str(r.to_object_id), [t.type_id for t in r.association_types]) for r in page.results] == [
        (note.id, [201])
    ]  # seen from the contact: contact_to_note
    read = hs.crm.objects.notes.basic_api.get_by_id(note.id, properties=["hs_note_body"], associations=["contacts"])
    assert read.properties["hs_note_body"] == "Ada asked for a renewal quote."
    assert [a.id for a in read.associations["contacts"].results] == [contact.id]

    company = sim.create_company(name="Analytical Engines", domain="analytical.example.com")
    made = hs.crm.associations.v4.basic_api.create_default("contacts", contact.id, "companies", company.id)
    assert made.status == "COMPLETE"
    assert [r.association_spec.association_type_id for r in made.results] == [279, 280]
    assert sim.associated("companies", company.id, "contacts") == [contact.id]
    hs.crm.associations.v4.basic_api.archive("contacts", contact.id, "companies", company.id)
    assert sim.associated("companies", company.id, "contacts") == []
    sim.assert_wrote("notes", properties={"hs_note_body": "Ada asked for a renewal quote."})
    sim.assert_wrote("associations", from_type="notes", to_type="contacts", to_id=contact.id, type_id=202)


def test_errors_raise_api_exception_with_status(sim: CrmSimulator, hs: HubSpot, server: SimServer) -> None:
    hs.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties={"email": "a@example.com"}))
    with pytest.raises(ApiException) as exc:
        hs.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties={"email": "A@example.com"}))
    assert exc.value.status == 409
    body = json.loads(exc.value.body)
    assert (body["status"], body["category"], body["message"]) == (
        "error",
        "CONFLICT",
        "Contact already exists. Existing ID: 1",
    )
    # (a list of pairs when the agentops tap serves urllib3, a header dict otherwise)
    headers = {k.lower(): v for k, v in dict(exc.value.headers).items()}
    assert body["correlationId"] == headers["x-hubspot-correlation-id"]

    with pytest.raises(ApiException) as exc:
        hs.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"emial": "typo@example.com", "lifecyclestage": "boss"})
        )
    body = json.loads(exc.value.body)
    assert exc.value.status == 400 and body["category"] == "VALIDATION_ERROR"
    assert [(e["code"], e["context"]["propertyName"]) for e in body["errors"]] == [
        ("PROPERTY_DOESNT_EXIST", ["emial"]),
        ("INVALID_OPTION", ["lifecyclestage"]),
    ]

    with pytest.raises(NotesApiException) as notes_exc:
        hs.crm.objects.notes.basic_api.create(NoteInput(properties={"hs_note_body": "no timestamp"}))
    assert notes_exc.value.status == 400 and json.loads(notes_exc.value.body)["errors"][0]["code"] == "REQUIRED"

    with pytest.raises(ApiException) as exc:
        hs.crm.contacts.basic_api.get_by_id("999")
    body = json.loads(exc.value.body)
    assert exc.value.status == 404 and body["category"] == "OBJECT_NOT_FOUND"

    with pytest.raises(ApiException) as exc:
        HubSpot(access_token="pat-sim-nope", host=server.base_url).crm.contacts.basic_api.get_page()
    assert exc.value.status == 401 and json.loads(exc.value.body)["category"] == "INVALID_AUTHENTICATION"
    reader = HubSpot(access_token=sim.issue_token(scopes=["read"]), host=server.base_url)
    assert len(reader.crm.contacts.get_all()) == 1
    with pytest.raises(ApiException) as exc:
        reader.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties={"email": "r@example.com"}))
    assert exc.value.status == 403 and json.loads(exc.value.body)["category"] == "MISSING_SCOPES"
    assert [e.error_code for e in sim.ledger.refused()] == ["contact_exists", "property_invalid", "property_invalid"]
    assert len(sim.ledger.unauthorized()) == 2


def test_paging_through_the_sdk(sim: CrmSimulator, hs: HubSpot, server: SimServer) -> None:
    sim.seed({"contacts": [{"email": f"c{i}@example.com", "firstname": f"C{i}"} for i in range(25)]})
    first = hs.crm.contacts.basic_api.get_page(limit=10, properties=["firstname"])
    assert [r.properties["firstname"] for r in first.results] == [f"C{i}" for i in range(10)]
    assert first.paging.next.after == "10"
    assert first.paging.next.link.startswith(server.base_url + "/crm/v3/objects/contacts?")
    assert [c.id for c in hs.crm.contacts.get_all()] == [str(i) for i in range(1, 26)]  # the SDK walks `after`
    searched = hs.crm.contacts.search_api.do_search(PublicObjectSearchRequest(sorts=["-firstname"], limit=5, after="5"))
    assert searched.total == 25 and searched.paging.next.after == "10"
    # strings sort as strings: C9, C8, ... C3, C24, C23, ...
    assert [r.properties["firstname"] for r in searched.results] == ["C4", "C3", "C24", "C23", "C22"]


def test_fault_then_retry(sim: CrmSimulator, hs: HubSpot) -> None:
    rule = sim.faults.add("crm.contacts.create", "500", times=1)
    request = SimplePublicObjectInputForCreate(properties={"email": "retry@example.com"})
    with pytest.raises(ApiException) as exc:
        hs.crm.contacts.basic_api.create(request)
    assert exc.value.status == 500 and json.loads(exc.value.body)["category"] == "INTERNAL_ERROR"
    assert sim.all("contacts") == []
    assert hs.crm.contacts.basic_api.create(request).id == "1"
    assert (rule.calls, rule.fired) == (2, 1)
    assert [(e.outcome, e.status) for e in sim.ledger] == [("fault", 500), ("applied", 201)]
