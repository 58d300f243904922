"""``agentops report TRACE_DIR -o report.html``: one self-contained HTML file from the trace files.

The page is rendered here, on the server side, so it reads with JavaScript off: the scorecard, then
one ``<details>`` per test holding its budget meters and its timeline of steps, each step a
``<details>`` with its payloads. The small inline script only adds the outcome filter, the search and
expand/collapse. Nothing is fetched: CSS and JS are inline, and a Content-Security-Policy forbids
every request and every script but ours (by hash), so a payload that got past the escaping still
could not run.

Figures come from the traces the way the scorecard reads them: each trace becomes the per-test
figures dict of ``scorecard.figures``, and ``scorecard.build`` aggregates them (or the JSON
``--agent-report`` of the same session is used as is, with ``--scorecard``).

Every string is HTML-escaped; the JSON embedded in ``<script type="application/json">`` has ``<``,
``>`` and ``&`` as ``\\u003c``-style escapes, so neither ``</script>`` nor ``<!--`` can end it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pytest_agentops.readers import scorecard
from pytest_agentops.readers.tracefile import FORMAT

MAX_PAYLOAD_CHARS = 200_000  # a payload longer than this (pretty-printed) is cut in the page
_SHA256 = re.compile(r"[0-9a-f]{64}")
_GROUPS = ("failed", "passed", "skipped")  # filter groups, in page order
_GROUP_OF = {
    "passed": "passed",
    "xpassed": "passed",
    "failed": "failed",
    "incomplete": "failed",
    "skipped": "skipped",
    "xfailed": "skipped",
}
# Budget limit (footer ``budget.limits``) -> (its ``budget.used`` key, label).
_METERS = {
    "max_tool_calls": ("tool_calls", "tool calls"),
    "max_tokens_total": ("tokens", "tokens"),
    "max_cost_usd": ("cost_usd", "cost"),
    "timeout_seconds": ("seconds", "seconds"),
    "max_repeated_calls": ("repeated_calls", "repeated calls"),
    "max_simulated_seconds": ("simulated_seconds", "simulated seconds"),
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
        return _text(self.header.get("test")) or self.file


@dataclass(slots=True)
class Entry:
    """One test of the page: its scorecard figures, and its trace when there is one."""

    figs: dict[str, Any]
    trace: Trace | None = None

    @property
    def nodeid(self) -> str:
        return _text(self.figs.get("nodeid"))

    @property
    def outcome(self) -> str:
        return _text(self.figs.get("outcome")) or "incomplete"

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
        value = self._load(_text(digest))
        return None if value is self._MISSING or isinstance(value, _Unparsed) else value

    def html(self, digest: Any) -> str:
        key = _text(digest)
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
            return f'<p class="warn">not a payload reference: {_e(digest[:80])}</p>'
        value = self._load(digest)
        if value is self._MISSING:
            return f'<p class="warn">payload file payloads/{digest}.json is missing</p>'
        if isinstance(value, _Unparsed):
            return f'<p class="warn">payloads/{digest}.json is not JSON; its text:</p>{_pre(value.text)}'
        return _pre(_pretty(value))


@dataclass(frozen=True, slots=True)
class _Unparsed:
    """A payload file that is not JSON: shown as its text."""

    text: str


# ---- figures ------------------------------------------------------------------------------------


def figures_of(trace: Trace) -> dict[str, Any]:
    """The trace as the per-test figures ``scorecard.figures`` makes during the run.

    A complete trace takes its totals from the footer (counted by the writer, with the run's own price
    table); a trace without a footer is recounted from its events.
    """
    header, events, footer = trace.header, trace.events, trace.footer
    outcome = _text(header.get("outcome")) or "incomplete"
    escalations = [_text(r) for r in _list(header.get("escalations"))]
    result = header.get("result") if "result" in header else scorecard.result_of(outcome, bool(escalations))
    if outcome == "incomplete":
        result = "failed"  # a test whose run never reported an outcome died on the way
    contract = _text(header.get("contract")) or scorecard.NO_CONTRACT
    latency: dict[str, list[float]] = {}
    denial_rules: dict[str, int] = {}
    for event in events:
        backend = event.get("backend")
        if backend not in ("policy", "miss"):
            latency.setdefault(_step(event), []).append(_num(event.get("duration_ms")))
        if backend == "policy":
            rule = _text(event.get("rule")) or "(unknown)"
            denial_rules[rule] = denial_rules.get(rule, 0) + 1
    figs: dict[str, Any] = {
        "nodeid": trace.nodeid,
        "contract": contract,
        "outcome": outcome,
        "result": result if result in scorecard.RESULTS else None,
        "escalations": escalations,
        "duration_s": _num(header.get("duration_s")),
        "trace_id": _text(header.get("trace_id")) or None,
        "trace_file": trace.file,
        "denials": sum(denial_rules.values()),
        "denial_rules": dict(sorted(denial_rules.items())),
        "latency_ms": dict(sorted(latency.items())),
        **(_footer_totals(footer) if footer is not None else _event_totals(events)),
    }
    components = _components_of(events)
    if components:
        figs["components"] = components
    attempt, k = header.get("attempt"), header.get("k")
    if isinstance(attempt, int) and isinstance(k, int) and not isinstance(attempt, bool):
        figs.update(task=_text(header.get("task")), attempt=attempt, k=k)
    return figs


def _components_of(events: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """``scorecard.by_component`` over trace lines: tool calls, denials, tool errors per framework agent."""
    out: dict[str, dict[str, int]] = {}
    for event in events:
        agent = event.get("agent")
        if not isinstance(agent, str) or event.get("kind") != "tool":
            continue
        row = out.setdefault(agent, dict.fromkeys(scorecard.COMPONENT_FIELDS, 0))
        row["tool_calls"] += 1
        row["denials"] += event.get("backend") == "policy"
        row["tool_errors"] += _is_tool_error(event)
    return dict(sorted(out.items()))


def _footer_totals(footer: Mapping[str, Any]) -> dict[str, Any]:
    usage = _dict(footer.get("usage"))
    cost = usage.get("cost_usd")
    return {
        "model_calls": _int(footer.get("model_calls")),
        "tool_calls": _int(footer.get("tool_calls")),
        "tokens": {
            "input": _int(usage.get("input_tokens")),
            "output": _int(usage.get("output_tokens")),
            "cached_input": _int(usage.get("cached_input_tokens")),
            "total": _int(usage.get("total_tokens")),
        },
        "cost_usd": _real(cost),
        "unpriced_models": [_text(m) for m in _list(usage.get("unpriced_models"))],
        "tool_errors": _int(footer.get("tool_errors")),
        "budget_breaches": [_text(_dict(b).get("key")) for b in _list(footer.get("breaches"))],
    }


def _event_totals(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    models = [e for e in events if e.get("kind") == "model"]
    costs = [e.get("cost_usd") for e in models]
    tokens = [_dict(e.get("tokens")) for e in models]
    unpriced = sorted({_text(e.get("model")) for e in models if _real(e.get("cost_usd")) is None})
    return {
        "model_calls": len(models),
        "tool_calls": sum(1 for e in events if e.get("kind") == "tool"),
        "tokens": {key: sum(_int(t.get(key)) for t in tokens) for key in ("input", "output", "cached_input", "total")},
        "cost_usd": None if unpriced else round(sum(_num(c) for c in costs), 10),
        "unpriced_models": unpriced,
        "tool_errors": sum(1 for e in events if _is_tool_error(e)),
        "budget_breaches": [],
    }


def _step(event: Mapping[str, Any]) -> str:
    """The scorecard's latency bucket (``scorecard.step_of``) of an event line."""
    if event.get("kind") == "model":
        return "model"
    tool = _text(event.get("tool"))
    return f"tool {tool}" if tool else "tool (unregistered)"


