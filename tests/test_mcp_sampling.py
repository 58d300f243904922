"""MCP sampling through the tap: a server's own request (``sampling/createMessage``) inside a tool call.

A stateful ``MCPServer`` whose tool asks the client's model to summarise (the server sends
``sampling/createMessage`` on the tool call's SSE answer and waits for the client's reply, a POST of
its own). Read whole, the answer would wait for ever for a reply the client cannot send; passed
through as it arrives, the client's ``sampling_callback`` answers, the tool finishes, and the whole
exchange is recorded: the server's request as an event of the call's answer, the client's reply as
a protocol event. Replay plays the server's request to the callback again, with the server gone.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp_inner import project, run

pytest.importorskip("mcp")


INNER = """
import warnings


def writer():
    from mcp.server.mcpserver import Context, MCPServer
    from mcp.types import SamplingMessage, TextContent

    server = MCPServer("writer")

    @server.tool()
    async def summarise(text: str, ctx: Context) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sampling is deprecated by the 2026 revision, not by this one
            asked = [SamplingMessage(role="user", content=TextContent(type="text", text=f"Summarise: {text}"))]
            related = ctx.request_id if os.environ.get("MCP_ON_CALL") else None
            answer = await ctx.session.create_message(asked, max_tokens=20, related_request_id=related)
        return f"summary: {answer.content.text}"

    return server


def test_sampling(agent_run):
    from mcp import Client
    from mcp.types import CreateMessageResult, TextContent

    asked = []

    async def sample(context, params):
        asked.append(params.messages[0].content.text)
        return CreateMessageResult(role="assistant", content=TextContent(type="text", text="short"), model="local")

    async def main():
        async with Client(URL, mode="legacy", sampling_callback=sample) as client:
            return await client.call_tool("summarise", {"text": "a long text"})

    served = serving(writer(), port=PORT) if os.environ.get("MCP_SERVE") else contextlib.nullcontext()
    with served:
        result = asyncio.run(asyncio.wait_for(main(), 30))
    assert result.is_error is False and result.content[0].text == "summary: short"
    assert asked == ["Summarise: a long text"]  # the server's request reached the callback once
    assert [e.tool for e in agent_run.tool_calls] == ["mcp.writer.summarise"]
    labels = [e.label for e in agent_run.events if e.kind == "mcp"]
    assert "mcp.writer (response)" in labels  # the client's reply to the server's request: a protocol event
"""


def _sent(interaction: dict[str, Any]) -> dict[str, Any]:
    return (interaction["request"].get("body") or {}).get("json") or {}


@pytest.mark.parametrize("where", ["GET", "POST"])
def test_sampling_records_then_replays_with_the_server_gone(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The server's request on the session's GET stream, or (related to the call) on the call's answer."""
    if where == "POST":
        monkeypatch.setenv("MCP_ON_CALL", "1")
    project(pytester, monkeypatch, INNER)
    monkeypatch.setenv("MCP_SERVE", "1")
    run(pytester, "--agent-record").assert_outcomes(passed=1)
    path = pytester.path / "cassettes/test_inner/test_sampling.json"
    interactions = json.loads(path.read_text())["interactions"]
    (call,) = [i for i in interactions if _sent(i).get("method") == "tools/call"]
    (stream,) = [i for i in interactions if i["request"]["method"] == "GET"]
    events = [e["data"] for e in call["response"]["body"]["sse"]]
    assert events[-1]["result"]["content"][0]["text"] == "summary: short"
    carrier = call if where == "POST" else stream
    methods = [e["data"].get("method") for e in carrier["response"]["body"]["sse"]]
    assert methods[0] == "sampling/createMessage"  # recorded where the server sent it, as an event
    replies = [_sent(i) for i in interactions if "result" in _sent(i)]
    assert [r["result"]["content"]["text"] for r in replies] == ["short"]  # the client's reply, recorded
    monkeypatch.delenv("MCP_SERVE")
    run(pytester, "--agent-replay").assert_outcomes(passed=1)


STDIO = """
from mcp import Client
from mcp.types import CreateMessageResult, TextContent

PY = os.environ.get("SERVER_PY", sys.executable)  # a missing interpreter in replay: nothing may start


def test_sampling_over_stdio(mcp_stdio, agent_run):
    server = mcp_stdio.server("writer", PY, os.path.join(TESTS, "mcp_writer_stdio.py"))
    asked = []

    async def sample(context, params):
        asked.append(params.messages[0].content.text)
        return CreateMessageResult(role="assistant", content=TextContent(type="text", text="short"), model="local")

    async def main():
        async with Client(server.parameters(), mode="legacy", sampling_callback=sample) as client:
            return await client.call_tool("summarise", {"text": "a long text"})

    result = asyncio.run(asyncio.wait_for(main(), 30))
    assert result.is_error is False and result.content[0].text == "summary: short"
    assert asked == ["Summarise: a long text"]  # the server's request reached the callback once
    assert [e.tool for e in agent_run.tool_calls] == ["mcp.writer.summarise"]
    assert "mcp.writer (response)" in [e.label for e in agent_run.events if e.kind == "mcp"]
"""


def test_sampling_over_the_stdio_proxy_records_then_replays_with_the_server_gone(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stdio proxy (``mcp_stdio``): the server's request is recorded with the call's answer, in order."""
    project(pytester, monkeypatch, STDIO)
    started = pytester.path / "calls.log"
    monkeypatch.setenv("MCP_CALLS", str(started))
    run(pytester, "--agent-record").assert_outcomes(passed=1)
    assert started.read_text().splitlines() == ["started"]
    path = pytester.path / "cassettes/test_inner/test_sampling_over_stdio.json"
    interactions = json.loads(path.read_text())["interactions"]
    (call,) = [i for i in interactions if _sent(i).get("method") == "tools/call"]
    methods = [e["data"].get("method") for e in call["response"]["body"]["sse"]]
    assert methods == ["sampling/createMessage", None]  # the server's request, then the call's answer
    replies = [_sent(i) for i in interactions if "result" in _sent(i)]
    assert [r["result"]["content"]["text"] for r in replies] == ["short"]  # the client's reply, recorded
    started.unlink()
    monkeypatch.setenv("SERVER_PY", "/nonexistent/python")  # replay must not start the server
    run(pytester, "--agent-replay").assert_outcomes(passed=1)
    assert not started.exists()
