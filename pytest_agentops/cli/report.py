"""``agentops report``: trace files as one self-contained HTML page; ``report merge`` joins CI
shards' reports and traces, gated on a baseline when asked."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_agentops.cli.common import EXIT_ERROR, EXIT_FOUND, EXIT_OK, PROG, error

if TYPE_CHECKING:
    from pytest_agentops.cli.common import DelegatingParser, Subcommands


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
        error(str(exc))
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
        error(str(exc))
        return EXIT_ERROR
    except OSError as exc:
        error(f"cannot write {exc.filename or output}: {exc.strerror or exc}")
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


# ---- parser ------------------------------------------------------------------------------------


def add_report(groups: Subcommands) -> None:
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
    _add_merge(report)


def _add_merge(report: DelegatingParser) -> None:
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