def _is_tool_error(event: Mapping[str, Any]) -> bool:
    """``tracefile.is_tool_error`` on an event line."""
    return (
        event.get("kind") == "tool"
        and event.get("backend") not in ("policy", "miss")
        and _int(event.get("status")) >= 400
    )


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
            trace = by_file.get(_text(figs.get("trace_file"))) or by_node.get(figs["nodeid"])
            if trace is not None:
                used.add(trace.file)
            entries.append(Entry(dict(figs), trace))
        entries += [Entry(figures_of(t), t) for t in traces if t.file not in used]
    order = {group: i for i, group in enumerate(_GROUPS)}
    entries.sort(key=lambda e: (order.get(e.group, len(order)), e.nodeid))
    return entries, report


# ---- the page -----------------------------------------------------------------------------------


def render(entries: Sequence[Entry], report: Mapping[str, Any], payloads: Payloads, source: Source) -> str:
    """The whole HTML document."""
    css, js = _asset("report.css"), _asset("report.js")
    script_hash = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    csp = (
        f"default-src 'none'; script-src 'sha256-{script_hash}'; style-src 'unsafe-inline'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    starts = sorted(filter(None, (_text(e.trace.header.get("started_at")) for e in entries if e.trace is not None)))
    subtitle = [f"{len(entries):,} test(s) from <code>{_e(source.trace_dir)}</code>"]
    if source.scorecard:
        subtitle.append(f"scorecard <code>{_e(source.scorecard)}</code>")
    if starts:
        subtitle.append(f"run started {_e(starts[0])}")
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">\n',
        '<meta name="generator" content="pytest-agentops">\n',
        f"<title>{_e(source.title)}</title>\n",
        '<link rel="icon" href="data:,">\n',
        f"<style>\n{css}</style>\n</head>\n<body>\n",
        f'<header class="top"><h1>{_e(source.title)}</h1><p class="sub">{" · ".join(subtitle)}</p></header>\n',
        "<main>\n",
        render_scorecard(entries, report),
        _render_tests(entries, payloads),
        "</main>\n",
        json_script("agentops-data", _page_data(report)),
        f"<script>{js}</script>\n</body>\n</html>\n",
    ]
    return "".join(parts)


