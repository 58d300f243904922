"""A Bedrock Converse stand-in on a loopback port, for recording boto3's ``bedrock-runtime`` client.

Real Bedrock cannot be reached from the tests; this answers ``POST /model/{id}/converse`` with the
JSON the Converse API documents and ``/converse-stream`` with AWS event-stream frames, so the real
boto3 client (which checks every frame's CRCs and parses the events itself) can run against it.
Rule: a request offering tools whose last message carries no ``toolResult`` gets a call of the
first tool; anything else gets ``TEXT``.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from pytest_agentops.trace import eventstream

TEXT = "It is cold in Oslo."
USAGE = {"inputTokens": 31, "outputTokens": 9, "totalTokens": 45, "cacheReadInputTokens": 5}


def _turn(request: dict[str, Any]) -> list[dict[str, Any]]:
    tools = request.get("toolConfig", {}).get("tools", [])
    last = (request.get("messages") or [{}])[-1]
    answered = any("toolResult" in block for block in last.get("content", []))
    if tools and not answered:
        name = tools[0]["toolSpec"]["name"]
        return [{"toolUse": {"toolUseId": "tooluse_standin1", "name": name, "input": {"city": "Oslo"}}}]
    return [{"text": TEXT}]


def converse(request: dict[str, Any]) -> dict[str, Any]:
    content = _turn(request)
    stop = "tool_use" if "toolUse" in content[0] else "end_turn"
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": USAGE,
        "metrics": {"latencyMs": 12},
    }


def converse_stream(request: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The events of ``converse(request)``, as ConverseStream sends them (text in two deltas)."""
    [block] = _turn(request)
    events: list[tuple[str, dict[str, Any]]] = [("messageStart", {"role": "assistant"})]
    if "toolUse" in block:
        use = block["toolUse"]
        start = {"toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}
        events.append(("contentBlockStart", {"contentBlockIndex": 0, "start": start}))
        arguments = json.dumps(use["input"])
        for part in (arguments[:5], arguments[5:]):
            events.append(("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": part}}}))
        stop = "tool_use"
    else:
        for part in (TEXT[:6], TEXT[6:]):
            events.append(("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": part}}))
        stop = "end_turn"
    events += [
        ("contentBlockStop", {"contentBlockIndex": 0}),
        ("messageStop", {"stopReason": stop}),
        ("metadata", {"usage": USAGE, "metrics": {"latencyMs": 12}}),
    ]
    return events


def frames(events: list[tuple[str, dict[str, Any]]]) -> bytes:
    headers = {":message-type": "event", ":content-type": "application/json"}
    return b"".join(eventstream.encode({**headers, ":event-type": kind}, json.dumps(e).encode()) for kind, e in events)


class _Handler(BaseHTTPRequestHandler):
    server: Standin

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        parts = self.path.split("?", 1)[0].rstrip("/").split("/")
        self.server.seen.append((unquote(parts[-2]), parts[-1]))
        if parts[-1] == "converse-stream":
            body, kind = frames(converse_stream(request)), "application/vnd.amazon.eventstream"
        elif parts[-1] == "converse":
            body, kind = json.dumps(converse(request)).encode(), "application/json"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.send_header("x-amzn-requestid", "standin-0001")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Standin(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, str]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()
