"""Every figure the readers show, computed once: per test, per group, per framework agent, pass^k.

The scorecard text, the JSON report (``--agent-report``), the baseline gate, the HTML report, the
JUnit properties, the trace footer and the OpenTelemetry root span all read what this module makes;
none of them counts on its own. Figures are made from a run's events during the session, or from a
trace file after it, through one loader (``steps_of_events`` / ``steps_of_lines``) that turns either
into the same ``Step`` records, so a trace gives the same figures in every output.

A figure that cannot be known is ``None`` ("unknown"), never 0: a cost with an unpriced model, or
tokens of a model call whose usage was not on the wire; a group's sum is unknown when one of its
parts is.

Everything returned is plain JSON-able dicts, so figures made in an xdist worker aggregate in the
controller exactly as in one process.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_agentops.readers.formats import real as _real

if TYPE_CHECKING:
    from pytest_agentops.trace.run import Event, Run

NO_CONTRACT = "(no contract)"
INLINE_CONTRACT = "(inline contract)"
TOTAL = "(all)"
RESULTS = ("success", "escalated", "failed")
COMPONENT_FIELDS = ("tool_calls", "denials", "tool_errors")
TOKEN_KEYS = ("input", "output", "cached_input", "total")
_NOT_SERVED = ("policy", "miss")  # a denial or a cassette miss: no backend answered


# ---- one loader: events or trace lines -> steps -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """What the figures need of one event, whether read from a run or from a trace line."""

    kind: str  # "model" | "tool"
    tool: str | None
    backend: str
    status: int | None
    duration_ms: float
    rule: str | None
    agent: str | None
    label: str | None = None  # a protocol event's name, e.g. ``mcp.weather initialize``

    @property
    def denied(self) -> bool:
        return self.backend == "policy"

    @property
    def tool_error(self) -> bool:
        """A tool call its backend answered with 4xx/5xx (a policy denial or a cassette miss is not one)."""
        return self.kind == "tool" and self.backend not in _NOT_SERVED and (self.status or 0) >= 400

    @property
    def bucket(self) -> str:
        """The latency bucket: ``model``, ``tool <name>``, a protocol label or ``tool (unregistered)``."""
        if self.kind == "model":
            return "model"
        if self.tool:
            return f"tool {self.tool}"
        return self.label or "tool (unregistered)"


def step_of_event(event: Event) -> Step:
    return Step(
        event.kind,
        event.tool,
        event.backend,
        event.status,
        round(event.duration_s * 1000, 3),
        event.rule,
        event.agent,
        event.label,
    )


def steps_of_events(events: Iterable[Event]) -> list[Step]:
    return [step_of_event(e) for e in events]


def steps_of_lines(lines: Iterable[Mapping[str, Any]]) -> list[Step]:
    """The event lines of a trace file as steps; a malformed field reads as absent, never crashes."""
    out = []
    for line in lines:
        status = _real(line.get("status"))
        out.append(
            Step(
                str(line.get("kind") or ""),
                _str(line.get("tool")),
                str(line.get("backend") or ""),
                None if status is None else int(status),
                _real(line.get("duration_ms")) or 0.0,
                _str(line.get("rule")),
                _str(line.get("agent")),
                _str(line.get("label")),
            )
        )
    return out


def step_of(event: Event) -> str:
    """The latency bucket of an event (kept for callers of ``scorecard.step_of``)."""
    return step_of_event(event).bucket


def is_tool_error(event: Event) -> bool:
    return step_of_event(event).tool_error


# ---- counts of one test ---------------------------------------------------------------------------


def counts(steps: Sequence[Step]) -> dict[str, Any]:
    """Calls, denials (by rule), tool errors, latencies per step, and the per-framework-agent rows.

    One pass over the steps: this runs for every test that opened a run.
    """
    latency: dict[str, list[float]] = {}
    denial_rules: dict[str, int] = {}
    model_calls = tool_calls = tool_errors = 0
    by_agent = False
    for step in steps:
        if step.kind == "model":
            model_calls += 1
        elif step.kind == "tool":
            tool_calls += 1
            tool_errors += step.tool_error
            by_agent = by_agent or step.agent is not None
        if step.backend not in _NOT_SERVED:
            latency.setdefault(step.bucket, []).append(step.duration_ms)
        if step.denied:
            rule = step.rule or "(unknown)"
            denial_rules[rule] = denial_rules.get(rule, 0) + 1
    return {
        "model_calls": model_calls,
        "tool_calls": tool_calls,
        "denials": sum(denial_rules.values()),
        "denial_rules": _sorted(denial_rules),
        "tool_errors": tool_errors,
        "latency_ms": _sorted(latency),
        "components": components_of(steps) if by_agent else {},
    }


def _sorted(counted: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(counted.items())) if len(counted) > 1 else counted


def components_of(steps: Sequence[Step]) -> dict[str, dict[str, int]]:
    """Tool calls, denials and tool errors per framework agent (``Event.agent``: an Agents SDK agent,
    a LangGraph node, a CrewAI role); empty when no adapter named one."""
    out: dict[str, dict[str, int]] = {}
    for step in steps:
        if step.agent is None or step.kind != "tool":
            continue
        row = out.setdefault(step.agent, dict.fromkeys(COMPONENT_FIELDS, 0))
        row["tool_calls"] += 1
        row["denials"] += step.denied
        row["tool_errors"] += step.tool_error
    return dict(sorted(out.items()))


def by_component(events: Sequence[Event]) -> dict[str, dict[str, int]]:
    return components_of(steps_of_events(events))


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


# ---- usage (tokens, cost) of one test ------------------------------------------------------------


def usage_of_run(run: Run) -> dict[str, Any]:
    """Tokens, cost and unpriced models of ``run``, priced with the run's own table."""
    from pytest_agentops.trace.prices import run_usage

    usage = run_usage(run, getattr(run.guard, "prices", None))
    known = usage.tokens_known  # a call whose answer carried no usage makes every sum unknown
    return {
        "tokens": {
            "input": usage.input_tokens if known else None,
            "output": usage.output_tokens if known else None,
            "cached_input": usage.cached_input_tokens if known else None,
            "total": usage.total_tokens if known else None,
        },
        "cost_usd": usage.cost_usd,
        "unpriced_models": list(usage.unpriced_models),
        "unknown_usage_calls": list(usage.unknown_calls),
    }


