"""Trace files (--agent-trace-dir): content, the contract's logging settings, payload files, the
step table of a failing test, and OpenTelemetry export. Real inner pytest sessions."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from upstream import CHAT_USAGE, Upstream

from pytest_agentops.readers.tracefile import mask_pii_text, relative_path

if TYPE_CHECKING:
    from conftest import Project

# The inner sessions skip third-party plugins they do not need (each costs ~1 s of start-up).
FAST_INI = """
[pytest]
addopts = -p no:hypothesispytest -p no:benchmark -p no:recording -p no:cacheprovider
          -p no:schemathesis -p no:langsmith_plugin -p no:anyio
"""


@pytest.fixture
def project(project: Project) -> Project:
    project.pytester.makeini(FAST_INI)
    return project


PYPROJECT = """
[tool.agentops.agents.private]
budgets = { max_tool_calls = 10, max_tokens_total = 1000 }
logging = { store_prompt = false, store_tool_io = true, pii_redaction = true }

[tool.agentops.agents.no_io]
logging = { store_prompt = true, store_tool_io = false }
"""

PROMPT = "PROMPT-CANARY-7731 please refund"
EMAIL = "ana.customer@shop.com"
CARD = "4242 4242 4242 4242"
PHONE = "+1 415 555 0123"
TOOL_SECRET = "TOOLDATA-CANARY-5150"

TRACE_TESTS = f"""
import pytest

PROMPT = {PROMPT!r}
TOOLS = [{{"type": "function", "function": {{"name": "billing_customers_create", "parameters": {{"type": "object"}}}}}}]


def ask(oai, content, tools=None):
    kwargs = {{"tools": tools}} if tools else {{}}
    return oai.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": content}}], **kwargs)


@pytest.mark.agent("private")
@pytest.mark.agent_policy(deny=["billing.refunds.*"])
def test_private(oai, billing, agent_run):
    ask(oai, PROMPT + " for {EMAIL}", tools=TOOLS)
    with billing.client() as c:
        c.post("/v1/customers", data={{"email": {EMAIL!r}, "phone": {PHONE!r}, "description": "card {CARD}"}})
        c.get("/v1/customers/cus_missing")
        denied = c.post("/v1/refunds", data={{"charge": "ch_1"}})
    assert denied.status_code == 403
    print("TRACE_ID", agent_run.trace_id)


@pytest.mark.agent("no_io")
def test_no_io(oai, billing):
    ask(oai, "visible prompt")
    with billing.client() as c:
        c.post("/v1/customers", data={{"email": "x@shop.test", "description": {TOOL_SECRET!r}}})


def test_plain(billing):
    with billing.client() as c:
        c.post("/v1/customers", data={{"description": "plain-{TOOL_SECRET}"}})


@pytest.mark.parametrize("who", ["a/b", "c::d"])
def test_param(billing, who):
    with billing.client() as c:
        c.get("/v1/customers")


def test_no_calls():
    pass
