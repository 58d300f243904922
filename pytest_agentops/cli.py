"""The ``agentops`` command: look into, compare, audit and import cassettes; serve a simulator.

Kept thin and quick to import: argument parsing here, the work in ``pytest_agentops.cassette``
modules imported by each command. Exit codes: 0 ok, 1 differences or findings, 2 bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pytest_agentops._version import __version__

if TYPE_CHECKING:
    from pytest_agentops.backends.verify import Staging

PROG = "agentops"
EXIT_OK, EXIT_FOUND, EXIT_ERROR = 0, 1, 2


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


# ---- commands ----------------------------------------------------------------------------------


def cmd_sim_serve(args: argparse.Namespace) -> int:
    """Run one simulator on a loopback port until interrupted (for non-Python agents and demos)."""

    from simulators import REGISTRY

    if args.name not in REGISTRY:
        _error(f"unknown simulator {args.name!r}; known: {', '.join(REGISTRY)}")
        return EXIT_ERROR
    sim = REGISTRY[args.name].load()(api_key=args.api_key)
    if args.seed:
        try:
            sim.seed_file(args.seed)
        except FileNotFoundError:
            _error(f"{args.seed}: no such seed file")
            return EXIT_ERROR
        except Exception as exc:  # a bad seed names the file and the fault, never a traceback
            _error(f"{args.seed}: cannot seed {args.name}: {exc}")
            return EXIT_ERROR
    elif args.demo:
        seed_demo = getattr(sim, "seed_demo", None)  # each service ships its own demo data, if any
        if seed_demo is None:
            _error(f"simulator {args.name!r} has no demo data (seed it with --seed FILE)")
            return EXIT_ERROR
        seed_demo()
    if args.stdio:
        return _sim_serve_stdio(sim, args)
    try:
        server = sim.serve(host=args.host, port=args.port)
    except OSError as exc:
        _error(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
        return EXIT_ERROR
    print(f"{args.name} simulator on {server.base_url}  (API key: {sim.api_key})", flush=True)
    if args.mcp:
        print(f"MCP (streamable HTTP): {server.base_url}/mcp", flush=True)
    return _serve_until_stopped(server.stop)


def _sim_serve_stdio(sim: Any, args: argparse.Namespace) -> int:
    """``sim serve NAME --mcp --stdio``: the MCP endpoint on stdin/stdout (stdout is the protocol's)."""
    from simulators.core.mcp_stdio import serve_stdio

    if not args.mcp:
        _error("--stdio serves MCP only; use: agentops sim serve NAME --mcp --stdio")
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
        _error(f"--staging {args.staging!r}: not an http(s) URL")
        return False
    token = os.environ.get(args.staging_token_env) if args.staging_token_env else None
    if args.staging_token_env and not token:
        _error(f"--staging-token-env {args.staging_token_env}: that environment variable is not set")
        return False
    return Staging(args.staging, token)


def cmd_sim_verify(args: argparse.Namespace) -> int:
    """Replay a cassette recorded against the real service on simulator NAME; report shape drift."""
    import json

    import httpx

    from pytest_agentops.backends.verify import verify_cassette
    from simulators import REGISTRY

    if args.name not in REGISTRY:
        _error(f"unknown simulator {args.name!r}; known: {', '.join(REGISTRY)}")
        return EXIT_ERROR
    staging = _staging_of(args)
    if staging is False:
        return EXIT_ERROR
    try:
        report = verify_cassette(
            args.name, Path(args.cassette), seed=Path(args.seed) if args.seed else None, staging=staging or None
        )
    except (OSError, ValueError) as exc:  # a bad seed file names itself; cassette errors reach main()
        _error(f"{args.seed}: cannot seed {args.name}: {exc}")
        return EXIT_ERROR
    except httpx.HTTPError as exc:
        _error(f"{args.staging}: the staging service did not answer: {exc}")
        return EXIT_ERROR
    finally:
        if staging:
            staging.close()
    if args.json:
        print(json.dumps([vars(step) for step in report.steps], indent=2))
    else:
        print(report.render(allow_extra=args.allow_extra))
    return EXIT_FOUND if report.drifted(args.allow_extra) else EXIT_OK


def cmd_model_serve(args: argparse.Namespace) -> int:
    """Serve the fake model on a loopback port until interrupted: a stand-in upstream for recording."""

    from pytest_agentops.backends.model import FakeModel
    from pytest_agentops.backends.model.standin import FirstTool, ScriptFileError, load_script

    fake = FakeModel()
    if args.script:
        try:
            turns, loop = load_script(Path(args.script))
        except ScriptFileError as exc:
            _error(str(exc))
            return EXIT_ERROR
        fake.script(turns, loop=loop or args.loop)
        how = f"script {args.script} ({len(turns)} turn(s){', looped' if loop or args.loop else ''})"
    else:
        fake.respond(FirstTool(args.text))
        how = f"call the first tool offered, then answer {args.text!r}"
    try:
        fake.serve(host=args.host, port=args.port)
    except OSError as exc:
        _error(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
        return EXIT_ERROR
    url = fake.loopback_url
    print(f"fake model on {url}: {how}", flush=True)
    print(f"  record with: pytest --agent-record --agent-staging openai={url}  (or anthropic={url})", flush=True)
    return _serve_until_stopped(fake.close)


def _serve_until_stopped(stop_serving: Callable[[], object]) -> int:
    """Block until Ctrl-C or SIGTERM (a CI job's kill), then stop the server cleanly."""
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_serving()
    return EXIT_OK


def cmd_ls(args: argparse.Namespace) -> int:
    import json

    from pytest_agentops.cassette.errors import CassetteFormatError
    from pytest_agentops.cassette.inspect import find_cassettes, load, summarize

    if args.orphans:
        return cmd_orphans(args)
    if args.pytest_args:
        _error(f"unexpected arguments {' '.join(args.pytest_args)} (pytest arguments are for --orphans)")
        return EXIT_ERROR
    root = Path(args.dir or "cassettes")
    if not root.exists():
        _error(f"{root}: no such file or directory")
        return EXIT_ERROR
    summaries = []
    status = EXIT_OK
    for path in find_cassettes([root]):
        try:
            summaries.append(summarize(path, load(path)))
        except CassetteFormatError as exc:
            _error(str(exc))
            status = EXIT_ERROR
    if args.json:
        print(json.dumps([s.to_dict() for s in summaries], indent=2))
    elif not summaries and status == EXIT_OK:
        print(f"no cassettes under {root}", file=sys.stderr)
    else:
        width = max((len(s.path) for s in summaries), default=0)
        for summary in summaries:
            print(summary.line(width))
    return status


def cmd_orphans(args: argparse.Namespace) -> int:
    """Cassettes under DIR that no collected test owns (the tests were renamed, moved or deleted)."""
    from pytest_agentops.cassette.inspect import find_cassettes
    from pytest_agentops.cassette.owners import collect_owners, orphans

    code, owners, output = collect_owners(args.pytest_args)
    if code not in (0, 5) or owners.cassette_dir is None:  # 5: no tests collected (then every file is an orphan)
        sys.stderr.write(output)
        _error(f"collecting the tests failed (pytest exit code {code}); no orphans listed")
        return EXIT_ERROR
    root = Path(args.dir) if args.dir else owners.cassette_dir
    if not root.exists():
        _error(f"{root}: no such file or directory")
        return EXIT_ERROR
    found = orphans(find_cassettes([root]), owners)
    for path in found:
        print(path)
    print(f"{len(found)} orphan cassette(s) under {root} (no collected test uses them)", file=sys.stderr)
    return EXIT_FOUND if found else EXIT_OK


def cmd_prune(args: argparse.Namespace) -> int:
    """``pytest --agent-record=prune``: record what is missing, remove what no passing test used."""
    import subprocess

    return subprocess.call([sys.executable, "-m", "pytest", "--agent-record=prune", *args.pytest_args])


def cmd_show(args: argparse.Namespace) -> int:
    from pytest_agentops.cassette.inspect import load, show_lines
    from pytest_agentops.cassette.redact import active

    cassette = load(Path(args.path))
    for line in show_lines(cassette, args.index, limit=None if args.full else args.width):
        print(active().text(line))  # a cassette written by hand or by an older version may hold one
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from pytest_agentops.cassette.diff import diff_cassettes
    from pytest_agentops.cassette.inspect import load

    old, new = load(Path(args.old)), load(Path(args.new))
    lines = diff_cassettes(old, new)
    if not lines:
        return EXIT_OK
    print(f"--- {args.old}")
    print(f"+++ {args.new}")
    from pytest_agentops.cassette.redact import active

    for line in lines:
        print(active().text(line))
    return EXIT_FOUND


def cmd_audit(args: argparse.Namespace) -> int:
    import json

    from pytest_agentops.cassette.audit import audit_file, audited_files
    from pytest_agentops.cassette.errors import CassetteFormatError
    from pytest_agentops.cassette.redact import active

    roots = [Path(p) for p in args.paths] or [Path("cassettes")]
    status = EXIT_OK
    findings = []
    scanned = unreadable = 0
    for root in roots:
        if not root.exists():
            _error(f"{root}: no such file or directory")
            status = EXIT_ERROR
    for path in audited_files([r for r in roots if r.exists()]):
        try:
            found = audit_file(path)
        except CassetteFormatError as exc:
            _error(str(exc))
            status = EXIT_ERROR
            unreadable += 1
            continue
        except OSError as exc:
            _error(f"{path}: cannot read: {exc.strerror or exc}")
            status = EXIT_ERROR
            continue
        scanned += 1
        if found and args.fix and any(f.category == "secret" for f in found):
            from pytest_agentops.cassette.fix import fix_file

            if fix_file(path, active()):
                print(f"fixed: {path} (secrets rewritten to placeholders)", file=sys.stderr)
                found = audit_file(path)  # what is left (PII is never rewritten)
        findings.extend(found)
    secrets = [f for f in findings if f.category == "secret"]
    pii = [f for f in findings if f.category == "pii"]
    if args.json:
        print(json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False))
    else:
        for finding in findings:
            warn = " (allowed: --allow-pii)" if args.allow_pii and finding.category == "pii" else ""
            print(finding.line() + warn)
        files = len({f.path for f in findings})
        # A file that cannot be read was not audited: never count it as clean.
        skipped = f"; {unreadable} file(s) unreadable (errors above), not audited" if unreadable else ""
        if findings:
            print(
                f"audit: {len(secrets)} secret(s) and {len(pii)} PII finding(s) in {files} of {scanned} "
                "file(s); rewrite secrets with --fix, or redact them (agentops_redact_* ini options, the "
                f"pytest_agentops_redact_interaction hook) and re-record{skipped}",
                file=sys.stderr,
            )
        elif unreadable and not scanned:
            print(
                f"audit: none of the {unreadable} file(s) could be read (errors above); nothing audited",
                file=sys.stderr,
            )
        else:
            print(f"audit: {scanned} file(s) clean{skipped}", file=sys.stderr)
    if secrets or (pii and not args.allow_pii):
        status = max(status, EXIT_FOUND)
    return status


def cmd_import(args: argparse.Namespace) -> int:
    from pytest_agentops.cassette.vcr_import import import_file

    target, document = import_file(Path(args.source), Path(args.output) if args.output else None, force=args.force)
    interactions = document["interactions"]
    models = sum(1 for i in interactions if i["kind"] == "model")
    print(
        f"imported {len(interactions)} interaction(s) ({models} model, {len(interactions) - models} tool) "
        f"from {args.source} to {target}"
    )
    return EXIT_OK


def _report_inputs(args: argparse.Namespace) -> tuple[Path, Path | None]:
    """(trace folder, scorecard): TRACE_DIR may be a report file that says where its traces are."""
    given = Path(args.trace_dir)
    scorecard = Path(args.scorecard) if args.scorecard else None
    if given.suffix == ".json" and given.is_file():
        import json

        try:
            recorded = json.loads(given.read_text(encoding="utf-8")).get("trace_dir")
        except (OSError, ValueError, AttributeError):
            recorded = None
        if not isinstance(recorded, str) or not recorded:
            raise ValueError(
                f"{given}: this report does not say where its traces are (no 'trace_dir'); "
                "pass the trace folder, with --scorecard for the report"
            )
        return given.parent / recorded, scorecard or given
    return given, scorecard


def cmd_report(args: argparse.Namespace) -> int:
    """Render TRACE_DIR's trace files as one self-contained HTML page (see pytest_agentops.readers.html.page)."""
    from pytest_agentops.readers.html.page import ReportInputError, write_report

    try:
        trace_dir, scorecard = _report_inputs(args)
        written = write_report(trace_dir, Path(args.output), scorecard_path=scorecard, title=args.title)
    except (ReportInputError, ValueError) as exc:
        _error(str(exc))
        return EXIT_ERROR
    extra = f", {written.incomplete} incomplete" if written.incomplete else ""
    print(f"report: {written.path} ({written.tests} test(s), {written.failed} failed{extra}; {written.size:,} bytes)")
    return EXIT_OK


def cmd_report_merge(args: argparse.Namespace) -> int:
    """Merge shard reports and trace folders into one report; gate it on a baseline when asked."""
    from pytest_agentops.readers import baseline as _report
    from pytest_agentops.readers import scorecard
    from pytest_agentops.readers.merge import MergeError, gate, merge

    output = Path(args.output)
    try:
        merged = merge([Path(p) for p in args.inputs], output, Path(args.trace_dir) if args.trace_dir else None)
        regressions = []
        if args.baseline:
            pyproject = Path(args.pyproject) if args.pyproject else Path("pyproject.toml")
            tolerances = _report.tolerances(pyproject, list(args.tolerance))
            regressions = gate(merged.report, Path(args.baseline), tolerances)
            merged.report["baseline"] = {
                "path": args.baseline,
                "tolerances": tolerances,
                "regressions": [r.to_dict() for r in regressions],
            }
        _report.write(output, merged.report)
    except (MergeError, _report.ReportError) as exc:
        _error(str(exc))
        return EXIT_ERROR
    except OSError as exc:
        _error(f"cannot write {exc.filename or output}: {exc.strerror or exc}")
        return EXIT_ERROR
    for warning in merged.warnings:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    if not args.quiet:
        for line in scorecard.format_scorecard(merged.report):
            print(line)
    tests = len(merged.report["tests"])
    where = f"; traces: {merged.traces_copied} file(s) in {merged.trace_dir}" if merged.trace_dir else ""
    print(f"merged {len(merged.report['merged_from'])} report(s), {tests} test(s) -> {output}{where}")
    for regression in regressions:
        print(f"REGRESSION {regression.message}")
    if args.baseline:
        verdict = f"{len(regressions)} regression(s)" if regressions else "no regressions"
        print(f"agentops baseline: {verdict} against {args.baseline}")
    return EXIT_FOUND if regressions else EXIT_OK


class _Parser(argparse.ArgumentParser):
    """An argparse parser that hands ``NAME ...`` to another parser when NAME is one of its delegates.

    ``agentops report TRACE_DIR`` takes a positional folder, so ``agentops report merge`` cannot be
    an argparse subcommand of it; the ``report`` parser delegates the word ``merge`` instead.
    """

    delegates: dict[str, argparse.ArgumentParser]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.delegates = {}

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words = list(sys.argv[1:] if args is None else args)
        if words and words[0] in self.delegates:
            return self.delegates[words[0]].parse_known_args(words[1:], namespace)
        return super().parse_known_args(words, namespace)


def _add_report_merge(report: argparse.ArgumentParser) -> None:
    assert isinstance(report, _Parser)
    merge = argparse.ArgumentParser(
        prog=f"{PROG} report merge",
        description="Merge the --agent-report files of CI shards (or xdist runs) into one report, re-aggregated "
        "from every test's figures as one unsharded run would be, and copy their trace folders into one "
        "(a report's traces are found from the 'trace_dir' it records; a folder given as INPUT is merged too). "
        "With --baseline, gate the merged report as --agent-baseline would: exit 1 on a regression. "
        "Exit 2 on an unreadable input, a test in two reports, or a trace file two shards wrote differently.",
    )
    merge.add_argument("inputs", nargs="+", metavar="INPUT", help="report JSON files (and trace folders)")
    merge.add_argument("-o", "--output", default="merged.json", metavar="OUT.json", help="default: merged.json")
    merge.add_argument(
        "--trace-dir", metavar="DIR", help="where the merged traces go (default: traces/ next to OUT.json)"
    )
    merge.add_argument("--baseline", metavar="PATH", help="compare with this report; exit 1 on a regression")
    merge.add_argument(
        "--tolerance",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a baseline tolerance (as agentops_baseline_tolerance); repeatable",
    )
    merge.add_argument(
        "--pyproject", metavar="PATH", help="read [tool.agentops.baseline] here (default: ./pyproject.toml)"
    )
    merge.add_argument("--quiet", "-q", action="store_true", help="do not print the merged scorecard")
    merge.set_defaults(func=cmd_report_merge)
    report.delegates["merge"] = merge


# ---- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="pytest-agentops: cassettes (recorded LLM and tool HTTP traffic), simulators, HTML run reports.",
        epilog="Run 'agentops cassettes COMMAND --help' for a command's options. "
        "Exit codes: 0 ok, 1 differences/findings, 2 bad input.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} (pytest-agentops) {__version__}")
    groups = parser.add_subparsers(dest="group", metavar="GROUP", required=True, parser_class=_Parser)
    cassettes = groups.add_parser(
        "cassettes",
        help="list, show, diff, audit and import cassettes",
        description="Inspect and maintain cassette files.",
    )
    commands = cassettes.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ls = commands.add_parser(
        "ls",
        help="one line per cassette: interactions, models, tokens, recorded_at",
        description="List the cassettes under DIR (recursively): interaction count (model/tool), "
        "models seen, total input/output tokens of the recorded responses, and when they were recorded.",
    )
    ls.add_argument("dir", nargs="?", default=None, metavar="DIR", help="folder or file (default: cassettes/)")
    ls.add_argument("--json", action="store_true", help="print a JSON list for scripts")
    ls.add_argument(
        "--orphans",
        action="store_true",
        help="list only the cassettes no collected test owns (collects the tests: pytest --collect-only; "
        "pytest arguments go after --; exit 1 when there are some)",
    )
    ls.add_argument("pytest_args", nargs="*", metavar="-- PYTEST_ARGS", help=argparse.SUPPRESS)
    ls.set_defaults(func=cmd_ls)

    prune = commands.add_parser(
        "prune",
        help="remove recorded interactions no test used (runs pytest --agent-record=prune)",
        description="Run the tests with --agent-record=prune: what is missing is recorded (as --agent-record), "
        "and the interactions no passing test played are removed from its cassette (a cassette left empty is "
        "deleted). pytest arguments go after --. The exit code is pytest's.",
    )
    prune.add_argument("pytest_args", nargs="*", metavar="PYTEST_ARGS", help="e.g. -- tests/agents -k refund")
    prune.set_defaults(func=cmd_prune)

    show = commands.add_parser(
        "show",
        help="pretty-print a cassette: prompts, answers, tool calls, usage",
        description="Print each interaction: method, URL, status, kind; for model calls the model, prompt "
        "messages, the answer (SSE streams reassembled), tool calls and token usage.",
    )
    show.add_argument("path", metavar="PATH", help="cassette file")
    show.add_argument("--index", "-i", type=int, metavar="N", help="only interaction N (negative counts from the end)")
    show.add_argument("--width", type=int, default=300, metavar="CHARS", help="cut long texts here (default: 300)")
    show.add_argument("--full", action="store_true", help="never cut texts")
    show.set_defaults(func=cmd_show)

    diff = commands.add_parser(
        "diff",
        help="what changed between two cassettes (exit 1 when they differ)",
        description="Compare cassette OLD with NEW (e.g. before and after re-recording): interactions added "
        "or removed; for paired interactions the request body (prompts, tools) and the response "
        "(status, reassembled answer, tool calls); models, system prompts and tool schemas. Response ids, "
        "timestamps and token counts are ignored. Exit 0 when equivalent, 1 when they differ.",
    )
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.set_defaults(func=cmd_diff)

    audit = commands.add_parser(
        "audit",
        help="scan cassettes for secrets and PII (exit 1 on findings)",
        description="Scan every header, URL and body (JSON, SSE events, text, forms) for secrets the "
        "redactor should have caught (API keys, tokens, secret-named headers/query parameters/fields "
        "that are not <redacted:...>) and for PII (emails, phone numbers, credit-card numbers passing "
        "Luhn, US SSNs, IBANs). Values are printed masked. Exit 1 on any finding.",
    )
    audit.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="cassettes, trace dirs, reports: files or folders (default: cassettes/)",
    )
    audit.add_argument("--allow-pii", action="store_true", help="report PII as warnings; fail on secrets only")
    audit.add_argument("--json", action="store_true", help="print findings as a JSON list")
    audit.add_argument(
        "--fix", action="store_true", help="rewrite secrets found to <redacted:KIND:HASH8> placeholders (atomically)"
    )
    audit.set_defaults(func=cmd_audit)

    sim = groups.add_parser("sim", help="run a simulator on its own", description="Simulators outside pytest.")
    sim_commands = sim.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve = sim_commands.add_parser(
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
    verify = sim_commands.add_parser(
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

    model = groups.add_parser(
        "model", help="run the fake model on its own", description="The fake model outside pytest."
    )
    model_commands = model.add_subparsers(dest="command", metavar="COMMAND", required=True)
    model_serve = model_commands.add_parser(
        "serve",
        help="serve the fake model (OpenAI and Anthropic wire formats) on a loopback port, to record from",
        description="Serve the fake model on a loopback port until interrupted: a stand-in for api.openai.com and "
        "api.anthropic.com while recording (pytest --agent-record --agent-staging openai=URL). It answers "
        "from a script file (JSON or YAML: a list of turns, see docs/fake-model.md), or without one by the "
        "rule 'call the first tool offered, then answer TEXT'. Prints its base URL.",
    )
    model_serve.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    model_serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    model_serve.add_argument("--script", metavar="FILE", help="answer with these turns, in order (JSON or YAML)")
    model_serve.add_argument("--loop", action="store_true", help="start the script over when it runs out")
    model_serve.add_argument(
        "--text", default="Done.", help="without --script: the answer after the tool call (default: Done.)"
    )
    model_serve.set_defaults(func=cmd_model_serve)

    imp = commands.add_parser(
        "import",
        help="convert a vcrpy / pytest-recording YAML cassette",
        description="Convert a vcrpy cassette (YAML or JSON; bodies as text, !!binary or gzip-compressed) "
        "into a pytest-agentops cassette: bodies parsed, secrets redacted, model calls marked.",
    )
    imp.add_argument("source", metavar="VCR_YAML")
    imp.add_argument("-o", "--output", metavar="OUT.json", help="where to write (default: VCR_YAML with .json)")
    imp.add_argument("--force", action="store_true", help="overwrite OUT.json if it exists")
    imp.set_defaults(func=cmd_import)

    report = groups.add_parser(
        "report",
        epilog="'agentops report merge A.json B.json ... -o merged.json' merges CI shards' reports and traces "
        "(see 'agentops report merge --help').",
        help="render trace files (--agent-trace-dir) as one self-contained HTML page",
        description="Render the JSONL traces under TRACE_DIR (written by pytest --agent-trace-dir=TRACE_DIR) as one "
        "HTML file with no external resources: the scorecard, and per test its budget meters and a timeline of "
        "model calls, tool calls, denials and misses with their payloads. Exit 2 when TRACE_DIR is missing, "
        "holds no trace, or a trace line is corrupt.",
    )
    report.add_argument(
        "trace_dir",
        metavar="TRACE_DIR",
        help="the folder --agent-trace-dir wrote, or a report JSON that says where its traces are "
        "(one written with --agent-trace-dir, or by 'agentops report merge')",
    )
    report.add_argument("-o", "--output", default="report.html", metavar="OUT.html", help="default: report.html")
    report.add_argument(
        "--scorecard",
        metavar="REPORT.json",
        help="the same session's --agent-report file: its scorecard and tests (skipped ones too) are used",
    )
    report.add_argument("--title", default=None, help="page title (default: pytest-agentops report)")
    report.set_defaults(func=cmd_report)
    _add_report_merge(report)
    _add_mcp(groups)
    return parser


def _add_mcp(groups: Any) -> None:
    """``agentops mcp proxy``: its own parser (pytest_agentops.mcp.proxy) reads everything after ``proxy``."""
    mcp = groups.add_parser("mcp", help="MCP helpers (the stdio proxy)", description="MCP outside HTTP.")
    mcp_commands = mcp.add_subparsers(dest="command", metavar="COMMAND", required=True)
    proxy = mcp_commands.add_parser(
        "proxy",
        add_help=False,
        help="run a stdio MCP server behind the test's gate, trace and cassette",
        description="agentops mcp proxy --name NAME -- CMD ARGS... (see agentops mcp proxy --help)",
    )
    proxy.set_defaults(func=lambda _: 0)  # main() hands ``mcp proxy`` to pytest_agentops.mcp.proxy


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
        _error(str(exc))
        return EXIT_ERROR
    except BrokenPipeError:  # `agentops cassettes show x.json | head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
