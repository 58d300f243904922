"""The scorecard section of the HTML report: tiles, the per-contract table, budgets, latency,
denials, framework agents and pass^k, all read from the report's figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pytest_agentops.readers import formats as fmt
from pytest_agentops.readers import scorecard
from pytest_agentops.readers.html.inputs import GROUPS, Entry
from pytest_agentops.readers.html.markup import as_dict, as_int, as_list, as_text, bar, esc, html_table, per_line
from pytest_agentops.readers.html.timeline import meters

# ---- the scorecard section ----------------------------------------------------------------------


def render_scorecard(entries: Sequence[Entry], report: Mapping[str, Any]) -> str:
    """Totals as tiles, then the per-contract table, budgets, latency, denials and pass^k."""
    unpriced = as_list(as_dict(report.get("total")).get("unpriced_models"))
    agents = list(as_dict(report.get("agents")))
    # One contract: the tiles hold all its figures, so the per-contract table is left out.
    named = f' <span class="muted">{esc(as_text(agents[0]))}</span>' if len(agents) == 1 else ""
    out = [f'<section id="scorecard" class="card">\n<h2>Scorecard{named}</h2>\n<div class="tiles">']
    for label, value, sub, tone in _tiles(entries, report):
        small = f"<small>{esc(sub)}</small>" if sub else ""
        out.append(f'<div class="tile {tone}"><b>{esc(value)}</b><span>{esc(label)}</span>{small}</div>')
    out.append("</div>\n")
    if len(agents) > 1:
        out.append(_agents_table(report))
    if unpriced:
        out.append(f'<p class="warn">Cost unknown: no price for {esc(", ".join(as_text(m) for m in unpriced))}.</p>')
    out.append('<div class="cols">')
    out.append(_budgets_table(entries))
    out.append(_latency_table(report))
    out.append(_denials_table(report))
    out.append(_components_table(report))
    out.append("</div>")
    out.append(_pass_k(report))
    out.append("</section>\n")
    return "".join(out)


def _tiles(entries: Sequence[Entry], report: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """The scorecard's tiles: (label, value, the line under it, tone), from the run's totals."""
    total = as_dict(report.get("total"))
    counts = {group: sum(1 for e in entries if e.group == group) for group in GROUPS}
    incomplete = sum(1 for e in entries if e.trace is not None and not e.trace.complete)
    misses = sum(1 for e in entries if e.trace is not None for ev in e.trace.events if ev.get("backend") == "miss")
    breaches = sum(1 for e in entries if as_list(e.figs.get("budget_breaches")))
    unpriced = as_list(total.get("unpriced_models"))
    tiles = [
        ("tests", f"{len(entries):,}", f"{counts['passed']:,} passed · {counts['skipped']:,} skipped", ""),
        (
            "failed",
            f"{counts['failed']:,}",
            per_line(total.get("failure_rate"), "of runs", pct=True),
            "bad" if counts["failed"] else "ok",
        ),
        ("success rate", fmt.pct(total.get("success_rate")), f"{fmt.pct(total.get('escalation_rate'))} escalated", ""),
        ("tokens", fmt.count(total.get("tokens")), per_line(total.get("tokens_per_task"), "per task", digits=0), ""),
        (
            "cost",
            fmt.usd(total.get("cost_usd"), unpriced),
            per_line(total.get("cost_per_task"), "per task", usd=True),
            "",
        ),
        ("model calls", fmt.count(total.get("model_calls")), "", ""),
        (
            "tool calls",
            fmt.count(total.get("tool_calls")),
            per_line(total.get("tool_calls_per_success"), "per success"),
            "",
        ),
        ("denials", fmt.count(total.get("denials")), "", "warn" if total.get("denials") else ""),
        ("tool errors", fmt.count(total.get("tool_errors")), "", "warn" if total.get("tool_errors") else ""),
        ("over budget", f"{breaches:,}", "test(s)", "bad" if breaches else ""),
    ]
    if incomplete:
        tiles.insert(2, ("incomplete", f"{incomplete:,}", "no footer", "warn"))
    if misses:
        tiles.append(("cassette misses", f"{misses:,}", "", "bad"))
    return tiles


def _agents_table(report: Mapping[str, Any]) -> str:
    agents = as_dict(report.get("agents"))
    rows = list(agents.items())
    if len(rows) > 1:
        rows.append((scorecard.TOTAL, as_dict(report.get("total"))))
    head = ("agent", "runs", "success", "escalated", "failed", "tools/success", "tokens/task", "cost/task",
            "tokens", "cost", "denials", "tool errors")  # fmt: skip
    body = []
    for name, stats in rows:
        s = as_dict(stats)
        cells = [
            fmt.pct(s.get("success_rate")),
            fmt.pct(s.get("escalation_rate")),
            fmt.pct(s.get("failure_rate")),
            fmt.num(s.get("tool_calls_per_success")),
            fmt.num(s.get("tokens_per_task"), 0),
            fmt.usd(s.get("cost_per_task"), as_list(s.get("unpriced_models"))),
            fmt.count(s.get("tokens")),
            fmt.usd(s.get("cost_usd"), as_list(s.get("unpriced_models"))),
            fmt.count(s.get("denials")),
            fmt.count(s.get("tool_errors")),
        ]
        body.append([esc(as_text(name)), fmt.count(s.get("runs")), *(esc(c) for c in cells)])
    title = "runs: tests that called a model or tool, applied a contract or escalated; per task: totals / successes"
    return f'<h3 title="{esc(title)}">By agent contract</h3>' + html_table(head, body, numeric_from=1)


def _budgets_table(entries: Sequence[Entry]) -> str:
    """Per budget limit: how many tests had it, breaches, and the highest use (a meter)."""
    seen: dict[str, list[tuple[float, bool]]] = {}
    for entry in entries:
        for key, label, used, limit in meters(entry.trace):
            fraction = used / limit if limit else (1.0 if used else 0.0)
            seen.setdefault(label, []).append(
                (fraction, fraction > 1 or key in as_list(entry.figs.get("budget_breaches")))
            )
    if not seen:
        return '<div><h3>Budgets</h3><p class="note">No test had a budget.</p></div>'
    body = []
    for label, uses in sorted(seen.items()):
        top = max(f for f, _ in uses)
        body.append([esc(label), str(len(uses)), str(sum(1 for _, b in uses if b)), bar(top, f"{top * 100:.0f}%")])
    return (
        "<div><h3>Budgets</h3>"
        + html_table(("budget", "tests", "breaches", "highest use"), body, numeric_from=1)
        + "</div>"
    )


def _latency_table(report: Mapping[str, Any]) -> str:
    agents = as_dict(report.get("agents"))
    several = len(agents) > 1  # with one contract the agent column says nothing
    body = []
    for name, stats in agents.items():
        for step, lat in as_dict(as_dict(stats).get("latency_ms")).items():
            d = as_dict(lat)
            cells = [esc(as_text(step)), fmt.count(d.get("count")), fmt.ms(d.get("p50")), fmt.ms(d.get("p95"))]
            body.append([esc(as_text(name)), *cells] if several else cells)
    if not body:
        return ""
    head = ("step", "calls", "p50", "p95")
    table = html_table(("agent", *head), body, numeric_from=2) if several else html_table(head, body, numeric_from=1)
    # A row of its own: step names are long, and in a third of the row the table was cut off.
    return '<div class="wide"><h3>Latency by step</h3>' + table + "</div>"


def _denials_table(report: Mapping[str, Any]) -> str:
    agents = as_dict(report.get("agents"))
    several = len(agents) > 1
    body = []
    for name, stats in agents.items():
        for rule, times in as_dict(as_dict(stats).get("denials_by_rule")).items():
            cells = [f"<code>{esc(as_text(rule))}</code>", fmt.count(times)]
            body.append([esc(as_text(name)), *cells] if several else cells)
    if not body:
        return ""
    table = (
        html_table(("agent", "rule", "denials"), body, numeric_from=2) if several
        else html_table(("rule", "denials"), body, numeric_from=1)
    )  # fmt: skip
    return "<div><h3>Denials by rule</h3>" + table + "</div>"


def _components_table(report: Mapping[str, Any]) -> str:
    """Which framework agent (Agents SDK agent, LangGraph node, CrewAI role) made which calls."""
    agents = as_dict(report.get("agents"))
    several = len(agents) > 1
    body = []
    for name, stats in agents.items():
        for component, row in as_dict(as_dict(stats).get("components")).items():
            r = as_dict(row)
            cells = [
                esc(as_text(component)),
                fmt.count(r.get("tool_calls")),
                fmt.count(r.get("denials")),
                fmt.count(r.get("tool_errors")),
            ]
            body.append([esc(as_text(name)), *cells] if several else cells)
    if not body:
        return ""
    head = ("framework agent", "tool calls", "denials", "tool errors")
    table = html_table(("agent", *head), body, numeric_from=2) if several else html_table(head, body, numeric_from=1)
    return '<div><h3 title="Event.agent: the agent, graph node or crew role">By framework agent</h3>' + table + "</div>"


def _pass_k(report: Mapping[str, Any]) -> str:
    out = []
    for group in as_list(report.get("pass_k")):
        g = as_dict(group)
        k = as_text(g.get("k"))
        rows = [[esc(as_text(task)), f"{as_int(as_dict(i).get('successes'))}/{as_int(as_dict(i).get('attempts'))}"]
                for task, i in as_dict(g.get("per_task")).items()]  # fmt: skip
        tasks = fmt.count(g.get("tasks"))
        out.append(
            f"<h3>pass^{esc(k)}: {fmt.num(g.get('pass_hat_k'), 3)} "
            f'<span class="muted">(pass@1 {fmt.num(g.get("pass_at_1"), 3)}, {tasks} task(s))</span></h3>'
            + html_table(("task", "passed"), rows, numeric_from=1)
        )
    return "".join(out)