"""


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _all_text(root: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(root.rglob("*")) if p.is_file())


@pytest.fixture
def traced(project: Project, upstream: Upstream) -> Project:
    project.pytester.makepyprojecttoml(PYPROJECT)
    project.pytester.makepyfile(test_traces=TRACE_TESTS)
    return project


def test_trace_files_follow_the_contract_logging(traced: Project) -> None:
    result = traced.run("--agent-trace-dir=out/traces", "-s")
    result.assert_outcomes(passed=6)
    root = traced.path / "out" / "traces"
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.jsonl"))
    # One file per test that made a call or applied a contract; parametrised ids made safe and unique.
    named = {"test_traces/test_no_io.jsonl", "test_traces/test_plain.jsonl", "test_traces/test_private.jsonl"}
    params = [f for f in files if f not in named]
    assert named <= set(files) and len(params) == 2, files
    umask = os.umask(0)
    os.umask(umask)
    modes = {p.stat().st_mode & 0o777 for p in root.rglob("*") if p.is_file()}
    assert modes == {0o666 & ~umask}, modes  # CI artifact uploaders read them: not mkstemp's 0600
    assert all(f.startswith("test_traces/test_param[") and f.count("/") == 1 and ":" not in f for f in params)

    lines = _lines(root / "test_traces" / "test_private.jsonl")
    header, events, footer = lines[0], lines[1:-1], lines[-1]
    trace_id = re.search(r"TRACE_ID (\w+)", result.stdout.str()).group(1)  # type: ignore[union-attr]
    assert header["type"] == "header" and header["trace_id"] == trace_id
    assert header["test"] == "test_traces.py::test_private"
    assert (header["outcome"], header["result"], header["contract"]) == ("passed", "success", "private")
    assert header["duration_s"] > 0
    assert header["logging"] == {"store_prompt": False, "store_tool_io": True, "pii_redaction": True}

    assert [(e["seq"], e["kind"], e["name"], e["backend"], e["status"]) for e in events] == [
        (0, "model", "gpt-4o-mini-2024-07-18", "passthrough", 200),
        (1, "tool", "billing.customers.create", "simulator", 200),
        (2, "tool", "billing.customers.retrieve", "simulator", 404),
        (3, "tool", "billing.refunds.create", "policy", 403),
    ]
    model, create, _missing, denied = events
    tokens = CHAT_USAGE["prompt"] + CHAT_USAGE["completion"]
    assert model["tokens"]["total"] == tokens and model["tokens"]["input"] == CHAT_USAGE["prompt"]
    assert model["cost_usd"] == pytest.approx((17 * 0.15 + 9 * 0.60) / 1e6)
    assert model["provider"] == "openai.chat" and model["tool_calls_requested"][0]["name"] == "billing_customers_create"
    assert model["omitted"] == ["request", "response"] and "payloads" not in model
    assert create["requested_by"] == {"seq": 0, "tool_call_id": model["tool_calls_requested"][0]["id"]}
    assert create["access"] == "write" and create["duration_ms"] >= 0 and create["offset_ms"] >= 0
    assert denied["rule"] == "denylist" and "deny list" in denied["error"]

    assert footer["type"] == "footer"
    assert footer["usage"]["total_tokens"] == tokens and footer["usage"]["cost_usd"] == model["cost_usd"]
    assert (footer["model_calls"], footer["tool_calls"], footer["denials"], footer["tool_errors"]) == (1, 3, 1, 1)
    assert footer["budget"]["limits"] == {"max_tool_calls": 10, "max_tokens_total": 1000}
    assert footer["budget"]["remaining"]["tool_calls"] == 7
    assert footer["budget"]["remaining"]["tokens"] == 1000 - tokens
    assert footer["breaches"] == []

    # Payloads are content-addressed files the trace references by hash.
    payloads = root / "payloads"
    for ref in create["payloads"].values():
        data = (payloads / f"{ref}.json").read_bytes()
        assert hashlib.sha256(data).hexdigest() == ref
    arguments = json.loads((payloads / f"{create['payloads']['arguments']}.json").read_text())
    assert arguments["email"] == "a***@shop.com"
    assert arguments["phone"] == "+* *** *** 0123"
    assert arguments["description"] == "card **** **** **** 4242"

    everything = _all_text(root)
    # store_prompt = false: neither the prompt nor the answer (which echoes it) is anywhere.
    assert "PROMPT-CANARY" not in everything
    # pii_redaction = true: no address, card or phone of the private test survived.
    for value in (EMAIL, CARD, PHONE):
        assert value not in everything
    # store_tool_io = false: the no_io test's tool data is nowhere, its prompt is kept.
    no_io = _lines(root / "test_traces" / "test_no_io.jsonl")
    assert no_io[2]["omitted"] == ["arguments", "response"] and "payloads" not in no_io[2]
    assert "TOOLDATA-CANARY-5150" in everything  # from test_plain (no contract keeps everything) ...
    assert everything.count("TOOLDATA-CANARY-5150") == everything.count("plain-TOOLDATA-CANARY-5150")
    request = json.loads((payloads / f"{no_io[1]['payloads']['request']}.json").read_text())
    assert request["messages"][0]["content"] == "visible prompt"
    # API keys are redacted as in cassettes: the inner conftest's key is in no file.
    assert "sk-test-inner" not in everything


def test_inline_payloads(traced: Project) -> None:
    result = traced.run("--agent-trace-dir=t", "-o", "agentops_trace_payloads=inline", "-k", "plain or no_io")
    result.assert_outcomes(passed=2, deselected=4)
    root = traced.path / "t"
    assert not (root / "payloads").exists()
    plain = _lines(root / "test_traces" / "test_plain.jsonl")[1]
    assert plain["arguments"] == {"description": "plain-TOOLDATA-CANARY-5150"}
    assert plain["response"]["object"] == "customer"


STEP_TABLE_TESTS = """
import pytest


