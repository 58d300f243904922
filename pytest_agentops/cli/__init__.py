"""The ``agentops`` command: look into, compare, audit and import cassettes; serve a simulator.

Kept thin and quick to import: argument parsing here and in one module per command group
(``cassettes``, ``sim``, ``model``, ``report``, ``mcp``), the work in the modules each command
imports when it runs. Exit codes: 0 ok, 1 differences or findings, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from pytest_agentops._version import __version__
from pytest_agentops.cli.cassettes import (
    add_cassettes,
    cmd_audit,
    cmd_diff,
    cmd_import,
    cmd_ls,
    cmd_orphans,
    cmd_prune,
    cmd_show,
)
from pytest_agentops.cli.common import EXIT_ERROR, EXIT_FOUND, EXIT_OK, PROG, DelegatingParser, error
from pytest_agentops.cli.mcp import add_mcp
from pytest_agentops.cli.model import add_model, cmd_model_serve
from pytest_agentops.cli.report import add_report, cmd_report, cmd_report_merge
from pytest_agentops.cli.sim import add_sim, cmd_sim_serve, cmd_sim_verify

__all__ = [
    "EXIT_ERROR",
    "EXIT_FOUND",
    "EXIT_OK",
    "PROG",
    "build_parser",
    "cmd_audit",
    "cmd_diff",
    "cmd_import",
    "cmd_ls",
    "cmd_model_serve",
    "cmd_orphans",
    "cmd_prune",
    "cmd_report",
    "cmd_report_merge",
    "cmd_show",
    "cmd_sim_serve",
    "cmd_sim_verify",
    "main",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="pytest-agentops: cassettes (recorded LLM and tool HTTP traffic), simulators, HTML run reports.",
        epilog="Run 'agentops cassettes COMMAND --help' for a command's options. "
        "Exit codes: 0 ok, 1 differences/findings, 2 bad input.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} (pytest-agentops) {__version__}")
    groups = parser.add_subparsers(dest="group", metavar="GROUP", required=True, parser_class=DelegatingParser)
    for add in (add_cassettes, add_sim, add_model, add_report, add_mcp):
        add(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from pytest_agentops.cassette.errors import CassetteError

    given = list(argv) if argv is not None else sys.argv[1:]
    if given[:2] == ["mcp", "proxy"]:  # the proxy's own parser: everything after ``--`` is the server's
        from pytest_agentops.mcp import proxy

        return proxy.main(given[2:])
    try:
        args = build_parser().parse_args(given)
    except SystemExit as exc:  # --help, --version, usage errors (already printed by argparse)
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except CassetteError as exc:
        error(str(exc))
        return EXIT_ERROR
    except BrokenPipeError:  # `agentops cassettes show x.json | head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
