"""The policy engine in real inner pytest sessions, against a real local HTTP server that counts requests.

Each scenario's inner tests assert what the agent code sees (the 403/422 JSON, ``ToolDenied``); the
outer test then checks the server: a denied request must never have reached it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from upstream import Upstream

if TYPE_CHECKING:
    from conftest import Project

INNER_INI = """
[pytest]
addopts = -p no:hypothesispytest -p no:benchmark -p no:recording -p no:cacheprovider
"""

POLICY_TESTS = """
import httpx
import pytest
import requests
from pydantic import BaseModel

from pytest_agentops import Policy, ToolArgumentsInvalid, ToolDenied, register_tool, tool
from pytest_agentops.policy.tools import Denial

UP = UPSTREAM


class TicketUpdate(BaseModel):
    status: str
    priority: int = 1


register_tool("kb_search", method="GET", url=UP + "/echo/kb/search*", owner="support")
register_tool("crm.contacts.retrieve", method="GET", url=UP + "/echo/crm/contacts/{id}")
register_tool("crm.contacts.update", method="PATCH", url=UP + "/echo/crm/contacts/{id}")
register_tool("tickets.update", method="POST", url=UP + "/echo/tickets/{id}", schema=TicketUpdate, risk="high")
register_tool("billing.refunds.create", method="POST", url=UP + "/echo/refunds*", risk="critical")


@tool(kind="read", owner="qa")
def validate_step(ticket: int) -> bool:
    return ticket > 0


@tool(kind="write", risk="medium")
def close_ticket(ticket: int, tenant: str = "acme") -> str:
    return f"closed {ticket}"


def denied(response, rule, tool):
    assert response.status_code == 403, response.text
    assert response.headers["x-should-retry"] == "false"
    error = response.json()["error"]
    assert error["type"] == "policy_denied" and error["rule"] == rule and error["tool"] == tool, error
    assert error["message"]
    return error


@pytest.mark.agent_policy(writes_require=["validate_step"])
def test_write_without_precondition_never_reaches_the_server(agent_run):
    error = denied(httpx.post(UP + "/echo/tickets/1", json={"status": "solved"}), "preconditions", "tickets.update")
    assert "validate_step" in error["message"]
    # requests (urllib3) is denied the same way
    denied(requests.post(UP + "/echo/tickets/2", json={"status": "solved"}), "preconditions", "tickets.update")
    assert [e.backend for e in agent_run.events] == ["policy", "policy"]
    assert [e.rule for e in agent_run.denials] == ["preconditions", "preconditions"]
    assert agent_run.events[0].tool == "tickets.update" and agent_run.events[0].access == "write"
    assert agent_run.events[0].arguments == {"id": "1", "status": "solved"}
    assert agent_run.writes == []
    with pytest.raises(AssertionError, match="unauthorized write"):
        agent_run.assert_no_unauthorized_writes()
    agent_run.assert_no_unauthorized_writes(attempts=False)  # denied: nothing reached a backend


@pytest.mark.agent_policy(writes_require=["validate_step"])
def test_write_after_satisfy_goes_through(agent_run):
    agent_run.satisfy("validate_step")
    assert httpx.post(UP + "/echo/tickets/3", json={"status": "solved"}).status_code == 200
    assert [e.tool for e in agent_run.writes] == ["tickets.update"]
    agent_run.assert_no_unauthorized_writes()
    agent_run.assert_called("tickets.update", id="3", status="solved")
    with pytest.raises(AssertionError, match="not called with these arguments"):
        agent_run.assert_called("tickets.update", status="open")


@pytest.mark.agent_policy(writes_require=["validate_step"])
def test_write_after_a_successful_precondition_tool(agent_run):
    with pytest.raises(ToolDenied) as info:
        close_ticket(4)
    assert info.value.rule == "preconditions"
    assert validate_step(4) is True
    assert close_ticket(4) == "closed 4"
    assert httpx.post(UP + "/echo/tickets/4", json={"status": "solved"}).status_code == 200