def test_fails_on_its_own(billing):
    with billing.client() as c:
        c.post("/v1/customers", data={"email": "x@shop.test"})
        c.get("/v1/customers/cus_nope")
    assert False, "the agent gave up on x@shop.test with key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"


def test_assertion_prints_its_own_table(billing, agent_run):
    with billing.client() as c:
        c.get("/v1/customers")
    agent_run.assert_tool_calls(max=0)


def test_fails_without_calls():
    assert False
"""


def test_failing_test_shows_the_step_table(project: Project) -> None:
    project.pytester.makepyfile(test_steps=STEP_TABLE_TESTS)
    result = project.run("--agent-trace-dir=tr")
    result.assert_outcomes(failed=3)
    result.stdout.re_match_lines(
        [
            r"_+ test_fails_on_its_own _+",
            r".*AssertionError: the agent gave up on x@shop.test",
            r"-+ agentops trace -+",
            r"trace \(2 steps\):",
            r"\s+seq\s+kind\s+tool/model\s+backend\s+status\s+tokens\s+ms\s+note",
            r"\s+0\s+tool\s+billing\.customers\.create\s+simulator\s+200\s+-\s+\d+",
            r"\s+1\s+tool\s+billing\.customers\.retrieve\s+simulator\s+404\s+-\s+\d+",
            r"trace file: tr/test_steps/test_fails_on_its_own\.jsonl",
        ],
        consecutive=False,
    )
    text = result.stdout.str()
    # Shown once for the test that failed on its own; not repeated where the assertion already
    # printed the whole trace; absent when there was nothing to show.
    assert text.count("agentops trace") == 1
    # The trace says why the test failed (the error, not the traceback), with the secret redacted.
    header = _lines(project.path / "tr/test_steps/test_fails_on_its_own.jsonl")[0]
    assert header["outcome"] == "failed" and header["failure"]["when"] == "call"
    message = header["failure"]["message"]
    assert message.startswith("AssertionError: the agent gave up on x@shop.test with key ")
    assert "sk-proj-abcdef" not in message and "assert False" in message
    budget = _lines(project.path / "tr/test_steps/test_assertion_prints_its_own_table.jsonl")[0]["failure"]
    assert "expected at most 0 tool calls, the agent made 1" in budget["message"]
    assert "trace (" not in budget["message"]  # the step table is the trace file itself: not repeated


def test_trace_file_names_are_safe_and_unique() -> None:
    a = relative_path("tests/test_x.py::TestA::test_b[a/b]")
    b = relative_path("tests/test_x.py::TestA::test_b[a:b]")
    assert a.parts[:2] == ("tests", "test_x") and a.name.startswith("TestA.test_b[a_b]-") and a != b
    assert relative_path("tests/test_x.py::test_c[1-attempt-2]").as_posix() == "tests/test_x/test_c[1-attempt-2].jsonl"
    long = relative_path("t.py::test_" + "x" * 400)
    assert len(long.name) < 180


def test_pii_masking() -> None:
    text = "mail ana@example.com or bob.b@shop.io, card 4111-1111-1111-1111, call (415) 555-0123, id 1234"
    masked = mask_pii_text(text)
    assert masked == "mail a***@example.com or b***@shop.io, card ****-****-****-1111, call (***) ***-0123, id 1234"
    assert mask_pii_text("logo@2x.png costs 5") == "logo@2x.png costs 5"


# ---- OpenTelemetry ------------------------------------------------------------------------------

OTEL_CONFTEST = """
import json
import os

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
    spans = [
        {
            "name": s.name,
            "span_id": s.context.span_id,
            "trace_id": s.context.trace_id,
            "parent": s.parent.span_id if s.parent else None,
            "attributes": dict(s.attributes),
            "status": s.status.status_code.name,
            "start": s.start_time,
            "end": s.end_time,
        }
        for s in EXPORTER.get_finished_spans()
    ]
    with open("spans.json", "w") as fh:
        json.dump(spans, fh)
"""

OTEL_TESTS = """
import pytest

TOOLS = [{"type": "function", "function": {"name": "billing_customers_create", "parameters": {"type": "object"}}}]


@pytest.mark.agent("private")
def test_agent(oai, billing):
    oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], tools=TOOLS)
    with billing.client() as c:
        c.post("/v1/customers", data={"email": "x@shop.test"})
        c.get("/v1/customers/cus_missing")