def usage_of_trace(lines: Sequence[Mapping[str, Any]], footer: Mapping[str, Any] | None) -> dict[str, Any]:
    """The same from a trace file: its footer's totals (counted by the writer with the run's price
    table), or, when the test never finished, the sum of its model calls' lines."""
    if footer is not None:
        usage = _dict(footer.get("usage"))
        return {
            "tokens": {
                "input": _count(usage.get("input_tokens")),
                "output": _count(usage.get("output_tokens")),
                "cached_input": _count(usage.get("cached_input_tokens")),
                "total": _count(usage.get("total_tokens")),
            },
            "cost_usd": _real(usage.get("cost_usd")),
            "unpriced_models": [str(m) for m in _list(usage.get("unpriced_models"))],
            "unknown_usage_calls": [str(c) for c in _list(usage.get("unknown_usage_calls"))],
        }
    models = [e for e in lines if e.get("kind") == "model"]
    tokens = [_dict(e.get("tokens")) for e in models]
    unknown = [e for e in models if e.get("usage") == "unknown"]
    unpriced = sorted(
        {str(e.get("model") or "") for e in models if _real(e.get("cost_usd")) is None and e not in unknown}
    )
    cost = round(sum(_real(e.get("cost_usd")) or 0.0 for e in models), 10)
    return {
        "tokens": {key: known_sum(_count(t.get(key)) for t in tokens) for key in TOKEN_KEYS},
        "cost_usd": None if unpriced or unknown else cost,
        "unpriced_models": unpriced,
        "unknown_usage_calls": [f"#{e.get('seq')} {e.get('model') or '(model not named)'}" for e in unknown],
    }


def known_sum(values: Iterable[int | float | None]) -> Any:
    """The sum, or None (unknown) when one part is unknown."""
    total: float = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


# ---- the figures of one test ----------------------------------------------------------------------


def figures_of_steps(
    steps: Sequence[Step],
    usage: Mapping[str, Any],
    *,
    nodeid: str,
    outcome: str,
    duration_s: float,
    contract: str = NO_CONTRACT,
    escalations: Sequence[str] = (),
    result: str | None = None,
    trace_id: str | None = None,
    trace_file: str | None = None,
    breaches: Sequence[str] = (),
    attempt: tuple[str | None, int, int | None] | None = None,
) -> dict[str, Any]:
    """The JSON-able figures of one test (what travels with its report to the xdist controller)."""
    found = counts(steps)
    components = found.pop("components")
    out: dict[str, Any] = {
        "nodeid": nodeid,
        "contract": contract,
        "outcome": outcome,
        "result": result if result is not None else result_of(outcome, bool(escalations)),
        "escalations": list(escalations),
        "duration_s": round(duration_s, 6),
        "trace_id": trace_id,
        "trace_file": trace_file,
        "model_calls": found["model_calls"],
        "tool_calls": found["tool_calls"],
        "tokens": usage["tokens"],  # (the usage_of_* functions make a fresh dict and lists each call)
        "cost_usd": usage["cost_usd"],
        "unpriced_models": usage["unpriced_models"],
        "unknown_usage_calls": usage.get("unknown_usage_calls", []),
        "denials": found["denials"],
        "denial_rules": found["denial_rules"],
        "tool_errors": found["tool_errors"],
        "budget_breaches": list(breaches),
        "latency_ms": found["latency_ms"],
    }
    if components:
        out["components"] = components
    if attempt is not None:
        out["task"], out["attempt"], out["k"] = attempt
    return out


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
    """The figures of one test from its run (``None``: a test that never opened one)."""
    breaches: list[str] = []
    if run is not None and run.guard is not None:
        from pytest_agentops.policy.budget import budget_of, status

        if budget_of(run).limited:  # no limit, no breach (and the status walks the whole trace)
            breaches = [b.key for b in status(run).breaches]
    empty = {"tokens": dict.fromkeys(TOKEN_KEYS, 0), "cost_usd": 0.0, "unpriced_models": []}
    return figures_of_steps(
        steps_of_events(run.events) if run is not None else [],
        usage_of_run(run) if run is not None else empty,
        nodeid=nodeid,
        outcome=outcome,
        duration_s=duration_s,
        contract=contract,
        escalations=escalations,
        trace_id=run.trace_id if run is not None else None,
        trace_file=trace_file,
        breaches=breaches,
        attempt=(task, attempt, k) if attempt is not None else None,
    )


