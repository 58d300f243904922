"""Budgets: tool calls, tokens, cost, wall time, simulated time and repeated identical calls, read from the run.

``status(run)`` is the budget *now*: what was used, what remains, and every breach. Nothing here
counts on its own; every number is computed from ``run.events``.

What counts:

- ``max_tool_calls``: tool events (HTTP tools, unregistered non-model HTTP, ``@tool`` functions),
  denied attempts included: an agent that keeps trying is spending its budget.
- ``max_tokens_total``: input + output tokens of every model call (streamed ones included).
- ``max_cost_usd``: the price of those tokens (``pytest_agentops.trace.prices``); an unpriced model makes
  the cost unknown, which is a breach of a cost budget rather than a silent 0.
- ``timeout_seconds``: wall time since the test's run started.
- ``max_repeated_calls``: the same tool with the same canonical arguments, more than N times.
- ``max_simulated_seconds``: how far simulated time moved while the test function ran: the largest
  forward move of any of the test's simulator clocks (``billing.clock.advance(hours=30)``,
  ``clock.set(...)``), or of a freezegun freeze (``tick()``, ``move_to()``), whichever is larger.
  Read from the clocks themselves (``Run.clocks``, ``Run.freezes``), never from a counter.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

# Simulated time has its own module; its names keep answering here (the sims and the plugin ask).
from pytest_agentops.policy.clocks import observe_freeze as observe_freeze
from pytest_agentops.policy.clocks import simulated as simulated
from pytest_agentops.policy.clocks import start_simulated as start_simulated
from pytest_agentops.policy.clocks import watch_clock as watch_clock

if TYPE_CHECKING:
    from pytest_agentops.trace.prices import PriceTable
    from pytest_agentops.trace.run import Event, Run

BUDGET_KEYS = (
    "max_tool_calls",
    "max_tokens_total",
    "max_cost_usd",
    "timeout_seconds",
    "max_repeated_calls",
    "max_simulated_seconds",
)
# Marker spellings (DESIGN.md) -> contract spellings.
ALIASES = {"max_tokens": "max_tokens_total", "max_seconds": "timeout_seconds"}


class Budget(BaseModel):
    """Limits for one run; None means no limit. ``max_tokens``/``max_seconds`` are accepted aliases."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_tool_calls: int | None = Field(default=None, ge=0)
    max_tokens_total: int | None = Field(
        default=None, ge=1, validation_alias=AliasChoices("max_tokens_total", "max_tokens")
    )
    max_cost_usd: float | None = Field(default=None, ge=0)
    timeout_seconds: float | None = Field(
        default=None, gt=0, validation_alias=AliasChoices("timeout_seconds", "max_seconds")
    )
    max_repeated_calls: int | None = Field(default=None, ge=1)
    max_simulated_seconds: float | None = Field(default=None, gt=0)

    @property
    def limited(self) -> bool:
        return any(getattr(self, key) is not None for key in BUDGET_KEYS)

    def merged(self, override: Budget) -> Budget:
        """This budget with every limit ``override`` sets explicitly replacing ours."""
        return self.model_copy(update={key: getattr(override, key) for key in override.model_fields_set})


@dataclass(frozen=True, slots=True)
class Used:
    tool_calls: int
    tokens: int
    cost_usd: float | None  # None: some model has no price
    seconds: float
    repeated_calls: int  # the most times one identical call was made
    repeated_call: str | None  # which call that was ("tool {canonical arguments}")
    unpriced_models: tuple[str, ...] = ()
    simulated_seconds: float = 0.0  # how far simulated time moved (simulator clocks, freezegun)
    unknown_usage: tuple[str, ...] = ()  # model calls whose answer carried no usage (tokens: the rest)


@dataclass(frozen=True, slots=True)
class Remaining:
    """What is left of each limit (0 at the most); None where there is no limit (or cost is unknown)."""

    tool_calls: int | None
    tokens: int | None
    cost_usd: float | None
    seconds: float | None
    repeated_calls: int | None  # more repeats allowed of the most repeated call
    simulated_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Breach:
    key: str  # a budget key: "max_tool_calls", ...
    limit: float
    used: float | None
    message: str


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    budget: Budget
    used: Used
    remaining: Remaining
    breaches: tuple[Breach, ...]

    @property
    def ok(self) -> bool:
        return not self.breaches

    @property
    def exceeded(self) -> bool:
        return bool(self.breaches)


