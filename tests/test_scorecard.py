"""The scorecard: terminal text, JSON report, JUnit properties, the report hook, and the same
report under pytest-xdist as in one process. Real inner pytest sessions."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

import pytest
from upstream import CHAT_USAGE, Upstream

from pytest_agentops.readers.scorecard import group_stats, percentile

if TYPE_CHECKING:
    from conftest import Project

FAST_INI = """
[pytest]
addopts = -p no:hypothesispytest -p no:benchmark -p no:recording -p no:cacheprovider
          -p no:schemathesis -p no:langsmith_plugin -p no:anyio
"""

PYPROJECT = """
[tool.agentops.agents.triage]
budgets = { max_tool_calls = 10 }

[tool.agentops.agents.triage.safety]
allowlisted_tools = ["billing.customers.*"]
"""

SINK = """

def pytest_agentops_report(report, config):
    import os
    with open("sink.log", "a") as fh:
        fh.write(json.dumps({"pid": os.getpid(), "worker": hasattr(config, "workerinput"),
                             "tests": len(report["tests"])}) + "\\n")
"""

SCORE_TESTS = """
import pytest


def ask(oai):
    oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])


@pytest.mark.agent("triage")
def test_ok_1(oai, billing):
    ask(oai)
    with billing.client() as c:
        c.get("/v1/customers")
        c.post("/v1/customers", data={"email": "a@shop.test"})


@pytest.mark.agent("triage")
def test_ok_2(oai, billing):
    ask(oai)
    with billing.client() as c:
        for _ in range(4):
            c.get("/v1/customers")


@pytest.mark.agent("triage")
def test_escalates(oai, billing, agent_run):
    ask(oai)
    with billing.client() as c:
        assert c.get("/v1/customers/cus_nope").status_code == 404
    agent_run.escalate("refund over the limit")


@pytest.mark.agent("triage")
def test_fails(oai, billing):
    ask(oai)
    with billing.client() as c:
        assert c.post("/v1/refunds", data={"charge": "ch_1"}).status_code == 403
    assert False, "the agent did not finish"


@pytest.mark.agent_escalation("hand-off expected")
def test_marker_escalation(billing):
    with billing.client() as c:
        c.get("/v1/customers")


def test_plain(billing):
    with billing.client() as c:
        c.get("/v1/customers")


def test_not_an_agent():
    pass


@pytest.mark.skip(reason="not today")
@pytest.mark.agent("triage")
def test_skipped():
    pass
