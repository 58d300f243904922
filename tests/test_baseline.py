"""The baseline gate (--agent-baseline): a regression fails the session and names itself."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from pytest_agentops.readers.baseline import ReportError, compare, default_tolerances, parse_tolerance

if TYPE_CHECKING:
    from conftest import Project

FAST_INI = """
[pytest]
addopts = -p no:hypothesispytest -p no:benchmark -p no:recording -p no:cacheprovider
          -p no:schemathesis -p no:langsmith_plugin -p no:anyio -p no:xdist
"""

PYPROJECT = """
[tool.agentops.agents.triage]
budgets = { max_tool_calls = 10 }
"""

GATE_TESTS = """
import os

import pytest

MODE = os.environ.get("AGENT_MODE", "good")


@pytest.mark.agent("triage")
def test_lookup(billing):
    with billing.client() as c:
        for _ in range(3 if MODE == "chatty" else 1):
            c.get("/v1/customers")


@pytest.mark.agent("triage")
def test_create(billing):
    with billing.client() as c:
        c.post("/v1/customers", data={"email": "a@shop.test"})
    assert MODE != "broken", "the agent broke"
"""


@pytest.fixture
def gated(project: Project) -> Project:
    project.pytester.makeini(FAST_INI)
    project.pytester.makepyprojecttoml(PYPROJECT)
    project.pytester.makepyfile(test_gate=GATE_TESTS)
    project.monkeypatch.setenv("AGENT_MODE", "good")
    result = project.run("--agent-report=base.json")
    result.assert_outcomes(passed=2)
    assert result.ret == 0
    return project


def test_baseline_gate(gated: Project) -> None:
    # The same behaviour passes the gate.
    result = gated.run("--agent-baseline=base.json")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["agentops baseline: no regressions against base.json"])

    # Every test passes, but the agent makes twice the tool calls: the session fails on that alone.
    gated.monkeypatch.setenv("AGENT_MODE", "chatty")
    result = gated.run("--agent-baseline=base.json", "--agent-report=now.json")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.re_match_lines(
        [
            r"=+ agentops baseline: regressions =+",
            r"REGRESSION triage: tool calls per successful run rose from 1 to 2 "
            r"\(\+100\.0%, tolerance 10%, tool_calls_rise\)",
            r"1 regression\(s\) against base\.json: the session fails",
        ]
    )
    report = json.loads((gated.path / "now.json").read_text())
    assert [r["key"] for r in report["baseline"]["regressions"]] == ["tool_calls_rise"]

    # A tolerance in pyproject.toml lets that through; the ini option wins over it.
    gated.pytester.makepyprojecttoml(PYPROJECT + '\n[tool.agentops.baseline]\ntool_calls_rise = "150%"\n')
    assert gated.run("--agent-baseline=base.json").ret == pytest.ExitCode.OK
    result = gated.run("--agent-baseline=base.json", "-o", "agentops_baseline_tolerance=tool_calls_rise = 0.5")
    assert result.ret == pytest.ExitCode.TESTS_FAILED

    # Success drops: named with both rates.
    gated.monkeypatch.setenv("AGENT_MODE", "broken")
    result = gated.run("--agent-baseline=base.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["REGRESSION triage: success rate dropped from 100.0% to 50.0% (tolerance 0.0% points, success_rate_drop)"]
    )


def test_baseline_usage_errors(gated: Project) -> None:
    result = gated.run("--agent-baseline=missing.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--agent-baseline: cannot read" in result.stderr.str()
    result = gated.run("--agent-baseline=base.json", "-o", "agentops_baseline_tolerance=speed = 1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "agentops_baseline_tolerance: speed: unknown key; known keys: success_rate_drop" in result.stderr.str()


def _report(**stats: float | None) -> dict[str, object]:
    base: dict[str, float | int | None] = {
        "runs": 10,
        "success_rate": 0.9,
        "escalation_rate": 0.1,
        "tool_error_rate": 0.0,
        "tool_calls_per_success": 2.0,
        "cost_per_task": 0.01,
        "tokens_per_task": 1000.0,
    }
    base.update(stats)
    return {"agents": {"bot": base}, "pass_k": [{"k": 3, "tasks": 2, "pass_hat_k": 1.0}]}


def test_compare_each_figure() -> None:
    tol = default_tolerances()
    assert compare(_report(), _report(), tol) == []
    found = compare(
        _report(),
        _report(
            success_rate=0.8,
            escalation_rate=0.2,
            tool_error_rate=0.1,
            tool_calls_per_success=2.5,
            cost_per_task=0.02,
            tokens_per_task=1050.0,  # +5%: within the default 10%
        ),
        tol,
    )
    assert [r.key for r in found] == [
        "success_rate_drop",
        "escalation_rate_rise",
        "tool_error_rate_rise",
        "tool_calls_rise",
        "cost_rise",
    ]
    assert (
        found[4].message
        == "bot: cost per completed task rose from $0.010000 to $0.020000 (+100.0%, tolerance 10%, cost_rise)"
    )
    # An unknown cost is not compared; a new contract has nothing to compare with.
    assert compare(_report(), _report(cost_per_task=None), tol) == []
    worse_k = _report()
    worse_k["pass_k"] = [{"k": 3, "tasks": 2, "pass_hat_k": 0.5}]
    assert [r.key for r in compare(_report(), worse_k, tol)] == ["pass_k_drop"]
    assert parse_tolerance("cost_rise", "25%", "x") == 0.25
    with pytest.raises(ReportError, match="must be >= 0"):
        parse_tolerance("cost_rise", -1, "x")
