"""The ``zenpy`` client, unchanged, against the ticketing simulator on a loopback port.

zenpy builds ``https://<subdomain>.zendesk.com/api/v2/...`` unless ``ZENPY_FORCE_NETLOC`` and
``ZENPY_FORCE_SCHEME`` say otherwise, and authenticates with HTTP basic ``<email>/token:<token>``
(or a bearer ``oauth_token``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Ticket, User
from zenpy.lib.exception import APIException, RecordNotFoundException

from simulators.core.server import SimServer
from simulators.ticketing import API_USER_ID, TicketingSimulator


@pytest.fixture
def sim() -> TicketingSimulator:
    return TicketingSimulator()


@pytest.fixture
def server(sim: TicketingSimulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimServer]:
    with SimServer(sim) as srv:
        monkeypatch.setenv("ZENPY_FORCE_NETLOC", urlsplit(srv.base_url).netloc)
        monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
        yield srv


def client(token: str, **kwargs: object) -> Zenpy:
    return Zenpy(subdomain="acme", email="agent@example.com", token=token, disable_cache=True, **kwargs)


@pytest.fixture
def zd(sim: TicketingSimulator, server: SimServer) -> Zenpy:
    return client(sim.api_key)


def test_create_show_update_with_internal_note(sim: TicketingSimulator, zd: Zenpy) -> None:
    audit = zd.tickets.create(
        Ticket(
            subject="Printer on fire",
            description="The printer in room 4 is on fire.",
            priority="urgent",
            tags=["Hardware", "urgent"],
            requester=User(name="Pat Reporter", email="pat@example.com"),
        )
    )
    created = audit.ticket
    assert isinstance(created.id, int)
    assert (created.status, created.priority, created.tags) == ("new", "urgent", ["hardware", "urgent"])
    first_event = audit.audit.events[0]
    assert (first_event["type"], first_event["body"], first_event["public"]) == (
        "Comment",
        "The printer in room 4 is on fire.",
        True,
    )
    requester = zd.users(id=created.requester_id)
    assert (requester.email, requester.role) == ("pat@example.com", "end-user")
    assert created.submitter_id == API_USER_ID  # the token acts as the tenant's API Agent

    shown = zd.tickets(id=created.id)
    assert shown.subject == "Printer on fire" and shown.description == "The printer in room 4 is on fire."
    shown.status = "pending"
    shown.comment = Comment(body="Called facilities; waiting on them.", public=False)
    updated = zd.tickets.update(shown).ticket
    assert updated.status == "pending"
    assert updated.assignee_id is None

    comments = list(zd.tickets.comments(created.id))
    assert [(c.body, c.public) for c in comments] == [
        ("The printer in room 4 is on fire.", True),
        ("Called facilities; waiting on them.", False),
    ]
    assert comments[1].author_id == API_USER_ID
    sim.assert_wrote("tickets", id=created.id, status="pending")
    sim.assert_wrote("comments", ticket_id=created.id, public=False)
    sim.assert_no_duplicate_side_effects()
    assert sim.internal_errors == []


def test_solve_assigns_and_closed_refuses_updates(sim: TicketingSimulator, zd: Zenpy) -> None:
    ids = sim.seed_demo()
    ticket = zd.tickets(id=ids["tickets"][1])
    assert (ticket.status, ticket.assignee_id) == ("new", None)
    ticket.status = "solved"
    solved = zd.tickets.update(ticket).ticket
    assert (solved.status, solved.assignee_id) == ("solved", API_USER_ID)

    ticket = zd.tickets(id=ticket.id)
    ticket.status = "closed"
    with pytest.raises(APIException) as exc:
        zd.tickets.update(ticket)
    assert exc.value.response.status_code == 422
    assert exc.value.response.json()["details"]["status"][0]["description"].startswith("Status: closed is set")

    sim.clock.advance(days=4)
    assert sim.close_solved_tickets() == [ids["tickets"][1], ids["tickets"][3]]
    ticket = zd.tickets(id=ticket.id)
    assert ticket.status == "closed"
    ticket.comment = Comment(body="One more thing...")
    with pytest.raises(APIException) as exc:
        zd.tickets.update(ticket)
    assert exc.value.response.status_code == 422
    assert json.loads(str(exc.value)) == {
        "error": "RecordInvalid",
        "description": "Record validation errors",
        "details": {"status": [{"description": "Status: closed prevents ticket update", "error": "InvalidValue"}]},
    }
    with pytest.raises(APIException):
        zd.tickets.add_tags(ticket.id, ["late"])
    assert [e.error_code for e in sim.ledger.refused()] == ["status_invalid", "ticket_closed", "ticket_closed"]
    with pytest.raises(RecordNotFoundException):
        zd.tickets(id=99999)


def test_search(sim: TicketingSimulator, zd: Zenpy) -> None:
    ids = sim.seed_demo()
    t1, t2, t3, t4 = ids["tickets"]
    assert [t.id for t in zd.search("refund", type="ticket")] == [t1]
    assert [t.id for t in zd.search("duplicate payment", type="ticket")] == [t1]  # words, not a phrase
    assert sorted(t.id for t in zd.search(type="ticket", tags=["refund", "login"])) == [t1, t3]
    assert [t.id for t in zd.search(type="ticket", status="pending")] == [t3]
    assert sorted(t.id for t in zd.search(type="ticket", requester="ada@example.com")) == [t2, t4]
    assert [t.id for t in zd.search(type="ticket", requester="ada@example.com", minus="tags:export")] == [t4]
    assert sorted(t.id for t in zd.search(type="ticket", priority_greater_than="normal")) == [t1, t3]
    users = list(zd.search(type="user", role="agent"))
    assert sorted(u.name for u in users) == ["Sam Support", "Tess Tier2"]
    # an internal note is searchable (agents see it), and results say what they are
    assert [t.id for t in zd.search("payment log")] == [t1]


def test_tags(zd: Zenpy, sim: TicketingSimulator) -> None:
    ticket = sim.create_ticket(subject="Tags", comment={"body": "x"}, tags=["one"])
    zd.tickets.add_tags(ticket.id, ["Two", "three four"])
    assert sim.get("tickets", ticket.id).tags == ["one", "two", "three", "four"]  # type: ignore[arg-type]
    assert list(zd.tickets.set_tags(ticket.id, ["a", "b"])) == ["a", "b"]
    zd.tickets.delete_tags(ticket.id, ["a"])  # 204, no body (Zendesk's answer)
    assert list(zd.tickets.tags(ticket.id)) == ["b"]
    assert [e.tool for e in sim.ledger.writes()] == [
        "ticketing.tags.update",
        "ticketing.tags.set",
        "ticketing.tags.delete",
    ]


def test_cursor_pagination_walks_every_ticket(sim: TicketingSimulator, zd: Zenpy) -> None:
    sim.seed({"tickets": [{"subject": f"t{i}", "description": f"ticket number {i}"} for i in range(230)]})
    seen = [t.id for t in zd.tickets()]  # zenpy asks for page[size]=100 and follows links.next
    assert seen == list(range(1, 231))
    assert len(list(zd.users())) == 1  # only the API Agent so far


def test_auth(sim: TicketingSimulator, server: SimServer) -> None:
    with pytest.raises(APIException) as exc:
        list(client("zd_test_wrong").tickets())
    assert exc.value.response.status_code == 401
    assert exc.value.response.json()["error"] == "Couldn't authenticate you"
    reader = client(sim.issue_token(scopes=["read"]))
    assert list(reader.tickets()) == []
    with pytest.raises(APIException) as exc:
        reader.tickets.create(Ticket(subject="x", description="y"))
    assert exc.value.response.status_code == 403 and exc.value.response.json()["error"] == "Forbidden"
    oauth = Zenpy(subdomain="acme", oauth_token=sim.api_key, disable_cache=True)
    assert oauth.users.me().id == API_USER_ID
    assert len(sim.ledger.unauthorized()) == 2


def test_fault_on_update_then_retry(sim: TicketingSimulator, zd: Zenpy) -> None:
    ticket = sim.create_ticket(subject="Flaky", comment={"body": "hello"})
    rule = sim.faults.add("ticketing.tickets.update", "503", times=1)
    shown = zd.tickets(id=ticket.id)
    shown.status = "open"
    with pytest.raises(APIException) as exc:
        zd.tickets.update(shown)
    assert exc.value.response.status_code == 503
    assert exc.value.response.json()["error"] == "ServiceUnavailable"
    assert sim.get("tickets", ticket.id).status == "new"  # type: ignore[arg-type]
    shown.status = "open"
    assert zd.tickets.update(shown).ticket.status == "open"
    assert (rule.calls, rule.fired) == (2, 1)
    assert [(e.outcome, e.status) for e in sim.ledger if e.tool == "ticketing.tickets.update"] == [
        ("fault", 503),
        ("applied", 200),
    ]
