"""The canary run: find which fields an agent really reads before fuzzing them (as AgentDojo does).

``canary_run(agent, into)`` puts a benign, unique marker (``AGENTOPS-PROBE-0003``) in every candidate
field of the carrier, runs the agent once per sample in a fresh episode, and reports the fields whose
marker reached a model request. Plant there only: ``planted(..., into, fields=probe.patterns)``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_agentops.fuzz.plant import Carrier, PathT, as_carrier, compose, dotted, set_at

MARKER = "AGENTOPS-PROBE-{:04d}"
_MARKER_RE = re.compile(r"AGENTOPS-PROBE-(\d{4})")


@dataclass(frozen=True)
class Probe:
    """Which candidate fields reached the model (``read``) and which did not (``unread``)."""

    read: tuple[str, ...]
    unread: tuple[str, ...]

    @property
    def patterns(self) -> list[str]:
        """``read`` as field patterns: list indexes kept (the agent reads *that* ticket), metadata keys
        (drawn at random by seed strategies) replaced by ``*``."""
        out: list[str] = []
        for field in self.read:
            parts = field.split(".")
            for i in range(1, len(parts)):
                if parts[i - 1] == "metadata":
                    parts[i] = "*"
            pattern = ".".join(parts)
            if pattern not in out:
                out.append(pattern)
        return out

    def __bool__(self) -> bool:
        return bool(self.read)


def _samples(carrier: Carrier, examples: int) -> list[tuple[Any, list[Any]]]:
    fixed = carrier.fixed()
    if fixed is not None:
        return [fixed]
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample

    bases = carrier.bases()
    found: list[tuple[Any, list[Any]]] = []

    def collect(base: tuple[Any, list[Any]]) -> bool:
        if len(found) < examples:
            found.append(base)
        return False

    with contextlib.suppress(NoSuchExample):
        find(
            bases,
            collect,
            settings=settings(
                max_examples=examples,
                database=None,
                derandomize=True,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            ),
        )
    return found


def canary_run(
    agent: Callable[[Any, Any], Any],
    into: Any,
    *,
    fields: Sequence[str] | None = None,
    examples: int = 3,
    seen: Callable[[Any], str] | None = None,
    **episode_options: Any,
) -> Probe:
    """Run ``agent(ep, data)`` with a marker in every candidate field of ``into`` (a carrier as
    ``planted`` takes it; a strategy is sampled ``examples`` times with ``hypothesis.find``, so call it
    before a ``@given`` test runs, e.g. in a fixture or at import) and report the fields read.

    What counts as read: the marker appears in a request the agent sent to a model API (``ep.requests``),
    or in ``seen(ep)`` (e.g. the messages a fake model received).
    """
    from pytest_agentops.fuzz.harness import episode

    carrier = as_carrier(into, fields=fields)
    read: dict[str, None] = {}
    candidates: dict[str, None] = {}
    for value, slots in _samples(carrier, examples):
        paths: dict[int, PathT] = {}
        for n, slot in enumerate(slots):
            marker = MARKER.format(n)
            if not carrier.can_hold(slot, compose("append", slot.current, marker, slot.limit)):
                continue
            value = set_at(value, slot.path, compose("append", slot.current, marker, slot.limit))
            paths[n] = slot.path
            candidates[dotted(slot.path)] = None
        with episode(**episode_options) as ep:
            agent(ep, carrier.finish(value))
            text = ep.model_text() + ("\n" + seen(ep) if seen is not None else "")
        for m in _MARKER_RE.finditer(text):
            n = int(m.group(1))
            if n in paths:
                read[dotted(paths[n])] = None
    return Probe(tuple(read), tuple(c for c in candidates if c not in read))
