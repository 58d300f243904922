"""The scorecard: per-test figures read from a run, aggregated per agent contract.

A test counts as an **agent run** when it made a model or tool call, applied a contract
(``@pytest.mark.agent``), escalated, or is an attempt of ``@pytest.mark.agent_pass_k``. Each run
has one result:

- ``success``: the test passed and the run did not escalate;
- ``escalated``: the test passed and the run handed off to a human (``agent_run.escalate(reason)``,
  or ``@pytest.mark.agent_escalation`` on a test that passed);
- ``failed``: the test failed (in setup, call or teardown).

Skipped and xfailed tests are listed but are not runs. So success rate + escalation rate +
failure rate = 100%. "Per completed task" figures divide the group's totals (failed and escalated
runs included) by its successes: what one completed task costs, its failures paid for.

Everything here works on plain JSON-able dicts, so figures made in an xdist worker aggregate in
the controller exactly as in one process.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_agentops.trace.run import Event, Run

NO_CONTRACT = "(no contract)"
INLINE_CONTRACT = "(inline contract)"
TOTAL = "(all)"
RESULTS = ("success", "escalated", "failed")


# ---- one test -------------------------------------------------------------------------------------


def contract_label(applied: bool, name: str | None) -> str:
    """The scorecard group of a test: its contract's name, or ``(no contract)``."""
    if not applied:
        return NO_CONTRACT
    return name or INLINE_CONTRACT


def result_of(outcome: str, escalated: bool) -> str | None:
    """``success``/``escalated``/``failed`` for a test outcome; None when the test is not a run."""
    if outcome == "failed":
        return "failed"
    if outcome in ("passed", "xpassed"):
        return "escalated" if escalated else "success"
    return None


def step_of(event: Event) -> str:
    """The latency bucket of an event: ``model``, ``tool <name>`` or ``tool (unregistered)``."""
    if event.kind == "model":
        return "model"
    return f"tool {event.tool}" if event.tool else "tool (unregistered)"


def figures(
    run: Run | None,
    *,
    nodeid: str,
    outcome: str,
    duration_s: float,
    contract: str = NO_CONTRACT,
    escalations: Sequence[str] = (),
    task: str | None = None,
    attempt: int | None = None,
    k: int | None = None,
    trace_file: str | None = None,
) -> dict[str, Any]:
    """The JSON-able figures of one test (what travels with its report to the xdist controller)."""
    from pytest_agentops.readers.tracefile import is_tool_error
    from pytest_agentops.trace.prices import run_usage

    events = run.events if run is not None else []
    escalated = bool(escalations)
    tokens = {"input": 0, "output": 0, "cached_input": 0, "total": 0}
    cost: float | None = 0.0
    unpriced: list[str] = []
    if run is not None:
        usage = run_usage(run, getattr(run.guard, "prices", None))
        tokens = {
            "input": usage.input_tokens,
            "output": usage.output_tokens,
            "cached_input": usage.cached_input_tokens,
            "total": usage.total_tokens,
        }
        cost = usage.cost_usd
        unpriced = list(usage.unpriced_models)
    latency: dict[str, list[float]] = {}
    denial_rules: dict[str, int] = {}
    for event in events:
        if event.backend not in ("policy", "miss"):
            latency.setdefault(step_of(event), []).append(round(event.duration_s * 1000, 3))
        if event.denied:
            rule = event.rule or "(unknown)"
            denial_rules[rule] = denial_rules.get(rule, 0) + 1
    breaches: list[str] = []
    if run is not None and run.guard is not None:
        from pytest_agentops.policy.budget import status

        breaches = [b.key for b in status(run).breaches]
    out: dict[str, Any] = {
        "nodeid": nodeid,
        "contract": contract,
        "outcome": outcome,
        "result": result_of(outcome, escalated),
        "escalations": list(escalations),
        "duration_s": round(duration_s, 6),
        "trace_id": run.trace_id if run is not None else None,
        "trace_file": trace_file,
        "model_calls": sum(1 for e in events if e.kind == "model"),
        "tool_calls": sum(1 for e in events if e.kind == "tool"),
        "tokens": tokens,
        "cost_usd": cost,
        "unpriced_models": unpriced,
        "denials": sum(denial_rules.values()),
        "denial_rules": dict(sorted(denial_rules.items())),
        "tool_errors": sum(1 for e in events if is_tool_error(e)),
        "budget_breaches": breaches,
        "latency_ms": dict(sorted(latency.items())),
    }
    components = by_component(events)
    if components:
        out["components"] = components
    if attempt is not None:
        out["task"] = task
        out["attempt"] = attempt
        out["k"] = k
    return out


