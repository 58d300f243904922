"""One scenario that calls every ticketing operation, mostly through the official ``zenpy``
client (raw HTTP where zenpy has no call), success and error answers both, so the conformance
test can check all of them against Zendesk's spec.

It reads like a triage agent's day: look up the requester and their organization, read the
ticket fields and groups, preview a macro, apply it, bulk-update, search. Each step asserts the
behaviour too, so the scenario fails on wrong semantics, not only on wrong shapes.
"""

from __future__ import annotations

from typing import Any

import httpx
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Organization, Ticket, User
from zenpy.lib.exception import APIException, RecordNotFoundException

SEED: dict[str, Any] = {
    "groups": [{"id": 31, "name": "Billing"}, {"id": 32, "name": "Hardware"}],
    "ticket_fields": [{"id": 501, "type": "text", "title": "Order number", "position": 1}],
    "macros": [
        {
            "id": 71,
            "title": "Refund approved",
            "position": 1,
            "actions": [
                {"field": "status", "value": "solved"},
                {"field": "group_id", "value": "31"},
                {"field": "current_tags", "value": "refund_approved"},
                {"field": "custom_fields_501", "value": "A-1001"},
                {"field": "comment_value", "value": "Hi {{ticket.requester.first_name}}, your refund is on its way."},
            ],
        },
        {
            "id": 72,
            "title": "Escalate",
            "position": 2,
            "active": False,
            "actions": [{"field": "priority", "value": "urgent"}],
        },
    ],
}


def _fails(call: Any, status: int) -> APIException:
    try:
        call()
    except APIException as err:
        assert err.response.status_code == status, (err.response.status_code, err.response.text)
        return err
    raise AssertionError("expected a Zendesk error")


def people(zd: Zenpy) -> dict[str, Any]:
    org = zd.organizations.create(Organization(name="Acme", domain_names=["acme.example"], tags=["VIP"]))
    assert org.tags == ["vip"]
    org.notes = "Key account"
    assert zd.organizations.update(org).notes == "Key account"
    assert zd.organizations(id=org.id).name == "Acme"
    assert [o.name for o in zd.organizations()] == ["Acme"]
    ada = zd.users.create(User(name="Ada Lovelace", email="ada@acme.example", organization_id=org.id))
    assert (ada.role, ada.restricted_agent, ada.ticket_restriction) == ("end-user", True, "requested")
    ada.phone = "+351 555 0100"
    ada.external_id = "crm-1"
    assert zd.users.update(ada).phone == "+351 555 0100"
    agent = zd.users.create(User(name="Grace Agent", email="grace@support.example", role="agent"))
    assert [u.id for u in zd.users.search(query="email:ada@acme.example")] == [ada.id]
    assert [u.id for u in zd.users.search(external_id="crm-1")] == [ada.id]
    assert {u.id for u in zd.users(ids=[ada.id, agent.id, 999])} == {ada.id, agent.id}
    assert zd.users(id=ada.id).organization_id == org.id
    assert zd.users.me().role == "admin"
    assert any(u.id == agent.id for u in zd.users())
    _fails(lambda: zd.users.create(User(name="Twin", email="ada@acme.example")), 422)
    _fails(lambda: zd.organizations.create(Organization(name="acme")), 422)
    return {"org": org.id, "ada": ada.id, "agent": agent.id}


def account(zd: Zenpy) -> None:
    assert [g.name for g in zd.groups()] == ["Billing", "Hardware"]
    assert zd.groups(id=31).name == "Billing"
    fields = list(zd.ticket_fields())
    assert [f.title for f in fields][:3] == ["Subject", "Description", "Status"] and fields[-1].id == 501
    assert zd.ticket_fields(id=501).title == "Order number"
    assert [m.title for m in zd.macros()] == ["Refund approved", "Escalate"]
    assert zd.macros(id=71).actions[0]["field"] == "status"
    preview = zd.macros.apply(71)
    assert preview.ticket.status == "solved" and preview.ticket.group_id == 31
    _fails(lambda: zd.macros(id=999), 404)
    _fails(lambda: zd.groups(id=999), 404)


