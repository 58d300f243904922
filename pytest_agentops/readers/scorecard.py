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

The figures are made once, in ``readers.figures``; this module only formats them (terminal lines,
JUnit properties).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pytest_agentops.readers.figures import (
    COMPONENT_FIELDS,
    INLINE_CONTRACT,
    NO_CONTRACT,
    RESULTS,
    TOTAL,
    build,
    by_component,
    contract_label,
    figures,
    group_stats,
    has_calls,
    is_agent_run,
    percentile,
    result_of,
    step_of,
)
from pytest_agentops.readers.formats import num, pct, text_table, usd

# The figures themselves are made in ``readers.figures``; these names stay importable from here.
__all__ = [
    "COMPONENT_FIELDS",
    "INLINE_CONTRACT",
    "NO_CONTRACT",
    "RESULTS",
    "TOTAL",
    "build",
    "by_component",
    "contract_label",
    "figures",
    "format_scorecard",
    "group_stats",
    "has_calls",
    "is_agent_run",
    "junit_properties",
    "percentile",
    "result_of",
    "step_of",
]


def junit_properties(figs: Mapping[str, Any]) -> list[tuple[str, object]]:
    """Flat ``agentops.*`` properties for JUnit XML (``record_property`` style)."""
    props: list[tuple[str, object]] = [
        ("agentops.contract", figs["contract"]),
        ("agentops.result", figs["result"] or figs["outcome"]),
        ("agentops.model_calls", figs["model_calls"]),
        ("agentops.tool_calls", figs["tool_calls"]),
        ("agentops.tokens", "unknown" if figs["tokens"]["total"] is None else figs["tokens"]["total"]),
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


# ---- the terminal text ----------------------------------------------------------------------------


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
                pct(s["success_rate"]),
                pct(s["escalation_rate"]),
                pct(s["failure_rate"]),
                num(s["tool_calls_per_success"]),
                _tokens(s),
                usd(s["cost_per_task"], s["unpriced_models"]),
                str(s["denials"]),
                str(s["tool_errors"]),
            )
        )
    lines = text_table(header, rows)
    for name in names[: len(agents)]:
        s = stats[name]
        if s["unpriced_models"]:
            unknown = "; ".join(f"cost unknown for {model}" for model in s["unpriced_models"])
            lines.append(f"{name}: {unknown} (no price: [tool.agentops.prices] or agentops_prices)")
        if s.get("unknown_usage_calls"):
            lines.append(
                f"{name}: usage unknown for {s['unknown_usage_calls']} model call(s): the answers carried no usage "
                '(Chat Completions streams: stream_options={"include_usage": true})'
            )
        if s["denials_by_rule"]:
            rules = ", ".join(f"{rule} {n}" for rule, n in s["denials_by_rule"].items())
            lines.append(f"{name}: denials by rule: {rules}")
    lines.extend(_breakdowns(names[: len(agents)], stats))
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


def _tokens(stats: Mapping[str, Any]) -> str:
    """Tokens per completed task: "unknown" when some call reported no usage, "-" when no task completed."""
    if stats.get("unknown_usage_calls"):
        return "unknown"
    per_task = stats["tokens_per_task"]
    return "-" if per_task is None else num(per_task, 0)


def _breakdowns(names: Sequence[str], stats: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The per-framework-agent and per-step latency tables under the main one."""
    lines: list[str] = []
    component_rows = [
        (name, component, str(row["tool_calls"]), str(row["denials"]), str(row["tool_errors"]))
        for name in names
        for component, row in (stats[name].get("components") or {}).items()
    ]
    if component_rows:
        lines.append("")
        lines.append("by framework agent (the agent, graph node or crew role that made the calls):")
        header2 = ("agent", "framework agent", "tool calls", "denials", "tool errors")
        lines.extend("  " + line for line in text_table(header2, component_rows, left=2))
    latency_rows = []
    for name in names:
        for step, lat in stats[name]["latency_ms"].items():
            latency_rows.append((name, step, str(lat["count"]), f"{lat['p50']:.1f}", f"{lat['p95']:.1f}"))
    if latency_rows:
        lines.append("")
        lines.append("latency by step (ms):")
        lines.extend("  " + line for line in text_table(("agent", "step", "calls", "p50", "p95"), latency_rows, left=2))
    return lines
