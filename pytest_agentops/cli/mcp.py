"""``agentops mcp``: MCP helpers outside HTTP (the stdio proxy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_agentops.cli.common import Subcommands


def add_mcp(groups: Subcommands) -> None:
    """``agentops mcp proxy``: its own parser (pytest_agentops.mcp.proxy) reads everything after ``proxy``."""
    mcp = groups.add_parser("mcp", help="MCP helpers (the stdio proxy)", description="MCP outside HTTP.")
    commands = mcp.add_subparsers(dest="command", metavar="COMMAND", required=True)
    proxy = commands.add_parser(
        "proxy",
        add_help=False,
        help="run a stdio MCP server behind the test's gate, trace and cassette",
        description="agentops mcp proxy --name NAME -- CMD ARGS... (see agentops mcp proxy --help)",
    )
    proxy.set_defaults(func=lambda _: 0)  # main() hands ``mcp proxy`` to pytest_agentops.mcp.proxy