def is_agent_run(figs: Mapping[str, Any]) -> bool:
    return bool(
        figs["model_calls"]
        or figs["tool_calls"]
        or figs["contract"] != NO_CONTRACT
        or figs["escalations"]
        or figs.get("attempt") is not None
    )


def junit_properties(figs: Mapping[str, Any]) -> list[tuple[str, object]]:
    """Flat ``agentops.*`` properties for JUnit XML (``record_property`` style)."""
    props: list[tuple[str, object]] = [
        ("agentops.contract", figs["contract"]),
        ("agentops.result", figs["result"] or figs["outcome"]),
        ("agentops.model_calls", figs["model_calls"]),
        ("agentops.tool_calls", figs["tool_calls"]),
        ("agentops.tokens", figs["tokens"]["total"]),
        ("agentops.cost_usd", "unknown" if figs["cost_usd"] is None else f"{figs['cost_usd']:.6f}"),
        ("agentops.denials", figs["denials"]),
        ("agentops.tool_errors", figs["tool_errors"]),
        ("agentops.escalated", "true" if figs["escalations"] else "false"),
    ]
    if figs["trace_id"]:
        props.append(("agentops.trace_id", figs["trace_id"]))
    if figs.get("trace_file"):
        props.append(("agentops.trace_file", figs["trace_file"]))
    if figs.get("attempt") is not None:
        props.append(("agentops.attempt", f"{figs['attempt']}/{figs['k']}"))
    return props


# ---- aggregation ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (an observed value): the smallest x with at least q% of values <= x."""
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def _ratio(part: float, whole: float, digits: int = 6) -> float | None:
    return None if not whole else round(part / whole, digits)


COMPONENT_FIELDS = ("tool_calls", "denials", "tool_errors")


def by_component(events: Sequence[Event]) -> dict[str, dict[str, int]]:
    """Tool calls, denials and tool errors per framework agent (``Event.agent``: an Agents SDK agent,
    a LangGraph node, a CrewAI role); empty when no adapter named one."""
    from pytest_agentops.readers.tracefile import is_tool_error

    out: dict[str, dict[str, int]] = {}
    for event in events:
        if event.agent is None or event.kind != "tool":
            continue
        row = out.setdefault(event.agent, dict.fromkeys(COMPONENT_FIELDS, 0))
        row["tool_calls"] += 1
        row["denials"] += event.denied
        row["tool_errors"] += is_tool_error(event)
    return dict(sorted(out.items()))


