"""``agentops model serve``: the fake model on a loopback port, a stand-in upstream to record from."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_agentops.cli.common import EXIT_ERROR, error, serve_until_stopped

if TYPE_CHECKING:
    from pytest_agentops.cli.common import Subcommands


def cmd_model_serve(args: argparse.Namespace) -> int:
    """Serve the fake model on a loopback port until interrupted: a stand-in upstream for recording."""

    from pytest_agentops.backends.model import FakeModel
    from pytest_agentops.backends.model.standin import FirstTool, ScriptFileError, load_script

    fake = FakeModel()
    if args.script:
        try:
            turns, loop = load_script(Path(args.script))
        except ScriptFileError as exc:
            error(str(exc))
            return EXIT_ERROR
        fake.script(turns, loop=loop or args.loop)
        how = f"script {args.script} ({len(turns)} turn(s){', looped' if loop or args.loop else ''})"
    else:
        fake.respond(FirstTool(args.text))
        how = f"call the first tool offered, then answer {args.text!r}"
    try:
        fake.serve(host=args.host, port=args.port)
    except OSError as exc:
        error(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
        return EXIT_ERROR
    url = fake.loopback_url

    def announce() -> None:
        print(f"fake model on {url}: {how}", flush=True)
        print(f"  record with: pytest --agent-record --agent-staging openai={url}  (or anthropic={url})", flush=True)

    return serve_until_stopped(fake.close, announce)


# ---- parser ------------------------------------------------------------------------------------


def add_model(groups: Subcommands) -> None:
    model = groups.add_parser(
        "model", help="run the fake model on its own", description="The fake model outside pytest."
    )
    commands = model.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve the fake model (OpenAI and Anthropic wire formats) on a loopback port, to record from",
        description="Serve the fake model on a loopback port until interrupted: a stand-in for api.openai.com and "
        "api.anthropic.com while recording (pytest --agent-record --agent-staging openai=URL). It answers "
        "from a script file (JSON or YAML: a list of turns, see docs/fake-model.md), or without one by the "
        "rule 'call the first tool offered, then answer TEXT'. Prints its base URL.",
    )
    serve.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--script", metavar="FILE", help="answer with these turns, in order (JSON or YAML)")
    serve.add_argument("--loop", action="store_true", help="start the script over when it runs out")
    serve.add_argument(
        "--text", default="Done.", help="without --script: the answer after the tool call (default: Done.)"
    )
    serve.set_defaults(func=cmd_model_serve)
