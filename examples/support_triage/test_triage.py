"""The support-triage agent, replayed from its cassettes: no network, no API key, milliseconds."""

from __future__ import annotations

from typing import Any

import pytest
from openai import OpenAI

from examples.support_triage.agent import CLASSIFY_MODEL, DRAFT_MODEL, triage

CUSTOMERS = {
    "ana@example.com": {"name": "Ana", "plan": "pro", "open_orders": ["ord_1234"]},
    "bo@example.com": {"name": "Bo", "plan": "free", "open_orders": []},
}


def lookup(email: str) -> dict[str, Any]:
    return CUSTOMERS.get(email, {"error": "no such customer"})


@pytest.fixture
def client() -> OpenAI:
    return OpenAI()


def test_refund_request(client: OpenAI, agent_run: Any) -> None:
    result = triage(client, "I was charged twice for order 1234, please refund me. ana@example.com", lookup)

    assert result.category == "refund"
    assert result.tool_calls == [("lookup_customer", {"email": "ana@example.com"})]
    assert "refund" in result.reply
    # What happened on this run, read from the trace: three model calls, routed by step.
    models = [call.model for call in agent_run.model_calls]
    assert [m.split("-2024")[0] if m else m for m in models] == [CLASSIFY_MODEL, DRAFT_MODEL, DRAFT_MODEL]
    assert len(agent_run.events) == 3 and not agent_run.misses
    assert agent_run.usage.total_tokens > 0


def test_password_reset(client: OpenAI, agent_run: Any) -> None:
    result = triage(client, "I forgot my password and cannot log in. bo@example.com", lookup)

    assert result.category == "password_reset"
    assert "password reset link" in result.reply
    assert len(agent_run.model_calls) == 3
