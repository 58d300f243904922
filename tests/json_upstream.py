"""A real HTTP service on 127.0.0.1 that answers every GET and POST with one JSON document.

For tests that record through the network: a staging service, an upstream model API.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextlib.contextmanager
def json_upstream(answer: Any, hits: list[str] | None = None) -> Iterator[str]:
    """Serve ``answer`` until the block ends; yields ``http://127.0.0.1:PORT``; each path asked for
    is appended to ``hits``."""
    seen = hits if hits is not None else []

    class Upstream(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            seen.append(self.path)
            self.rfile.read(int(self.headers.get("content-length") or 0))
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
