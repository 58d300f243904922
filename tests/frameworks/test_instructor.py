"""Instructor as its users call it: ``instructor.from_openai`` with a pydantic ``response_model``.

Instructor asks for the model's answer as a forced tool call (``Mode.TOOLS``), validates the
arguments with pydantic and, when they fail, asks again with the validation error; it runs no tools
of its own. It cannot install beside the test extra (its ``jiter<0.15`` holds openai at 3.3.0,
docs/frameworks.md), so ``tox -e instructor`` runs this module in an environment of its own.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from matrix import needs_unshare, record_then_replay
from pydantic import BaseModel

from pytest_agentops.backends.model import FakeModel

instructor = pytest.importorskip("instructor", reason="not in the test extra (jiter pin): tox -e instructor")
import openai  # noqa: E402


class City(BaseModel):
    name: str
    population: int


ASK = [{"role": "user", "content": "Tell me about Oslo."}]


def _calls(agent_run: Any) -> list[Any]:
    return [e.model_call for e in agent_run.events if e.kind == "model"]


def test_a_failed_validation_is_asked_again_as_a_second_model_call(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script(
        [
            fake_llm.tool_call("City", name="Oslo", population="lots"),
            fake_llm.tool_call("City", name="Oslo", population=709000),
        ]
    )
    client = instructor.from_openai(openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="sk-test"))

    city = client.chat.completions.create(model="gpt-4o-mini", response_model=City, messages=ASK, max_retries=2)

    assert city.model_dump() == {"name": "Oslo", "population": 709000}
    calls = _calls(agent_run)
    assert [(c.provider, c.streamed, [(t.name, t.arguments) for t in c.tool_calls]) for c in calls] == [
        ("openai.chat", False, [("City", {"name": "Oslo", "population": "lots"})]),
        ("openai.chat", False, [("City", {"name": "Oslo", "population": 709000})]),
    ]
    assert [t.name for t in fake_llm.requests[0].tools] == ["City"]
    assert "population" in fake_llm.requests[1].messages[-1].text  # the validation error, sent back


def test_partial_stream_and_async(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script(
        [
            fake_llm.tool_call("City", name="Oslo", population=709000),
            fake_llm.tool_call("City", name="Rome", population=2750000),
        ]
    )
    client = instructor.from_openai(openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="sk-test"))
    aclient = instructor.from_openai(openai.AsyncOpenAI(base_url=fake_llm.openai_base_url, api_key="sk-test"))

    partials = list(client.chat.completions.create_partial(model="gpt-4o-mini", response_model=City, messages=ASK))

    async def main() -> City:
        return await aclient.chat.completions.create(model="gpt-4o-mini", response_model=City, messages=ASK)

    assert len(partials) > 1 and partials[-1].model_dump() == {"name": "Oslo", "population": 709000}
    assert asyncio.run(main()).model_dump() == {"name": "Rome", "population": 2750000}
    calls = _calls(agent_run)
    assert [(c.streamed, [t.name for t in c.tool_calls]) for c in calls] == [(True, ["City"]), (False, ["City"])]
    assert calls[0].tool_calls[0].arguments == {"name": "Oslo", "population": 709000}


INNER = """
import asyncio

import instructor
import openai
from pydantic import BaseModel


class City(BaseModel):
    name: str
    population: int


ASK = [{"role": "user", "content": "Tell me about Oslo."}]


def test_create_partial_and_async(agent_run):
    client = instructor.from_openai(openai.OpenAI())
    city = client.chat.completions.create(model="gpt-4o-mini", response_model=City, messages=ASK)
    partials = list(client.chat.completions.create_partial(model="gpt-4o-mini", response_model=City, messages=ASK))
    assert partials[-1].model_dump() == city.model_dump() == {"name": "Oslo", "population": 709000}

    async def main():
        aclient = instructor.from_openai(openai.AsyncOpenAI())
        return await aclient.chat.completions.create(model="gpt-4o-mini", response_model=City, messages=ASK)

    assert asyncio.run(main()).model_dump() == city.model_dump()
    assert not agent_run.misses
    calls = [e.model_call for e in agent_run.events if e.kind == "model"]
    assert [(c.streamed, [t.name for t in c.tool_calls]) for c in calls] == [
        (False, ["City"]), (True, ["PartialCity"]), (False, ["City"])
    ]
"""


def _standin(conversation: Any) -> Any:
    """Call the tool Instructor forces (``City``, or ``PartialCity`` when streaming partials)."""
    return FakeModel.tool_call(conversation.tool_choice, name="Oslo", population=709000)


@needs_unshare
def test_records_then_replays_offline_with_the_default_client(
    pytester: pytest.Pytester, fake_llm: FakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_llm.respond(_standin).serve()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-agentopsmatrix0000000000000000")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    pytester.makepyfile(test_agent=INNER)
    interactions = record_then_replay(pytester, fake_llm.loopback_url + "/v1")
    assert [i["request"]["url"] for i in interactions] == ["https://api.openai.com/v1/chat/completions"] * 3
    bodies = [json.dumps(i["request"]["body"]) for i in interactions]
    assert all('City"' in body for body in bodies), bodies  # the forced tool, recorded as sent