def json_script(element_id: str, value: Any) -> str:
    """``value`` as a ``<script type="application/json">`` block no string inside can break out of."""
    text = json.dumps(_strict_json(value), ensure_ascii=False, separators=(",", ":"), default=str)
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f'<script type="application/json" id="{_e(element_id)}">{text}</script>\n'


def _strict_json(value: Any) -> Any:
    """``value`` with NaN and infinities as null: ``JSON.parse`` (and other strict readers) refuse them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _strict_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_strict_json(item) for item in value]
    return value


def _page_data(report: Mapping[str, Any]) -> dict[str, Any]:
    """What the page embeds for machines: the scorecard as ``--agent-report`` writes it."""
    return {key: report[key] for key in ("format", "version", "plugin_version", "agents", "total", "pass_k", "tests")
            if key in report}  # fmt: skip


# ---- the scorecard section ----------------------------------------------------------------------


def render_scorecard(entries: Sequence[Entry], report: Mapping[str, Any]) -> str:
    """Totals as tiles, then the per-contract table, budgets, latency, denials and pass^k."""
    total = _dict(report.get("total"))
    counts = {group: sum(1 for e in entries if e.group == group) for group in _GROUPS}
    incomplete = sum(1 for e in entries if e.trace is not None and not e.trace.complete)
    misses = sum(1 for e in entries if e.trace is not None for ev in e.trace.events if ev.get("backend") == "miss")
    breaches = sum(1 for e in entries if _list(e.figs.get("budget_breaches")))
    unpriced = _list(total.get("unpriced_models"))
    tiles = [
        ("tests", f"{len(entries):,}", f"{counts['passed']:,} passed · {counts['skipped']:,} skipped", ""),
        (
            "failed",
            f"{counts['failed']:,}",
            _per(total.get("failure_rate"), "of runs", pct=True),
            "bad" if counts["failed"] else "ok",
        ),
        ("success rate", _pct(total.get("success_rate")), f"{_pct(total.get('escalation_rate'))} escalated", ""),
        ("tokens", _count(total.get("tokens")), _per(total.get("tokens_per_task"), "per task", digits=0), ""),
        ("cost", _usd(total.get("cost_usd"), unpriced), _per(total.get("cost_per_task"), "per task", usd=True), ""),
        ("model calls", _count(total.get("model_calls")), "", ""),
        ("tool calls", _count(total.get("tool_calls")), _per(total.get("tool_calls_per_success"), "per success"), ""),
        ("denials", _count(total.get("denials")), "", "warn" if total.get("denials") else ""),
        ("tool errors", _count(total.get("tool_errors")), "", "warn" if total.get("tool_errors") else ""),
        ("over budget", f"{breaches:,}", "test(s)", "bad" if breaches else ""),
    ]
    if incomplete:
        tiles.insert(2, ("incomplete", f"{incomplete:,}", "no footer", "warn"))
    if misses:
        tiles.append(("cassette misses", f"{misses:,}", "", "bad"))
    agents = list(_dict(report.get("agents")))
    # One contract: the tiles hold all its figures, so the per-contract table is left out.
    named = f' <span class="muted">{_e(_text(agents[0]))}</span>' if len(agents) == 1 else ""
    out = [f'<section id="scorecard" class="card">\n<h2>Scorecard{named}</h2>\n<div class="tiles">']
    for label, value, sub, tone in tiles:
        small = f"<small>{_e(sub)}</small>" if sub else ""
        out.append(f'<div class="tile {tone}"><b>{_e(value)}</b><span>{_e(label)}</span>{small}</div>')
    out.append("</div>\n")
    if len(agents) > 1:
        out.append(_agents_table(report))
    if unpriced:
        out.append(f'<p class="warn">Cost unknown: no price for {_e(", ".join(_text(m) for m in unpriced))}.</p>')
    out.append('<div class="cols">')
    out.append(_budgets_table(entries))
    out.append(_latency_table(report))
    out.append(_denials_table(report))
    out.append(_components_table(report))
    out.append("</div>")
    out.append(_pass_k(report))
    out.append("</section>\n")
    return "".join(out)


def _agents_table(report: Mapping[str, Any]) -> str:
    agents = _dict(report.get("agents"))
    rows = list(agents.items())
    if len(rows) > 1:
        rows.append((scorecard.TOTAL, _dict(report.get("total"))))
    head = ("agent", "runs", "success", "escalated", "failed", "tools/success", "tokens/task", "cost/task",
            "tokens", "cost", "denials", "tool errors")  # fmt: skip
    body = []
    for name, stats in rows:
        s = _dict(stats)
        cells = [
            _pct(s.get("success_rate")),
            _pct(s.get("escalation_rate")),
            _pct(s.get("failure_rate")),
            _dec(s.get("tool_calls_per_success")),
            _dec(s.get("tokens_per_task"), 0),
            _usd(s.get("cost_per_task"), _list(s.get("unpriced_models"))),
            _count(s.get("tokens")),
            _usd(s.get("cost_usd"), _list(s.get("unpriced_models"))),
            _count(s.get("denials")),
            _count(s.get("tool_errors")),
        ]
        body.append([_e(_text(name)), _count(s.get("runs")), *(_e(c) for c in cells)])
    title = "runs: tests that called a model or tool, applied a contract or escalated; per task: totals / successes"
    return f'<h3 title="{_e(title)}">By agent contract</h3>' + _table(head, body, numeric_from=1)


def _budgets_table(entries: Sequence[Entry]) -> str:
    """Per budget limit: how many tests had it, breaches, and the highest use (a meter)."""
    seen: dict[str, list[tuple[float, bool]]] = {}
    for entry in entries:
        for key, label, used, limit in _meters(entry.trace):
            fraction = used / limit if limit else (1.0 if used else 0.0)
            seen.setdefault(label, []).append(
                (fraction, fraction > 1 or key in _list(entry.figs.get("budget_breaches")))
            )
    if not seen:
        return '<div><h3>Budgets</h3><p class="note">No test had a budget.</p></div>'
    body = []
    for label, uses in sorted(seen.items()):
        top = max(f for f, _ in uses)
        body.append([_e(label), str(len(uses)), str(sum(1 for _, b in uses if b)), _bar(top, f"{top * 100:.0f}%")])
    return (
        "<div><h3>Budgets</h3>"
        + _table(("budget", "tests", "breaches", "highest use"), body, numeric_from=1)
        + "</div>"
    )


def _latency_table(report: Mapping[str, Any]) -> str:
    agents = _dict(report.get("agents"))
    several = len(agents) > 1  # with one contract the agent column says nothing
    body = []
    for name, stats in agents.items():
        for step, lat in _dict(_dict(stats).get("latency_ms")).items():
            d = _dict(lat)
            cells = [_e(_text(step)), _count(d.get("count")), _ms(d.get("p50")), _ms(d.get("p95"))]
            body.append([_e(_text(name)), *cells] if several else cells)
    if not body:
        return ""
    head = ("step", "calls", "p50", "p95")
    table = _table(("agent", *head), body, numeric_from=2) if several else _table(head, body, numeric_from=1)
    # A row of its own: step names are long, and in a third of the row the table was cut off.
    return '<div class="wide"><h3>Latency by step</h3>' + table + "</div>"


def _denials_table(report: Mapping[str, Any]) -> str:
    agents = _dict(report.get("agents"))
    several = len(agents) > 1
    body = []
    for name, stats in agents.items():
        for rule, times in _dict(_dict(stats).get("denials_by_rule")).items():
            cells = [f"<code>{_e(_text(rule))}</code>", _count(times)]
            body.append([_e(_text(name)), *cells] if several else cells)
    if not body:
        return ""
    table = (
        _table(("agent", "rule", "denials"), body, numeric_from=2) if several
        else _table(("rule", "denials"), body, numeric_from=1)
    )  # fmt: skip
    return "<div><h3>Denials by rule</h3>" + table + "</div>"


def _components_table(report: Mapping[str, Any]) -> str:
    """Which framework agent (Agents SDK agent, LangGraph node, CrewAI role) made which calls."""
    agents = _dict(report.get("agents"))
    several = len(agents) > 1
    body = []
    for name, stats in agents.items():
        for component, row in _dict(_dict(stats).get("components")).items():
            r = _dict(row)
            cells = [
                _e(_text(component)),
                _count(r.get("tool_calls")),
                _count(r.get("denials")),
                _count(r.get("tool_errors")),
            ]
            body.append([_e(_text(name)), *cells] if several else cells)
    if not body:
        return ""
    head = ("framework agent", "tool calls", "denials", "tool errors")
    table = _table(("agent", *head), body, numeric_from=2) if several else _table(head, body, numeric_from=1)
    return '<div><h3 title="Event.agent: the agent, graph node or crew role">By framework agent</h3>' + table + "</div>"


def _pass_k(report: Mapping[str, Any]) -> str:
    out = []
    for group in _list(report.get("pass_k")):
        g = _dict(group)
        k = _text(g.get("k"))
        rows = [[_e(_text(task)), f"{_int(_dict(i).get('successes'))}/{_int(_dict(i).get('attempts'))}"]
                for task, i in _dict(g.get("per_task")).items()]  # fmt: skip
        out.append(
            f"<h3>pass^{_e(k)}: {_dec(g.get('pass_hat_k'), 3)} "
            f'<span class="muted">(pass@1 {_dec(g.get("pass_at_1"), 3)}, {_count(g.get("tasks"))} task(s))</span></h3>'
            + _table(("task", "passed"), rows, numeric_from=1)
        )
    return "".join(out)


# ---- the tests section --------------------------------------------------------------------------


def _render_tests(entries: Sequence[Entry], payloads: Payloads) -> str:
    counts = {group: sum(1 for e in entries if e.group == group) for group in _GROUPS}
    buttons = [("all", len(entries)), *((g, counts[g]) for g in ("passed", "failed", "skipped"))]
    out = ['<section id="tests" class="card">\n<h2>Tests</h2>\n']
    out.append('<div id="controls" class="controls" hidden>')
    for name, n in buttons:
        pressed = "true" if name == "all" else "false"
        out.append(f'<button type="button" class="filter f-{name}" data-filter="{name}" aria-pressed="{pressed}">'
                   f"{name} <span>{n:,}</span></button>")  # fmt: skip
    out.append(
        '<input id="search" type="search" placeholder="search test names  ( / )" aria-label="search test names">'
        '<button type="button" id="expand">expand all</button><button type="button" id="collapse">collapse all</button>'
        '<span id="shown" class="muted"></span></div>\n'
    )
    out.extend(render_test(entry, payloads) for entry in entries)
    out.append("</section>\n")
    return "".join(out)


def render_test(entry: Entry, payloads: Payloads) -> str:
    """One test: a summary line, then (open for failures) its budget meters and its timeline."""
    figs, trace = entry.figs, entry.trace
    incomplete = trace is not None and not trace.complete
    outcome = entry.outcome
    badges = [f'<span class="badge {_e(outcome)}">{_e(outcome)}</span>']
    if incomplete and outcome != "incomplete":
        badges.append('<span class="badge incomplete">incomplete</span>')
    if figs.get("escalations"):
        badges.append('<span class="badge escalated">escalated</span>')
    if _list(figs.get("budget_breaches")):
        badges.append('<span class="badge failed">over budget</span>')
    tokens = _dict(figs.get("tokens")).get("total")
    stats = [
        f"{_count(figs.get('model_calls'))} model",
        f"{_count(figs.get('tool_calls'))} tool",
        f"{_count(tokens)} tok",
        _usd(figs.get("cost_usd"), _list(figs.get("unpriced_models"))),
        _secs(figs.get("duration_s")),
    ]
    if figs.get("denials"):
        stats.insert(2, f"{_count(figs.get('denials'))} denied")
    stat_text = " · ".join(stats)
    top = max((used / limit if limit else 0.0 for _, _, used, limit in _meters(trace)), default=None)
    budget = "" if top is None else _bar(top, f"budget {top * 100:.0f}%", small=True)
    contract = _text(figs.get("contract"))
    is_open = " open" if entry.group == "failed" or incomplete else ""
    out = [
        f'<details class="test" data-group="{entry.group}" data-name="{_e(entry.nodeid.lower())}"{is_open}>',
        f'<summary><span class="badges">{"".join(badges)}</span><span class="name">{_e(entry.nodeid)}</span>',
        f'<span class="contract">{_e(contract)}</span>' if contract and contract != scorecard.NO_CONTRACT else "",
        f'<span class="stats" title="{_e(stat_text)}">{_e(stat_text)}</span>{budget}</summary>\n<div class="body">',
    ]
    out.append(_test_meta(entry))
    if trace is None:
        out.append('<p class="note">No trace file: the test made no call that reached a trace (e.g. it was skipped '
                   "before its setup).</p>")  # fmt: skip
    else:
        out.append(_meters_html(trace, _list(figs.get("budget_breaches"))))
        out.append(_timeline(trace, payloads))
        if incomplete:
            out.append('<p class="warn">Incomplete trace: the file has no footer line (the test process died '
                       "before the test finished, or the file was cut). The figures above are recounted from "
                       "its events.</p>")  # fmt: skip
    out.append("</div></details>\n")
    return "".join(out)


def _test_meta(entry: Entry) -> str:
    figs, trace = entry.figs, entry.trace
    items: list[tuple[str, str]] = []
    if figs.get("trace_id"):
        items.append(("trace id", f"<code>{_e(_text(figs.get('trace_id')))}</code>"))
    if trace is not None:
        items.append(("trace file", f"<code>{_e(trace.file)}</code>"))
        if trace.header.get("started_at"):
            items.append(("started", _e(_text(trace.header.get("started_at")))))
        logging = _dict(trace.header.get("logging"))
        if logging:
            items.append(("logging", _e(_logging_text(logging))))
    if figs.get("attempt") is not None:
        items.append(
            ("attempt", _e(f"{_text(figs.get('attempt'))}/{_text(figs.get('k'))} of {_text(figs.get('task'))}"))
        )
    for reason in _list(figs.get("escalations")):
        items.append(("escalated", _e(_text(reason)) or "(no reason)"))
    failure = _dict(trace.header.get("failure")) if trace is not None else {}
    if failure:
        when = _text(failure.get("when"))
        items.append(
            (
                f"failed in {when}" if when else "failed",
                f'<span class="bad-text failure">{_e(_text(failure.get("message")))}</span>',
            )
        )
    if trace is not None and trace.footer is not None:
        for breach in _list(trace.footer.get("breaches")):
            items.append(("budget", f'<span class="bad-text">{_e(_text(_dict(breach).get("message")))}</span>'))
    if not items:
        return ""
    return '<p class="facts">' + "".join(f"<span><em>{k}</em> {v}</span>" for k, v in items) + "</p>"


def _logging_text(logging: Mapping[str, Any]) -> str:
    """The contract's ``logging`` settings in words: what this trace may hold."""
    words = {
        "store_prompt": ("prompts kept", "prompts not kept"),
        "store_tool_io": ("tool I/O kept", "tool I/O not kept"),
        "pii_redaction": ("PII masked", "PII not masked"),
    }
    parts = [words[k][0 if v else 1] if k in words else f"{k} = {_text(v)}" for k, v in logging.items()]
    return " · ".join(parts)


