"""CRM rules through the in-process httpx client: properties, search operators, paging,
batch, associations and HubSpot's error shapes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from simulators.crm import CrmSimulator

C = "/crm/v3/objects/contacts"


@pytest.fixture
def sim() -> CrmSimulator:
    return CrmSimulator()


@pytest.fixture
def api(sim: CrmSimulator) -> Iterator[httpx.Client]:
    with sim.client() as c:
        yield c


def error(r: httpx.Response) -> tuple[int, str, list[str]]:
    body = r.json()
    assert body["status"] == "error" and body["correlationId"] and body["message"], body
    return r.status_code, body["category"], [e.get("code") for e in body.get("errors", [])]


def search(api: httpx.Client, path: str = C, **body: Any) -> list[str]:
    r = api.post(f"{path}/search", json=body)
    assert r.status_code == 200, r.text
    return [x["id"] for x in r.json()["results"]]


def eq(name: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    return {"filterGroups": [{"filters": [{"propertyName": name, "operator": op, "value": value, **extra}]}]}


def test_property_rules(sim: CrmSimulator, api: httpx.Client) -> None:
    r = api.post(
        "/crm/v3/objects/deals",
        json={
            "properties": {"dealname": "Big", "amount": 1500.0, "closedate": 1735689600000, "dealstage": "closedwon"}
        },
    )
    deal = r.json()
    assert r.status_code == 201
    assert deal["properties"]["amount"] == "1500" and deal["properties"]["closedate"] == "2025-01-01T00:00:00.000Z"
    assert error(api.post("/crm/v3/objects/deals", json={"properties": {"amount": "lots"}})) == (
        400,
        "VALIDATION_ERROR",
        ["INVALID_FLOAT"],
    )
    assert error(api.post("/crm/v3/objects/deals", json={"properties": {"closedate": "someday"}}))[2] == [
        "INVALID_DATETIME"
    ]
    assert error(api.post(C, json={"properties": {"hs_object_id": "5"}}))[2] == ["READ_ONLY_VALUE"]
    assert error(api.post(C, json={"properties": {"email": "x@example.com", "bogus": "1"}}))[2] == [
        "PROPERTY_DOESNT_EXIST"
    ]
    assert sim.all("contacts") == []  # a refused create stores nothing
    # "" clears a property; an unchanged update is not a side effect
    cid = api.post(C, json={"properties": {"email": "a@example.com", "phone": "123"}}).json()["id"]
    cleared = api.patch(f"{C}/{cid}", json={"properties": {"phone": ""}})
    assert cleared.json()["properties"]["phone"] is None
    assert "phone" not in sim.get("contacts", cid).properties
    writes = len(sim.ledger.writes())
    assert api.patch(f"{C}/{cid}", json={"properties": {"email": "a@example.com"}}).status_code == 200
    assert len(sim.ledger.writes()) == writes
    # emails are unique among live contacts, also on update
    other = api.post(C, json={"properties": {"email": "b@example.com"}}).json()["id"]
    assert error(api.patch(f"{C}/{other}", json={"properties": {"email": "A@EXAMPLE.com"}}))[:2] == (409, "CONFLICT")
    assert api.delete(f"{C}/{cid}").status_code == 204
    assert api.post(C, json={"properties": {"email": "a@example.com"}}).status_code == 201  # archived frees it
    assert error(api.patch(f"{C}/{cid}", json={"properties": {"phone": "1"}}))[:2] == (404, "OBJECT_NOT_FOUND")
    assert error(api.delete(f"{C}/{cid}"))[0] == 404


def test_search_operators(sim: CrmSimulator, api: httpx.Client) -> None:
    rows = [
        {
            "email": "ada@analytical.example.com",
            "firstname": "Ada",
            "lifecyclestage": "customer",
            "message": "Renewal quote needed",
            "notes_last_contacted": "2025-01-10T00:00:00Z",
        },
        {
            "email": "grace@compiler.example.com",
            "firstname": "Grace",
            "lifecyclestage": "lead",
            "message": "Wants a demo",
        },
        {"email": "alan@example.org", "firstname": "Alan", "lifecyclestage": "lead", "jobtitle": "Scientist"},
    ]
    for row in rows:
        sim.create_contact(**row)
    sim.create_deal(dealname="Small", amount=100)
    sim.create_deal(dealname="Large", amount=5000)
    sim.create_deal(dealname="Unpriced")
    assert search(api, **eq("lifecyclestage", "EQ", "lead")) == ["2", "3"]
    assert search(api, **eq("firstname", "EQ", "ADA")) == ["1"]  # EQ ignores case
    assert search(api, **eq("lifecyclestage", "NEQ", "lead")) == ["1"]
    assert search(api, **eq("lifecyclestage", "IN", values=["customer", "lead"])) == ["1", "2", "3"]
    assert search(api, **eq("lifecyclestage", "NOT_IN", values=["lead"])) == ["1"]
    assert search(api, **eq("jobtitle", "HAS_PROPERTY")) == ["3"]
    assert search(api, **eq("jobtitle", "NOT_HAS_PROPERTY")) == ["1", "2"]
    assert search(api, **eq("email", "CONTAINS_TOKEN", "*@example.org")) == ["3"]
    assert search(api, **eq("message", "CONTAINS_TOKEN", "demo")) == ["2"]
    assert search(api, **eq("message", "NOT_CONTAINS_TOKEN", "demo")) == ["1", "3"]
    assert search(api, **eq("notes_last_contacted", "GT", "1735689600000")) == ["1"]  # epoch ms vs ISO
    D = "/crm/v3/objects/deals"
    assert search(api, D, **eq("amount", "GT", 150)) == ["2"]  # numbers compare as numbers
    assert search(api, D, **eq("amount", "LTE", "100")) == ["1"]
    assert search(api, D, **eq("amount", "BETWEEN", 50, highValue=5000)) == ["1", "2"]
    # groups are ORed, filters in a group ANDed
    groups = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "lifecyclestage", "operator": "EQ", "value": "lead"},
                    {"propertyName": "firstname", "operator": "EQ", "value": "Alan"},
                ]
            },
            {"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"}]},
        ]
    }
    assert search(api, **groups) == ["1", "3"]
    assert search(api, query="renewal") == ["1"]
    assert search(api, query="gra") == ["2"]  # prefix of a word
    assert search(api, D, sorts=[{"propertyName": "amount", "direction": "DESCENDING"}]) == ["2", "1", "3"]
    assert search(api, D, sorts=["amount"]) == ["1", "2", "3"]  # unset values sort last
    r = api.post(f"{C}/search", json={"limit": 2, "properties": ["email"]}).json()
    assert r["total"] == 3 and r["paging"]["next"]["after"] == "2"
    assert set(r["results"][0]["properties"]) == {"email", "hs_object_id", "createdate", "lastmodifieddate"}
    assert search(api, limit=2, after="2") == ["3"]
    assert error(api.post(f"{C}/search", json=eq("nope", "EQ", "x")))[:2] == (400, "VALIDATION_ERROR")
    assert error(api.post(f"{C}/search", json=eq("email", "EQ")))[2] == ["SEARCH_INVALID"]
    too_many = {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}] * 6}] * 4}
    assert error(api.post(f"{C}/search", json=too_many))[2] == ["SEARCH_INVALID"]
    assert error(api.post(f"{C}/search", json={"limit": 500}))[0] == 400
    assert error(
        api.post(
            f"{C}/search",
            json={"filterGroups": [{"filters": [{"propertyName": "email", "operator": "LIKE", "value": "x"}]}]},
        )
    )[2] == ["PARAMETER_INVALID"]


def test_list_paging_properties_and_archived(sim: CrmSimulator, api: httpx.Client) -> None:
    for i in range(5):
        sim.create_contact(email=f"c{i}@example.com", firstname=f"C{i}")
    page = api.get(C, params={"limit": 2, "properties": "firstname,email"}).json()
    assert [r["properties"] for r in page["results"]] == [
        {"firstname": "C0", "email": "c0@example.com"},
        {"firstname": "C1", "email": "c1@example.com"},
    ]
    seen = [r["id"] for r in page["results"]]
    while "paging" in page:
        page = api.get(page["paging"]["next"]["link"]).json()
        seen += [r["id"] for r in page["results"]]
    assert seen == ["1", "2", "3", "4", "5"]
    multi = api.get(C + "/1", params=[("properties", "email"), ("properties", "firstname,nosuch")]).json()
    assert multi["properties"] == {"email": "c0@example.com", "firstname": "C0"}
    api.delete(C + "/2")
    assert [r["id"] for r in api.get(C, params={"limit": 100}).json()["results"]] == ["1", "3", "4", "5"]
    archived = api.get(C, params={"archived": "true"}).json()["results"]
    assert [(r["id"], r["archived"], "archivedAt" in r) for r in archived] == [("2", True, True)]
    assert error(api.get(C, params={"after": "abc"}))[0] == 400
    assert error(api.get(C, params={"limit": 101}))[:2] == (400, "VALIDATION_ERROR")


def test_batch(sim: CrmSimulator, api: httpx.Client) -> None:
    made = api.post(
        C + "/batch/create", json={"inputs": [{"properties": {"email": f"b{i}@example.com"}} for i in range(3)]}
    )
    assert made.status_code == 201 and [r["id"] for r in made.json()["results"]] == ["1", "2", "3"]
    bad = api.post(
        C + "/batch/create",
        json={"inputs": [{"properties": {"email": "ok@example.com"}}, {"properties": {"email": "b0@example.com"}}]},
    )
    assert bad.status_code == 409 and len(sim.all("contacts")) == 3  # all or nothing
    read = api.post(C + "/batch/read", json={"inputs": [{"id": "1"}, {"id": "99"}], "properties": ["email"]})
    assert read.status_code == 207
    assert [r["properties"] for r in read.json()["results"]] == [{"email": "b0@example.com"}]
    assert read.json()["errors"][0]["context"] == {"ids": ["99"]}
    by_email = api.post(C + "/batch/read", json={"inputs": [{"id": "b2@example.com"}], "idProperty": "email"})
    assert by_email.status_code == 200 and by_email.json()["results"][0]["id"] == "3"
    upd = api.post(
        C + "/batch/update",
        json={
            "inputs": [{"id": "1", "properties": {"firstname": "One"}}, {"id": "2", "properties": {"firstname": "Two"}}]
        },
    )
    assert [r["properties"]["firstname"] for r in upd.json()["results"]] == ["One", "Two"]
    missing = api.post(
        C + "/batch/update",
        json={
            "inputs": [
                {"id": "3", "properties": {"firstname": "Three"}},
                {"id": "77", "properties": {"firstname": "X"}},
            ]
        },
    )
    assert missing.status_code == 404 and "firstname" not in sim.get("contacts", "3").properties
    assert api.post(C + "/batch/archive", json={"inputs": [{"id": "1"}, {"id": "404"}]}).status_code == 204
    assert sim.get("contacts", "1").archived is True


def upsert(api: httpx.Client, *inputs: dict[str, Any], path: str = C) -> httpx.Response:
    return api.post(path + "/batch/upsert", json={"inputs": list(inputs)})


def test_batch_upsert(sim: CrmSimulator, api: httpx.Client) -> None:
    ada = {"id": "ada@example.com", "idProperty": "email", "properties": {"firstname": "Ada"}}
    first = upsert(api, ada)
    assert first.status_code == 200 and [(r["id"], r["new"]) for r in first.json()["results"]] == [("1", True)]
    assert sim.get("contacts", "1").properties["email"] == "ada@example.com"  # the id is written to idProperty
    again = upsert(api, {**ada, "id": "ADA@example.com", "properties": {"lastname": "L"}}, {**ada, "id": "b@x.org"})
    assert [(r["id"], r["new"]) for r in again.json()["results"]] == [("1", False), ("2", True)]
    assert sim.get("contacts", "1").properties["lastname"] == "L"
    by_id = upsert(api, {"id": "2", "properties": {"firstname": "Bea"}})
    assert by_id.json()["results"][0]["new"] is False and sim.get("contacts", "2").properties["firstname"] == "Bea"
    # one bad input refuses the whole batch, before or after a write
    rolled = upsert(api, {**ada, "id": "c@x.org"}, {"id": "77", "properties": {"firstname": "X"}})
    assert rolled.status_code == 404 and len(sim.all("contacts")) == 2
    assert error(upsert(api, ada, {**ada, "properties": {}})) == (400, "VALIDATION_ERROR", ["PARAMETER_INVALID"])
    not_unique = {"id": "x.com", "idProperty": "domain", "properties": {"name": "X"}}
    assert error(upsert(api, not_unique, path="/crm/v3/objects/companies"))[0] == 400
    assert error(upsert(api, {**ada, "idProperty": "bogus"}))[0] == 400 and len(sim.all("contacts")) == 2
    assert [e.tool for e in sim.ledger.writes()].count("crm.contacts.batch_upsert") == 3


def test_associations(sim: CrmSimulator, api: httpx.Client) -> None:
    contact = sim.create_contact(email="ada@example.com")
    company = sim.create_company(name="Engines")
    deal = sim.create_deal(dealname="Renewal")
    r = api.put(f"/crm/v3/objects/contacts/{contact.id}/associations/companies/{company.id}/contact_to_company")
    assert r.status_code == 200
    assert r.json()["associations"]["companies"]["results"] == [{"id": company.id, "type": "contact_to_company"}]
    api.put(f"/crm/v3/objects/contacts/{contact.id}/associations/companies/{company.id}/279")
    api.put(f"/crm/v4/objects/deal/{deal.id}/associations/default/contact/{contact.id}")
    api.put(f"/crm/v4/objects/deals/{deal.id}/associations/default/contacts/{contact.id}")  # no duplicate
    listed = api.get(f"/crm/v3/objects/companies/{company.id}/associations/contacts").json()["results"]
    assert listed == [
        {"id": contact.id, "type": "company_to_contact"},
        {"id": contact.id, "type": "company_to_contact_unlabeled"},
    ]
    v4 = api.get(f"/crm/v4/objects/contacts/{contact.id}/associations/companies").json()["results"]
    assert v4 == [
        {
            "toObjectId": company.id,  # a string, as the v4 spec says
            "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
                {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
            ],
        }
    ]
    deals = api.get(f"/crm/v4/objects/0-1/{contact.id}/associations/deals").json()["results"]
    assert deals == [
        {"toObjectId": deal.id, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 4, "label": None}]}
    ]
    assert len(sim.all("associations")) == 3
    # a wrong type for the pair, an unknown object type, a missing object
    assert error(api.put(f"/crm/v3/objects/contacts/{contact.id}/associations/companies/{company.id}/202"))[2] == [
        "ASSOCIATION_INVALID"
    ]
    assert error(api.put(f"/crm/v4/objects/widgets/1/associations/default/contacts/{contact.id}"))[2] == [
        "OBJECT_TYPE_INVALID"
    ]
    assert error(api.put(f"/crm/v4/objects/deals/{deal.id}/associations/default/contacts/999"))[0] == 404
    assert error(
        api.post(
            "/crm/v3/objects/notes",
            json={
                "properties": {"hs_note_body": "x", "hs_timestamp": "2025-01-01"},
                "associations": [
                    {
                        "to": {"id": "999"},
                        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
                    }
                ],
            },
        )
    )[2] == ["ASSOCIATION_INVALID"]
    assert sim.all("notes") == []
    # removing one type, then all; archived objects drop out of listings
    assert api.delete(f"/crm/v3/objects/contacts/{contact.id}/associations/companies/{company.id}/1").status_code == 204
    assert [
        x["type"] for x in api.get(f"/crm/v3/objects/contacts/{contact.id}/associations/companies").json()["results"]
    ] == ["contact_to_company_unlabeled"]
    api.delete(f"/crm/v3/objects/deals/{deal.id}")
    assert api.get(f"/crm/v4/objects/contacts/{contact.id}/associations/deals").json()["results"] == []
    api.delete(f"/crm/v4/objects/companies/{company.id}/associations/contacts/{contact.id}")
    assert sim.associated("contacts", contact.id, "companies") == []


def test_error_shapes(sim: CrmSimulator, api: httpx.Client) -> None:
    r = api.get(C + "/424242")
    assert r.status_code == 404 and r.json()["category"] == "OBJECT_NOT_FOUND"
    assert r.json()["message"] == "resource not found"
    assert r.headers["X-HubSpot-Correlation-Id"] == r.json()["correlationId"]
    assert error(api.get("/crm/v3/objects/widgets"))[0] == 404
    assert error(api.post(C, content=b"{nope", headers={"Content-Type": "application/json"}))[:2] == (
        400,
        "VALIDATION_ERROR",
    )
    assert error(api.post(C, json={"properties": {"email": "x@example.com"}, "extra": 1}))[2] == ["PARAMETER_UNKNOWN"]
    assert error(api.post(C, json={}))[2] == ["PARAMETER_MISSING"]
    unauth = sim.handle("GET", sim.base_url + C, {})
    assert unauth.status == 401 and unauth.json()["category"] == "INVALID_AUTHENTICATION"
    assert sim.internal_errors == []
