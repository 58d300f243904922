"""A stdio MCP server (official ``mcp`` SDK) whose tool asks the client's model: ``sampling/createMessage``
inside a ``tools/call``. ``MCP_CALLS`` names a file that gets a line when the server starts."""

# No `from __future__ import annotations`: MCPServer reads the tool's annotations (Context) at run time.
import os
import warnings


def main() -> None:
    from mcp.server.mcpserver import Context, MCPServer
    from mcp.types import SamplingMessage, TextContent

    server = MCPServer("writer")

    @server.tool()
    async def summarise(text: str, ctx: Context) -> str:
        """Summarise ``text`` with the client's model."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sampling is deprecated by the 2026 revision, not by this one
            asked = [SamplingMessage(role="user", content=TextContent(type="text", text=f"Summarise: {text}"))]
            answer = await ctx.session.create_message(asked, max_tokens=20, related_request_id=ctx.request_id)
        return f"summary: {answer.content.text}"

    path = os.environ.get("MCP_CALLS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write("started\n")
    server.run("stdio")


if __name__ == "__main__":
    main()
