"""An mcp 1.x client (``ClientSession`` over ``streamablehttp_client``): ``python mcp1_client.py URL``.

Lists the tools, calls get_weather(Paris) and delete_account(bob), and prints each result as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys


async def main(url: str) -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async with streamablehttp_client(url) as (read, write, _), ClientSession(read, write) as session:
        await session.initialize()
        tools = await session.list_tools()
        print(json.dumps(sorted(t.name for t in tools.tools)))
        for name, args in (("get_weather", {"city": "Paris"}), ("delete_account", {"user": "bob"})):
            result = await session.call_tool(name, args)
            print(json.dumps({"isError": result.isError, "text": result.content[0].text}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
