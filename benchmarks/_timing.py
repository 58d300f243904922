"""Shared by the per-call benchmarks: rounds of calls, interleaved between set-ups, medians kept.

Interleaving matters more than the count: drift, warm-up and a neighbour's load then hit every
set-up alike, so the ratios hold even when the absolute figures move.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

ROUNDS = 6  # round 0 warms up and is dropped


def per_call_ms(call: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - start) / n * 1e3


def interleaved(
    calls: Mapping[str, Callable[[], Any]],
    n: int,
    *,
    intercepted: str,
    intercept: Callable[[], contextlib.AbstractContextManager[Any]],
) -> dict[str, float]:
    """Median ms per call of each set-up; the ``intercepted`` one runs inside ``intercept()``."""
    rounds: dict[str, list[float]] = {name: [] for name in calls}
    for index in range(ROUNDS):
        for name, call in calls.items():
            with intercept() if name == intercepted else contextlib.nullcontext():
                took = per_call_ms(call, n)
            if index:
                rounds[name].append(took)
    return {name: statistics.median(times) for name, times in rounds.items()}
