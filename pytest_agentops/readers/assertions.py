"""Assertions on a run (``agent_run.assert_...``), each failing with a readable excerpt of the trace.

``AgentRun`` is the ``agent_run`` fixture's object: a ``Run`` (the trace layer's data) that also
answers these assertions and its budget now. The methods live here, not on ``Run``, because the
trace is the bottom layer and imports nothing above it (docs/how-it-works.md, "Import rules").
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pytest_agentops.trace.run import Run

if TYPE_CHECKING:
    from pytest_agentops.policy.budget import BudgetStatus
    from pytest_agentops.trace.run import Event

MAX_ROWS = 40


def _what(event: Event) -> str:
    if event.kind == "model":
        model = event.model_call.model if event.model_call is not None else None
        return model or "(model)"
    if event.tool:
        return event.tool
    if event.label:
        return event.label
    url = event.url.split("?", 1)[0]
    if "://" in url:
        url = url.split("://", 1)[1]
    return f"{event.method} {url}"


def _note(event: Event) -> str:
    if event.rule:
        return f"denied: {event.rule}"
    if event.error:
        return event.error.splitlines()[0][:60]
    call = event.model_call
    if call is not None and call.tool_calls:
        return "asks: " + ", ".join(t.name for t in call.tool_calls)
    if event.requested_by is not None:
        return f"for model call #{event.requested_by[0]}"
    return ""


def step_table(events: Sequence[Event], *, limit: int = MAX_ROWS, title: str = "trace") -> str:
    """A compact table of steps: seq, kind, tool/model, backend, status, tokens, ms, note."""
    header = ("seq", "kind", "tool/model", "backend", "status", "tokens", "ms", "note")
    rows: list[tuple[str, ...]] = []
    shown: Iterable[Event | None] = events
    if len(events) > limit:
        head = limit // 4
        shown = [*events[:head], None, *events[-(limit - head) :]]
    for event in shown:
        if event is None:
            rows.append(("...", "", f"({len(events) - limit} more)", "", "", "", "", ""))
            continue
        tokens = event.model_call.usage.total_tokens if event.model_call is not None else None
        rows.append(
            (
                str(event.seq),
                event.kind,
                _clip(_what(event), 44),
                event.backend,
                "-" if event.status is None else str(event.status),
                "-" if tokens is None else str(tokens),
                f"{event.duration_s * 1000:.0f}",
                _note(event),
            )
        )
    if not rows:
        return f"{title}: (no requests)"
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = {0, 4, 5, 6}

    def fmt(row: tuple[str, ...]) -> str:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        return "  " + "  ".join(cells).rstrip()

    return "\n".join([f"{title} ({len(events)} steps):", fmt(header), *(fmt(r) for r in rows)])


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _fail(message: str, run: Run, events: Sequence[Event] | None = None) -> None:
    raise AssertionError(message + "\n" + step_table(run.events if events is None else events))


def _matches(event: Event, tool: str) -> bool:
    name = event.tool
    if name is None:
        return False
    return name == tool or (any(c in tool for c in "*?[") and fnmatch.fnmatchcase(name, tool))


# ---- the assertions --------------------------------------------------------------------------------


def assert_no_unauthorized_writes(run: Run, *, attempts: bool = True) -> None:
    """No write was refused by its backend (401/403), nor (``attempts``) denied by the policy.

    ``attempts=False`` accepts writes the policy denied (they never reached anything: the guard did
    its job) and fails only on writes that reached a backend which refused them.
    """
    bad = [
        e
        for e in run.events
        if e.kind == "tool"
        and e.access == "write"
        and ((attempts and e.backend == "policy") or (e.backend != "policy" and e.status in (401, 403)))
    ]
    if bad:
        lines = [
            f"  seq {e.seq}: {_what(e)} -> "
            + (f"denied by policy rule {e.rule}: {e.error}" if e.backend == "policy" else f"HTTP {e.status}")
            for e in bad
        ]
        _fail(f"{len(bad)} unauthorized write attempt(s):\n" + "\n".join(lines), run)


def assert_tool_calls(run: Run, *, max: int | None = None, min: int | None = None, tool: str | None = None) -> None:
    """The number of tool calls (of ``tool``, a name or pattern, if given) is within [min, max]."""
    if max is None and min is None:
        raise TypeError("assert_tool_calls needs max= and/or min=")
    calls = [e for e in run.events if e.kind == "tool" and (tool is None or _matches(e, tool))]
    what = f"calls of {tool!r}" if tool else "tool calls"
    if max is not None and len(calls) > max:
        _fail(f"expected at most {max} {what}, the agent made {len(calls)}", run)
    if min is not None and len(calls) < min:
        _fail(f"expected at least {min} {what}, the agent made {len(calls)}", run)


def assert_within_budget(run: Run) -> None:
    """No budget limit is exceeded (tool calls, tokens, cost, time, repeated calls)."""
    from pytest_agentops.policy.budget import describe, status

    state = status(run)
    if state.breaches:
        _fail(
            "budget exceeded:\n" + "\n".join(f"  - {b.message}" for b in state.breaches) + f"\n  ({describe(state)})",
            run,
        )


def _subset(expected: dict[str, Any], actual: Any) -> list[str]:
    """Why ``actual`` does not contain ``expected`` (empty when it does)."""
    if not isinstance(actual, dict):
        return [f"arguments are {actual!r}, not an object"]
    problems = []
    for key, want in expected.items():
        if key not in actual:
            problems.append(f"{key}: missing")
        elif actual[key] != want:
            problems.append(f"{key}: {actual[key]!r} != {want!r}")
    return problems


def assert_called(run: Run, tool: str, /, **arguments: Any) -> None:
    """``tool`` (a name or pattern) ran (was not denied) at least once with these argument values."""
    candidates = [e for e in run.events if e.kind == "tool" and _matches(e, tool)]
    ran = [e for e in candidates if e.backend != "policy"]
    if not arguments and ran:
        return
    for event in ran:
        if not _subset(arguments, event.arguments):
            return
    wanted = f"{tool}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})"
    if not candidates:
        known = sorted({e.tool for e in run.events if e.tool})
        _fail(f"{wanted} was never called; tools called: {', '.join(known) or '(none)'}", run)
    lines = []
    for event in candidates:
        why = (
            f"denied ({event.rule})"
            if event.backend == "policy"
            else "; ".join(_subset(arguments, event.arguments)) or "matches"
        )
        lines.append(f"  seq {event.seq}: {event.tool} {_clip(repr(event.arguments), 100)} -> {why}")
    _fail(f"{wanted} was not called with these arguments; calls of {tool}:\n" + "\n".join(lines), run)


def assert_not_called(run: Run, tool: str, /) -> None:
    """``tool`` (a name or pattern) never ran (a denied attempt does not count as a call)."""
    ran = [e for e in run.events if e.kind == "tool" and _matches(e, tool) and e.backend != "policy"]
    if ran:
        _fail(f"{tool} was called {len(ran)} time(s) (seq {', '.join(str(e.seq) for e in ran)})", run)


class AgentRun(Run):
    """The current test's run as the ``agent_run`` fixture gives it: the trace plus its assertions."""

    @property
    def budget(self) -> BudgetStatus:
        """The budget now: ``.used``, ``.remaining`` (e.g. ``.remaining.tool_calls``), ``.breaches``."""
        from pytest_agentops.policy.budget import status

        return status(self)

    def assert_no_unauthorized_writes(self, *, attempts: bool = True) -> None:
        """No write refused by its backend (401/403); with ``attempts`` (default) none denied either."""
        assert_no_unauthorized_writes(self, attempts=attempts)

    def assert_tool_calls(self, max: int | None = None, *, min: int | None = None, tool: str | None = None) -> None:
        """At most ``max`` / at least ``min`` tool calls (of ``tool``, a name or pattern, when given)."""
        assert_tool_calls(self, max=max, min=min, tool=tool)

    def assert_within_budget(self) -> None:
        """No budget limit is exceeded (tool calls, tokens, cost, time, repeated calls)."""
        assert_within_budget(self)

    def assert_called(self, tool: str, /, **arguments: Any) -> None:
        """``tool`` (a name or pattern) ran (was not denied) at least once with these argument values."""
        assert_called(self, tool, **arguments)

    def assert_not_called(self, tool: str, /) -> None:
        """``tool`` (a name or pattern) never ran (a denied attempt does not count as a call)."""
        assert_not_called(self, tool)
