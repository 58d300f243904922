"""``agentops cassettes``: list, show, diff, audit, import and prune cassette files.

Each command imports its ``pytest_agentops.cassette`` module when it runs, so ``agentops --help``
stays quick.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_agentops.cli.common import EXIT_ERROR, EXIT_FOUND, EXIT_OK, error

if TYPE_CHECKING:
    from pytest_agentops.cassette.audit import Finding
    from pytest_agentops.cli.common import Subcommands


def cmd_ls(args: argparse.Namespace) -> int:
    import json

    from pytest_agentops.cassette.errors import CassetteFormatError
    from pytest_agentops.cassette.inspect import find_cassettes, load, summarize

    if args.orphans:
        return cmd_orphans(args)
    if args.pytest_args:
        error(f"unexpected arguments {' '.join(args.pytest_args)} (pytest arguments are for --orphans)")
        return EXIT_ERROR
    root = Path(args.dir or "cassettes")
    if not root.exists():
        error(f"{root}: no such file or directory")
        return EXIT_ERROR
    summaries = []
    status = EXIT_OK
    for path in find_cassettes([root]):
        try:
            summaries.append(summarize(path, load(path)))
        except CassetteFormatError as exc:
            error(str(exc))
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
        error(f"collecting the tests failed (pytest exit code {code}); no orphans listed")
        return EXIT_ERROR
    root = Path(args.dir) if args.dir else owners.cassette_dir
    if not root.exists():
        error(f"{root}: no such file or directory")
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


@dataclass
class _Audit:
    """What one audit saw. A file that cannot be read was not audited, and is counted apart so
    that it is never reported clean."""

    findings: list[Finding] = field(default_factory=list)
    scanned: int = 0
    unreadable: int = 0
    failed: bool = False  # a path was missing or a file unreadable: exit 2


def cmd_audit(args: argparse.Namespace) -> int:
    import json

    roots = [Path(p) for p in args.paths] or [Path("cassettes")]
    audit = _Audit()
    for root in roots:
        if not root.exists():
            error(f"{root}: no such file or directory")
            audit.failed = True
    _scan(audit, [r for r in roots if r.exists()], fix=args.fix)
    findings = audit.findings
    secrets = [f for f in findings if f.category == "secret"]
    pii = [f for f in findings if f.category == "pii"]
    if args.json:
        print(json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False))
    else:
        _print_audit(audit, allow_pii=args.allow_pii)
    status = EXIT_ERROR if audit.failed else EXIT_OK
    if secrets or (pii and not args.allow_pii):
        status = max(status, EXIT_FOUND)
    return status


def _scan(audit: _Audit, roots: list[Path], *, fix: bool) -> None:
    """Audit every file under ``roots``; with ``fix``, what is left after rewriting the secrets
    counts (PII is never rewritten)."""
    from pytest_agentops.cassette.audit import audit_file, audited_files
    from pytest_agentops.cassette.errors import CassetteFormatError
    from pytest_agentops.cassette.redact import active

    for path in audited_files(roots):
        try:
            found = audit_file(path)
        except CassetteFormatError as exc:
            error(str(exc))
            audit.failed = True
            audit.unreadable += 1
            continue
        except OSError as exc:
            error(f"{path}: cannot read: {exc.strerror or exc}")
            audit.failed = True
            continue
        audit.scanned += 1
        if found and fix and any(f.category == "secret" for f in found):
            from pytest_agentops.cassette.fix import fix_file

            if fix_file(path, active()):
                print(f"fixed: {path} (secrets rewritten to placeholders)", file=sys.stderr)
                found = audit_file(path)
        audit.findings.extend(found)


def _print_audit(audit: _Audit, *, allow_pii: bool) -> None:
    """One line per finding on stdout, and the tally on stderr so a pipe gets the findings only."""
    findings, scanned, unreadable = audit.findings, audit.scanned, audit.unreadable
    for finding in findings:
        warn = " (allowed: --allow-pii)" if allow_pii and finding.category == "pii" else ""
        print(finding.line() + warn)
    secrets = sum(1 for f in findings if f.category == "secret")
    pii = sum(1 for f in findings if f.category == "pii")
    files = len({f.path for f in findings})
    # A file that cannot be read was not audited: never count it as clean.
    skipped = f"; {unreadable} file(s) unreadable (errors above), not audited" if unreadable else ""
    if findings:
        print(
            f"audit: {secrets} secret(s) and {pii} PII finding(s) in {files} of {scanned} "
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


# ---- parser ------------------------------------------------------------------------------------


def add_cassettes(groups: Subcommands) -> None:
    cassettes = groups.add_parser(
        "cassettes",
        help="list, show, diff, audit and import cassettes",
        description="Inspect and maintain cassette files.",
    )
    commands = cassettes.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in (_add_ls, _add_prune, _add_show, _add_diff, _add_audit, _add_import):
        add(commands)


def _add_ls(commands: Subcommands) -> None:
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


def _add_prune(commands: Subcommands) -> None:
    prune = commands.add_parser(
        "prune",
        help="remove recorded interactions no test used (runs pytest --agent-record=prune)",
        description="Run the tests with --agent-record=prune: what is missing is recorded (as --agent-record), "
        "and the interactions no passing test played are removed from its cassette (a cassette left empty is "
        "deleted). pytest arguments go after --. The exit code is pytest's.",
    )
    prune.add_argument("pytest_args", nargs="*", metavar="PYTEST_ARGS", help="e.g. -- tests/agents -k refund")
    prune.set_defaults(func=cmd_prune)


def _add_show(commands: Subcommands) -> None:
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


def _add_diff(commands: Subcommands) -> None:
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


def _add_audit(commands: Subcommands) -> None:
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


def _add_import(commands: Subcommands) -> None:
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
