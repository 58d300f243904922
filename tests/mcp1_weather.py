"""The weather server on mcp 1.x (FastMCP, stateful streamable HTTP), run by an mcp<2 interpreter.

``python mcp1_weather.py PORT`` serves until killed. Run by the interpreter of a separate venv,
since one environment holds one version of ``mcp``.
"""

from __future__ import annotations

import sys


def main() -> None:
    from mcp.server.fastmcp import FastMCP
    from mcp.types import ToolAnnotations

    server = FastMCP("weather", host="127.0.0.1", port=int(sys.argv[1]), log_level="ERROR")

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def get_weather(city: str) -> str:
        """The weather in ``city``."""
        return f"Sunny in {city}"

    @server.tool(annotations=ToolAnnotations(destructiveHint=True))
    def delete_account(user: str) -> str:
        """Delete ``user``'s account."""
        return f"deleted {user}"

    server.run("streamable-http")


if __name__ == "__main__":
    main()
