"""OpenAI-compatible servers through the real ``openai`` SDK: Azure OpenAI and vLLM/Ollama's ``/v1``.

The SDK builds the URLs (``AzureOpenAI`` puts ``/openai/deployments/{deployment}`` before the path
and ``api-version`` in the query; ``OpenAI(base_url=...)`` appends to any host and port); these
tests check the trace reads them as OpenAI formats, with the model, usage and tool calls.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from matrix import INI, needs_unshare

from pytest_agentops.backends.model import FakeModel

openai = pytest.importorskip("openai")

API_VERSION = "2024-10-21"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def _model_events(agent_run: Any) -> list[Any]:
    return [e for e in agent_run.events if e.kind == "model"]


def _azure(endpoint: str, **kwargs: Any) -> Any:
    return openai.AzureOpenAI(azure_endpoint=endpoint, api_key="azure-test-key", api_version=API_VERSION, **kwargs)


def test_azure_deployment_url_is_openai_chat_with_usage_and_tool_calls(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script([fake_llm.reply(tool_calls=[fake_llm.tool_call("get_weather", city="Oslo")], input_tokens=21)])
    client = _azure(fake_llm.base_url, azure_deployment="prod-4o")

    messages: list[Any] = [{"role": "user", "content": "Oslo?"}]
    answer = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)  # type: ignore[arg-type]

    assert answer.choices[0].message.tool_calls[0].function.name == "get_weather"
    [event] = _model_events(agent_run)
    assert event.url == f"{fake_llm.base_url}/openai/deployments/prod-4o/chat/completions?api-version={API_VERSION}"
    call = event.model_call
    assert (call.provider, call.model, call.streamed) == ("openai.chat", "gpt-4o-mini", False)
    assert (call.usage.input_tokens, call.usage.output_tokens) == (21, answer.usage.completion_tokens)
    assert [(c.name, c.arguments) for c in call.tool_calls] == [("get_weather", {"city": "Oslo"})]


def test_azure_without_a_deployment_puts_the_model_in_the_path_and_streams(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.always_include_usage()
    fake_llm.script([fake_llm.reply("Cold in Oslo.", input_tokens=9, output_tokens=4)])
    client = _azure(fake_llm.base_url)

    stream = client.chat.completions.create(
        model="my-deployment", messages=[{"role": "user", "content": "Oslo?"}], stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)

    assert text == "Cold in Oslo."
    [event] = _model_events(agent_run)
    assert "/openai/deployments/my-deployment/chat/completions?" in event.url
    call = event.model_call
    assert (call.provider, call.model, call.streamed, call.text) == ("openai.chat", "my-deployment", True, text)
    assert (call.usage.input_tokens, call.usage.output_tokens) == (9, 4)


def test_azure_v1_path_chat_and_responses_async(fake_llm: FakeModel, agent_run: Any) -> None:
    """Azure's newer ``/openai/v1/`` API is the plain OpenAI client with that base URL."""
    fake_llm.script(["chat answer", fake_llm.reply(tool_calls=[fake_llm.tool_call("get_weather", city="Rome")])])
    client = openai.AsyncOpenAI(base_url=fake_llm.base_url + "/openai/v1/", api_key="azure-test-key")
    tool = {"type": "function", "name": "get_weather", "parameters": TOOLS[0]["function"]["parameters"]}  # type: ignore[index]

    async def main() -> None:
        await client.chat.completions.create(model="prod-4o", messages=[{"role": "user", "content": "hi"}])
        await client.responses.create(model="prod-4o", input="Rome?", tools=[tool])  # type: ignore[list-item]

    asyncio.run(main())
    chat, responses = (e.model_call for e in _model_events(agent_run))
    assert (chat.provider, chat.model, chat.text) == ("openai.chat", "prod-4o", "chat answer")
    assert (responses.provider, responses.model) == ("openai.responses", "prod-4o")
    assert [(c.name, c.arguments) for c in responses.tool_calls] == [("get_weather", {"city": "Rome"})]
    assert responses.usage.input_tokens == fake_llm.requests[1].input_tokens > 0