def tickets(zd: Zenpy, ids: dict[str, Any]) -> dict[str, Any]:
    made = zd.tickets.create(
        Ticket(subject="Refund for order A-1001", description="I was charged twice.", requester_id=ids["ada"],
               organization_id=ids["org"], tags=["billing"])
    ).ticket  # fmt: skip
    assert made.custom_status_id is not None and made.status == "new"
    other = zd.tickets.create(Ticket(subject="Printer jam", description="Paper stuck.", requester_id=ids["ada"]))
    second = other.ticket
    after = zd.tickets.show_macro_effect(made.id, 71)
    assert after.ticket.comment.body == "Hi Ada, your refund is on its way."
    assert after.ticket.tags == ["billing", "refund_approved"] and zd.tickets(id=made.id).status == "new"
    shown = zd.tickets(id=made.id)
    shown.status, shown.group_id = "open", 31
    shown.comment = Comment(body="Checking the charges.", public=False)
    assert zd.tickets.update(shown).ticket.status == "open"
    comments = list(zd.tickets.comments(made.id))
    assert [c.public for c in comments] == [True, False] and comments[1].metadata.system.ip_address == "127.0.0.1"
    job = zd.tickets.update([Ticket(id=made.id, priority="high"), Ticket(id=second.id, priority="low")])
    assert job.status == "completed" and [r.success for r in job.results] == [True, True]
    assert {t.id: t.priority for t in zd.tickets(ids=[made.id, second.id])} == {made.id: "high", second.id: "low"}
    found = zd.search(type="ticket", status="open", requester=ids["ada"])
    assert [t.id for t in found] == [made.id]
    assert [t.id for t in zd.tickets()] == [made.id, second.id]
    _fails(lambda: zd.tickets(id=999), 404)
    return {"ticket": made.id, "second": second.id}


def tags(zd: Zenpy, ids: dict[str, Any]) -> None:
    ident = ids["ticket"]
    added = zd.tickets.add_tags(ident, ["vip"])
    assert sorted(added) == ["billing", "vip"], added
    replaced = zd.tickets.set_tags(ident, ["refund", "vip"])
    assert sorted(replaced) == ["refund", "vip"], replaced
    zd.tickets.delete_tags(ident, ["vip"])  # 204: Zendesk answers no body
    assert list(zd.tickets.tags(ident)) == ["refund"]


def raw_http(http: httpx.Client, ids: dict[str, Any]) -> None:
    """What zenpy has no call for, as an agent's HTTP tool would send it."""
    ident, second = ids["ticket"], ids["second"]
    r = http.put(f"/api/v2/tickets/update_many.json?ids={ident},{second}", json={"ticket": {"status": "pending"}})
    assert r.status_code == 200 and r.json()["job_status"]["total"] == 2
    statuses = {t["status"] for t in http.get(f"/api/v2/tickets/show_many.json?ids={ident},{second}").json()["tickets"]}
    assert statuses == {"pending"}
    assert http.get("/api/v2/macros.json", params={"active": "false"}).json()["macros"][0]["id"] == 72
    r = http.put(f"/api/v2/tickets/{ident}.json", json={"ticket": {"status": "bogus"}})
    assert r.status_code == 400 or r.status_code == 422, r.text
    assert http.get("/api/v2/users/search.json").status_code == 422
    assert http.delete(f"/api/v2/tickets/{second}.json").status_code == 204
    assert http.get(f"/api/v2/tickets/{second}.json").status_code == 404
    temp = http.post("/api/v2/organizations.json", json={"organization": {"name": "Temp"}}).json()["organization"]
    assert http.delete(f"/api/v2/organizations/{temp['id']}.json").status_code == 204
    assert http.get(f"/api/v2/organizations/{temp['id']}.json").status_code == 404


def run(zd: Zenpy, http: httpx.Client) -> dict[str, Any]:
    """Every ticketing operation, in a triage agent's order (the simulator is seeded with ``SEED``)."""
    ids = people(zd)
    account(zd)
    ids.update(tickets(zd, ids))
    tags(zd, ids)
    raw_http(http, ids)
    try:
        zd.users(id=12345)
    except RecordNotFoundException:
        pass
    else:
        raise AssertionError("a missing user must answer 404")
    return ids