def trace_figures(
    file: str, header: Mapping[str, Any], lines: Sequence[Mapping[str, Any]], footer: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The figures of one test from its trace file: what ``figures`` made of the run, read back."""
    outcome = _str(header.get("outcome")) or "incomplete"
    escalations = [str(r) for r in _list(header.get("escalations"))]
    result = header.get("result") if "result" in header else result_of(outcome, bool(escalations))
    if outcome == "incomplete":
        result = "failed"  # a test whose run never reported an outcome died on the way
    attempt, k = header.get("attempt"), header.get("k")
    has_attempt = isinstance(attempt, int) and isinstance(k, int) and not isinstance(attempt, bool)
    breaches = [str(_dict(b).get("key") or "") for b in _list((footer or {}).get("breaches"))]
    figs = figures_of_steps(
        steps_of_lines(lines),
        usage_of_trace(lines, footer),
        nodeid=_str(header.get("test")) or file,
        outcome=outcome,
        duration_s=_real(header.get("duration_s")) or 0.0,
        contract=_str(header.get("contract")) or NO_CONTRACT,
        escalations=escalations,
        result=result if result in RESULTS else "",
        trace_id=_str(header.get("trace_id")),
        trace_file=file,
        breaches=breaches,
        attempt=(_str(header.get("task")) or "", int(attempt), int(k)) if has_attempt else None,  # type: ignore[arg-type]
    )
    if figs["result"] == "":
        figs["result"] = None
    return figs


def is_agent_run(figs: Mapping[str, Any]) -> bool:
    return bool(
        figs["model_calls"]
        or figs["tool_calls"]
        or figs["contract"] != NO_CONTRACT
        or figs["escalations"]
        or figs.get("attempt") is not None
    )


def has_calls(report: Mapping[str, Any]) -> bool:
    return any(t["model_calls"] or t["tool_calls"] for t in report["tests"])


# ---- groups and the report ------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (an observed value): the smallest x with at least q% of values <= x."""
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def _ratio(part: float | None, whole: float, digits: int = 6) -> float | None:
    return None if not whole or part is None else round(part / whole, digits)


def _components(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    total: dict[str, dict[str, int]] = {}
    for t in runs:
        for name, row in (t.get("components") or {}).items():
            into = total.setdefault(name, dict.fromkeys(COMPONENT_FIELDS, 0))
            for key in COMPONENT_FIELDS:
                into[key] += int(row.get(key, 0))
    return dict(sorted(total.items()))


def _latency(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    latency: dict[str, list[float]] = {}
    for t in runs:
        for step, values in t["latency_ms"].items():
            latency.setdefault(step, []).extend(values)
    return {
        step: {
            "count": len(values),
            "p50": round(percentile(values, 50), 3),
            "p95": round(percentile(values, 95), 3),
        }
        for step, values in sorted(latency.items(), key=lambda kv: (kv[0] != "model", kv[0]))
    }


def group_stats(tests: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Runs, rates, intensity, tokens and cost per completed task, latencies, denials, tool errors."""
    runs = [t for t in tests if t["result"] in RESULTS]
    count = {r: sum(1 for t in runs if t["result"] == r) for r in RESULTS}
    n, ok = len(runs), count["success"]
    tokens = known_sum(t["tokens"]["total"] for t in runs)
    cost = known_sum(t["cost_usd"] for t in runs)
    cost = None if cost is None else round(cost, 10)
    denial_rules: dict[str, int] = {}
    for t in runs:
        for rule, times in t["denial_rules"].items():
            denial_rules[rule] = denial_rules.get(rule, 0) + times
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
        "tool_calls": sum(t["tool_calls"] for t in runs),
        "tool_calls_per_success": _ratio(sum(per_success), len(per_success)),
        "tokens": tokens,
        "tokens_per_task": _ratio(tokens, ok),
        "cost_usd": cost,
        "cost_per_task": _ratio(cost, ok, 10),
        "unpriced_models": sorted({m for t in runs for m in t["unpriced_models"]}),
        "unknown_usage_calls": sum(len(t.get("unknown_usage_calls", ())) for t in runs),
        "denials": sum(denial_rules.values()),
        "denials_by_rule": dict(sorted(denial_rules.items())),
        "tool_errors": tool_errors,
        "tool_error_rate": _ratio(tool_errors, n),
        "components": _components(runs),
        "latency_ms": _latency(runs),
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


# ---- reading JSON values defensively (a trace may be old, hand-edited or cut short) -----------------


def _count(value: Any) -> int | None:
    number = _real(value)
    return None if number is None else int(number)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