def _meters(trace: Trace | None) -> Iterator[tuple[str, str, float, float]]:
    """(limit key, label, used, limit) for each budget limit of the trace's footer."""
    if trace is None or trace.footer is None:
        return
    budget = _dict(trace.footer.get("budget"))
    used = _dict(budget.get("used"))
    for key, limit in _dict(budget.get("limits")).items():
        number = _real(limit)
        if number is None:
            continue
        used_key, label = _METERS.get(key, (key.removeprefix("max_"), key.removeprefix("max_").replace("_", " ")))
        yield key, label, _num(used.get(used_key)), number


def _meters_html(trace: Trace, breaches: Sequence[Any]) -> str:
    rows = []
    for key, label, used, limit in _meters(trace):
        fraction = used / limit if limit else (1.0 if used else 0.0)
        text = f"{_amount(key, used)} / {_amount(key, limit)}"
        over = " over" if key in breaches or fraction > 1 else ""
        rows.append(f'<span class="meter-row{over}"><span class="label">{_e(label)}</span>'
                    f"{_bar(fraction, text)}</span>")  # fmt: skip
    if not rows:
        return ""
    return '<div class="meters"><h4>Budget</h4>' + "".join(rows) + "</div>"


def _timeline(trace: Trace, payloads: Payloads) -> str:
    events = trace.events
    if not events:
        return '<p class="note">No calls were recorded.</p>'
    span = max((_num(e.get("offset_ms")) + _num(e.get("duration_ms")) for e in events), default=0.0) or 1.0
    out = [
        f'<div class="timeline" role="list" aria-label="steps"><div class="step-head"><span>#</span><span>at</span>'
        "<span>kind</span><span>step</span><span>backend</span><span>status</span><span>tokens</span>"
        f"<span>cost</span><span>time</span><span>0 - {_e(_ms(span))}</span></div>"
    ]
    previous: _Previous = {}
    out.extend(render_step(event, span, payloads, previous) for event in events)
    out.append("</div>")
    return "".join(out)


