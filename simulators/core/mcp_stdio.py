"""A simulator's MCP endpoint over stdio: newline-delimited JSON-RPC on stdin/stdout.

Most local MCP servers are launched as a subprocess and spoken to over stdio, so an agent
configured that way can use a simulator unchanged. stdio has no headers, so every call
authenticates with one token chosen at launch (default: the default tenant's API key); nothing
but protocol messages is ever written to stdout.
"""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING

from simulators.core.mcp import PARSE_ERROR, McpEndpoint, RpcError

if TYPE_CHECKING:
    from simulators.core.simulator import Simulator


def serve_stdio(
    sim: Simulator, stdin: IO[bytes], stdout: IO[bytes], *, token: str | None = None, dashed: bool = False
) -> None:
    """Answer messages until stdin closes (the client's way of ending a stdio session)."""
    endpoint = McpEndpoint(sim, dashed=dashed)
    headers = sim.auth_headers(token)
    for line in stdin:
        if not line.strip():
            continue
        try:
            payload = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            error = RpcError(PARSE_ERROR, f"Parse error: {exc}")
            reply: object = {"jsonrpc": "2.0", "id": None, "error": error.payload()}
        else:
            reply = endpoint.answer(payload, headers)
        if reply is not None:
            stdout.write(json.dumps(reply).encode() + b"\n")
            stdout.flush()