# ---- reading the trace ------------------------------------------------------------------------


def key_of(tool: str | None, method: str, url: str, arguments: Any) -> str:
    """Same tool, method, URL path and canonical arguments = same call (what loop detection compares)."""
    return f"{tool or ''} {method} {url.split('?', 1)[0]} {canonical(arguments)}".lstrip()


def call_key(event: Event) -> str:
    return key_of(event.tool, event.method, event.url, event.arguments)


def canonical(value: Any) -> str:
    if value is None:
        return "{}"
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr, ensure_ascii=False)


class Tally:
    """Running totals of one run's events, so the check before each request costs O(new events).

    Recorded events do not change, and a run only appends them, so what was counted stays
    counted (a shorter event list than seen, never made by the library, starts the count again).
    """

    def __init__(self, prices: PriceTable, *, repeats: bool) -> None:
        self.prices = prices
        self.count_repeats = repeats
        self._reset()

    def _reset(self) -> None:
        from pytest_agentops.trace.prices import UsageSum

        self.seen = 0
        self.tool_calls = 0
        self.usage = UsageSum(self.prices)
        self.repeats: dict[str, int] = {}

    def update(self, run: Run) -> Tally:
        events = run.events
        if len(events) < self.seen:
            self._reset()
        for event in events[self.seen :]:
            if event.kind == "tool":
                self.tool_calls += 1
                if self.count_repeats:
                    key = call_key(event)
                    self.repeats[key] = self.repeats.get(key, 0) + 1
            if event.model_call is not None:
                self.usage.add(event.model_call, event.seq)
        self.seen = len(events)
        return self

    def most_repeated(self) -> tuple[str | None, int]:
        """The identical call made most often, and how often (``repeats=True`` tallies only)."""
        if not self.repeats:
            return None, 0
        key = max(self.repeats, key=self.repeats.__getitem__)
        return key, self.repeats[key]


def elapsed(run: Run) -> float:
    ended = getattr(run.guard, "ended_at", None)
    return (ended or time.time()) - run.started_at


def _duration(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds:g}s = {seconds / 86400:.3g} days"
    if seconds >= 3600:
        return f"{seconds:g}s = {seconds / 3600:.3g}h"
    return f"{seconds:g}s"


def budget_of(run: Run) -> Budget:
    budget = getattr(run.guard, "budget", None)
    return budget if isinstance(budget, Budget) else Budget()


def status(run: Run, budget: Budget | None = None, prices: PriceTable | None = None) -> BudgetStatus:
    """The run's budget now: used, remaining, breaches."""
    from pytest_agentops.trace.prices import DEFAULT

    budget = budget if budget is not None else budget_of(run)
    table = prices if prices is not None else getattr(run.guard, "prices", None) or DEFAULT
    tally = Tally(table, repeats=True).update(run)  # one pass over the trace
    usage = tally.usage.result()
    calls = tally.tool_calls
    repeated_call, repeated = tally.most_repeated()
    seconds = elapsed(run)
    moved = simulated(run)
    used = Used(
        tool_calls=calls,
        tokens=usage.total_tokens,
        cost_usd=usage.cost_usd,
        seconds=seconds,
        repeated_calls=repeated,
        repeated_call=repeated_call,
        unpriced_models=usage.unpriced_models,
        simulated_seconds=moved,
        unknown_usage=usage.unknown_calls,
    )

    def left(limit: float | None, spent: float | None) -> float | None:
        if limit is None or spent is None:
            return None
        return max(limit - spent, 0)

    def left_int(limit: int | None, spent: int) -> int | None:
        return None if limit is None else max(limit - spent, 0)

    remaining = Remaining(
        tool_calls=left_int(budget.max_tool_calls, calls),
        tokens=None if usage.unknown_calls else left_int(budget.max_tokens_total, usage.total_tokens),
        cost_usd=left(budget.max_cost_usd, usage.cost_usd),
        seconds=left(budget.timeout_seconds, seconds),
        repeated_calls=left_int(budget.max_repeated_calls, repeated),
        simulated_seconds=left(budget.max_simulated_seconds, moved),
    )
    return BudgetStatus(budget, used, remaining, tuple(breaches(budget, used)))


