"""A real MCP server (the official ``mcp`` SDK) on a 127.0.0.1 port, in a thread: the weather server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def weather_server(name: str = "weather") -> Any:
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

    server = MCPServer(name)

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def get_weather(city: str) -> str:
        """The weather in ``city``."""
        return f"Sunny in {city}"

    @server.tool(annotations=ToolAnnotations(destructiveHint=True))
    def delete_account(user: str) -> str:
        """Delete ``user``'s account."""
        return f"deleted {user}"

    return server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(server: Any, *, json_response: bool = False, stateless: bool = False, port: int = 0) -> Iterator[str]:
    """``server`` answering streamable HTTP on a loopback port; yields its ``/mcp`` URL."""
    import uvicorn

    port = port or free_port()
    app = server.streamable_http_app(json_response=json_response, stateless_http=stateless)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on")
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the MCP test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        runner.should_exit = True
        thread.join(5)
