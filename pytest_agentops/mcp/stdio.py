"""The test's side of ``agentops mcp proxy``: stdio MCP through the one gate, trace and cassette.

``mcp_stdio.server(name, CMD, *ARGS)`` gives the command that launches the proxy (``.command``,
``.args``, ``.parameters()`` for the ``mcp`` SDK's ``StdioServerParameters``). Each proxy connects
to this bridge over a Unix socket; each connection is one client session. Every line the client
writes becomes a request to the server's stable URL ``http://<name>.mcp-stdio.invalid/mcp`` and
takes the path an HTTP MCP message takes: the gate judges it (a denied call is answered with a
tool error and never reaches the server), the cassette answers it, or, while recording, the real
server (started on the first message that needs it) answers and the answer is recorded. One event
per message is written before its answer goes back. Replay never starts the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from pytest_agentops.mcp import messages, servers
from pytest_agentops.mcp.child import Child, ChildFailed

if TYPE_CHECKING:
    from pytest_agentops.tap.routing import Decision, LiveRequest, Tap

_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
_WARM_UP = ("initialize", "notifications/initialized")  # what a server started mid-session must see first


@dataclass
class StdioServer:
    """How to launch one stdio server through the proxy (what the client is configured with)."""

    name: str
    argv: list[str]
    url: str
    command: str
    args: list[str]
    env: dict[str, str] | None = None
    cwd: str | None = None

    def parameters(self) -> Any:
        """The ``mcp`` SDK's ``StdioServerParameters`` for ``stdio_client`` (the mcp extra)."""
        from mcp import StdioServerParameters

        return StdioServerParameters(command=self.command, args=self.args, env=self.env, cwd=self.cwd)


