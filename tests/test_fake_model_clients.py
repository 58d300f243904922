"""The fake model on a real loopback port (subprocesses), outside pytest, and behind LangGraph/LangChain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from typing import Any

import forkrun
import pytest

from pytest_agentops.backends.model import FakeModel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SUBPROCESS_AGENT = textwrap.dedent(
    """
    import json, os, urllib.request
    import anthropic, openai

    out = {}
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}}}]
    client = openai.OpenAI()  # OPENAI_BASE_URL / OPENAI_API_KEY from the environment
    first = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "find A1"}], tools=tools)
    call = first.choices[0].message.tool_calls[0]
    out["openai_call"] = [call.function.name, json.loads(call.function.arguments)]
    stream = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "stream please"}], stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    out["openai_stream"] = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    out["openai_usage"] = [chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens]

    claude = anthropic.Anthropic()  # ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY
    with claude.messages.stream(model="claude-sonnet-4", max_tokens=50,
                                messages=[{"role": "user", "content": "hi"}]) as s:
        out["anthropic_stream"] = "".join(s.text_stream)

    # a plain HTTP client: the raw SSE bytes as they come off the socket
    request = urllib.request.Request(
        os.environ["OPENAI_BASE_URL"] + "/chat/completions", method="POST",
        data=json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": "raw"}]}).encode(),
        headers={"content-type": "application/json"})
    with urllib.request.urlopen(request) as response:
        out["raw_content_type"] = response.headers["content-type"]
        out["raw_lines"] = [line.decode().rstrip("\\n") for line in response if line.strip()]
    print(json.dumps(out))
    """
)


def run_python(code: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run CODE as an agent in a process of its own (forked from the warm interpreter: its SDKs are imported)."""
    environment = {**os.environ, **(env or {}), "PYTHONPATH": ROOT}
    for name in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL") if env is None else ():
        environment.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="agent-") as folder:
        script = os.path.join(folder, "agent.py")
        with open(script, "w", encoding="utf-8") as fh:
            fh.write(code)
        done = forkrun.run([sys.executable, script], cwd=folder, env=environment, timeout=60)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_subprocess_agent_reaches_the_loopback_fake(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script(
        [fake_llm.tool_call("lookup", id="A1"), "streamed over a socket", "anthropic over a socket", "raw bytes"]
    )
    env = fake_llm.env()
    assert fake_llm.loopback_url and fake_llm.loopback_url.startswith("http://127.0.0.1:")
    out = run_python(SUBPROCESS_AGENT, env)

    assert out["openai_call"] == ["lookup", {"id": "A1"}]
    assert out["openai_stream"] == "streamed over a socket"
    assert out["openai_usage"] == [2, 4]  # "stream please" / "streamed over a socket"
    assert out["anthropic_stream"] == "anthropic over a socket"
    assert out["raw_content_type"].startswith("text/event-stream")
    assert out["raw_lines"][0].startswith('data: {"id":"chatcmpl-fake0003","object":"chat.completion.chunk"')
    assert out["raw_lines"][-1] == "data: [DONE]"
    assert all(r.served == "loopback" for r in fake_llm.requests)

    # No tap saw the subprocess's calls; the fake traced them in this test's run itself.
    assert [e.backend for e in agent_run.events] == ["fake_model"] * 4
    assert [(c.provider, c.usage.input_tokens, c.usage.output_tokens) for c in agent_run.model_calls] == [
        ("openai.chat", 2 + 1 + 39, 1 + 9),  # "find A1" + tool "lookup" + its schema; lookup {"id":"A1"}
        ("openai.chat", 2, 4),
        ("anthropic.messages", 1, 4),
        ("openai.chat", 0, 0),  # a stream without stream_options.include_usage carries no usage, as the API's
    ]
    assert [(r.input_tokens, r.output_tokens) for r in fake_llm.requests][3] == (1, 2)  # what it would have cost


def test_in_process_client_on_the_loopback_url_stays_in_process(fake_llm: FakeModel, agent_run: Any) -> None:
    import httpx

    fake_llm.serve().script(["hi"])
    assert fake_llm.loopback_url is not None
    response = httpx.post(
        fake_llm.loopback_url + "/v1/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "x"}]},
    )
    assert response.json()["choices"][0]["message"]["content"] == "hi"
    assert fake_llm.last_request.served == "in-process"
    assert [e.backend for e in agent_run.events] == ["fake_model"]


OUTSIDE_PYTEST = textwrap.dedent(
    """
    import json
    import openai
    from pytest_agentops.backends.model import FakeModel

    fake = FakeModel().script(["in-process, no pytest", "default host"])
    with fake.intercept() as run:
        client = openai.OpenAI(base_url=fake.openai_base_url, api_key="k")
        a = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "one two"}])
        fake.serve_default_hosts(anthropic=False)
        b = openai.OpenAI().chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    fake.close()
    print(json.dumps({
        "texts": [a.choices[0].message.content, b.choices[0].message.content],
        "backends": [e.backend for e in run.events],
        "usage": [[c.usage.input_tokens, c.usage.output_tokens] for c in run.model_calls],
    }))
    """
)


def test_fake_model_outside_pytest_with_intercept() -> None:
    environment = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    done = subprocess.run(
        [sys.executable, "-c", OUTSIDE_PYTEST],
        env={**environment, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {
        "texts": ["in-process, no pytest", "default host"],
        "backends": ["fake_model", "fake_model"],
        "usage": [[2, 6], [1, 2]],  # "in-process, no pytest": in - process , no pytest
    }


# ---- LangGraph / LangChain ---------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")  # langgraph 1.x; still the prebuilt agent
def test_langgraph_react_agent_runs_a_tool_loop(fake_llm: FakeModel, agent_run: Any) -> None:
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI
    from langgraph.prebuilt import create_react_agent

    looked_up: list[str] = []

    @tool
    def lookup_order(order_id: str) -> str:
        """Look up an order's shipping status."""
        looked_up.append(order_id)
        return f"order {order_id}: shipped on 2025-01-02"

    fake_llm.script([fake_llm.tool_call("lookup_order", order_id="A1"), "Order A1 shipped on 2 January."])
    model = ChatOpenAI(model="gpt-4o-mini", base_url=fake_llm.openai_base_url, api_key="sk-test")  # type: ignore[arg-type]
    agent = create_react_agent(model, [lookup_order])
    result = agent.invoke({"messages": [("user", "Where is order A1?")]})

    assert looked_up == ["A1"]  # the tool really ran
    assert result["messages"][-1].content == "Order A1 shipped on 2 January."
    second = fake_llm.requests[1]
    assert [m.role for m in second.messages] == ["user", "assistant", "tool"]
    assert second.messages[2].name == "lookup_order"
    assert second.messages[2].text == "order A1: shipped on 2025-01-02"
    assert [t.name for t in second.tools] == ["lookup_order"]
    assert [len(c.tool_calls) for c in agent_run.model_calls] == [1, 0]
    assert agent_run.usage.total_tokens == sum(r.input_tokens + r.output_tokens for r in fake_llm.requests)


def test_langchain_streaming_chat_model_with_tool_calls(fake_llm: FakeModel, agent_run: Any) -> None:
    from langchain_openai import ChatOpenAI

    fake_llm.script([fake_llm.reply("Looking.", [fake_llm.tool_call("lookup_order", order_id="B2")])])
    model = ChatOpenAI(
        model="gpt-4o",
        base_url=fake_llm.openai_base_url,
        api_key="sk-test",
        streaming=True,
        stream_usage=True,  # type: ignore[arg-type]
    )
    tools: Any = [
        {
            "type": "function",
            "function": {
                "name": "lookup_order",
                "parameters": {
                    "type": "object",
                    "properties": {"order_id": {"type": "string"}},
                    "required": ["order_id"],
                },
            },
        }
    ]
    message = model.bind_tools(tools).invoke("Where is B2?")
    assert message.content == "Looking."
    assert message.tool_calls[0]["name"] == "lookup_order" and message.tool_calls[0]["args"] == {"order_id": "B2"}  # type: ignore[attr-defined]
    assert message.usage_metadata is not None  # type: ignore[attr-defined]
    usage = message.usage_metadata  # type: ignore[attr-defined]
    call = agent_run.model_calls[0]
    assert call.streamed and (usage["input_tokens"], usage["output_tokens"]) == (
        call.usage.input_tokens,
        call.usage.output_tokens,
    ) == (fake_llm.requests[0].input_tokens, fake_llm.requests[0].output_tokens)


# ---- pydantic-ai -------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_pydantic_ai_agent_runs_a_tool_loop(fake_llm: FakeModel, agent_run: Any, provider: str) -> None:
    from pydantic_ai import Agent

    if provider == "openai":
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        model: Any = OpenAIChatModel("gpt-4o", provider=OpenAIProvider(base_url=fake_llm.openai_base_url, api_key="k"))
    else:
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        model = AnthropicModel(
            "claude-sonnet-4-0", provider=AnthropicProvider(base_url=fake_llm.anthropic_base_url, api_key="k")
        )
    agent = Agent(model, system_prompt="You track parcels.")
    tracked: list[str] = []

    @agent.tool_plain
    def track(parcel: str) -> str:
        """Where a parcel is."""
        tracked.append(parcel)
        return f"{parcel} is in Lyon"

    fake_llm.script([fake_llm.tool_call("track", parcel="P-7"), "P-7 is in Lyon."])
    result = agent.run_sync("Where is P-7?")
    assert result.output == "P-7 is in Lyon."
    assert tracked == ["P-7"]
    second = fake_llm.requests[1]
    assert [m.role for m in second.messages] == ["system", "user", "assistant", "tool"]
    assert second.messages[3].text == "P-7 is in Lyon" and second.messages[3].name == "track"
    usage = result.usage
    assert (
        (usage.input_tokens, usage.output_tokens)
        == (
            sum(r.input_tokens for r in fake_llm.requests),
            sum(r.output_tokens for r in fake_llm.requests),
        )
        == (agent_run.usage.input_tokens, agent_run.usage.output_tokens)
    )


def test_a_script_that_raises_answers_500_on_loopback_naming_the_error() -> None:
    """A bug in a respond() function reaches a socket client as a 500 that names it, not a dropped connection."""
    import http.client
    from urllib.parse import urlsplit

    from vcr.patch import force_reset

    fake = FakeModel()

    def respond(conversation: Any) -> str:
        raise ZeroDivisionError("division by zero")

    fake.respond(respond)
    url = urlsplit(fake.serve().loopback_url or "")
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    try:
        with force_reset():  # a real socket, as a subprocess agent would open
            conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
            conn.request("POST", "/v1/chat/completions", body=body, headers={"content-type": "application/json"})
            response = conn.getresponse()
            status, payload = response.status, json.loads(response.read())
            conn.close()
    finally:
        fake.close()
    assert status == 500
    assert "ZeroDivisionError: division by zero" in payload["error"]["message"]
    assert [type(e) for e in fake.script_errors] == [ZeroDivisionError]
