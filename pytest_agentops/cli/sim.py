"""``agentops sim``: serve a simulator on its own, or check it against a recorded real service."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pytest_agentops.cli.common import EXIT_ERROR, EXIT_FOUND, EXIT_OK, error, serve_until_stopped

if TYPE_CHECKING:
    from pytest_agentops.backends.verify import Staging
    from pytest_agentops.cli.common import Subcommands


def cmd_sim_serve(args: argparse.Namespace) -> int:
    """Run one simulator on a loopback port until interrupted (for non-Python agents and demos)."""

    from simulators import REGISTRY

    if args.name not in REGISTRY:
        error(f"unknown simulator {args.name!r}; known: {', '.join(REGISTRY)}")
        return EXIT_ERROR
    sim = REGISTRY[args.name].load()(api_key=args.api_key)
    if args.seed:
        try:
            sim.seed_file(args.seed)
        except FileNotFoundError:
            error(f"{args.seed}: no such seed file")
            return EXIT_ERROR
        except Exception as exc:  # a bad seed names the file and the fault, never a traceback
            error(f"{args.seed}: cannot seed {args.name}: {exc}")
            return EXIT_ERROR
    elif args.demo:
        seed_demo = getattr(sim, "seed_demo", None)  # each service ships its own demo data, if any
        if seed_demo is None:
            error(f"simulator {args.name!r} has no demo data (seed it with --seed FILE)")
            return EXIT_ERROR
        seed_demo()
    if args.stdio:
        return _sim_serve_stdio(sim, args)
    try:
        server = sim.serve(host=args.host, port=args.port)
    except OSError as exc:
        error(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
        return EXIT_ERROR

    def announce() -> None:
        print(f"{args.name} simulator on {server.base_url}  (API key: {sim.api_key})", flush=True)
        if args.mcp:
            print(f"MCP (streamable HTTP): {server.base_url}/mcp", flush=True)

    return serve_until_stopped(server.stop, announce)


def _sim_serve_stdio(sim: Any, args: argparse.Namespace) -> int:
    """``sim serve NAME --mcp --stdio``: the MCP endpoint on stdin/stdout (stdout is the protocol's)."""
    from simulators.core.mcp_stdio import serve_stdio

    if not args.mcp:
        error("--stdio serves MCP only; use: agentops sim serve NAME --mcp --stdio")
        return EXIT_ERROR
    print(f"{args.name} simulator: MCP over stdio  (API key: {sim.api_key})", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        serve_stdio(sim, sys.stdin.buffer, sys.stdout.buffer, token=args.token, dashed=args.mcp_names == "dashed")
    return EXIT_OK


def _staging_of(args: argparse.Namespace) -> Staging | Literal[False] | None:
    """The staging service of ``--staging`` (None without it; False, said, when it is unusable)."""
    import os

    from pytest_agentops.backends.verify import Staging

    if not args.staging:
        return None
    if not args.staging.startswith(("http://", "https://")):
        error(f"--staging {args.staging!r}: not an http(s) URL")
        return False
    token = os.environ.get(args.staging_token_env) if args.staging_token_env else None
    if args.staging_token_env and not token:
        error(f"--staging-token-env {args.staging_token_env}: that environment variable is not set")
        return False
    return Staging(args.staging, token)


def cmd_sim_verify(args: argparse.Namespace) -> int:
    """Replay a cassette recorded against the real service on simulator NAME; report shape drift."""
    import json

    import httpx

    from pytest_agentops.backends.verify import verify_cassette
    from simulators import REGISTRY

    if args.name not in REGISTRY:
        error(f"unknown simulator {args.name!r}; known: {', '.join(REGISTRY)}")
        return EXIT_ERROR
    staging = _staging_of(args)
    if staging is False:
        return EXIT_ERROR
    try:
        report = verify_cassette(
            args.name, Path(args.cassette), seed=Path(args.seed) if args.seed else None, staging=staging or None
        )
    except (OSError, ValueError) as exc:  # a bad seed file names itself; cassette errors reach main()
        error(f"{args.seed}: cannot seed {args.name}: {exc}")
        return EXIT_ERROR
    except httpx.HTTPError as exc:
        error(f"{args.staging}: the staging service did not answer: {exc}")
        return EXIT_ERROR
    finally:
        if staging:
            staging.close()
    if args.json:
        print(json.dumps([vars(step) for step in report.steps], indent=2))
    else:
        print(report.render(allow_extra=args.allow_extra))
    return EXIT_FOUND if report.drifted(args.allow_extra) else EXIT_OK


# ---- parser ------------------------------------------------------------------------------------


def add_sim(groups: Subcommands) -> None:
    sim = groups.add_parser("sim", help="run a simulator on its own", description="Simulators outside pytest.")
    commands = sim.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_serve(commands)
    _add_verify(commands)


def _add_serve(commands: Subcommands) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve one simulator (a registered name: billing, ticketing, crm, ...) on a loopback port",
        description="Serve simulator NAME over HTTP until interrupted, optionally seeded from a JSON or YAML "
        "file of the shape Simulator.seed() takes. Prints its base URL and API key. Every endpoint is also an "
        "MCP tool at <base_url>/mcp (--mcp prints that URL); --mcp --stdio speaks MCP on stdin/stdout instead.",
    )
    serve.add_argument("name", metavar="NAME", help="a registered simulator: billing, ticketing, crm, ...")
    serve.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--seed", metavar="FILE", help="seed data, JSON or YAML")
    serve.add_argument("--demo", action="store_true", help="load the built-in demo data")
    serve.add_argument("--api-key", default=None, help="the default tenant's token (default: generated)")
    serve.add_argument(
        "--mcp", action="store_true", help="also print the MCP endpoint (<base_url>/mcp: every endpoint as an MCP tool)"
    )
    serve.add_argument(
        "--stdio", action="store_true", help="with --mcp: speak MCP on stdin/stdout instead of listening on a port"
    )
    serve.add_argument(
        "--mcp-names",
        choices=("dotted", "dashed"),
        default="dotted",
        help="with --stdio: MCP tool names billing.refunds.create (default) or billing-refunds-create "
        "(for model APIs that allow no dots; over HTTP: <base_url>/mcp?names=dashed)",
    )
    serve.add_argument(
        "--token", default=None, help="with --stdio: the token every MCP call authenticates with (default: the API key)"
    )
    serve.set_defaults(func=cmd_sim_serve)


def _add_verify(commands: Subcommands) -> None:
    verify = commands.add_parser(
        "verify",
        help="replay a cassette recorded against the real service; report where the simulator differs",
        description="Replay the requests of cassette PATH (recorded against the real Stripe, Zendesk or HubSpot) "
        "that simulator NAME serves, in order, ids rewritten to the simulator's, and report every shape "
        "difference of its answers: fields the service sends and the simulator does not, other types, other "
        "statuses, fields only the simulator sends. Exit 1 on any difference.",
    )
    verify.add_argument("name", metavar="NAME", help="a registered simulator: billing, ticketing, crm, ...")
    verify.add_argument("--cassette", required=True, metavar="PATH", help="the recorded cassette")
    verify.add_argument("--seed", metavar="FILE", help="objects the scenario reads without creating (JSON or YAML)")
    verify.add_argument(
        "--staging",
        metavar="URL",
        help="send the cassette's requests to this staging base URL now, and compare its answers (not the recorded "
        "ones) with the simulator's",
    )
    verify.add_argument(
        "--staging-token-env",
        metavar="VAR",
        help="with --staging: the environment variable holding its API token (sent as a Bearer token)",
    )
    verify.add_argument("--allow-extra", action="store_true", help="fields only the simulator sends are no failure")
    verify.add_argument("--json", action="store_true", help="print the replayed steps as JSON")
    verify.set_defaults(func=cmd_sim_verify)