def _unknown_usage(limit: str, value: float, calls: tuple[str, ...]) -> Breach:
    """A token or cost limit cannot pass on calls whose usage nobody reported: say which, and how to get it."""
    listed = ", ".join(calls[:5]) + (f" and {len(calls) - 5} more" if len(calls) > 5 else "")
    return Breach(
        limit,
        value,
        None,
        f"{limit}={value}: usage unknown for {len(calls)} model call(s), {listed}: the answer carried no "
        "usage. Ask for it (a Chat Completions stream sends usage only with "
        'stream_options={"include_usage": True}; the fake model: fake_llm.always_include_usage()), '
        "or opt into an estimate with the ini key agentops_usage_estimate = tiktoken",
    )


def breaches(budget: Budget, used: Used) -> list[Breach]:
    found = (
        _over_tool_calls(budget, used),
        _over_tokens(budget, used),
        _over_cost(budget, used),
        _over_time(budget, used),
        _over_repeats(budget, used),
        _over_simulated_time(budget, used),
    )
    return [breach for breach in found if breach is not None]


def _over_tool_calls(budget: Budget, used: Used) -> Breach | None:
    if budget.max_tool_calls is not None and used.tool_calls > budget.max_tool_calls:
        return Breach(
            "max_tool_calls",
            budget.max_tool_calls,
            used.tool_calls,
            f"max_tool_calls={budget.max_tool_calls}: the agent made {used.tool_calls} tool calls",
        )
    return None


def _over_tokens(budget: Budget, used: Used) -> Breach | None:
    """A call whose usage is unknown breaks a token limit: an unknown count is never under it."""
    if budget.max_tokens_total is not None and used.unknown_usage:
        return _unknown_usage("max_tokens_total", budget.max_tokens_total, used.unknown_usage)
    if budget.max_tokens_total is not None and used.tokens > budget.max_tokens_total:
        return Breach(
            "max_tokens_total",
            budget.max_tokens_total,
            used.tokens,
            f"max_tokens_total={budget.max_tokens_total}: the model calls used {used.tokens} tokens",
        )
    return None


def _over_cost(budget: Budget, used: Used) -> Breach | None:
    """An unknown usage or an unpriced model breaks a cost limit: an unknown cost is never under it."""
    if budget.max_cost_usd is None:
        return None
    if used.unknown_usage:
        return _unknown_usage("max_cost_usd", budget.max_cost_usd, used.unknown_usage)
    if used.cost_usd is None:
        return Breach(
            "max_cost_usd",
            budget.max_cost_usd,
            None,
            f"max_cost_usd={budget.max_cost_usd}: the cost is unknown, no price for model(s) "
            f"{', '.join(used.unpriced_models)}; add them to [tool.agentops.prices]",
        )
    if used.cost_usd > budget.max_cost_usd:
        return Breach(
            "max_cost_usd",
            budget.max_cost_usd,
            used.cost_usd,
            f"max_cost_usd={budget.max_cost_usd}: the model calls cost ${used.cost_usd:.6f}",
        )
    return None


def _over_time(budget: Budget, used: Used) -> Breach | None:
    if budget.timeout_seconds is not None and used.seconds > budget.timeout_seconds:
        return Breach(
            "timeout_seconds",
            budget.timeout_seconds,
            used.seconds,
            f"timeout_seconds={budget.timeout_seconds:g}: the run took {used.seconds:.2f}s",
        )
    return None


def _over_repeats(budget: Budget, used: Used) -> Breach | None:
    if budget.max_repeated_calls is not None and used.repeated_calls > budget.max_repeated_calls:
        return Breach(
            "max_repeated_calls",
            budget.max_repeated_calls,
            used.repeated_calls,
            f"max_repeated_calls={budget.max_repeated_calls}: the same call was made {used.repeated_calls} "
            f"times (a loop?): {_short(used.repeated_call or '')}",
        )
    return None


def _over_simulated_time(budget: Budget, used: Used) -> Breach | None:
    limit = budget.max_simulated_seconds
    if limit is not None and used.simulated_seconds > limit:
        return Breach(
            "max_simulated_seconds",
            limit,
            used.simulated_seconds,
            f"max_simulated_seconds={limit:g}: simulated time moved {_duration(used.simulated_seconds)} "
            "during the test",
        )
    return None


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---- what the gate asks before a call --------------------------------------------------------------


