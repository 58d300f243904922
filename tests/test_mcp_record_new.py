"""``--agent-record=new`` on a stateful MCP session (the handshake revisions: ``initialize`` hands out
an ``Mcp-Session-Id`` every later request carries).

Recorded once, then re-recorded in mode new with one more tool call: the old interactions replay
(the handshake too, so the client holds the recorded session id), and the new call must reach a live
server that never saw that handshake. The tap opens a live session for it (the recorded handshake
sent again), sends the call under the live session id, and hands the client and the cassette the
recorded one, so the cassette stays one session and replays offline.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp_inner import project, run

pytest.importorskip("mcp")


INNER = """
def notes():
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

    server = MCPServer("notes")
    kept = []

    @server.tool()
    def add_note(text: str) -> str:
        kept.append(text)
        return f"noted {text} ({len(kept)} notes)"

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def count_notes() -> str:
        return f"{len(kept)} notes"

    return server


def test_session(agent_run):
    calls = [("add_note", {"text": "first"}), ("count_notes", {})]
    if os.environ.get("MCP_EXTRA"):
        calls.append(("add_note", {"text": "extra"}))

    async def main():
        async with Client(URL, mode="legacy") as client:
            return [await client.call_tool(name, args) for name, args in calls]

    from mcp import Client

    served = serving(notes(), port=PORT) if os.environ.get("MCP_SERVE") else contextlib.nullcontext()
    with served:
        results = asyncio.run(asyncio.wait_for(main(), 30))
    texts = [r.content[0].text for r in results]
    assert all(not r.is_error for r in results), texts
    assert texts[:2] == ["noted first (1 notes)", "1 notes"]
    if os.environ.get("MCP_EXTRA"):
        assert texts[2].startswith("noted extra")
    assert [e.tool for e in agent_run.tool_calls] == [f"mcp.notes.{n}" for n, _ in calls]
"""


def _session_ids(interactions: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for item in interactions:
        for where in (item["request"]["headers"], item["response"]["headers"]):
            for name, value in where.items():
                if name.lower() == "mcp-session-id":
                    found.update([value] if isinstance(value, str) else value)
    return found


def test_record_new_adds_a_call_to_a_recorded_session(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(pytester, monkeypatch, INNER)
    monkeypatch.setenv("MCP_SERVE", "1")
    run(pytester, "--agent-record").assert_outcomes(passed=1)
    path = pytester.path / "cassettes/test_inner/test_session.json"
    first = json.loads(path.read_text())["interactions"]
    (recorded_session,) = _session_ids(first)

    monkeypatch.setenv("MCP_EXTRA", "1")
    again = run(pytester, "--agent-record=new")
    again.assert_outcomes(passed=1)
    second = json.loads(path.read_text())["interactions"]
    bodies = [(i["request"].get("body") or {}).get("json") or {} for i in second]
    calls = [b["params"] for b in bodies if b.get("method") == "tools/call"]
    assert [c["arguments"].get("text") for c in calls] == ["first", None, "extra"]
    assert second[: len(first)] == first  # the old interactions kept as they were
    assert _session_ids(second) == {recorded_session}  # the new call is filed under the recorded session

    monkeypatch.delenv("MCP_SERVE")  # the server gone: the three calls replay
    run(pytester, "--agent-replay").assert_outcomes(passed=1)


def test_record_new_without_the_server_names_the_session_and_the_way_out(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(pytester, monkeypatch, INNER)
    monkeypatch.setenv("MCP_SERVE", "1")
    run(pytester, "--agent-record").assert_outcomes(passed=1)
    path = pytester.path / "cassettes/test_inner/test_session.json"
    before = path.read_text()
    monkeypatch.delenv("MCP_SERVE")  # no live server for the new call
    monkeypatch.setenv("MCP_EXTRA", "1")
    failed = run(pytester, "--agent-record=new")
    failed.assert_outcomes(failed=1)
    out = failed.stdout.str()
    assert "tools/call add_note" in out and "belongs to MCP session" in out
    assert "ConnectionRefusedError" in out and "--agent-record=all" in out
    assert path.read_text() == before  # nothing saved from the failed call
