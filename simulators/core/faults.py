"""Fault injection per route: scripted ("fail the first N calls") or seeded-probabilistic.

Faults are decided before the endpoint runs, so an injected 429/500/503/timeout/drop never
changes state and saves no idempotent result (a retry can succeed). ``commit_then_drop`` is the
exception by design: the write happens and is saved, and only the answer is lost, which is the
case that makes retries without idempotency keys dangerous.
"""

from __future__ import annotations

import fnmatch
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["latency", "429", "500", "503", "timeout", "drop", "commit_then_drop"]
FAULT_KINDS: tuple[str, ...] = ("latency", "429", "500", "503", "timeout", "drop", "commit_then_drop")
_ALIASES = {
    "rate_limit": "429",
    "server_error": "500",
    "unavailable": "503",
    "commit_and_drop": "commit_then_drop",
    "drop_after_commit": "commit_then_drop",
}


@dataclass
class FaultRule:
    """One injected behaviour. ``calls`` counts matching requests seen, ``fired`` those hit."""

    pattern: str
    kind: str
    times: int | None = None
    probability: float | None = None
    seed: int | None = None
    after: int = 0
    retry_after: float = 1.0
    latency: float = 0.0
    methods: frozenset[str] | None = None
    calls: int = 0
    fired: int = 0
    _regex: re.Pattern[str] = field(init=False, repr=False)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.kind = _ALIASES.get(self.kind, self.kind)
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        self._regex = re.compile(fnmatch.translate(self.pattern))
        self._rng = random.Random(self.seed)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(self, tool: str, method: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return self._regex.match(tool) is not None

    def _decide(self) -> bool:
        self.calls += 1
        if self.calls <= self.after or self.exhausted:
            return False
        if self.probability is not None and self._rng.random() >= self.probability:
            return False
        self.fired += 1
        return True


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What the pipeline must do for one request: sleep ``latency``, then ``kind`` if any."""

    latency: float = 0.0
    kind: str | None = None
    retry_after: float = 1.0


class Faults:
    """The fault rules of one simulator instance (``sim.faults``)."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(
        self,
        pattern: str,
        kind: str = "500",
        *,
        times: int | None = None,
        probability: float | None = None,
        seed: int | None = 0,
        after: int = 0,
        retry_after: float = 1.0,
        latency: float = 0.05,
        methods: tuple[str, ...] | None = None,
    ) -> FaultRule:
        """Inject ``kind`` on tools matching ``pattern`` (a tool name or shell pattern).

        ``times=N`` fires on the first N matching calls (after skipping ``after``), then stops;
        ``probability=p`` fires each call with chance p drawn from ``random.Random(seed)``; with
        neither it fires on every call. ``latency`` (seconds) applies to kind ``"latency"``.
        """
        rule = FaultRule(
            pattern=pattern,
            kind=kind,
            times=times,
            probability=probability,
            seed=seed,
            after=after,
            retry_after=retry_after,
            latency=latency if kind == "latency" else 0.0,
            methods=frozenset(m.upper() for m in methods) if methods else None,
        )
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def remove(self, rule: FaultRule) -> None:
        with self._lock:
            self.rules.remove(rule)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def decide(self, tool: str, method: str) -> FaultDecision | None:
        """Consult every matching rule once; latencies add up, the first failure wins."""
        if not self.rules:
            return None
        latency = 0.0
        kind: str | None = None
        retry_after = 1.0
        with self._lock:
            for rule in self.rules:
                if kind is not None and rule.kind != "latency":
                    continue
                if not rule.matches(tool, method) or not rule._decide():
                    continue
                if rule.kind == "latency":
                    latency += rule.latency
                elif kind is None:
                    kind = rule.kind
                    retry_after = rule.retry_after
        if not latency and kind is None:
            return None
        return FaultDecision(latency=latency, kind=kind, retry_after=retry_after)