def exhausted(
    run: Run,
    budget: Budget,
    *,
    model: bool,
    key: str | None,
    prices: PriceTable,
    tally: Tally | None = None,
) -> tuple[str, str] | None:
    """(rule, message) when the call about to be made would break the budget, else None.

    A tool call is refused once ``max_tool_calls`` calls were made, or when it would repeat an
    identical call more than ``max_repeated_calls`` times; a model call once the tokens or the cost
    are used up; any call once the time (wall or simulated) is up.
    """
    found = _time_is_up(run, budget)
    if found is not None:
        return found
    if tally is None:
        tally = Tally(prices, repeats=budget.max_repeated_calls is not None)
    tally.update(run)
    return _model_spent(budget, tally) if model else _tools_spent(budget, tally, key)


def _time_is_up(run: Run, budget: Budget) -> tuple[str, str] | None:
    """Simulated time, then wall time: what refuses any call, model or tool."""
    if budget.max_simulated_seconds is not None:
        moved = simulated(run)
        if moved > budget.max_simulated_seconds:
            return (
                "budget.max_simulated_seconds",
                f"max_simulated_seconds={budget.max_simulated_seconds:g} is used up "
                f"(simulated time moved {_duration(moved)})",
            )
    if budget.timeout_seconds is not None:
        spent = elapsed(run)
        if spent > budget.timeout_seconds:
            return (
                "budget.timeout_seconds",
                f"timeout_seconds={budget.timeout_seconds:g} is used up ({spent:.2f}s since the run started)",
            )
    return None


def _model_spent(budget: Budget, tally: Tally) -> tuple[str, str] | None:
    """Tokens, then cost: what refuses a model call once the tally reaches the limit."""
    tokens = tally.usage.total.total_tokens
    if budget.max_tokens_total is not None and tokens >= budget.max_tokens_total:
        return (
            "budget.max_tokens_total",
            f"max_tokens_total={budget.max_tokens_total} is used up ({tokens} tokens so far)",
        )
    cost = tally.usage.cost_usd
    if budget.max_cost_usd is not None and cost is not None and cost >= budget.max_cost_usd:
        return ("budget.max_cost_usd", f"max_cost_usd={budget.max_cost_usd} is used up (${cost:.6f} so far)")
    return None


def _tools_spent(budget: Budget, tally: Tally, key: str | None) -> tuple[str, str] | None:
    """Tool calls, then repeats of this identical call (``key``): what refuses a tool call."""
    if budget.max_tool_calls is not None:
        calls = tally.tool_calls
        if calls >= budget.max_tool_calls:
            return (
                "budget.max_tool_calls",
                f"max_tool_calls={budget.max_tool_calls} is used up ({calls} tool calls so far)",
            )
    if budget.max_repeated_calls is not None and key is not None:
        times = tally.repeats.get(key, 0)
        if times >= budget.max_repeated_calls:
            return (
                "budget.max_repeated_calls",
                f"max_repeated_calls={budget.max_repeated_calls}: this identical call was already made "
                f"{times} times (a loop?)",
            )
    return None


def describe(state: BudgetStatus) -> str:
    """One line per limit: used / limit."""
    b, u = state.budget, state.used
    parts = []
    if b.max_tool_calls is not None:
        parts.append(f"tool calls {u.tool_calls}/{b.max_tool_calls}")
    if b.max_tokens_total is not None:
        parts.append(f"tokens {u.tokens}/{b.max_tokens_total}")
    if b.max_cost_usd is not None:
        cost = "unknown" if u.cost_usd is None else f"${u.cost_usd:.6f}"
        parts.append(f"cost {cost}/${b.max_cost_usd}")
    if b.timeout_seconds is not None:
        parts.append(f"time {u.seconds:.2f}s/{b.timeout_seconds:g}s")
    if b.max_repeated_calls is not None:
        parts.append(f"repeats {u.repeated_calls}/{b.max_repeated_calls}")
    if b.max_simulated_seconds is not None:
        parts.append(f"simulated time {u.simulated_seconds:g}s/{b.max_simulated_seconds:g}s")
    return ", ".join(parts) if parts else "no limits"


__all__ = [
    "BUDGET_KEYS",
    "Breach",
    "Budget",
    "BudgetStatus",
    "Remaining",
    "Used",
    "call_key",
    "exhausted",
    "simulated",
    "status",
    "watch_clock",
]