# The last model request shown in a test, by provider: (its seq, its JSON value).
_Previous = dict[str, tuple[str, dict[str, Any]]]
_CONVERSATION_KEYS = ("messages", "input", "contents")  # chat/Anthropic, Responses, and the like


def request_delta(value: dict[str, Any], before: dict[str, Any]) -> tuple[dict[str, Any], list[str], int]:
    """What a model request adds to the previous one of its test: (new part, keys left out, messages kept).

    Each call of a conversation resends the system prompt, the tools and every earlier message, so
    showing them again makes the page grow with the square of the conversation. Keys equal to the
    previous request's are left out (and named); a conversation list that extends the previous one
    shows its new items only, as ``messages[N:]``.
    """
    shown: dict[str, Any] = {}
    same: list[str] = []
    kept = 0
    for key, item in value.items():
        earlier = before.get(key)
        if key in before and earlier == item:
            same.append(key)
        elif (
            key in _CONVERSATION_KEYS
            and isinstance(item, list)
            and isinstance(earlier, list)
            and 0 < len(earlier) <= len(item)
            and item[: len(earlier)] == earlier
        ):
            kept = len(earlier)
            shown[f"{key}[{kept}:]"] = item[kept:]
        else:
            shown[key] = item
    return shown, same, kept


def render_step(event: Mapping[str, Any], span: float, payloads: Payloads, previous: _Previous | None = None) -> str:
    """One event: a summary row (with its place on the test's time axis) and its details."""
    kind = _text(event.get("kind")) or "event"
    backend = _text(event.get("backend"))
    status = event.get("status")
    tone = "denied" if backend == "policy" else "miss" if backend == "miss" else "error" if _is_error(event) else ""
    offset, duration = _num(event.get("offset_ms")), _num(event.get("duration_ms"))
    tokens = _dict(event.get("tokens")).get("total") if kind == "model" else None
    cost = _usd(event.get("cost_usd"), ["?"]) if kind == "model" else ""
    left = min(max(offset / span, 0.0), 1.0) * 100
    width = max(min(duration / span * 100, 100 - left), 0.6)
    name = _text(event.get("name")) or _text(event.get("tool")) or _text(event.get("model")) or "?"
    note = _note(event, payloads)
    row = (
        f'<summary class="row"><span class="seq">{_e(_text(event.get("seq")))}</span>'
        f'<span class="at">{_e(_ms(offset))}</span><span class="kind k-{_e(kind)}">{_e(kind)}</span>'
        f'<span class="what"><b>{_e(name)}</b>{note}</span>'
        f'<span class="backend b-{_e(backend)}">{_e(backend)}</span>'
        f'<span class="status">{_e(_text(status))}</span>'
        f'<span class="num">{_count(tokens) if tokens is not None else ""}</span>'
        f'<span class="num">{_e(cost)}</span><span class="num">{_e(_ms(duration))}</span>'
        f'<span class="gantt"><i style="left:{left:.2f}%;width:{width:.2f}%"></i></span></summary>'
    )
    detail = _step_detail(event, payloads, {} if previous is None else previous)
    return f'<details class="step {tone}" role="listitem">{row}<div class="detail">{detail}</div></details>'


