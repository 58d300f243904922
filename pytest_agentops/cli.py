"""The ``agentops`` command: look into, compare, audit and import cassettes; serve a simulator.

Kept thin and quick to import: argument parsing here, the work in ``pytest_agentops.cassette``
modules imported by each command. Exit codes: 0 ok, 1 differences or findings, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ._version import __version__

PROG = "agentops"
EXIT_OK, EXIT_FOUND, EXIT_ERROR = 0, 1, 2


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


# ---- commands ----------------------------------------------------------------------------------


def cmd_sim_serve(args: argparse.Namespace) -> int:
    """Run one simulator on a loopback port until interrupted (for non-Python agents and demos)."""
    import signal
    import threading

    from simulators import SIMULATORS, simulator_class

    if args.name not in SIMULATORS:
        _error(f"unknown simulator {args.name!r}; known: {', '.join(SIMULATORS)}")
        return EXIT_ERROR
    sim = simulator_class(args.name)(api_key=args.api_key)
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
        sim.seed_demo()  # type: ignore[attr-defined]  # each service ships its own demo data
    try:
        server = sim.serve(host=args.host, port=args.port)
    except OSError as exc:
        _error(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
        return EXIT_ERROR
    print(f"{args.name} simulator on {server.base_url}  (API key: {sim.api_key})", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return EXIT_OK


def cmd_sim_verify(args: argparse.Namespace) -> int:
    """Replay a cassette recorded against the real service on simulator NAME; report shape drift."""
    import json

    from simulators import SIMULATORS

    from .simverify import verify_cassette

    if args.name not in SIMULATORS:
        _error(f"unknown simulator {args.name!r}; known: {', '.join(SIMULATORS)}")
        return EXIT_ERROR
    try:
        report = verify_cassette(args.name, Path(args.cassette), seed=Path(args.seed) if args.seed else None)
    except (OSError, ValueError) as exc:  # a bad seed file names itself; cassette errors reach main()
        _error(f"{args.seed}: cannot seed {args.name}: {exc}")
        return EXIT_ERROR
    if args.json:
        print(json.dumps([vars(step) for step in report.steps], indent=2))
    else:
        print(report.render(allow_extra=args.allow_extra))
    return EXIT_FOUND if report.drifted(args.allow_extra) else EXIT_OK


def cmd_ls(args: argparse.Namespace) -> int:
    import json

    from .cassette.errors import CassetteFormatError
    from .cassette.inspect import find_cassettes, load, summarize

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
    from .cassette.inspect import find_cassettes
    from .cassette.owners import collect_owners, orphans

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
    from .cassette.inspect import load, show_lines
    from .cassette.redact import active

    cassette = load(Path(args.path))
    for line in show_lines(cassette, args.index, limit=None if args.full else args.width):
        print(active().text(line))  # a cassette written by hand or by an older version may hold one
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from .cassette.diff import diff_cassettes
    from .cassette.inspect import load

    old, new = load(Path(args.old)), load(Path(args.new))
    lines = diff_cassettes(old, new)
    if not lines:
        return EXIT_OK
    print(f"--- {args.old}")
    print(f"+++ {args.new}")
    from .cassette.redact import active

    for line in lines:
        print(active().text(line))
    return EXIT_FOUND


def cmd_audit(args: argparse.Namespace) -> int:
    import json

    from .cassette.audit import audit_file, audited_files
    from .cassette.errors import CassetteFormatError
    from .cassette.redact import active

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
            from .cassette.fix import fix_file

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
    from .cassette.vcr_import import import_file

    target, document = import_file(Path(args.source), Path(args.output) if args.output else None, force=args.force)
    interactions = document["interactions"]
    models = sum(1 for i in interactions if i["kind"] == "model")
    print(
        f"imported {len(interactions)} interaction(s) ({models} model, {len(interactions) - models} tool) "
        f"from {args.source} to {target}"
    )
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Render TRACE_DIR's trace files as one self-contained HTML page (see pytest_agentops.htmlreport)."""
    from .htmlreport import ReportInputError, write_report

    try:
        written = write_report(
            Path(args.trace_dir),
            Path(args.output),
            scorecard_path=Path(args.scorecard) if args.scorecard else None,
            title=args.title,
        )
    except ReportInputError as exc:
        _error(str(exc))
        return EXIT_ERROR
    extra = f", {written.incomplete} incomplete" if written.incomplete else ""
    print(f"report: {written.path} ({written.tests} test(s), {written.failed} failed{extra}; {written.size:,} bytes)")
    return EXIT_OK


# ---- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="pytest-agentops: cassettes (recorded LLM and tool HTTP traffic), simulators, HTML run reports.",
        epilog="Run 'agentops cassettes COMMAND --help' for a command's options. "
        "Exit codes: 0 ok, 1 differences/findings, 2 bad input.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} (pytest-agentops) {__version__}")
    groups = parser.add_subparsers(dest="group", metavar="GROUP", required=True)
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
        help="serve one simulator (billing, ticketing, crm) on a loopback port",
        description="Serve simulator NAME over HTTP until interrupted, optionally seeded from a JSON or YAML "
        "file of the shape Simulator.seed() takes. Prints its base URL and API key.",
    )
    serve.add_argument("name", metavar="NAME", help="billing, ticketing or crm")
    serve.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--seed", metavar="FILE", help="seed data, JSON or YAML")
    serve.add_argument("--demo", action="store_true", help="load the built-in demo data")
    serve.add_argument("--api-key", default=None, help="the default tenant's token (default: generated)")
    serve.set_defaults(func=cmd_sim_serve)
    verify = sim_commands.add_parser(
        "verify",
        help="replay a cassette recorded against the real service; report where the simulator differs",
        description="Replay the requests of cassette PATH (recorded against the real Stripe, Zendesk or HubSpot) "
        "that simulator NAME serves, in order, ids rewritten to the simulator's, and report every shape "
        "difference of its answers: fields the service sends and the simulator does not, other types, other "
        "statuses, fields only the simulator sends. Exit 1 on any difference.",
    )
    verify.add_argument("name", metavar="NAME", help="billing, ticketing or crm")
    verify.add_argument("--cassette", required=True, metavar="PATH", help="the recorded cassette")
    verify.add_argument("--seed", metavar="FILE", help="objects the scenario reads without creating (JSON or YAML)")
    verify.add_argument("--allow-extra", action="store_true", help="fields only the simulator sends are no failure")
    verify.add_argument("--json", action="store_true", help="print the replayed steps as JSON")
    verify.set_defaults(func=cmd_sim_verify)

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
        help="render trace files (--agent-trace-dir) as one self-contained HTML page",
        description="Render the JSONL traces under TRACE_DIR (written by pytest --agent-trace-dir=TRACE_DIR) as one "
        "HTML file with no external resources: the scorecard, and per test its budget meters and a timeline of "
        "model calls, tool calls, denials and misses with their payloads. Exit 2 when TRACE_DIR is missing, "
        "holds no trace, or a trace line is corrupt.",
    )
    report.add_argument("trace_dir", metavar="TRACE_DIR", help="the folder --agent-trace-dir wrote")
    report.add_argument("-o", "--output", default="report.html", metavar="OUT.html", help="default: report.html")
    report.add_argument(
        "--scorecard",
        metavar="REPORT.json",
        help="the same session's --agent-report file: its scorecard and tests (skipped ones too) are used",
    )
    report.add_argument("--title", default=None, help="page title (default: pytest-agentops report)")
    report.set_defaults(func=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .cassette.errors import CassetteError

    try:
        args = build_parser().parse_args(list(argv) if argv is not None else None)
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