def _components(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    total: dict[str, dict[str, int]] = {}
    for t in runs:
        for name, row in (t.get("components") or {}).items():
            into = total.setdefault(name, dict.fromkeys(COMPONENT_FIELDS, 0))
            for key in COMPONENT_FIELDS:
                into[key] += int(row.get(key, 0))
    return dict(sorted(total.items()))


def group_stats(tests: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Runs, rates, intensity, tokens and cost per completed task, latencies, denials, tool errors."""
    runs = [t for t in tests if t["result"] in RESULTS]
    count = {r: sum(1 for t in runs if t["result"] == r) for r in RESULTS}
    n, ok = len(runs), count["success"]
    tool_calls = sum(t["tool_calls"] for t in runs)
    tokens = sum(t["tokens"]["total"] for t in runs)
    costs = [t["cost_usd"] for t in runs]
    unpriced = sorted({m for t in runs for m in t["unpriced_models"]})
    cost = None if any(c is None for c in costs) else round(sum(c for c in costs if c is not None), 10)
    denial_rules: dict[str, int] = {}
    latency: dict[str, list[float]] = {}
    for t in runs:
        for rule, times in t["denial_rules"].items():
            denial_rules[rule] = denial_rules.get(rule, 0) + times
        for step, values in t["latency_ms"].items():
            latency.setdefault(step, []).extend(values)
    tool_errors = sum(t["tool_errors"] for t in runs)
    per_success = [t["tool_calls"] for t in runs if t["result"] == "success"]
    return {
        "runs": n,
        "successes": ok,
        "escalations": count["escalated"],
        "failures": count["failed"],
        "skipped": sum(1 for t in tests if t["result"] is None),
        "success_rate": _ratio(ok, n),
        "escalation_rate": _ratio(count["escalated"], n),
        "failure_rate": _ratio(count["failed"], n),
        "model_calls": sum(t["model_calls"] for t in runs),
        "tool_calls": tool_calls,
        "tool_calls_per_success": _ratio(sum(per_success), len(per_success)),
        "tokens": tokens,
        "tokens_per_task": _ratio(tokens, ok),
        "cost_usd": cost,
        "cost_per_task": None if cost is None else _ratio(cost, ok, 10),
        "unpriced_models": unpriced,
        "denials": sum(denial_rules.values()),
        "denials_by_rule": dict(sorted(denial_rules.items())),
        "tool_errors": tool_errors,
        "tool_error_rate": _ratio(tool_errors, n),
        "components": _components(runs),
        "latency_ms": {
            step: {
                "count": len(values),
                "p50": round(percentile(values, 50), 3),
                "p95": round(percentile(values, 95), 3),
            }
            for step, values in sorted(latency.items(), key=lambda kv: (kv[0] != "model", kv[0]))
        },
    }


def build(tests: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The report: per-contract scorecard, the total, pass^k, and every test's figures."""
    from pytest_agentops._version import __version__
    from pytest_agentops.readers.passk import summarize

    listed = sorted((dict(t) for t in tests), key=lambda t: t["nodeid"])
    groups: dict[str, list[dict[str, Any]]] = {}
    for t in listed:
        groups.setdefault(t["contract"], []).append(t)
    order = sorted(groups, key=lambda name: (name.startswith("("), name))
    return {
        "format": "pytest-agentops-report",
        "version": 1,
        "plugin_version": __version__,
        "agents": {name: group_stats(groups[name]) for name in order},
        "total": group_stats(listed),
        "pass_k": summarize(listed),
        "tests": listed,
    }


def has_calls(report: Mapping[str, Any]) -> bool:
    return any(t["model_calls"] or t["tool_calls"] for t in report["tests"])


# ---- the terminal text ----------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if value != int(value) else str(int(value))


def _usd(value: float | None, unpriced: Sequence[str] = ()) -> str:
    if value is None:
        return "unknown" if unpriced else "-"
    return f"${value:.6f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt(row: Sequence[str]) -> str:
        cells = [c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        return "  ".join(cells).rstrip()

    return [fmt(header), *(fmt(r) for r in rows)]


def format_scorecard(report: Mapping[str, Any]) -> list[str]:
    """The scorecard as terminal lines (without the section title)."""
    agents: Mapping[str, Mapping[str, Any]] = report["agents"]
    names = list(agents)
    if len(names) > 1:
        names.append(TOTAL)
    stats = {**agents, TOTAL: report["total"]}
    header = ("agent", "runs", "success", "escalated", "failed", "tools/success", "tokens/task", "cost/task",
              "denials", "tool errors")  # fmt: skip
    rows = []
    for name in names:
        s = stats[name]
        rows.append(
            (
                name,
                str(s["runs"]),
                _pct(s["success_rate"]),
                _pct(s["escalation_rate"]),
                _pct(s["failure_rate"]),
                _num(s["tool_calls_per_success"]),
                _num(s["tokens_per_task"], 0) if s["tokens_per_task"] is not None else "-",
                _usd(s["cost_per_task"], s["unpriced_models"]),
                str(s["denials"]),
                str(s["tool_errors"]),
            )
        )
    lines = _table(header, rows)
    for name in names[: len(agents)]:
        s = stats[name]
        if s["unpriced_models"]:
            lines.append(f"{name}: cost unknown, no price for {', '.join(s['unpriced_models'])}")
        if s["denials_by_rule"]:
            rules = ", ".join(f"{rule} {n}" for rule, n in s["denials_by_rule"].items())
            lines.append(f"{name}: denials by rule: {rules}")
    component_rows = [
        (name, component, str(row["tool_calls"]), str(row["denials"]), str(row["tool_errors"]))
        for name in names[: len(agents)]
        for component, row in (stats[name].get("components") or {}).items()
    ]
    if component_rows:
        lines.append("")
        lines.append("by framework agent (the agent, graph node or crew role that made the calls):")
        header2 = ("agent", "framework agent", "tool calls", "denials", "tool errors")
        lines.extend("  " + line for line in _table(header2, component_rows, left=2))
    latency_rows = []
    for name in names[: len(agents)]:
        for step, lat in stats[name]["latency_ms"].items():
            latency_rows.append((name, step, str(lat["count"]), f"{lat['p50']:.1f}", f"{lat['p95']:.1f}"))
    if latency_rows:
        lines.append("")
        lines.append("latency by step (ms):")
        lines.extend("  " + line for line in _table(("agent", "step", "calls", "p50", "p95"), latency_rows, left=2))
    for group in report["pass_k"]:
        lines.append("")
        lines.append(
            f"pass^k (k={group['k']}, {group['tasks']} task(s)): pass^{group['k']} = {group['pass_hat_k']:.3f}, "
            f"pass@1 = {group['pass_at_1']:.3f}"
            + ("" if not group["incomplete"] else f" ({len(group['incomplete'])} task(s) with fewer than k attempts)")
        )
        for task, info in group["per_task"].items():
            lines.append(f"  {info['successes']}/{info['attempts']}  {task}")
    return lines
