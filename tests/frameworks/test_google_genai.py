"""Google's ``google-genai`` SDK against the fake model and through the tap: Gemini as users call it.

The SDK builds ``/v1beta/models/{model}:generateContent`` (and ``:streamGenerateContent?alt=sse``)
itself, with its own automatic function calling; these tests check the trace reads what it sent.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from matrix import replay_in_a_namespace

from pytest_agentops.backends.model import FakeModel

genai = pytest.importorskip("google.genai")
from google.genai import types  # noqa: E402

MODEL = "gemini-2.5-flash"


def _client(fake_llm: FakeModel) -> Any:
    return genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=fake_llm.gemini_base_url))


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


def _events(agent_run: Any) -> list[Any]:
    return [e for e in agent_run.events if e.kind == "model"]


def test_automatic_function_calling_is_two_model_calls_with_the_tool_call(fake_llm: FakeModel, agent_run: Any) -> None:
    client = _client(fake_llm)  # the SDK closes its transport when the client is collected
    fake_llm.script([fake_llm.tool_call("get_weather", city="Paris"), "It is sunny in Paris."])
    config = types.GenerateContentConfig(tools=[get_weather], system_instruction="Be brief.")

    response = client.models.generate_content(model=MODEL, contents="Weather in Paris?", config=config)

    assert response.text == "It is sunny in Paris."
    first, second = _events(agent_run)
    call = first.model_call
    assert (call.provider, call.model, call.streamed) == ("google.gemini", MODEL, False)
    assert [(c.name, c.arguments) for c in call.tool_calls] == [("get_weather", {"city": "Paris"})]
    # The SDK ran the function and sent its result back as a functionResponse part.
    [result] = fake_llm.requests[1].conversation.tool_results  # type: ignore[union-attr]
    assert (result.name, result.text) == ("get_weather", '{"result":"Sunny in Paris"}')
    assert fake_llm.requests[0].conversation.messages[0].text == "Be brief."  # type: ignore[union-attr]
    assert fake_llm.requests[0].tools[0].parameters["properties"]["city"]["type"] == "string"
    usage = second.model_call.usage
    assert (usage.input_tokens, usage.output_tokens) == (fake_llm.requests[1].input_tokens, 6)
    assert agent_run.usage.total_tokens == sum(r.input_tokens + r.output_tokens for r in fake_llm.requests)


def test_stream_over_sse_reassembles_text_and_takes_the_last_usage(fake_llm: FakeModel, agent_run: Any) -> None:
    client = _client(fake_llm)  # the SDK closes its transport when the client is collected
    fake_llm.script([fake_llm.reply("Hello there, friend.", input_tokens=11, output_tokens=5)])

    chunks = list(client.models.generate_content_stream(model=MODEL, contents="Hi"))

    assert len(chunks) == 3 and "".join(c.text for c in chunks) == "Hello there, friend."
    assert chunks[-1].usage_metadata.candidates_token_count == 5
    [event] = _events(agent_run)
    assert "alt=sse" in event.url
    call = event.model_call
    assert (call.streamed, call.text, call.stop_reason) == (True, "Hello there, friend.", "STOP")
    assert (call.usage.input_tokens, call.usage.output_tokens) == (11, 5)  # not summed over chunks


def test_stream_with_a_function_call(fake_llm: FakeModel, agent_run: Any) -> None:
    client = _client(fake_llm)  # the SDK closes its transport when the client is collected
    fake_llm.script([fake_llm.tool_call("get_weather", city="Oslo", call_id="fc-1")])
    config = types.GenerateContentConfig(
        tools=[get_weather], automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True)
    )

    chunks = list(client.models.generate_content_stream(model=MODEL, contents="Oslo?", config=config))

    [sdk_call] = [c for chunk in chunks for c in chunk.function_calls or []]
    assert (sdk_call.name, sdk_call.args, sdk_call.id) == ("get_weather", {"city": "Oslo"}, "fc-1")
    [trace_call] = _events(agent_run)[0].model_call.tool_calls
    assert (trace_call.id, trace_call.name, trace_call.arguments) == ("fc-1", "get_weather", {"city": "Oslo"})


def test_async_client_plain_and_streamed(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script(["one two", "three four five"])
    client = _client(fake_llm)

    async def main() -> tuple[str, str]:
        plain = await client.aio.models.generate_content(model=MODEL, contents="a")
        stream = await client.aio.models.generate_content_stream(model=MODEL, contents="b")
        return plain.text or "", "".join([c.text or "" async for c in stream])

    assert asyncio.run(main()) == ("one two", "three four five")
    calls = [e.model_call for e in _events(agent_run)]
    assert [(c.streamed, c.text, c.usage.output_tokens) for c in calls] == [
        (False, "one two", 2),
        (True, "three four five", 3),
    ]


def test_scripted_error_is_the_sdks_api_error(fake_llm: FakeModel) -> None:
    client = _client(fake_llm)  # the SDK closes its transport when the client is collected
    fake_llm.script([fake_llm.error(400, "bad request")])
    with pytest.raises(genai.errors.ClientError) as raised:
        client.models.generate_content(model=MODEL, contents="x")
    assert (raised.value.code, raised.value.status) == (400, "INVALID_ARGUMENT")


def test_default_host_reaches_the_fake_with_no_base_url(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.serve_default_hosts()
    fake_llm.script(["from the fake"])
    client = genai.Client()
    assert client.models.generate_content(model=MODEL, contents="x").text == "from the fake"
    assert _events(agent_run)[0].url.startswith("https://generativelanguage.googleapis.com/")


INNER = """
import os
from google import genai
from google.genai import types


def get_weather(city: str) -> str:
    '''The weather in a city.'''
    return f"Sunny in {city}"


def _events(agent_run):
    return [e for e in agent_run.events if e.kind == "model"]


def _client():
    return genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=os.environ["GEMINI_STANDIN"]))


CLIENT = _client()


def test_tool(agent_run):
    config = types.GenerateContentConfig(tools=[get_weather])
    answer = CLIENT.models.generate_content(model="gemini-2.5-flash", contents="Paris?", config=config)
    assert answer.text == "It is sunny."
    assert [c.tool_calls[0].name for c in (e.model_call for e in _events(agent_run)[:1])] == ["get_weather"]
    assert {e.backend for e in _events(agent_run)} == {EXPECTED}


def test_stream(agent_run):
    chunks = CLIENT.models.generate_content_stream(model="gemini-2.5-flash", contents="hello")
    assert "".join(c.text for c in chunks) == "Hello there friend"
    assert _events(agent_run)[0].model_call.usage.output_tokens == 3
"""


def _standin(conversation: Any) -> Any:
    if conversation.tool_results:
        return "It is sunny."
    if conversation.tools:
        return FakeModel.tool_call("get_weather", city="Paris")
    return "Hello there friend"


def test_record_against_a_loopback_standin_then_replay_in_a_fresh_namespace(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin = FakeModel().respond(_standin).serve()
    try:
        assert standin.loopback_url is not None
        monkeypatch.setenv("GEMINI_STANDIN", standin.loopback_url)
        pytester.makepyfile(test_inner=INNER.replace("EXPECTED", '"network"'))
        pytester.runpytest_inprocess("--agent-record", "-q", "-p", "no:cacheprovider").assert_outcomes(passed=2)
        assert len(standin.requests) == 3
    finally:
        standin.close()
    pytester.makepyfile(test_inner=INNER.replace("EXPECTED", '"cassette"'))
    replay_in_a_namespace(pytester).assert_outcomes(passed=2)