"""

TOKENS = CHAT_USAGE["prompt"] + CHAT_USAGE["completion"]  # 26 per call
COST = (CHAT_USAGE["prompt"] * 0.15 + CHAT_USAGE["completion"] * 0.60) / 1e6  # gpt-4o-mini


@pytest.fixture
def scored(project: Project, upstream: Upstream) -> Project:
    project.pytester.makeini(FAST_INI)
    project.pytester.makepyprojecttoml(PYPROJECT)
    project.pytester.makeconftest(project.path.joinpath("conftest.py").read_text() + SINK)
    project.pytester.makepyfile(test_score=SCORE_TESTS)
    return project


def _timeless(value: Any) -> Any:
    """A report without what differs from run to run: timings, trace ids."""
    if isinstance(value, dict):
        return {
            k: _timeless(v) for k, v in value.items() if k not in ("duration_s", "latency_ms", "trace_id", "p50", "p95")
        }
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def test_scorecard_report_junit_and_xdist(scored: Project) -> None:
    result = scored.run("--agent-report=out/one.json", "--junitxml=junit.xml", "--agent-trace-dir=traces")
    result.assert_outcomes(passed=6, failed=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.re_match_lines(
        [
            r"=+ agentops scorecard =+",
            r"agent\s+runs\s+success\s+escalated\s+failed\s+tools/success\s+tokens/task\s+cost/task"
            r"\s+denials\s+tool errors",
            r"triage\s+4\s+50\.0%\s+25\.0%\s+25\.0%\s+3\s+52\s+\$0\.000016\s+1\s+1$",
            r"\(no contract\)\s+2\s+50\.0%\s+50\.0%\s+0\.0%\s+1\s+0\s+\$0\.000000\s+0\s+0$",
            r"\(all\)\s+6\s+50\.0%\s+33\.3%\s+16\.7%\s+2\.3\s+35\s+\$0\.000011\s+1\s+1$",
            r"triage: denials by rule: allowlist 1",
            r"latency by step \(ms\):",
            r"\s+agent\s+step\s+calls\s+p50\s+p95",
            r"\s+triage\s+model\s+4\s+[\d.]+\s+[\d.]+",
            r"\s+triage\s+tool billing\.customers\.create\s+1\s+[\d.]+\s+[\d.]+",
            r"\s+triage\s+tool billing\.customers\.list\s+5\s+[\d.]+\s+[\d.]+",
            r"\s+triage\s+tool billing\.customers\.retrieve\s+1\s+[\d.]+\s+[\d.]+",
            r"\s+\(no contract\)\s+tool billing\.customers\.list\s+2\s+[\d.]+\s+[\d.]+",
            r"traces: 6 file\(s\) in traces",  # not the skipped test: it never ran
            r"report: out/one\.json",
        ],
        consecutive=False,
    )

    one = json.loads((scored.path / "out" / "one.json").read_text())
    triage = one["agents"]["triage"]
    assert {k: triage[k] for k in ("runs", "successes", "escalations", "failures", "skipped")} == {
        "runs": 4,
        "successes": 2,
        "escalations": 1,
        "failures": 1,
        "skipped": 1,
    }
    assert (triage["success_rate"], triage["escalation_rate"], triage["failure_rate"]) == (0.5, 0.25, 0.25)
    assert (triage["tool_calls"], triage["tool_calls_per_success"]) == (8, 3.0)
    assert (triage["tokens"], triage["tokens_per_task"]) == (4 * TOKENS, 2 * TOKENS)
    assert triage["cost_usd"] == pytest.approx(4 * COST) and triage["cost_per_task"] == pytest.approx(2 * COST)
    assert (triage["denials"], triage["denials_by_rule"], triage["tool_errors"]) == (1, {"allowlist": 1}, 1)
    assert triage["tool_error_rate"] == 0.25
    assert list(triage["latency_ms"]) == [
        "model",
        "tool billing.customers.create",
        "tool billing.customers.list",
        "tool billing.customers.retrieve",
    ]
    assert triage["latency_ms"]["model"]["count"] == 4
    assert list(one["agents"]) == ["triage", "(no contract)"]
    assert one["total"]["runs"] == 6 and one["pass_k"] == []
    tests = {t["nodeid"].split("::")[1]: t for t in one["tests"]}
    assert "test_not_an_agent" not in tests  # no call, no contract: not an agent run
    assert tests["test_skipped"]["result"] is None and tests["test_skipped"]["outcome"] == "skipped"
    assert tests["test_escalates"]["escalations"] == ["refund over the limit"]
    assert tests["test_marker_escalation"]["result"] == "escalated"
    assert tests["test_fails"]["result"] == "failed" and tests["test_fails"]["denial_rules"] == {"allowlist": 1}
    assert tests["test_ok_1"]["trace_file"] == "test_score/test_ok_1.jsonl"

    # JUnit XML carries the per-test figures as properties.
    junit = ET.parse(scored.path / "junit.xml")
    props = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
        for case in junit.iter("testcase")
    }
    assert props["test_ok_1"]["agentops.contract"] == "triage"
    assert props["test_ok_1"]["agentops.result"] == "success"
    assert props["test_ok_1"]["agentops.tool_calls"] == "2"
    assert props["test_ok_1"]["agentops.tokens"] == str(TOKENS)
    assert props["test_ok_1"]["agentops.cost_usd"] == f"{COST:.6f}"
    assert props["test_ok_1"]["agentops.trace_id"] == tests["test_ok_1"]["trace_id"]
    assert props["test_fails"]["agentops.denials"] == "1"
    assert props["test_escalates"]["agentops.escalated"] == "true"
    assert "agentops.contract" not in props["test_not_an_agent"]

    # The same session on two xdist workers: the same report, and the sink called once, in the controller.
    sink = [json.loads(line) for line in (scored.path / "sink.log").read_text().splitlines()]
    assert sink == [{"pid": sink[0]["pid"], "worker": False, "tests": 7}]
    (scored.path / "sink.log").unlink()
    result = scored.run("-n", "2", "--agent-report=out/two.json", "--junitxml=junit2.xml")
    result.assert_outcomes(passed=6, failed=1, skipped=1)
    assert re.search(r"triage\s+4\s+50\.0%\s+25\.0%\s+25\.0%\s+3\s+52\s+\$0\.000016\s+1\s+1", result.stdout.str())
    two = json.loads((scored.path / "out" / "two.json").read_text())
    for t in one["tests"]:
        t["trace_file"] = None  # the xdist run wrote no traces
    assert one.pop("trace_dir") == "../traces"  # where one.json's traces are, relative to it
    assert _timeless(two) == _timeless(one)
    sink = [json.loads(line) for line in (scored.path / "sink.log").read_text().splitlines()]
    assert len(sink) == 1 and sink[0]["worker"] is False and sink[0]["tests"] == 7
    junit2 = ET.parse(scored.path / "junit2.xml")
    props2 = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
        for case in junit2.iter("testcase")
    }
    assert props2["test_ok_1"]["agentops.tool_calls"] == "2"


def test_no_scorecard_without_calls(project: Project) -> None:
    project.pytester.makeini(FAST_INI)
    project.pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = project.run("--agent-report=r.json")
    result.assert_outcomes(passed=1)
    assert "agentops scorecard" not in result.stdout.str()
    report = json.loads((project.path / "r.json").read_text())
    assert report["agents"] == {} and report["tests"] == [] and report["total"]["runs"] == 0


def _figs(result: str, tool_calls: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "result": result,
        "tool_calls": tool_calls,
        "model_calls": 0,
        "tokens": {"total": 0},
        "cost_usd": None if extra.get("unpriced") else 0.0,
        "unpriced_models": ["my-model"] if extra.get("unpriced") else [],
        "denial_rules": {},
        "tool_errors": 0,
        "latency_ms": extra.get("latency", {}),
    }


def test_group_stats_edge_cases() -> None:
    assert percentile([5.0], 95) == 5.0
    assert percentile([float(i) for i in range(1, 101)], 50) == 50.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    stats = group_stats([_figs("failed", 3), _figs("escalated"), _figs(None)])  # type: ignore[arg-type]
    assert stats["runs"] == 2 and stats["skipped"] == 1
    assert stats["success_rate"] == 0.0 and stats["tool_calls_per_success"] is None and stats["cost_per_task"] is None
    unpriced = group_stats([_figs("success", unpriced=True), _figs("success")])
    assert unpriced["cost_usd"] is None and unpriced["unpriced_models"] == ["my-model"]
