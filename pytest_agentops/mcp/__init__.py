"""MCP (Model Context Protocol): what a JSON-RPC message on the wire means to the gate and the trace.

The tap sees MCP as HTTP (streamable HTTP: every message is ``POST <url>``). This package reads the
JSON-RPC inside it once, where the request gets its verdict (``policy.engine.Guard.judge``), so the
in-process tap and the loopback front both name, gate and trace MCP the same way:

- ``messages``: parse a request body (one message or a batch) and an answer (JSON or SSE events);
- ``servers``: which server a URL is (``register_mcp_server``, the ini key, or the name it announces)
  and what its ``tools/list`` said (annotations, input schemas);
- ``gate``: the verdict on a message and the denial in MCP's own form (a tool error, never a 403).
"""

from __future__ import annotations

from pytest_agentops.mcp.servers import register_mcp_server

__all__ = ["register_mcp_server"]