def _is_error(event: Mapping[str, Any]) -> bool:
    status = event.get("status")
    return isinstance(status, int) and status >= 400


def _note(event: Mapping[str, Any], payloads: Payloads) -> str:
    """The short line under a step's name: denial, miss, error, what the model asked or said."""
    backend = event.get("backend")
    error = _text(event.get("error"))
    if backend == "policy":
        return (f'<span class="note denied-text">denied by <code>{_e(_text(event.get("rule")) or "?")}</code>'
                f"{': ' + _e(error) if error else ''}</span>")  # fmt: skip
    if backend == "miss":
        return f'<span class="note bad-text">cassette miss{": " + _e(error) if error else ""}</span>'
    if error:
        return f'<span class="note bad-text">{_e(error.splitlines()[0][:200])}</span>'
    asked = [_text(_dict(t).get("name")) for t in _list(event.get("tool_calls_requested"))]
    if asked:
        return f'<span class="note">asks for {_e(", ".join(asked))}</span>'
    requested = _dict(event.get("requested_by"))
    by = f" by {_text(event.get('agent'))}" if isinstance(event.get("agent"), str) else ""
    if requested:
        return f'<span class="note">for model call #{_e(_text(requested.get("seq")))}{_e(by)}</span>'
    said = _answer_text(event, payloads)
    if said:
        return f'<span class="note">says “{_e(said[:160])}”</span>'
    return ""