"""


def test_otel_spans(project: Project, upstream: Upstream) -> None:
    pytest.importorskip("opentelemetry.sdk")
    project.pytester.makepyprojecttoml(PYPROJECT)
    project.pytester.makeconftest(project.path.joinpath("conftest.py").read_text() + OTEL_CONFTEST)
    project.pytester.makepyfile(test_otel=OTEL_TESTS)
    result = project.run("--agent-otel")
    result.assert_outcomes(passed=1)
    spans = json.loads((project.path / "spans.json").read_text())
    by_name = {s["name"]: s for s in spans}
    assert sorted(by_name) == [
        "chat gpt-4o-mini",
        "execute_tool billing.customers.create",
        "execute_tool billing.customers.retrieve",
        "invoke_agent private",
    ]
    root = by_name["invoke_agent private"]
    assert root["parent"] is None
    assert root["attributes"]["gen_ai.operation.name"] == "invoke_agent"
    assert root["attributes"]["test.case.name"] == "test_otel.py::test_agent"
    assert root["attributes"]["test.case.result.status"] == "pass"
    children = [s for s in spans if s is not root]
    assert all(s["parent"] == root["span_id"] and s["trace_id"] == root["trace_id"] for s in children)
    assert all(root["start"] <= s["start"] <= s["end"] <= root["end"] for s in children)
    chat = by_name["chat gpt-4o-mini"]["attributes"]
    assert chat["gen_ai.operation.name"] == "chat"
    assert chat["gen_ai.request.model"] == "gpt-4o-mini"
    assert chat["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert chat["gen_ai.provider.name"] == "openai"
    assert (chat["gen_ai.usage.input_tokens"], chat["gen_ai.usage.output_tokens"]) == (17, 9)
    tool = by_name["execute_tool billing.customers.create"]["attributes"]
    assert tool["gen_ai.operation.name"] == "execute_tool" and tool["gen_ai.tool.name"] == "billing.customers.create"
    assert tool["gen_ai.tool.call.id"].startswith("call_up")
    missing = by_name["execute_tool billing.customers.retrieve"]
    assert missing["status"] == "ERROR" and missing["attributes"]["error.type"] == "404"
    # No prompt or tool payload is put on a span.
    assert "hi" not in json.dumps([s["attributes"] for s in spans]).replace("chat", "")


def test_otel_missing_is_a_usage_error(project: Project) -> None:
    # A package that shadows OpenTelemetry and fails to import, as if it were not installed.
    project.pytester.mkpydir("opentelemetry").joinpath("__init__.py").write_text("raise ImportError('blocked')\n")
    project.pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = project.run("--agent-otel", "-p", "no:xdist")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--agent-otel / agentops_otel needs OpenTelemetry" in result.stderr.str()
    assert "pip install 'pytest-agentops[otel]'" in result.stderr.str()


TOOL_RESULT_TESTS = """
import pytest
from pydantic import BaseModel

from pytest_agentops import tool


class Customer(BaseModel):
    id: str
    email: str
    api_key: str


@tool(kind="read")
def lookup_customer(email: str) -> Customer:
    return Customer(id="cus_1", email=email, api_key="sk-proj-" + "a" * 40)


@tool(kind="write")
def close_ticket(ticket_id: int) -> None:
    return None


@pytest.mark.agent("private")
def test_tools():
    assert lookup_customer("ana.customer@shop.com").id == "cus_1"
    close_ticket(7)
"""


def test_a_python_tools_return_value_is_in_the_trace(project: Project) -> None:
    project.pytester.makepyprojecttoml(PYPROJECT)
    project.pytester.makepyfile(test_tools=TOOL_RESULT_TESTS)
    result = project.run("--agent-trace-dir=t", "-o", "agentops_trace_payloads=inline")
    result.assert_outcomes(passed=1)
    _, lookup, close, _ = _lines(project.path / "t" / "test_tools" / "test_tools.jsonl")
    assert (lookup["name"], lookup["backend"], lookup["arguments"]) == (
        "lookup_customer",
        "python",
        {"email": "a***@shop.com"},
    )
    # The returned model as data; the contract's PII masking and the secret redaction apply to it.
    assert lookup["response"]["id"] == "cus_1" and lookup["response"]["email"] == "a***@shop.com"
    assert "sk-proj-aaaa" not in json.dumps(lookup) and lookup["response"]["api_key"].startswith("<redacted")
    assert close["arguments"] == {"ticket_id": 7} and "response" not in close  # None returned: nothing to keep
