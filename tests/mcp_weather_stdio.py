"""The weather server (official ``mcp`` SDK) on stdio. ``MCP_CALLS`` names a file that gets a line
when the server starts and for each tool call it really runs (what a denial must never reach)."""

from __future__ import annotations

import os


def log(line: str) -> None:
    path = os.environ.get("MCP_CALLS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(line + "\n")


def main() -> None:
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

    server = MCPServer("weather")

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def get_weather(city: str) -> str:
        """The weather in ``city``."""
        log(f"get_weather {city}")
        return f"Sunny in {city}"

    @server.tool(annotations=ToolAnnotations(destructiveHint=True))
    def delete_account(user: str) -> str:
        """Delete ``user``'s account."""
        log(f"delete_account {user}")
        return f"deleted {user}"

    log("started")
    server.run("stdio")


if __name__ == "__main__":
    main()