@pytest.mark.agent_policy(allow=["kb_search", "crm.*.retrieve"])
def test_allowlist(agent_run):
    assert httpx.get(UP + "/echo/kb/search?q=refund").status_code == 200
    assert httpx.get(UP + "/echo/crm/contacts/7").status_code == 200
    error = denied(httpx.patch(UP + "/echo/crm/contacts/7", json={"x": 1}), "allowlist", "crm.contacts.update")
    assert "crm.contacts.update" in error["message"]
    # an unregistered request is not on any allowlist
    error = denied(httpx.get(UP + "/echo/unregistered"), "allowlist", None)
    assert "not a registered tool" in error["message"]
    with pytest.raises(ToolDenied):
        validate_step(1)
    agent_run.assert_called("crm.contacts.retrieve", id="7")
    agent_run.assert_called("kb_search", q="refund")
    agent_run.assert_tool_calls(max=5)
    with pytest.raises(AssertionError, match="at most 1 tool calls"):
        agent_run.assert_tool_calls(max=1)


@pytest.mark.agent_policy(deny=["billing.*"], read_only=False, max_risk="high")
def test_denylist_and_risk(agent_run):
    denied(httpx.post(UP + "/echo/refunds", json={"amount": 5}), "denylist", "billing.refunds.create")
    assert httpx.post(UP + "/echo/tickets/5", json={"status": "open"}).status_code == 200  # risk high: allowed


@pytest.mark.agent_policy(max_risk="medium")
def test_risk(agent_run):
    denied(httpx.post(UP + "/echo/tickets/6", json={"status": "open"}), "risk", "tickets.update")


@pytest.mark.agent_policy(read_only=True)
def test_read_only(agent_run):
    assert httpx.get(UP + "/echo/kb/search?q=ok").status_code == 200
    denied(httpx.patch(UP + "/echo/crm/contacts/8", json={"x": 1}), "read_only", "crm.contacts.update")
    denied(httpx.post(UP + "/echo/unregistered-write", json={}), "read_only", None)  # POST = write
    with pytest.raises(ToolDenied, match="read-only"):
        close_ticket(1)


def test_schema_violation_is_a_422_naming_the_field(agent_run):
    response = httpx.post(UP + "/echo/tickets/9", json={"status": "open", "priority": "urgent"})
    assert response.status_code == 422 and response.headers["x-should-retry"] == "false"
    error = response.json()["error"]
    assert error["rule"] == "arguments" and error["fields"][0]["loc"] == "priority", error
    assert agent_run.denials[0].rule == "arguments"


@pytest.mark.agent_policy(tenant="acme")
def test_tenant_scope(agent_run):
    headers = {"x-tenant-id": "globex"}
    denied(httpx.post(UP + "/echo/tickets/10", json={"status": "x"}, headers=headers), "tenant", "tickets.update")
    ok = httpx.post(UP + "/echo/tickets/11", json={"status": "x"}, headers={"x-tenant-id": "acme"})
    assert ok.status_code == 200
    assert close_ticket(1, tenant="acme") == "closed 1"
    with pytest.raises(ToolDenied, match="tenant 'acme'"):
        close_ticket(1, tenant="globex")


def test_invalid_python_arguments_are_denial_events(agent_run):
    with pytest.raises(ToolArgumentsInvalid, match="ticket"):
        close_ticket("not a number")
    assert agent_run.events[0].backend == "policy" and agent_run.events[0].status == 422


def test_plugin_rule_from_conftest_hook(agent_run):
    denied(httpx.get(UP + "/echo/kb/search?q=forbidden"), "no_forbidden_queries", "kb_search")
    assert httpx.get(UP + "/echo/kb/search?q=fine").status_code == 200
"""

POLICY_CONFTEST_HOOK = """

from pytest_agentops.policy.tools import Denial


def _no_forbidden(call, run):
    if call.name == "kb_search" and (call.arguments or {}).get("q") == "forbidden":
        return Denial("no_forbidden_queries", "that query is forbidden")
    return None


