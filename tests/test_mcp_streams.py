"""A long-lived MCP stream through the tap: the previous protocol revision's ``GET /mcp`` SSE stream.

mcp 2.x's client in ``mode="legacy"`` (initialize, session id, a GET stream for server-initiated
messages) against a stateful ``MCPServer`` whose tool sends ``notifications/tools/list_changed``:
that notification travels on the GET stream, which stays open for the whole session. Read whole,
the stream would never reach the client; passed through as it arrives, the client gets the
notification, the stream is recorded as an event list when the client closes it, and replay plays
it back (a reopened stream after that is answered 405, the spec's "no stream", not a miss).
"""

from __future__ import annotations

import json

import pytest
from mcp_inner import project, run

pytest.importorskip("mcp")


INNER = """
def news():
    from mcp.server.mcpserver import Context, MCPServer

    server = MCPServer("news")

    @server.tool()
    async def publish(title: str, ctx: Context) -> str:
        # Tell every client the tool list changed: a message on the GET stream.
        await ctx.session.send_tool_list_changed()
        return f"published {title}"

    return server


def test_notification_on_the_get_stream(agent_run):
    from mcp import Client

    url = f"http://127.0.0.1:{PORT}/mcp"
    changed = asyncio.Event()

    async def on_message(message):
        if getattr(message, "method", "") == "notifications/tools/list_changed":
            changed.set()

    async def main():
        async with Client(url, mode="legacy", message_handler=on_message) as client:
            ok = await client.call_tool("publish", {"title": "x"})
            await asyncio.wait_for(changed.wait(), 10)  # it came on the GET stream, while that stays open
            return ok

    served = serving(news(), port=PORT) if os.environ.get("MCP_SERVE") else contextlib.nullcontext()
    with served:
        ok = asyncio.run(asyncio.wait_for(main(), 30))
    assert ok.content[0].text == "published x"
    streams = [e for e in agent_run.events if e.method == "GET"]
    assert streams and streams[0].kind == "mcp" and streams[0].status == 200
"""


def test_get_stream_passes_through_and_replays(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    project(pytester, monkeypatch, INNER)
    monkeypatch.setenv("MCP_SERVE", "1")
    run(pytester, "--agent-record").assert_outcomes(passed=1)
    path = pytester.path / "cassettes/test_inner/test_notification_on_the_get_stream.json"
    cassette = json.loads(path.read_text())
    (stream,) = [i for i in cassette["interactions"] if i["request"]["method"] == "GET"]
    events = stream["response"]["body"]["sse"]  # stored as an event list, not as text
    assert [e["data"]["method"] for e in events] == ["notifications/tools/list_changed"]
    monkeypatch.delenv("MCP_SERVE")
    run(pytester, "--agent-replay").assert_outcomes(passed=1)
