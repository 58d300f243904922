"""The fake model on a real loopback port (``FakeModel.serve()``), for subprocesses and other languages."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import ThreadingHTTPServer

from pytest_agentops.backends.model.wire import Rendered
from simulators.core.server import LoopbackHandler

Serve = Callable[[str, str, dict[str, str], bytes], Rendered]


class _Handler(LoopbackHandler):
    server: _Server

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.send_error(400, "Bad request body")
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, reply_headers, chunks = self.server.serve(self.command, self.server.base_url + self.path, headers, body)
        self.send_response(status)
        for name, value in reply_headers.items():
            self.send_header(name, value)
        streamed = reply_headers.get("content-type", "").startswith("text/event-stream")
        if streamed:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in chunks:  # one write per SSE event, as a real server streams them
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        else:
            data = b"".join(chunks)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    serve: Serve
    base_url: str


class LoopbackServer:
    """A ``ThreadingHTTPServer`` thread answering every request with ``serve``."""

    def __init__(self, serve: Serve, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.serve = serve
        bound_host, bound_port = self._server.server_address[:2]
        self.base_url = f"http://{bound_host!s}:{bound_port}"
        self._server.base_url = self.base_url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="agentops-fake-llm", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