def _answer_text(event: Mapping[str, Any], payloads: Payloads) -> str:
    """What a model call answered (its response's ``text``), when the trace kept it."""
    if event.get("kind") != "model":
        return ""
    response = event.get("response")
    if response is None:
        response = payloads.value(_dict(event.get("payloads")).get("response"))
    text = _dict(response).get("text")
    return " ".join(text.split()) if isinstance(text, str) else ""


def _request_html(event: Mapping[str, Any], value: Any, previous: _Previous) -> str | None:
    """A model request as what it adds to the test's previous one (None: show it whole)."""
    if event.get("kind") != "model" or not isinstance(value, dict):
        return None
    provider = _text(event.get("provider")) or _text(event.get("url"))
    before = previous.get(provider)
    previous[provider] = (_text(event.get("seq")), value)
    if before is None:
        return None
    shown, same, kept = request_delta(value, before[1])
    if not same and not kept:
        return None
    parts = [f"<code>{_e(k)}</code>" for k in same]
    if kept:
        parts.append(f"the first {kept} item(s) of the conversation")
    note = f'<p class="note same">As in step #{_e(before[0])}: {", ".join(parts)}. New in this request:</p>'
    return note + _pre(_pretty(shown))


def _step_detail(event: Mapping[str, Any], payloads: Payloads, previous: _Previous) -> str:
    facts: list[tuple[str, str]] = [("request", f"{_text(event.get('method'))} {_text(event.get('url'))}".strip())]
    for key, label in (("model", "model"), ("provider", "provider"), ("stop_reason", "stop reason"),
                       ("streamed", "streamed"), ("tool", "tool"), ("access", "access"), ("rule", "rule"),
                       ("error", "error")):  # fmt: skip
        if event.get(key) not in (None, "", False):
            facts.append((label, _text(event.get(key))))
    tokens = _dict(event.get("tokens"))
    if tokens:
        facts.append(("tokens", ", ".join(f"{k} {_text(v)}" for k, v in tokens.items())))
    requested = _dict(event.get("requested_by"))
    if requested:
        facts.append(
            ("requested by", f"model call #{_text(requested.get('seq'))} ({_text(requested.get('tool_call_id'))})")
        )
    out = ['<dl class="meta">' + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts) + "</dl>"]
    blocks = 0
    for name in ("arguments", "request", "response"):
        if name in event:
            inline = _request_html(event, event[name], previous) if name == "request" else None
            out.append(f'<div class="payload"><h5>{name}</h5>{inline or _pre(_pretty(event[name]))}</div>')
            blocks += 1
    for name, digest in _dict(event.get("payloads")).items():
        body = _request_html(event, payloads.value(digest), previous) if name == "request" else None
        out.append(f'<div class="payload"><h5>{_e(_text(name))} <span class="muted">payloads/'
                   f"{_e(_text(digest)[:12])}…</span></h5>{body or payloads.html(digest)}</div>")  # fmt: skip
        blocks += 1
    omitted = [_text(o) for o in _list(event.get("omitted"))]
    if omitted:
        out.append(f'<p class="note">{_e(", ".join(omitted))}: not stored (the contract\'s logging settings).</p>')
    elif not blocks:
        out.append('<p class="note">No payload in the trace for this step.</p>')
    return "".join(out)


