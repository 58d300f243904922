"""A request the cassette cannot answer: why (the nearest recorded request and its differences),
the miss on the run, and the reply the client gets (MCP's own form for an MCP message).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_agentops.cassette.matching import explain as differences
from pytest_agentops.trace.replies import no_retry
from pytest_agentops.trace.run import Miss

if TYPE_CHECKING:
    from pytest_agentops.cassette.format import Cassette
    from pytest_agentops.tap.request import LiveRequest
    from pytest_agentops.tap.routing import Tap

MISS_STATUS = 404


def reply(tap: Tap, live: LiveRequest) -> dict[str, Any]:
    """The answer to a request no recording holds: the miss on the run, and the don't-retry reply."""
    if live.mcp is not None:  # an MCP GET stream played out: 405 (no stream) is the spec's answer, not a miss
        from pytest_agentops.mcp.gate import unplayed_stream

        ended = unplayed_stream(live, tap.cassette.recorded_count(live.key))
        if ended is not None:
            return ended
    tap.redactor.headers_dict({k: [v] for k, v in live.headers.items()})  # learn their secrets (echoes)
    detail = tap.redactor.text(explain(tap.cassette, live))
    if live.mcp is not None:  # a tool never called while recording: the line that tells it all, first
        from pytest_agentops.mcp.gate import unrecorded_tool

        note = unrecorded_tool(live, tap.cassette.interactions)
        detail = f"{note}\n{detail}" if note else detail
    url = tap.redactor.url(live.url)  # the miss text reaches the terminal, the trace and the reports
    tap.run.misses.append(Miss(f"{live.method} {url}", str(tap.cassette.path), detail))
    message = f"pytest-agentops: no recorded answer for {live.method} {url}\n{detail}"
    if live.mcp is not None:  # MCP's form: the client reads a tool error (or a JSON-RPC error)
        from pytest_agentops.mcp.gate import miss_reply

        return miss_reply(live, message)
    error = {"error": {"type": "agentops_cassette_miss", "code": "cassette_miss", "message": message}}
    headers, body = no_retry(error, ("x-agentops-miss", "1"))
    return {
        "status": {"code": MISS_STATUS, "message": "Not Recorded"},
        "headers": {name: [value] for name, value in headers.items()},
        "body": {"string": body},
    }


def explain(cassette: Cassette, live: LiveRequest) -> str:
    """Why ``cassette`` has no answer for ``live``: no file, played out, or the nearest recorded
    request and how it differs."""
    if not cassette.existed and not len(cassette):
        return (
            f"cassette {cassette.path} does not exist.\nRecord it with: pytest --agent-record (adds what is missing)."
        )
    recorded = cassette.recorded_count(live.key)
    if recorded:
        return (
            f"cassette {cassette.path} holds this request {recorded} time(s) and all were already "
            f"played; the agent sent it once more than when it was recorded.\n"
            "Re-record with: pytest --agent-record=all"
        )
    from pytest_agentops.cassette.format import request_value

    candidates = (
        (i, it["request"]["method"], it["request"]["url"], request_value(it["request"].get("body")))
        for i, it in enumerate(cassette.interactions)
    )
    index, lines = differences(live.method, live.match_url, live.match_value, candidates, cassette.config)
    if index is None:
        return f"cassette {cassette.path} holds no interactions.\nRecord with: pytest --agent-record"
    shown = lines[:12] + ([f"... and {len(lines) - 12} more differences"] if len(lines) > 12 else [])
    return (
        f"nearest recorded request in {cassette.path} is interactions[{index}]; it differs:\n  "
        + "\n  ".join(shown)
        + "\nRe-record with: pytest --agent-record (new requests) or --agent-record=all (everything)."
    )
