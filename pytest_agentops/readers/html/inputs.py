"""What the HTML report reads: trace files, the ``--agent-report`` JSON and payload files, each
checked line by line so bad input is one clear error naming the file; and the page's tests with
their figures (``readers.figures``)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_agentops.readers import scorecard
from pytest_agentops.readers.figures import trace_figures
from pytest_agentops.readers.html.markup import as_text, esc, pre, pretty
from pytest_agentops.readers.tracefile import FORMAT

_SHA256 = re.compile(r"[0-9a-f]{64}")
GROUPS = ("failed", "passed", "skipped")  # filter groups, in page order
_GROUP_OF = {
    "passed": "passed",
    "xpassed": "passed",
    "failed": "failed",
    "incomplete": "failed",
    "skipped": "skipped",
    "xfailed": "skipped",
}


class ReportInputError(ValueError):
    """Unusable input (no traces, a corrupt line, a bad scorecard): one line for the user, exit 2."""


# ---- reading ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Trace:
    """One trace file as read: header, events and footer (None when the test never finished)."""

    file: str  # relative to the trace folder, POSIX separators
    header: dict[str, Any]
    events: list[dict[str, Any]]
    footer: dict[str, Any] | None

    @property
    def complete(self) -> bool:
        return self.footer is not None

    @property
    def nodeid(self) -> str:
        return as_text(self.header.get("test")) or self.file


@dataclass(slots=True)
class Entry:
    """One test of the page: its scorecard figures, and its trace when there is one."""

    figs: dict[str, Any]
    trace: Trace | None = None

    @property
    def nodeid(self) -> str:
        return as_text(self.figs.get("nodeid"))

    @property
    def outcome(self) -> str:
        return as_text(self.figs.get("outcome")) or "incomplete"

    @property
    def group(self) -> str:
        return _GROUP_OF.get(self.outcome, "failed")  # an outcome this version does not know: look at it


@dataclass(slots=True)
class Source:
    """What the page is built from (shown in its header)."""

    trace_dir: str
    scorecard: str | None = None
    title: str = "pytest-agentops report"


def read_trace(path: Path, file: str) -> Trace:
    """Parse one JSONL trace; a bad line raises ``ReportInputError`` naming the file and line number."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ReportInputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ReportInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    header: dict[str, Any] | None = None
    events: list[dict[str, Any]] = []
    footer: dict[str, Any] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = _redact(json.loads(line))
        except ValueError as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise ReportInputError(f"{path}:{number}: not valid JSON ({reason})") from None
        kind = item.get("type") if isinstance(item, dict) else None
        if header is None:
            if kind != "header" or item.get("format") != FORMAT:
                raise ReportInputError(f"{path}:{number}: not a pytest-agentops trace (the first line is no header)")
            header = item
        elif footer is not None:
            raise ReportInputError(f"{path}:{number}: a line after the footer")
        elif kind == "event":
            events.append(item)
        elif kind == "footer":
            footer = item
        else:
            raise ReportInputError(f"{path}:{number}: expected an event or the footer, got type {kind!r}")
    if header is None:
        raise ReportInputError(f"{path}: empty file, not a trace")
    return Trace(file, header, events, footer)


def _redact(value: Any) -> Any:
    """Whatever the page shows passes the redactor: a trace written by an older version, or by
    hand, may still hold a secret."""
    from pytest_agentops.cassette.redact import active

    return active().value(value)


def load_traces(root: Path) -> list[Trace]:
    """Every ``*.jsonl`` trace under ``root``, sorted by path (payload files are ``*.json``)."""
    if not root.exists():
        raise ReportInputError(f"{root}: no such directory")
    if not root.is_dir():
        raise ReportInputError(f"{root}: not a directory (give the folder --agent-trace-dir wrote)")
    paths = sorted(p for p in root.rglob("*.jsonl") if p.is_file())
    if not paths:
        raise ReportInputError(f"{root}: no trace files (*.jsonl); run pytest with --agent-trace-dir={root}")
    return [read_trace(p, p.relative_to(root).as_posix()) for p in paths]


