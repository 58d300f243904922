"""Simulated time: how far the test's simulator clocks and freezegun freezes moved.

The ``max_simulated_seconds`` budget (``pytest_agentops.policy.budget``) reads it. Nothing here
counts: each clock is asked where it is now (``Run.clocks``, ``Run.freezes`` hold the clocks and
where they stood when the test function started).
"""

from __future__ import annotations

import calendar
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_agentops.trace.run import Run


def watch_clock(run: Run, name: str, clock: Any) -> None:
    """Measure ``clock`` (a ``SimClock``) for this run from where it is now (the sims call this)."""
    if name not in run.clocks:
        run.clocks[name] = (clock, clock.offset)


def _frozen_seconds(factory: Any) -> float | None:
    try:
        frozen = factory()
        return float(calendar.timegm(frozen.timetuple()) + frozen.microsecond / 1_000_000)
    except Exception:  # not a freezegun factory we understand: no simulated time from it
        return None


def observe_freeze(run: Run) -> None:
    """Note the active freezegun freeze (and its frozen time) the first time this run sees it."""
    api = sys.modules.get("freezegun.api")
    factories = getattr(api, "freeze_factories", None) if api is not None else None
    if not factories:
        return
    factory = factories[-1]
    if any(seen is factory for seen, _ in run.freezes):
        return
    start = _frozen_seconds(factory)
    if start is not None:
        run.freezes.append((factory, start))


def start_simulated(run: Run) -> None:
    """Measure simulated time from now: the test function starts (moves made by fixtures do not count)."""
    run.clocks = {name: (clock, clock.offset) for name, (clock, _) in run.clocks.items()}
    run.freezes = []
    observe_freeze(run)


def simulated(run: Run) -> float:
    """How far simulated time moved since the test function started (0 at least).

    The largest of: each simulator clock's ``offset`` (what ``advance``/``set`` added) minus its
    offset when the test function started (or when the simulator was created, if later), and each
    freezegun freeze's frozen time minus that time when the run first saw the freeze (at the start
    of the test function, or at a budget check: every request under a simulated-time budget, every
    ``agent_run.budget``).
    """
    observe_freeze(run)
    moved = 0.0
    for clock, start in run.clocks.values():
        moved = max(moved, clock.offset - start)
    for factory, start in run.freezes:
        now = _frozen_seconds(factory)
        if now is not None:
            moved = max(moved, now - start)
    return moved