def pytest_agentops_policy_rules(config):
    return [_no_forbidden]
"""


def _write_project(project: Project, upstream: Upstream, tests: str, *, ini: str = "") -> None:
    project.pytester.makeini(INNER_INI + ini)
    conftest = (project.path / "conftest.py").read_text(encoding="utf-8")
    (project.path / "conftest.py").write_text(conftest + POLICY_CONFTEST_HOOK, encoding="utf-8")
    project.pytester.makepyfile(test_agent=tests.replace("UPSTREAM", repr(upstream.url), 1))


def test_policy_rules_deny_before_any_backend(project: Project, upstream: Upstream) -> None:
    _write_project(project, upstream, POLICY_TESTS)
    result = project.run("-v")
    result.assert_outcomes(passed=POLICY_TESTS.count("\ndef test_"))
    reached = upstream.paths()
    # Every denied request was answered by the policy; the server saw only the allowed ones.
    assert sorted(reached) == sorted(
        [
            "/echo/tickets/3",
            "/echo/tickets/4",
            "/echo/kb/search?q=refund",
            "/echo/crm/contacts/7",
            "/echo/tickets/5",
            "/echo/kb/search?q=ok",
            "/echo/tickets/11",
            "/echo/kb/search?q=fine",
        ]
    ), reached


KILL_SWITCH_TESTS = """
import httpx
import pytest

from pytest_agentops import ToolDenied, register_tool, tool

UP = UPSTREAM
register_tool("tickets.update", method="POST", url=UP + "/echo/tickets/{id}")


@tool(kind="write")
def refund(amount: int) -> int:
    return amount


def test_writes_are_switched_off(agent_run):
    assert httpx.get(UP + "/echo/read").status_code == 200
    for response in (
        httpx.post(UP + "/echo/tickets/1", json={"status": "x"}),
        httpx.delete(UP + "/echo/unregistered/1"),
    ):
        assert response.status_code == 403 and response.headers["x-should-retry"] == "false"
        assert response.json()["error"]["rule"] == "no_writes"
    with pytest.raises(ToolDenied, match="no_writes"):
        refund(5)
    # satisfying preconditions does not lift the kill switch
    agent_run.satisfy("validate_step")
    assert httpx.post(UP + "/echo/tickets/2", json={}).status_code == 403
    assert len(agent_run.denials) == 4 and agent_run.writes == []
"""


def test_kill_switch_option(project: Project, upstream: Upstream) -> None:
    _write_project(project, upstream, KILL_SWITCH_TESTS)
    project.run("--agent-no-writes").assert_outcomes(passed=1)
    assert upstream.paths() == ["/echo/read"]
    # Without the switch the same test fails: its writes get through.
    result = project.run()
    result.assert_outcomes(failed=1)
    assert "/echo/tickets/1" in upstream.paths()


def test_kill_switch_ini(project: Project, upstream: Upstream) -> None:
    _write_project(project, upstream, KILL_SWITCH_TESTS, ini="agentops_no_writes = true\n")
    project.run().assert_outcomes(passed=1)
    assert upstream.paths() == ["/echo/read"]


PINNING_PYPROJECT = """
[tool.agentops.agents.support_triage]
model_routing = { classify = "gpt-4o-mini", draft = "gpt-4o" }
"""

PINNING_TESTS = """
import openai
import pytest

pytestmark = pytest.mark.agent("support_triage")


def ask(oai, model):
    return oai.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])


def test_pinned_models_pass(oai, agent_run):
    ask(oai, "gpt-4o-mini")
    ask(oai, "gpt-4o")
    assert [c.model for c in agent_run.model_calls] == ["gpt-4o-mini-2024-07-18", "gpt-4o-2024-07-18"]


def test_unpinned_model_fails_even_when_the_agent_swallows_the_error(oai, agent_run):
    with pytest.raises(openai.PermissionDeniedError) as info:
        ask(oai, "gpt-4.1")
    assert "model_pinning" in str(info.value)
    assert agent_run.denials[0].kind == "model" and agent_run.denials[0].rule == "model_pinning"


