"""``agentops report merge``: one report from the reports (and trace folders) of CI shards.

A suite split across CI jobs (a matrix, pytest-split, ``-k`` groups), each maybe with xdist inside,
leaves one ``--agent-report`` file and one ``--agent-trace-dir`` folder per job. Every report keeps
each test's raw figures (``tests``), so the merge re-aggregates those with ``scorecard.build``
exactly as one unsharded session would: rates, per-task figures, pass^k and latency percentiles
are recomputed from the per-test values, never averaged from shard summaries.

A test found in two reports is an error (shards must not overlap, or its figures would count
twice); so is a trace file that two shards wrote differently. Payload files are named by the hash
of their content, so the same name is the same data.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_agentops.readers.baseline import ReportError
from pytest_agentops.trace.files import write_atomic

MERGE = "agentops report merge"


class MergeError(ValueError):
    """An input that cannot be merged; the message names the file and the fault."""


@dataclass(slots=True)
class Shard:
    """One input: a report file, the trace folder that belongs to it, or both."""

    report_path: Path | None = None
    report: dict[str, Any] | None = None
    trace_dir: Path | None = None
    missing_traces: Path | None = None  # the report names a trace folder that is not there


@dataclass(slots=True)
class Merged:
    report: dict[str, Any]
    traces_copied: int = 0
    payloads_copied: int = 0
    trace_dir: Path | None = None
    warnings: list[str] = field(default_factory=list)


def load_report(path: Path) -> dict[str, Any]:
    """A report file, checked enough that a wrong file is named instead of merged."""
    from pytest_agentops.readers.baseline import load

    try:
        data = load(path)
    except ReportError as exc:
        raise MergeError(str(exc).replace("--agent-baseline", MERGE, 1)) from None
    tests = data.get("tests")
    if not isinstance(tests, list) or not all(isinstance(t, dict) and "nodeid" in t for t in tests):
        raise MergeError(f"{MERGE}: {path}: 'tests' must be a list of test figures (a report from --agent-report)")
    return data


def shard_of(path: Path) -> Shard:
    """A positional input: a report JSON file, or a trace folder (``--agent-trace-dir``)."""
    if path.is_dir():
        return Shard(trace_dir=path)
    if not path.exists():
        raise MergeError(f"{MERGE}: {path}: no such file or directory")
    report = load_report(path)
    shard = Shard(report_path=path, report=report)
    recorded = report.get("trace_dir")
    if isinstance(recorded, str) and recorded:
        candidate = path.parent / recorded
        if candidate.is_dir():
            shard.trace_dir = candidate
        else:
            shard.missing_traces = candidate
    return shard


def merge_tests(shards: Sequence[Shard]) -> list[dict[str, Any]]:
    """Every test of every report, once; a test in two reports names both files."""
    seen: dict[str, Path] = {}
    tests: list[dict[str, Any]] = []
    for shard in shards:
        if shard.report is None or shard.report_path is None:
            continue
        for test in shard.report["tests"]:
            nodeid = str(test["nodeid"])
            if nodeid in seen:
                raise MergeError(
                    f"{MERGE}: test {nodeid!r} is in both {seen[nodeid]} and {shard.report_path}; "
                    "shards must not overlap (its figures would count twice)"
                )
            seen[nodeid] = shard.report_path
            tests.append(test)
    return tests


def _copy_tree(source: Path, target: Path) -> tuple[int, int]:
    """Copy one trace folder into ``target``: (trace files, payload files) newly copied."""
    traces = payloads = 0
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(source)
        is_payload = relative.parts[0] == "payloads"
        if not is_payload and path.suffix != ".jsonl":
            continue
        destination = target / relative
        if destination.exists():
            if is_payload or destination.read_bytes() == path.read_bytes():
                continue
            raise MergeError(
                f"{MERGE}: trace file {relative.as_posix()} differs between {source} and another shard "
                "(the same test ran in two shards?)"
            )
        write_atomic(destination, path.read_bytes())  # a killed merge leaves no half trace behind
        traces, payloads = traces + (not is_payload), payloads + is_payload
    return traces, payloads


def merge_traces(sources: Iterable[Path], target: Path) -> tuple[int, int]:
    """Copy every shard's trace files and payloads into ``target``."""
    traces = payloads = 0
    target_resolved = target.resolve()
    for source in sources:
        if source.resolve() == target_resolved:
            raise MergeError(f"{MERGE}: --trace-dir {target} is also an input; write the merge to a new folder")
        t, p = _copy_tree(source, target)
        traces, payloads = traces + t, payloads + p
    return traces, payloads


def merge(inputs: Sequence[Path], output: Path, trace_dir: Path | None = None) -> Merged:
    """Merge the reports and trace folders in ``inputs``; the report is returned, not written.

    Traces go to ``trace_dir`` (default: ``traces/`` next to ``output`` when any input has traces).
    """
    from pytest_agentops.readers import scorecard

    if not inputs:
        raise MergeError(f"{MERGE}: give at least one report file")
    shards = [shard_of(path) for path in inputs]
    if not any(s.report is not None for s in shards):
        raise MergeError(f"{MERGE}: no report file among the inputs (only trace folders)")
    report = scorecard.build(merge_tests(shards))
    report["merged_from"] = [_source(s) for s in shards if s.report is not None]
    result = Merged(report=report)
    for shard in shards:
        if shard.missing_traces is not None:
            result.warnings.append(
                f"{shard.report_path}: its trace folder {shard.missing_traces} is not there; "
                "its figures are merged, its traces are not (download them too, or pass the folder)"
            )
    folders = [s.trace_dir for s in shards if s.trace_dir is not None]
    if folders:
        target = trace_dir if trace_dir is not None else output.parent / "traces"
        result.traces_copied, result.payloads_copied = merge_traces(folders, target)
        result.trace_dir = target
        report["trace_dir"] = relative_trace_dir(target, output)
    return result


def _source(shard: Shard) -> dict[str, Any]:
    assert shard.report is not None
    return {
        "path": str(shard.report_path),
        "tests": len(shard.report["tests"]),
        "plugin_version": shard.report.get("plugin_version"),
        "trace_dir": str(shard.trace_dir) if shard.trace_dir is not None else None,
    }


def relative_trace_dir(trace_dir: Path, report_path: Path) -> str:
    """Where a report's traces are, relative to the report's folder (portable across CI machines)."""
    try:
        return Path(os.path.relpath(trace_dir.resolve(), report_path.resolve().parent)).as_posix()
    except ValueError:  # another drive (Windows): no relative path exists
        return trace_dir.resolve().as_posix()


def gate(report: Mapping[str, Any], baseline_path: Path, tolerances: Mapping[str, float]) -> list[Any]:
    """The ``--agent-baseline`` gate on a merged report: its regressions (empty: none)."""
    from pytest_agentops.readers.baseline import compare, load

    try:
        baseline = load(baseline_path)
    except ReportError as exc:
        raise MergeError(str(exc).replace("--agent-baseline", f"{MERGE} --baseline", 1)) from None
    return compare(baseline, report, tolerances)
