"""Live sessions behind a replayed MCP handshake, so ``--agent-record=new`` can add calls to a session.

Under the handshake revisions a server hands out an ``Mcp-Session-Id`` in its ``initialize`` answer
and refuses any later request that does not carry one it issued. In mode new the recorded handshake
replays, so the client holds the *recorded* session id, which the live server never saw: a new call
sent on as it is gets ``404 Session not found``. So the first request of such a session that the
cassette cannot answer opens a live session (the recorded ``initialize`` request sent again, then
``notifications/initialized``), goes out under the live id, and comes back, to the client and to the
cassette, under the recorded one: the cassette stays one consistent session and replays offline.

The live server has not seen the replayed calls (its state starts from the handshake); a test whose
new call depends on what earlier calls wrote must be re-recorded whole with ``--agent-record=all``.
A reopened GET stream on such a session is answered 405 (no stream, as the spec allows): the live
server's stream belongs to the live session, not to the replayed one.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_agentops.mcp.messages import Message

if TYPE_CHECKING:
    from pytest_agentops.tap.routing import LiveRequest

SESSION_HEADER = "mcp-session-id"
_INITIALIZED = b'{"jsonrpc":"2.0","method":"notifications/initialized"}'


class SessionFailed(RuntimeError):
    """No live session could be opened for a replayed one (the message says why and what to do)."""


@dataclass
class _Replayed:
    """A session the cassette's handshake handed out: how to open a live one like it."""

    url: str
    recorded_id: str
    initialize: bytes
    headers: dict[str, str]
    live_id: str | None = None


class Sessions:
    """One test's replayed MCP sessions (record mode new only), keyed by URL and recorded session id."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], _Replayed] = {}
        self._lock = threading.Lock()

    def replayed(self, live: LiveRequest, reply: dict[str, Any]) -> None:
        """The cassette answered ``live``: note a session its ``initialize`` opened; end the live twin
        of a session whose recorded DELETE just replayed."""
        message = live.mcp
        if not isinstance(message, Message):
            return
        if message.method == "initialize":
            recorded = _header(reply.get("headers", {}), SESSION_HEADER)
            if recorded:
                headers = {k: v for k, v in live.headers.items() if k != SESSION_HEADER}
                self._known[(live.url, recorded)] = _Replayed(live.url, recorded, live.body, headers)
        elif message.http_method == "DELETE":
            session = self._known.pop((live.url, live.headers.get(SESSION_HEADER, "")), None)
            if session is not None and session.live_id is not None:
                _end(session)

    def answer(self, live: LiveRequest) -> dict[str, Any] | None:
        """The live server's answer to ``live`` under a live session, as the replayed session's; None when
        ``live`` belongs to no replayed session (it goes to the network as it is)."""
        session = self._known.get((live.url, live.headers.get(SESSION_HEADER, "")))
        message = live.mcp
        if session is None or not isinstance(message, Message):
            return None
        if message.http_method == "GET":
            headers = {"allow": ["POST, DELETE"], "content-length": ["0"]}
            status = {"code": 405, "message": "Method Not Allowed"}
            return {"status": status, "headers": headers, "body": {"string": b""}}
        with self._lock:
            if session.live_id is None:
                session.live_id = _open(session, live)
        reply = _send(live.method, live.url, {**live.headers, SESSION_HEADER: session.live_id}, live.body)
        if SESSION_HEADER in reply["headers"]:
            reply["headers"][SESSION_HEADER] = [session.recorded_id]
        return reply


def _open(session: _Replayed, live: LiveRequest) -> str:
    """A live session: the recorded ``initialize`` sent again, then ``notifications/initialized``."""
    why = ""
    try:
        reply = _send("POST", session.url, session.headers, session.initialize)
        live_id = _header(reply["headers"], SESSION_HEADER)
        if live_id:
            _send("POST", session.url, {**session.headers, SESSION_HEADER: live_id}, _INITIALIZED)
            return live_id
        why = f"it answered {reply['status']['code']} with no {SESSION_HEADER} header"
    except (OSError, http.client.HTTPException) as exc:
        why = f"{type(exc).__name__}: {exc}"
    raise SessionFailed(
        f"--agent-record=new: {live.method} {live.url} ({_what(live)}) belongs to MCP session "
        f"{session.recorded_id!r}, which the cassette's handshake opened and the live server never saw; "
        f"opening a live session by sending the recorded initialize again failed ({why}). "
        "Start the server, or re-record the whole session with --agent-record=all."
    )


def _end(session: _Replayed) -> None:
    assert session.live_id is not None
    with contextlib.suppress(OSError, http.client.HTTPException):  # the server gone: its session went too
        _send("DELETE", session.url, {**session.headers, SESSION_HEADER: session.live_id}, b"")


def _send(method: str, url: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    from pytest_agentops.tap.routing import LiveRequest, forward

    origin = LiveRequest(method, url, headers, body).origin
    return forward(LiveRequest(method, url, headers, body), origin)


def _header(headers: dict[str, Any], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            values = [value] if isinstance(value, str) else list(value)
            return str(values[0]) if values else ""
    return ""


def _what(live: LiveRequest) -> str:
    message = live.mcp
    if isinstance(message, Message) and message.is_call:
        return f"tools/call {message.tool} {json.dumps(message.arguments)[:80]}"
    return message.method if isinstance(message, Message) else "MCP"
