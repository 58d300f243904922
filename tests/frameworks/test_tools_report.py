"""The agent on framework tool events reaches trace files, the scorecard and the HTML report."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("agents")

INNER_TEST = '''
import agents
import pytest
from openai import AsyncOpenAI


@agents.function_tool
def lookup_order(order_id: str) -> str:
    """Look up an order."""
    return "shipped"


@agents.function_tool
def refund(order_id: str) -> str:
    """Refund an order."""
    return "refunded"


@pytest.mark.agent_policy(allow=["lookup_order", "transfer_to_billing"])
def test_triage_then_billing(fake_llm):
    client = AsyncOpenAI(base_url=fake_llm.openai_base_url, api_key="sk-test")
    model = agents.OpenAIResponsesModel(model="gpt-4o", openai_client=client)
    billing = agents.Agent(name="billing", instructions="refunds", model=model, tools=[lookup_order, refund])
    triage = agents.Agent(name="triage", instructions="route", model=model, tools=[lookup_order], handoffs=[billing])
    fake_llm.script([
        fake_llm.tool_call("lookup_order", order_id="A1"),
        fake_llm.tool_call("transfer_to_billing"),
        fake_llm.tool_call("refund", order_id="A1"),
        "I cannot refund A1.",
    ])
    result = agents.Runner.run_sync(triage, "refund A1", run_config=agents.RunConfig(tracing_disabled=True))
    assert result.final_output == "I cannot refund A1."
'''


def test_agent_is_in_the_trace_file_the_scorecard_and_the_html(pytester: pytest.Pytester) -> None:
    from pytest_agentops.readers.html.page import write_report

    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider -p no:hypothesispytest -p no:anyio\n")
    pytester.makepyfile(test_inner=INNER_TEST)
    result = pytester.runpytest_inprocess("--agent-trace-dir=traces", "--agent-report=report.json")

    result.assert_outcomes(passed=1)
    [trace] = (pytester.path / "traces").rglob("*.jsonl")
    tools = [json.loads(line) for line in trace.read_text().splitlines() if '"kind": "tool"' in line]
    assert [(t["tool"], t["agent"], t["backend"]) for t in tools] == [
        ("lookup_order", "triage", "python"),
        ("refund", "billing", "policy"),
    ]
    report = json.loads((pytester.path / "report.json").read_text())
    expected = {
        "billing": {"tool_calls": 1, "denials": 1, "tool_errors": 0},
        "triage": {"tool_calls": 1, "denials": 0, "tool_errors": 0},
    }
    assert report["tests"][0]["components"] == expected
    assert report["agents"]["(no contract)"]["components"] == expected
    result.stdout.fnmatch_lines(["*by framework agent*", "*(no contract)*billing*1*1*0"])

    write_report(pytester.path / "traces", pytester.path / "report.html")
    page = (pytester.path / "report.html").read_text()
    assert "By framework agent" in page and "for model call #0 by triage" in page