def load_scorecard(path: Path) -> dict[str, Any]:
    """A JSON report written by ``--agent-report``."""
    try:
        data = _redact(json.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise ReportInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        line = f":{exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ReportInputError(f"{path}{line}: not valid JSON") from None
    if (
        not isinstance(data, dict)
        or data.get("format") != "pytest-agentops-report"
        or not isinstance(data.get("tests"), list)
        or not all(isinstance(t, dict) and isinstance(t.get("nodeid"), str) for t in data["tests"])
    ):
        raise ReportInputError(f"{path}: not a pytest-agentops report (the file --agent-report writes)")
    return data


class Payloads:
    """``DIR/payloads/<sha256>.json`` read on demand, each file once, rendered once."""

    _MISSING = object()

    def __init__(self, root: Path) -> None:
        self.root = root / "payloads"
        self._values: dict[str, Any] = {}
        self._html: dict[str, str] = {}

    def value(self, digest: Any) -> Any:
        """The payload's JSON value, or None when it cannot be read (``html`` says why)."""
        value = self._load(as_text(digest))
        return None if value is self._MISSING or isinstance(value, _Unparsed) else value

    def html(self, digest: Any) -> str:
        key = as_text(digest)
        if key not in self._html:
            self._html[key] = self._render(key)
        return self._html[key]

    def _load(self, digest: str) -> Any:
        if digest not in self._values:
            found: Any = self._MISSING
            if _SHA256.fullmatch(digest):
                try:
                    text = (self.root / f"{digest}.json").read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    text = None
                if text is not None:
                    try:
                        found = _redact(json.loads(text))
                    except ValueError:
                        found = _Unparsed(_redact(text))
            self._values[digest] = found
        return self._values[digest]

    def _render(self, digest: str) -> str:
        if not _SHA256.fullmatch(digest):
            return f'<p class="warn">not a payload reference: {esc(digest[:80])}</p>'
        value = self._load(digest)
        if value is self._MISSING:
            return f'<p class="warn">payload file payloads/{digest}.json is missing</p>'
        if isinstance(value, _Unparsed):
            return f'<p class="warn">payloads/{digest}.json is not JSON; its text:</p>{pre(value.text)}'
        return pre(pretty(value))


@dataclass(frozen=True, slots=True)
class _Unparsed:
    """A payload file that is not JSON: shown as its text."""

    text: str


# ---- figures ------------------------------------------------------------------------------------


def figures_of(trace: Trace) -> dict[str, Any]:
    """The trace as the per-test figures ``scorecard.figures`` makes during the run (``readers.figures``)."""
    return trace_figures(trace.file, trace.header, trace.events, trace.footer)


def build_entries(traces: Sequence[Trace], card: Mapping[str, Any] | None) -> tuple[list[Entry], dict[str, Any]]:
    """The page's tests and the scorecard: built from the traces, or ``card``'s when given."""
    by_file = {t.file: t for t in traces}
    by_node = {t.nodeid: t for t in traces}
    entries: list[Entry] = []
    if card is None:
        entries = [Entry(figures_of(t), t) for t in traces]
        report = scorecard.build(e.figs for e in entries)
    else:
        report = dict(card)
        used: set[str] = set()
        for figs in card["tests"]:
            trace = by_file.get(as_text(figs.get("trace_file"))) or by_node.get(figs["nodeid"])
            if trace is not None:
                used.add(trace.file)
            entries.append(Entry(dict(figs), trace))
        entries += [Entry(figures_of(t), t) for t in traces if t.file not in used]
    order = {group: i for i, group in enumerate(GROUPS)}
    entries.sort(key=lambda e: (order.get(e.group, len(order)), e.nodeid))
    return entries, report
