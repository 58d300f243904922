"""``agentops mcp proxy --name NAME -- CMD ARGS...``: a stdio MCP server, seen through the test's gate.

An MCP client launches this command instead of the server's. stdio is newline-delimited JSON-RPC
on stdin/stdout (the MCP spec's stdio transport), invisible to an HTTP tap, so the proxy carries
each line to the test process over a Unix socket (``--bridge``, or ``AGENTOPS_MCP_BRIDGE``), where
``pytest_agentops.mcp.stdio`` judges, traces, records or replays it and starts the real server
only when an answer must come from it. What comes back is written to stdout as it arrives.

Without a bridge (outside a test) the proxy just runs the server with the client's stdin and
stdout, so one launch command works in and out of pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import IO

BRIDGE_ENV = "AGENTOPS_MCP_BRIDGE"
EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentops mcp proxy",
        description="Run a stdio MCP server behind pytest-agentops: inside a test (the mcp_stdio fixture gives the "
        "launch command) every message passes the test's policy, trace and cassette, and the server starts only "
        "when a message must reach it; outside a test the server runs as if launched directly.",
    )
    parser.add_argument("--name", required=True, help="the server's name: its tools are mcp.NAME.<tool>")
    parser.add_argument(
        "--bridge", default=os.environ.get(BRIDGE_ENV), help=f"the test's socket (default: ${BRIDGE_ENV})"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ARGS", help="the server's command")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        print("agentops mcp proxy: no server command (usage: agentops mcp proxy --name NAME -- CMD ARGS...)",
              file=sys.stderr)  # fmt: skip
        return EXIT_ERROR
    if args.bridge:
        return through_bridge(args.bridge, args.name, sys.stdin.buffer, sys.stdout.buffer)
    return direct(command)


def direct(command: list[str]) -> int:
    """No test to answer to: the server gets the client's stdin and stdout as they are."""
    try:
        return subprocess.run(command, check=False).returncode
    except OSError as exc:
        print(f"agentops mcp proxy: cannot start {command[0]!r}: {exc.strerror or exc}", file=sys.stderr)
        return 127


def through_bridge(path: str, name: str, stdin: IO[bytes], stdout: IO[bytes]) -> int:
    """Carry stdin's lines to the bridge and the bridge's lines to stdout until either side ends."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError as exc:
        print(f"agentops mcp proxy: cannot reach the test at {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    with conn, conn.makefile("rb") as replies:
        conn.sendall(json.dumps({"agentops": "hello", "name": name}).encode() + b"\n")
        hello = json.loads(replies.readline() or b"{}")
        if hello.get("agentops") != "ok":
            print(f"agentops mcp proxy: {hello.get('message', 'the test closed the connection')}", file=sys.stderr)
            return EXIT_ERROR
        threading.Thread(target=_pump, args=(stdin, conn), daemon=True).start()
        for line in replies:
            stdout.write(line)
            stdout.flush()
    return 0


def _pump(stdin: IO[bytes], conn: socket.socket) -> None:
    """The client's messages, line by line; its EOF (the end of the session) is passed on."""
    try:
        for line in iter(stdin.readline, b""):
            if line.strip():
                conn.sendall(line if line.endswith(b"\n") else line + b"\n")
        conn.shutdown(socket.SHUT_WR)
    except OSError:  # the test went away: the main loop sees the connection close
        pass


if __name__ == "__main__":
    sys.exit(main())
