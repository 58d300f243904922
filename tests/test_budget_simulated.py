"""The simulated-time budget (``max_simulated_seconds``): simulator clocks and freezegun, in inner pytest sessions."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from pytest_agentops.policy.budget import Budget, simulated, start_simulated, status, watch_clock
from pytest_agentops.trace.run import Run
from simulators.core.clock import SimClock

if TYPE_CHECKING:
    from conftest import Project

SIM_TESTS = """
import datetime

import pytest
from freezegun import freeze_time

from pytest_agentops import Budget


@pytest.fixture
def seeded(billing):
    billing.clock.advance(days=400)  # a fixture setting the scene: not the test's simulated time
    return billing


@pytest.fixture
def frozen():
    with freeze_time("2025-03-01 09:00:00") as f:
        yield f


@pytest.mark.agent_budget(max_simulated_seconds=3600)
def test_sim_clock_breach(billing, agent_run):
    with billing.client() as client:
        assert client.post("/v1/customers", data={"email": "a@shop.test"}).status_code == 200
        billing.clock.advance(hours=30)
        response = client.get("/v1/customers")
    assert response.status_code == 403
    assert response.json()["error"]["rule"] == "budget.max_simulated_seconds"
    assert agent_run.budget.used.simulated_seconds == 30 * 3600
    assert agent_run.budget.remaining.simulated_seconds == 0


@pytest.mark.agent_budget(max_simulated_seconds=3600)
def test_sim_clock_breach_without_requests(billing, crm):
    crm.clock.advance(minutes=10)
    billing.clock.advance(hours=30)


@pytest.mark.agent_budget(Budget(max_simulated_seconds=3600))
def test_sim_clock_within(seeded, agent_run):
    seeded.clock.advance(minutes=30)
    with seeded.client() as client:
        assert client.get("/v1/customers").status_code == 200
    assert agent_run.budget.used.simulated_seconds == 1800
    assert agent_run.budget.remaining.simulated_seconds == 1800
    agent_run.assert_within_budget()


@pytest.mark.agent("overnight")
def test_freezegun_breach(frozen, billing):
    frozen.tick(datetime.timedelta(days=2))


@pytest.mark.agent("overnight")
def test_freezegun_within(frozen, agent_run):
    frozen.tick(datetime.timedelta(hours=8))
    assert agent_run.budget.used.simulated_seconds == 8 * 3600
    assert agent_run.budget.remaining.simulated_seconds == 16 * 3600
"""

SIM_PYPROJECT = """
[tool.agentops.agents.overnight]
budgets = { max_simulated_seconds = 86400 }
"""

EXPECTED = {
    "test_sim_clock_breach": "FAILED",
    "test_sim_clock_breach_without_requests": "FAILED",
    "test_sim_clock_within": "PASSED",
    "test_freezegun_breach": "FAILED",
    "test_freezegun_within": "PASSED",
}


def _sections(output: str) -> dict[str, str]:
    parts = re.split(r"\n_{3,} (test_\w+) _{3,}\n", output)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_simulated_time_budget_breaching_and_not(project: Project) -> None:
    project.pytester.makepyprojecttoml(SIM_PYPROJECT)
    project.pytester.makepyfile(test_agent=SIM_TESTS)
    out = project.run("-v").stdout.str()
    for name, outcome in EXPECTED.items():
        assert re.search(rf"::{name} {outcome}", out), f"{name} should have {outcome}\n{out}"
    failures = _sections(out)
    section = failures["test_sim_clock_breach"]
    # The same failure format as every other budget kind.
    assert "pytest-agentops: 1 policy/budget failure(s):" in section, section
    breach = "- budget exceeded: max_simulated_seconds=3600: simulated time moved 108000s = 30h during the test"
    assert breach in section
    assert "budget: simulated time 108000s/3600s" in section
    denied = r"1\s+tool\s+billing\.customers\.list\s+policy\s+403\s+.*denied: budget.max_simulated_seconds"
    assert re.search(denied, section), section
    # The largest advance of any simulator clock.
    other = failures["test_sim_clock_breach_without_requests"]
    assert "max_simulated_seconds=3600: simulated time moved 108000s" in other
    assert "max_simulated_seconds=86400: simulated time moved 172800s = 2 days" in failures["test_freezegun_breach"]


def test_unknown_budget_key_still_lists_the_known_keys(project: Project) -> None:
    project.pytester.makepyprojecttoml("[tool.agentops.agents.overnight]\nbudgets = { max_simulated_second = 60 }\n")
    project.pytester.makepyfile(test_agent="def test_x():\n    pass\n")
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*pyproject.toml: [[]tool.agentops.agents.overnight[]] budgets.max_simulated_second: unknown key; "
            "known keys in budgets: max_tool_calls, max_tokens_total, max_cost_usd, timeout_seconds, "
            "max_repeated_calls, max_simulated_seconds",
        ]
    )


def test_simulated_reads_the_clocks_in_process() -> None:
    run = Run("t")
    a, b = SimClock(), SimClock()
    a.advance(days=1)  # before measuring: not counted
    watch_clock(run, "a", a)
    watch_clock(run, "b", b)
    start_simulated(run)
    assert simulated(run) == 0
    a.advance(hours=1)
    b.advance(hours=2)
    assert simulated(run) == 7200
    state = status(run, Budget(max_simulated_seconds=3600))
    assert [x.key for x in state.breaches] == ["max_simulated_seconds"]
    assert state.used.simulated_seconds == 7200 and state.remaining.simulated_seconds == 0
    assert status(run, Budget(max_simulated_seconds=10_000)).remaining.simulated_seconds == 2800
    with pytest.raises(ValueError):
        Budget(max_simulated_seconds=0)