def test_async_azure_client(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script(["async azure"])
    client = openai.AsyncAzureOpenAI(
        azure_endpoint=fake_llm.base_url, azure_deployment="dep-a", api_key="k", api_version=API_VERSION
    )

    async def main() -> str:
        answer = await client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
        return answer.choices[0].message.content or ""

    assert asyncio.run(main()) == "async azure"
    [event] = _model_events(agent_run)
    assert "/openai/deployments/dep-a/chat/completions" in event.url
    assert (event.model_call.provider, event.model_call.model) == ("openai.chat", "gpt-4o")


@pytest.mark.parametrize("port", [11434, 8000])  # Ollama's and vLLM's default ports
def test_base_url_on_a_local_server_port_is_openai_chat(fake_llm: FakeModel, agent_run: Any, port: int) -> None:
    """``fake_llm.serve(port=...)`` listens where Ollama/vLLM would; the SDK's requests go there."""
    try:
        fake_llm.serve(port=port)
    except OSError:
        pytest.skip(f"port {port} is taken on this machine")
    fake_llm.script([fake_llm.tool_call("get_weather", city="Lima"), "Warm."])
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="ollama")
    messages: list[Any] = [{"role": "user", "content": "Lima?"}]

    first = client.chat.completions.create(model="llama3.2", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    call_id = first.choices[0].message.tool_calls[0].id  # type: ignore[index]
    messages += [first.choices[0].message, {"role": "tool", "tool_call_id": call_id, "content": "warm"}]
    client.chat.completions.create(model="llama3.2", messages=messages, tools=TOOLS)  # type: ignore[arg-type]

    events = _model_events(agent_run)
    assert [e.url for e in events] == [f"http://127.0.0.1:{port}/v1/chat/completions"] * 2
    calls = [e.model_call for e in events]
    assert [(c.provider, c.model) for c in calls] == [("openai.chat", "llama3.2")] * 2
    assert [t.name for t in calls[0].tool_calls] == ["get_weather"] and calls[1].text == "Warm."
    assert agent_run.usage.total_tokens == sum(r.input_tokens + r.output_tokens for r in fake_llm.requests)


INNER = """
import os

import openai

TOOLS = TOOLS_JSON


def _calls(agent_run):
    return [e.model_call for e in agent_run.events if e.kind == "model"]


def test_azure(agent_run):
    client = openai.AzureOpenAI(
        azure_endpoint=os.environ["STANDIN"], azure_deployment="prod-4o", api_key="azure-key", api_version="2024-10-21"
    )
    messages = [{"role": "user", "content": "Oslo?"}]
    first = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
    [call] = first.choices[0].message.tool_calls
    messages += [first.choices[0].message, {"role": "tool", "tool_call_id": call.id, "content": "cold"}]
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=TOOLS, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "It is cold."
    calls = _calls(agent_run)
    assert [(c.provider, c.model, c.streamed) for c in calls] == [
        ("openai.chat", "gpt-4o-mini", False), ("openai.chat", "gpt-4o-mini", True)
    ]
    assert [t.name for t in calls[0].tool_calls] == ["get_weather"] and calls[1].text == "It is cold."
    assert calls[0].usage.input_tokens == first.usage.prompt_tokens > 0
    assert calls[1].usage.output_tokens == chunks[-1].usage.completion_tokens > 0
    assert {e.backend for e in agent_run.events if e.kind == "model"} == {EXPECTED}


def test_local_v1(agent_run):
    client = openai.OpenAI(base_url=os.environ["STANDIN"] + "/v1", api_key="ollama")
    answer = client.chat.completions.create(model="qwen2.5:7b", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "It is cold."
    [call] = _calls(agent_run)
    assert (call.provider, call.model) == ("openai.chat", "qwen2.5:7b")
    usage = answer.usage
    assert (call.usage.input_tokens, call.usage.output_tokens) == (usage.prompt_tokens, usage.completion_tokens)
"""


def _standin(conversation: Any) -> Any:
    if conversation.tools and not conversation.tool_results:
        return FakeModel.tool_call("get_weather", city="Oslo")
    return "It is cold."


@needs_unshare
def test_record_against_a_loopback_standin_then_replay_in_a_fresh_namespace(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin = FakeModel().respond(_standin).serve()
    inner = INNER.replace("TOOLS_JSON", json.dumps(TOOLS))
    pytester.makeini(INI)
    try:
        assert standin.loopback_url is not None
        monkeypatch.setenv("STANDIN", standin.loopback_url)
        pytester.makepyfile(test_inner=inner.replace("EXPECTED", '"network"'))
        recorded = pytester.run(sys.executable, "-m", "pytest", "--agent-record", "-q", timeout=240)
        assert recorded.ret == 0, recorded.stdout.str() + recorded.stderr.str()
        assert len(standin.requests) == 3
    finally:
        standin.close()
    [azure] = Path(pytester.path, "cassettes").rglob("test_azure.json")
    urls = [i["request"]["url"] for i in json.loads(azure.read_text())["interactions"]]
    assert all("/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21" in u for u in urls), urls
    pytester.makepyfile(test_inner=inner.replace("EXPECTED", '"cassette"'))
    script = 'ip link set lo up && exec "$0" -m pytest "$@"'
    replayed = pytester.run("unshare", "-n", "sh", "-c", script, sys.executable, "--agent-replay", "-q", timeout=240)
    assert replayed.ret == 0, replayed.stdout.str() + replayed.stderr.str()
    replayed.assert_outcomes(passed=2)
