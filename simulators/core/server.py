"""A real loopback HTTP server around ``Simulator.handle()``.

For clients that cannot be intercepted in-process: SDKs pinned to a URL, subprocesses,
non-Python agents. Same instance, same state: the in-process and loopback views agree.
A ``drop``/``timeout`` fault closes the socket without writing a byte, which every HTTP
client reports as a connection error.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulators.core.simulator import Simulator


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
        sim = self.server.sim
        url = self.server.base_url + self.path
        resp = sim.handle(self.command, url, dict(self.headers.items()), body)
        if resp.fault is not None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 drops SYNs when a burst of clients connects at once
    sim: Simulator
    base_url: str


class SimServer:
    """``SimServer(sim).start()`` -> serving on ``base_url`` until ``stop()``."""

    def __init__(self, sim: Simulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sim = sim
        self.host = host
        self.port = port
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
