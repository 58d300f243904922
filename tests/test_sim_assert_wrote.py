"""``assert_wrote`` in each service's shape: HubSpot ``properties`` by flat name (a create made
with the official ``hubspot-api-client``), Zendesk's nested fields and ``custom_fields`` by id,
Stripe's nested objects by ``__`` path; a failed match shows the closest write and where a field
really lives."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import stripe
from hubspot import HubSpot
from hubspot.crm.contacts import SimplePublicObjectInputForCreate
from hubspot.crm.deals import SimplePublicObjectInputForCreate as DealInput

from simulators.billing import BillingSimulator
from simulators.core.server import SimServer
from simulators.crm import CrmSimulator
from simulators.ticketing import TicketingSimulator


@pytest.fixture
def crm() -> Iterator[CrmSimulator]:
    sim = CrmSimulator()
    with SimServer(sim) as server:
        hs = HubSpot(access_token=sim.api_key, host=server.base_url)
        hs.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"email": "ana@example.com", "firstname": "Ana"})
        )
        hs.crm.deals.basic_api.create(DealInput(properties={"dealname": "Renewal", "amount": "4900"}))
        yield sim


def test_crm_matches_hubspot_properties_by_flat_name(crm: CrmSimulator) -> None:
    crm.assert_wrote("contacts", email="ana@example.com", firstname="Ana")
    crm.assert_wrote("contact", properties={"email": "ana@example.com"})  # the wire shape still works
    crm.assert_wrote("contacts", id="1", email="ana@example.com")  # top-level and flat names together
    crm.assert_wrote("deals", amount=4900, dealname="Renewal")  # HubSpot's strings match their number
    crm.assert_wrote("deals", amount="4900")
    with pytest.raises(AssertionError):
        crm.assert_wrote("deals", amount=4901)
    with pytest.raises(AssertionError):
        crm.assert_wrote("contacts", email="ana@example.com", firstname="Bob")


def test_crm_failure_shows_the_closest_write_and_the_spelling(crm: CrmSimulator) -> None:
    with pytest.raises(AssertionError) as caught:
        crm.assert_wrote("contacts", email="bob@example.com", first_name="Ana")
    text = str(caught.value)
    assert text.splitlines()[:4] == [
        "expected a write to crm contacts with {'email': 'bob@example.com', 'first_name': 'Ana'}",
        "closest: create contacts 1:",
        "  email: 'ana@example.com' (wanted 'bob@example.com')",
        "  first_name: no such field; did you mean 'firstname'?",
    ]
    assert "crm.contacts.create" in text  # the ledger follows


@pytest.fixture
def ticketing() -> TicketingSimulator:
    sim = TicketingSimulator()
    with sim.client() as client:
        made = client.post(
            "/api/v2/tickets.json",
            json={
                "ticket": {
                    "subject": "Charged twice",
                    "comment": {"body": "Please refund the duplicate"},
                    "priority": "high",
                    "tags": ["billing"],
                    "custom_fields": [{"id": 360001, "value": "gold"}, {"id": 360002, "value": "eu"}],
                }
            },
        )
        assert made.status_code == 201
        ticket_id = made.json()["ticket"]["id"]
        client.put(
            f"/api/v2/tickets/{ticket_id}.json", json={"ticket": {"comment": {"body": "On it", "public": False}}}
        )
    return sim


def test_ticketing_nested_fields(ticketing: TicketingSimulator) -> None:
    ticketing.assert_wrote("tickets", custom_fields={360001: "gold"})  # by id, a subset
    ticketing.assert_wrote("tickets", custom_fields={"360002": "eu", 360001: "gold"}, priority="high")
    ticketing.assert_wrote("tickets", custom_fields=[{"id": 360001, "value": "gold"}, {"id": 360002, "value": "eu"}])
    ticketing.assert_wrote("tickets", via__channel="api", tags__0="billing")
    ticketing.assert_wrote("comments", ticket_id=1, body="On it", public=False)
    with pytest.raises(AssertionError):
        ticketing.assert_wrote("tickets", custom_fields={360001: "silver"})
    with pytest.raises(AssertionError):
        ticketing.assert_wrote("tickets", custom_fields={360003: "gold"})


def test_ticketing_failure_points_at_the_path_and_the_comments(ticketing: TicketingSimulator) -> None:
    with pytest.raises(AssertionError) as caught:
        ticketing.assert_wrote("tickets", channel="api", comment="On it")
    text = str(caught.value)
    assert "closest: update tickets 1:" in text  # the newest of equally close writes
    assert "  channel: not a field here; found at via.channel: pass via__channel=..." in text
    assert (
        "a ticket's comments are their own resource: "
        "ticketing.assert_wrote('comments', ticket_id=<id>, body=..., public=...)"
    ) in text


def test_billing_nested_objects_by_path() -> None:
    sim = BillingSimulator()
    with SimServer(sim) as server:
        client = stripe.StripeClient(sim.api_key, base_addresses={"api": server.base_url})
        client.v1.customers.create(params={"email": "ana@example.com", "metadata": {"crm_id": "1"}})
    sim.assert_wrote("customers", email="ana@example.com", metadata__crm_id="1")
    sim.assert_wrote("customers", metadata={"crm_id": "1"})
    with pytest.raises(AssertionError, match=re.escape("crm_id: not a field here; found at metadata.crm_id")):
        sim.assert_wrote("customers", crm_id="1")
    with pytest.raises(AssertionError, match=re.escape("metadata__crm_id: '1' (wanted '2')")):
        sim.assert_wrote("customers", metadata__crm_id="2")


def test_no_write_at_all_still_lists_the_ledger() -> None:
    sim = CrmSimulator()
    with pytest.raises(AssertionError) as caught:
        sim.assert_wrote("contacts", email="x@example.com")
    assert "closest" not in str(caught.value)
    assert "all writes:\n  (ledger is empty)" in str(caught.value)
