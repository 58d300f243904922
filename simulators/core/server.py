"""A real loopback HTTP server around ``Simulator.handle()``.

For clients that cannot be intercepted in-process: SDKs pinned to a URL, subprocesses,
non-Python agents. Same instance, same state: the in-process and loopback views agree.
A ``drop``/``timeout`` fault closes the socket without writing a byte, which every HTTP
client reports as a connection error.

An application embedding the simulator can put a ``front`` before it (the pytest plugin installs
its policy gate and trace there, so a request over the socket takes the same path as an in-process
one): a callable given each request and the server's own way of serving it. This package never
imports the application; the application hands the callable in.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulators.core.simulator import Simulator

# (status, headers, body) to send, or None to close the connection without a reply (a fault).
Answer = tuple[int, Mapping[str, str], bytes] | None
# The simulator itself: (method, url, headers, body) -> answer.
Direct = Callable[[str, str, dict[str, str], bytes], Answer]
# What stands in front of it: the request, and ``Direct`` to call when it lets the request through.
Front = Callable[[str, str, dict[str, str], bytes, Direct], Answer]


class LoopbackHandler(BaseHTTPRequestHandler):
    """Shared plumbing of the loopback servers (simulators, fake model): body reading, no Nagle, quiet."""

    protocol_version = "HTTP/1.1"
    server: Any

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes; without this, Nagle + delayed ACK
        # add ~40 ms to every keep-alive response
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""


class _Handler(LoopbackHandler):
    server: _Server

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.send_error(400, "Bad request body")
            return
        server = self.server
        url = server.base_url + self.path
        headers = dict(self.headers.items())
        if server.front is None:
            answer = server.direct(self.command, url, headers, body)
        else:
            answer = server.front(self.command, url, headers, body, server.direct)
        if answer is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, reply_headers, data = answer
        self.send_response(status)
        for name, value in reply_headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 drops SYNs when a burst of clients connects at once
    sim: Simulator
    base_url: str
    front: Front | None = None

    def direct(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        resp = self.sim.handle(method, url, headers, body)
        return None if resp.fault is not None else (resp.status, resp.headers, resp.body)


class SimServer:
    """``SimServer(sim).start()`` -> serving on ``base_url`` until ``stop()``.

    ``front``: called for every request instead of the simulator, with the simulator as its last
    argument (see the module docstring); None serves every request directly.
    """

    def __init__(self, sim: Simulator, host: str = "127.0.0.1", port: int = 0, *, front: Front | None = None) -> None:
        self.sim = sim
        self.host = host
        self.port = port
        self.front = front
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("server is not running; call start() first")
        return self._server.base_url

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> SimServer:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.sim = self.sim
        server.front = self.front
        host, port = server.server_address[:2]
        self.port = int(port)
        server.base_url = f"http://{host!s}:{self.port}"
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sim-{self.sim.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self._server.base_url if self._server else "stopped"
        return f"<SimServer {self.sim.name} {where}>"
