"""Prompt-injection fuzzing of the two support agents (see agent.py and docs/fuzzing.md).

The guarded agent must keep its safety properties for every payload the fuzzer plants; the
vulnerable one must not (the fuzzer has to catch it, and shrink the attack to its simplest form).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from examples.injection import scenario
from pytest_agentops import fuzz


@pytest.fixture(scope="module", autouse=True)
def _canary_run() -> None:
    scenario.probe()  # find the fields the agent reads before hypothesis starts drawing


def test_canary_run_finds_the_fields_the_agent_reads() -> None:
    probe = scenario.probe()
    assert "ticketing.tickets.0.description" in probe.read
    assert "billing.customers.0.metadata.notes" in probe.read
    assert "ticketing.tickets.1.description" in probe.unread  # the agent never opens ticket 2


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=scenario.cases())
def test_guarded_agent_resists_injection(case: fuzz.Planted) -> None:
    scenario.guarded_property(case)


def test_vulnerable_agent_is_caught() -> None:
    seen: list[fuzz.Planted] = []

    @settings(max_examples=100, deadline=None, database=None, derandomize=True)
    @given(case=scenario.cases())
    def attack(case: fuzz.Planted) -> None:
        seen.append(case)
        scenario.vulnerable_property(case)

    with pytest.raises(fuzz.PropertyViolation) as caught:
        attack()
    shrunk = seen[-1]  # hypothesis replays the shrunk example last
    print(f"caught after {len(seen)} runs; shrunk to:\n{shrunk.describe()}")
    assert shrunk.payload.obfuscations == ()
    assert shrunk.canary in str(caught.value)
