"""A FastMCP (``fastmcp`` package) server on stdio: notes, one read tool and one write tool."""

from __future__ import annotations

import os


def main() -> None:
    from fastmcp import FastMCP
    from mcp.types import ToolAnnotations

    server = FastMCP("Notes Server")
    notes: list[str] = []

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def list_notes() -> list[str]:
        """Every note."""
        return notes

    @server.tool
    def add_note(text: str) -> str:
        """Add a note."""
        path = os.environ.get("MCP_CALLS")
        if path:
            with open(path, "a", encoding="utf-8") as out:
                out.write(f"add_note {text}\n")
        notes.append(text)
        return f"added {text}"

    server.run(show_banner=False)


if __name__ == "__main__":
    main()