class StdioBridge:
    """One test's socket for its proxies; ``server(...)`` declares a server and its launch command."""

    def __init__(self, tap: Tap) -> None:
        self.tap = tap
        self.servers: dict[str, StdioServer] = {}
        self._dir = tempfile.mkdtemp(prefix="agentops-mcp-")  # 0700: only this user reaches the socket
        self.path = os.path.join(self._dir, "bridge.sock")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(16)
        self._sessions: list[Session] = []
        self._closed = False
        threading.Thread(target=self._accept, name="agentops-mcp-stdio", daemon=True).start()

    def server(
        self,
        name: str,
        command: str,
        *args: str,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        simulator: bool = False,
    ) -> StdioServer:
        """Declare the stdio server ``name`` (``command args``); returns the proxy's launch command.

        ``simulator=True`` (``agentops sim serve NAME --mcp --stdio``): its tools keep their names.
        """
        key = servers.normalise(name)
        argv = [command, *args]
        url = f"http://{key}.mcp-stdio.invalid/mcp"
        servers.register_mcp_server(name, url)
        if simulator:
            servers.register_simulator(url)
        proxy = ["-m", "pytest_agentops.mcp.proxy", "--name", key, "--bridge", self.path, "--", *argv]
        server = StdioServer(key, argv, url, sys.executable, proxy, env, cwd)
        self.servers[key] = server
        return server

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for session in self._sessions:
            session.end()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._open, args=(conn,), daemon=True).start()

    def _open(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as lines:
            hello = _json(lines.readline())
            server = self.servers.get(str(hello.get("name"))) if isinstance(hello, dict) else None
            if server is None:
                known = ", ".join(self.servers) or "none"
                text = f"no stdio server {hello!r} in this test (declared: {known})"
                refusal = {"agentops": "error", "message": text}
                conn.sendall(json.dumps(refusal).encode() + b"\n")
                return
            conn.sendall(b'{"agentops": "ok"}\n')
            session = Session(self.tap, server, conn)
            self._sessions.append(session)
            try:
                session.run(lines)
            finally:
                session.end()


@dataclass
class Session:
    """One client session: its messages in, its answers out, and (while recording) its server."""

    tap: Tap
    server: StdioServer
    conn: socket.socket
    warm_up: list[bytes] = field(default_factory=list)
    child: Child | None = None
    _write: threading.Lock = field(default_factory=threading.Lock)
    _start: threading.Lock = field(default_factory=threading.Lock)

    def run(self, lines: IO[bytes]) -> None:
        """Notifications in order; requests each in a thread, so a server request inside a call can be answered."""
        workers = []
        for line in iter(lines.readline, b""):
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            if _has_id(line):
                worker = threading.Thread(target=self.handle, args=(line,), daemon=True)
                worker.start()
                workers.append(worker)
            else:
                self.handle(line)
        for worker in workers:
            worker.join(timeout=10)

    def end(self) -> None:
        if self.child is not None:
            self.child.stop()

    def emit(self, line: bytes) -> None:
        with self._write, contextlib.suppress(OSError):  # a client gone ends its session with the connection
            self.conn.sendall(line.rstrip(b"\r\n") + b"\n")

    def handle(self, line: bytes) -> None:
        from pytest_agentops.tap import loopback

        live = loopback.live_request("POST", self.server.url, _HEADERS, line)
        decision = self.tap.decide(live)
        if not decision.traced:  # not governed here: the server answers, nothing is traced
            self._direct(line, live)
        elif decision.reply is not None:
            self.tap.answer(decision, decision.reply)
            if live.mcp is not None and getattr(live.mcp, "method", "") in _WARM_UP:
                self.warm_up.append(line)
            for item in _messages_of(decision.reply):
                self.emit(item)
        else:
            self._from_server(decision, live, line)

    def _from_server(self, decision: Decision, live: LiveRequest, line: bytes) -> None:
        """Recording: the real server answers; the answer (and what came with it) is recorded."""
        message_id = _json(line).get("id") if _has_id(line) else None
        try:
            child = self._child()
            if message_id is None:
                child.send(line)
                response = _response(202, "", b"")
            else:
                answer, extras = child.request(line, message_id)
                response = _response(200, *_body(answer, extras))
        except ChildFailed as exc:
            decision.record = False
            self.tap.upstream_failed(live, str(exc))
            error = {"jsonrpc": "2.0", "id": message_id, "error": {"code": -32000, "message": str(exc)}}
            body = json.dumps(error).encode()
            self.tap.answer(decision, _response(502, "application/json", body))
            if message_id is not None:
                self.emit(body)
            return
        self.tap.answer(decision, response)
        if message_id is not None:
            self.emit(answer)  # what came with it was handed on as it arrived

    def _direct(self, line: bytes, live: LiveRequest) -> None:
        try:
            child = self._child()
            if _has_id(line):
                answer, _ = child.request(line, _json(line).get("id"))
                self.emit(answer)
            else:
                child.send(line)
        except ChildFailed as exc:
            self.tap.upstream_failed(live, str(exc))

    def _child(self) -> Child:
        with self._start:
            if self.child is None:
                child = Child(self.server.argv, _env(self.server.env), self.server.cwd, self.emit)
                child.start()
                for earlier in self.warm_up:  # the handshake the cassette answered, so it knows the session
                    if _has_id(earlier):
                        child.request(earlier, _json(earlier).get("id"))
                    else:
                        child.send(earlier)
                self.child = child
            return self.child


def _env(extra: dict[str, str] | None) -> dict[str, str] | None:
    return None if extra is None else {**os.environ, **extra}


def _json(line: bytes) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return {}


def _has_id(line: bytes) -> bool:
    value = _json(line)
    return isinstance(value, dict) and value.get("id") is not None and "method" in value


def _body(answer: bytes, extras: list[bytes]) -> tuple[str, bytes]:
    """One answer as JSON; with the server's messages that came before it, as SSE events in order."""
    if not extras:
        return "application/json", answer
    events = b"".join(b"event: message\ndata: " + item + b"\n\n" for item in [*extras, answer])
    return "text/event-stream", events


def _response(status: int, content_type: str, body: bytes) -> dict[str, Any]:
    headers = {"content-type": [content_type]} if content_type else {}
    return {"status": {"code": status, "message": ""}, "headers": headers, "body": {"string": body}}


def _messages_of(reply: dict[str, Any]) -> list[bytes]:
    """The JSON-RPC messages a tap reply holds (a recorded answer, a denial, a miss), as lines."""
    raw = reply["body"]["string"] or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    content_type = ",".join(reply["headers"].get("content-type", []))
    return [json.dumps(item, separators=(",", ":")).encode() for item in messages.answers(raw, content_type)]
