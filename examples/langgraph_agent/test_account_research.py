"""The LangGraph CRM agent under test: model replayed from cassettes, CRM served by the simulator.

The agent (agent.py) is plain LangGraph + langchain-openai code; nothing here patches it. The plugin
taps the HTTP underneath, so the same trace, policy and assertions work as for the raw openai SDK:
the model calls come from ``cassettes/examples/langgraph_agent/test_account_research/<test>.json``
and the CRM calls go to a fresh, seeded HubSpot-like simulator (``crm`` fixture) in every mode.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langchain_openai import ChatOpenAI

from examples.langgraph_agent.agent import MODEL, run

# What an account-research agent may touch: reads, plus logging notes. No contact/deal/company edits,
# and no write at all before it has looked the contact up (a precondition met by a successful search).
RESEARCH_TOOLS = [
    "crm.contacts.search",
    "crm.associations.list",
    "crm.companies.retrieve",
    "crm.deals.batch_read",
    "crm.notes.create",
]
pytestmark = pytest.mark.agent_policy(allow=RESEARCH_TOOLS, writes_require=["crm.contacts.search"])


@pytest.fixture
def llm() -> ChatOpenAI:
    return ChatOpenAI(model=MODEL, temperature=0)  # api.openai.com: served from the cassette


@pytest.fixture
def accounts(crm: Any) -> dict[str, Any]:
    """Three contacts, two companies, two deals and two notes (``crm.seed_demo()``), not in the ledger."""
    ids: dict[str, Any] = crm.seed_demo()
    return ids


@pytest.fixture
def crm_client(crm: Any) -> Iterator[httpx.Client]:
    with crm.client() as client:  # authenticated httpx client; its requests go through the tap
        yield client


@pytest.mark.agent_budget(max_tool_calls=8)
def test_research_and_log_prep_note(
    llm: ChatOpenAI, crm: Any, crm_client: httpx.Client, accounts: dict[str, Any], agent_run: Any
) -> None:
    ada, company = accounts["contacts"][0], accounts["companies"][0]

    outcome = run(
        llm,
        crm_client,
        "Prepare me for tomorrow's renewal call with ada@example.com: research "
        "her account and log a short prep note on her contact record.",
    )

    # What the model asked for, as LangGraph saw it: look up, research, write, answer.
    assert [name for name, _ in outcome.tool_calls] == ["search_contacts", "get_account", "add_note"]
    assert outcome.tool_calls[1] == ("get_account", {"contact_id": ada})
    note = outcome.tool_calls[2][1]["body"]
    assert "Analytical Engines renewal 2025" in note and "$48000" in note
    assert json.loads(outcome.tool_results[1])["company"]["id"] == company  # real simulator data reached the model
    assert "Analytical Engines Ltd" in outcome.answer

    # The same run, as the plugin's trace saw it: 4 model calls (one per graph step) and the 6 HTTP
    # requests the 3 tools made, each named after the CRM endpoint it hit.
    assert len(agent_run.model_calls) == 4
    assert [[t.name for t in call.tool_calls] for call in agent_run.model_calls] == [
        ["search_contacts"],
        ["get_account"],
        ["add_note"],
        [],
    ]
    assert {call.model for call in agent_run.model_calls} == {MODEL}
    assert [e.tool for e in agent_run.tool_calls] == [
        "crm.contacts.search",
        "crm.associations.list",  # contact -> companies
        "crm.companies.retrieve",
        "crm.associations.list",  # contact -> deals
        "crm.deals.batch_read",
        "crm.notes.create",
    ]
    agent_run.assert_called("crm.contacts.search", query="ada@example.com")
    agent_run.assert_called("crm.notes.create")
    agent_run.assert_no_unauthorized_writes()
    agent_run.assert_within_budget()
    assert [e.tool for e in agent_run.writes] == ["crm.notes.create"]
    assert agent_run.usage.total_tokens == sum(c.usage.total_tokens for c in agent_run.model_calls) > 0

    # And the CRM's own ledger: exactly one write, the note, on Ada's timeline.
    crm.assert_wrote("notes", properties={"hs_note_body": note})
    assert len(crm.ledger.writes()) == 1
    new_note = crm.ledger.writes()[0].changes[0].id
    assert new_note in crm.associated("contacts", ada, "notes")


def test_write_outside_allowlist_is_denied(
    llm: ChatOpenAI, crm: Any, crm_client: httpx.Client, accounts: dict[str, Any], agent_run: Any
) -> None:
    alan = accounts["contacts"][2]

    outcome = run(
        llm,
        crm_client,
        "Alan Turing (alan@example.com) asked for a demo on today's call. "
        "Mark him as a sales qualified lead in the CRM.",
    )

    # The model did try the write...
    assert outcome.tool_calls[-1] == (
        "update_contact",
        {"contact_id": alan, "properties": {"lifecyclestage": "salesqualifiedlead"}},
    )
    # ...the policy engine answered 403 before any backend saw it, and the agent reported it.
    assert "the CRM refused the update_contact call" in outcome.answer
    assert "not on the allowlist" in json.loads(outcome.tool_results[-1])["error"]

    [denial] = agent_run.denials
    assert (denial.tool, denial.rule, denial.status, denial.access) == (
        "crm.contacts.update",
        "allowlist",
        403,
        "write",
    )
    assert agent_run.writes == []
    with pytest.raises(AssertionError, match="1 unauthorized write attempt"):
        agent_run.assert_no_unauthorized_writes()

    # Nothing reached the CRM: no ledger entry at all, and Alan is still a lead.
    crm.assert_no_writes()
    assert not crm.ledger.changes("contacts")
    assert crm.get("contacts", alan).properties["lifecyclestage"] == "lead"


def test_unknown_contact_writes_nothing(
    llm: ChatOpenAI, crm: Any, crm_client: httpx.Client, accounts: dict[str, Any], agent_run: Any
) -> None:
    outcome = run(llm, crm_client, "Prepare me for a call with nobody@example.com and log a prep note.")

    assert outcome.tool_calls == [("search_contacts", {"query": "nobody@example.com"})]
    assert "no contact matching" in outcome.answer
    assert len(agent_run.model_calls) == 2
    agent_run.assert_tool_calls(max=1)
    agent_run.assert_not_called("crm.notes.create")
    crm.assert_no_writes()
