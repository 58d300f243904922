"""One trace, the same figures in every output: the JSON report, the scorecard text, the HTML page,
the OpenTelemetry run spans and the baseline gate all read ``readers.figures``; if one of them
counted on its own (or a loader read a trace differently from the run) these comparisons would drift."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from pytest_agentops.readers import baseline, figures, scorecard
from pytest_agentops.readers.html import page

INI = """
[pytest]
addopts = -p no:hypothesispytest -p no:benchmark -p no:recording -p no:cacheprovider
    -p no:schemathesis -p no:langsmith_plugin -p no:anyio
"""

CONFTEST = """
import json

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

EXPORTER = InMemorySpanExporter()


def pytest_configure(config):
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)


def pytest_unconfigure(config):
    spans = [{"name": s.name, "parent": s.parent.span_id if s.parent else None, "span_id": s.context.span_id,
              "attributes": dict(s.attributes)} for s in EXPORTER.get_finished_spans()]
    with open("spans.json", "w") as fh:
        json.dump(spans, fh)
"""

# Model calls, a write, a denial, a tool error (404) and an unregistered-tool step, in two contracts.
TESTS = """
import json

import openai
import pytest

TOOLS = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
         for n in ("billing_customers_create", "billing_refunds_create")]


def run_agent(fake_llm, billing, prompt):
    client = openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="x")
    messages = [{"role": "user", "content": prompt}]
    with billing.client() as http:
        for _ in range(4):
            reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
            message = reply.choices[0].message
            if not message.tool_calls:
                http.get("/v1/customers/cus_missing")
                return message.content
            messages.append(message.model_dump(exclude_none=True))
            for call in message.tool_calls:
                resource = call.function.name.split("_")[1]
                answer = http.post(f"/v1/{resource}", data=json.loads(call.function.arguments))
                messages.append({"role": "tool", "tool_call_id": call.id, "content": answer.text})


@pytest.mark.agent("triage")
@pytest.mark.agent_policy(deny=["billing.refunds.*"])
def test_refund(fake_llm, billing):
    fake_llm.script([fake_llm.tool_call("billing_customers_create", email="a@shop.test"),
                     fake_llm.tool_call("billing_refunds_create", charge="ch_1"), "done"])
    run_agent(fake_llm, billing, "refund")


def test_signup(fake_llm, billing, agent_run):
    fake_llm.script([fake_llm.tool_call("billing_customers_create", email="b@shop.test"), "welcome"])
    run_agent(fake_llm, billing, "sign up")
    agent_run.escalate("a human should check")
"""


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One real inner session writing traces, the JSON report and OTel spans; (its folder, its stdout)."""
    import os
    import sys

    import forkrun

    pytest.importorskip("opentelemetry.sdk")
    root = tmp_path_factory.mktemp("agree")
    (root / "pytest.ini").write_text(INI)
    (root / "conftest.py").write_text(CONFTEST)
    (root / "pyproject.toml").write_text("[tool.agentops.agents.triage]\nbudgets = { max_tool_calls = 10 }\n")
    (root / "test_agent.py").write_text(TESTS)
    done = forkrun.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "--agent-trace-dir=traces", "--agent-report=report.json",
         "--agent-otel", "-q"],
        cwd=root, env=dict(os.environ), timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return root, done.stdout


def _traces(root: Path) -> list[dict[str, Any]]:
    return [page.figures_of(t) for t in page.load_traces(root / "traces")]


def test_the_trace_files_give_the_figures_of_the_run(session: tuple[Path, str]) -> None:
    root, _ = session
    report = json.loads((root / "report.json").read_text())
    from_traces = {f["nodeid"]: f for f in _traces(root)}
    assert sorted(from_traces) == [t["nodeid"] for t in report["tests"]]
    refund = from_traces["test_agent.py::test_refund"]
    assert (refund["tool_calls"], refund["denials"], refund["tool_errors"]) == (3, 1, 1)  # the figures are real
    assert refund["tokens"]["total"] > 0 and refund["cost_usd"] > 0
    for test in report["tests"]:
        assert from_traces[test["nodeid"]] == test
    rebuilt = figures.build(from_traces.values())
    for key in ("agents", "total", "pass_k"):
        assert rebuilt[key] == report[key]


def test_the_scorecard_text_and_the_html_page_read_the_same_figures(session: tuple[Path, str]) -> None:
    root, stdout = session
    report = json.loads((root / "report.json").read_text())
    for line in scorecard.format_scorecard(report):
        assert line in stdout  # the terminal printed exactly the report's figures
    entries, built = page.build_entries(page.load_traces(root / "traces"), None)
    assert scorecard.format_scorecard(built) == scorecard.format_scorecard(report)
    html = page.render(entries, built, page.Payloads(root / "traces"), page.Source("traces"))
    embedded = re.search(r'<script type="application/json" id="agentops-data">(.*?)</script>', html, re.S)
    assert embedded is not None
    data = json.loads(embedded[1])
    assert data["total"] == report["total"] and data["agents"] == report["agents"]


def test_the_otel_run_spans_carry_the_same_figures(session: tuple[Path, str]) -> None:
    root, _ = session
    report = json.loads((root / "report.json").read_text())
    spans = json.loads((root / "spans.json").read_text())
    roots = {s["attributes"]["test.case.name"]: s for s in spans if s["parent"] is None}
    for test in report["tests"]:
        attrs = roots[test["nodeid"]]["attributes"]
        assert attrs["agentops.tool_calls"] == test["tool_calls"]
        assert attrs["agentops.model_calls"] == test["model_calls"]
        assert attrs["agentops.denials"] == test["denials"]
        assert attrs["agentops.tool_errors"] == test["tool_errors"]
        assert attrs["agentops.tokens"] == test["tokens"]["total"]
        assert attrs["agentops.cost_usd"] == pytest.approx(test["cost_usd"])
        children = [s for s in spans if s["parent"] == roots[test["nodeid"]]["span_id"]]
        chats = [s["attributes"] for s in children if s["name"].startswith("chat")]
        assert len(chats) == test["model_calls"] and len(children) - len(chats) == test["tool_calls"]
        assert sum(c["gen_ai.usage.input_tokens"] for c in chats) == test["tokens"]["input"]


def test_the_baseline_gate_compares_the_same_figures(session: tuple[Path, str]) -> None:
    root, _ = session
    report = json.loads((root / "report.json").read_text())
    tolerances = baseline.default_tolerances()
    assert baseline.compare(report, figures.build(_traces(root)), tolerances) == []
    worse = copy.deepcopy(_traces(root))
    for test in worse:
        test["tool_calls"] *= 3
        test["tokens"]["total"] *= 3
    keys = {r.key for r in baseline.compare(report, figures.build(worse), tolerances)}
    assert keys, "tripled tool calls and tokens must be a regression"


def test_unknown_tokens_stay_unknown_in_every_group() -> None:
    known = {"nodeid": "a", "contract": "x", "outcome": "passed", "result": "success", "escalations": [],
             "model_calls": 1, "tool_calls": 0, "tokens": {"input": 1, "output": 1, "cached_input": 0, "total": 2},
             "cost_usd": 0.1, "unpriced_models": [], "denials": 0, "denial_rules": {}, "tool_errors": 0,
             "latency_ms": {}}  # fmt: skip
    unknown = {**known, "nodeid": "b", "tokens": dict.fromkeys(figures.TOKEN_KEYS), "cost_usd": None}
    stats = figures.group_stats([known, unknown])
    assert stats["tokens"] is None and stats["tokens_per_task"] is None and stats["cost_usd"] is None
    assert figures.group_stats([known])["tokens"] == 2