# ---- writing ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Written:
    """What ``write_report`` produced, for the command's one-line summary."""

    path: Path
    tests: int
    failed: int
    incomplete: int
    size: int


def write_report(
    trace_dir: Path, output: Path, *, scorecard_path: Path | None = None, title: str | None = None
) -> Written:
    """Read ``trace_dir`` (and the JSON scorecard), render the page and write it atomically."""
    from pytest_agentops.readers.tracefile import write_atomic

    traces = load_traces(trace_dir)
    card = load_scorecard(scorecard_path) if scorecard_path is not None else None
    entries, report = build_entries(traces, card)
    source = Source(str(trace_dir), str(scorecard_path) if scorecard_path else None, title or "pytest-agentops report")
    data = render(entries, report, Payloads(trace_dir), source).encode("utf-8")
    try:
        write_atomic(output, data)
    except OSError as exc:
        raise ReportInputError(f"{output}: cannot write: {exc.strerror or exc}") from None
    return Written(
        output,
        len(entries),
        sum(1 for e in entries if e.group == "failed"),
        sum(1 for e in entries if e.trace is not None and not e.trace.complete),
        len(data),
    )


# ---- small helpers ------------------------------------------------------------------------------


def _asset(name: str) -> str:
    return resources.files(__package__ or "pytest_agentops").joinpath("assets", name).read_text(encoding="utf-8")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _pre(text: str) -> str:
    """Text content (not an attribute): ``<``, ``>`` and ``&`` escaped; quotes stay, JSON is full of them."""
    shown = html.escape(text[:MAX_PAYLOAD_CHARS], quote=False)
    if len(text) > MAX_PAYLOAD_CHARS:
        cut = len(text) - MAX_PAYLOAD_CHARS
        return f'<pre>{shown}</pre><p class="note">… {cut:,} more characters not shown</p>'
    return f"<pre>{shown}</pre>"


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _table(head: Iterable[str], rows: Iterable[Sequence[str]], *, numeric_from: int) -> str:
    """A table from already-escaped cells (``head`` is escaped here)."""
    ths = "".join(f"<th{' class=n' if i >= numeric_from else ''}>{_e(h)}</th>" for i, h in enumerate(head))
    trs = "".join(
        "<tr>" + "".join(f"<td{' class=n' if i >= numeric_from else ''}>{c}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<div class="scroll"><table><thead><tr>{ths}</tr></thead><tbody>{trs}</tbody></table></div>'


def _bar(fraction: float, label: str, *, small: bool = False) -> str:
    tone = "over" if fraction > 1 else "high" if fraction >= 0.8 else ""
    width = min(max(fraction, 0.0), 1.0) * 100
    return (f'<span class="bar {tone}{" small" if small else ""}" title="{_e(label)}">'
            f'<i style="width:{width:.1f}%"></i><em>{_e(label)}</em></span>')  # fmt: skip


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _real(value: Any) -> float | None:
    """A JSON number as a finite float; None for anything else (NaN, infinities, huge ints, text, bools)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _num(value: Any) -> float:
    return _real(value) or 0.0


def _int(value: Any) -> int:
    return int(_real(value) or 0)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _count(value: Any) -> str:
    number = _real(value)
    return "-" if number is None else f"{int(number):,}"


def _dec(value: Any, digits: int = 1) -> str:
    number = _real(value)
    if number is None:
        return "-"
    return str(int(number)) if number == int(number) else f"{number:.{digits}f}"


def _per(value: Any, what: str, *, digits: int = 1, pct: bool = False, usd: bool = False) -> str:
    """A tile's second line (``2,708 per task``), empty when there is no figure."""
    number = _real(value)
    if number is None:
        return ""
    shown = _pct(number) if pct else _usd(number) if usd else _dec(number, digits)
    if not pct and not usd and number >= 1000:
        shown = f"{number:,.0f}"
    return f"{shown} {what}"


def _pct(value: Any) -> str:
    number = _real(value)
    return "-" if number is None else f"{number * 100:.1f}%"


def _usd(value: Any, unpriced: Sequence[Any] = ()) -> str:
    number = _real(value)
    if number is None:
        return "unknown" if unpriced else "-"
    return f"${number:.6f}" if number < 1 else f"${number:,.2f}"


def _ms(value: Any) -> str:
    ms = _num(value)
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.1f} ms"


def _secs(value: Any) -> str:
    return _ms(_num(value) * 1000)


def _amount(key: str, value: float) -> str:
    if key == "max_cost_usd":
        return _usd(value)
    if key in ("timeout_seconds", "max_simulated_seconds"):
        return f"{value:.2f} s"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