def test_unpinned_model_raises_in_the_agent(oai):
    ask(oai, "o3")


@pytest.mark.agent_policy(models=["gpt-4.1"])
def test_marker_can_repin(oai):
    ask(oai, "gpt-4.1")


@pytest.mark.agent_policy(models=["gpt-4.1"])
def test_a_marker_pin_is_named_as_such(oai):
    ask(oai, "gpt-4o")
"""


def test_model_pinning_with_the_openai_sdk(project: Project, upstream: Upstream) -> None:
    project.pytester.makeini(INNER_INI)
    project.pytester.makepyprojecttoml(PINNING_PYPROJECT)
    project.pytester.makepyfile(test_agent=PINNING_TESTS)
    result = project.run("-v")
    result.assert_outcomes(passed=2, failed=3)
    # A pin the marker set is the policy's (models=), not the contract's model_routing.
    assert "'gpt-4o' is not pinned by the policy (models= allows: gpt-4.1)" in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*test_unpinned_model_fails_even_when_the_agent_swallows_the_error FAILED*",
            "*test_unpinned_model_raises_in_the_agent FAILED*",
            "*model_pinning denied the model call*'gpt-4.1' is not pinned by contract 'support_triage'*",
            "*model_routing allows: gpt-4o-mini, gpt-4o*",
        ]
    )
    assert "'o3' is not pinned" in result.stdout.str()
    # The denied calls never reached the server, and the SDK did not retry them.
    assert [r["body"]["model"] for r in upstream.requests] == ["gpt-4o-mini", "gpt-4o", "gpt-4.1"]


LINK_TESTS = """
import json

from pytest_agentops import tool

WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}]


@tool(kind="read")
def get_weather(city: str, unit: str = "celsius") -> str:
    return f"sunny in {city}"


def test_model_tool_calls_link_to_executions(oai, agent_run):
    reply = oai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}], tools=TOOLS)
    for call in reply.choices[0].message.tool_calls:
        get_weather(**json.loads(call.function.arguments))
    model_event, tool_event = agent_run.events
    assert tool_event.tool == "get_weather" and tool_event.backend == "python"
    assert tool_event.requested_by == (model_event.seq, reply.choices[0].message.tool_calls[0].id)
    agent_run.assert_called("get_weather", city="Paris")
"""


def test_requested_by_links_model_tool_calls(project: Project, upstream: Upstream) -> None:
    project.pytester.makeini(INNER_INI)
    project.pytester.makepyfile(test_agent=LINK_TESTS)
    project.run().assert_outcomes(passed=1)


def test_policy_rules_hook_is_scoped_to_its_conftests_folder(pytester: pytest.Pytester) -> None:
    """A rule in ``strict/conftest.py`` guards the tests under ``strict/`` only, like any conftest hook."""
    pytester.makeini("[pytest]\n")
    rule = """
from pytest_agentops import Denial


def pytest_agentops_policy_rules(config):
    return [lambda call, run: Denial("strict_folder", "no writes here") if call.access == "write" else None]
"""
    test = """
import httpx


def test_write(billing, agent_run):
    with billing.client() as client:
        status = client.post("/v1/customers", data={"email": "a@shop.test"}).status_code
    print("STATUS", status, [d.rule for d in agent_run.denials])
"""
    pytester.mkpydir("strict")
    pytester.mkpydir("lenient")
    (pytester.path / "strict" / "conftest.py").write_text(rule, encoding="utf-8")
    (pytester.path / "strict" / "test_strict.py").write_text(test, encoding="utf-8")
    (pytester.path / "lenient" / "test_lenient.py").write_text(test, encoding="utf-8")
    result = pytester.runpytest("-s", "-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    assert "test_lenient.py STATUS 200 []" in out
    assert "test_strict.py STATUS 403 ['strict_folder']" in out
