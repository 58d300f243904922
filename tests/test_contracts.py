"""Agent contracts: loading from pyproject.toml and YAML, errors naming the file and the key, markers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from upstream import Upstream

from pytest_agentops import AgentContract, Budget, ContractError, Policy
from pytest_agentops.policy.contracts import load

if TYPE_CHECKING:
    from conftest import Project

INNER_INI = """
[pytest]
addopts = -p no:hypothesispytest -p no:benchmark -p no:recording -p no:cacheprovider
"""

# DESIGN.md's example, except that its ``safety`` inline table spans two lines, which TOML 1.0 (tomllib,
# and so pytest itself) rejects; a sub-table is the TOML 1.0 spelling of the same thing.
DESIGN_EXAMPLE = """
[tool.agentops.agents.support_triage]
model_routing = { classify = "gpt-4o-mini", draft = "gpt-4o", validate = "claude-sonnet-4" }
budgets = { max_tool_calls = 10, max_tokens_total = 12000, timeout_seconds = 20 }
logging = { store_prompt = false, store_tool_io = true, pii_redaction = true }

[tool.agentops.agents.support_triage.safety]
allowlisted_tools = ["kb_search", "zendesk_update", "crm_lookup"]
write_actions_require = ["validate_step", "policy_engine_ok"]
"""


def _pyproject(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_design_example_loads(tmp_path: Path) -> None:
    _pyproject(tmp_path, DESIGN_EXAMPLE)
    contract = load(tmp_path).agents["support_triage"]
    assert contract.name == "support_triage"
    assert contract.models == ["gpt-4o-mini", "gpt-4o", "claude-sonnet-4"]
    assert contract.budgets == Budget(max_tool_calls=10, max_tokens_total=12000, timeout_seconds=20)
    assert contract.logging.store_prompt is False and contract.logging.pii_redaction is True
    assert contract.policy == Policy(
        allow=["kb_search", "zendesk_update", "crm_lookup"],
        writes_require=["validate_step", "policy_engine_ok"],
        models=["gpt-4o-mini", "gpt-4o", "claude-sonnet-4"],
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            "budgets = { max_tool_calls = -1 }",
            "pyproject.toml: [tool.agentops.agents.support_triage] budgets.max_tool_calls: must be an integer >= 0",
        ),
        (
            'budgets = { max_tool_calls = "ten" }',
            "[tool.agentops.agents.support_triage] budgets.max_tool_calls: must be an integer >= 0 (got 'ten')",
        ),
        (
            "budgets = { max_tokens_total = 1.5 }",
            "[tool.agentops.agents.support_triage] budgets.max_tokens_total: must be a positive integer",
        ),
        (
            "budgets = { max_tool_call = 3 }",
            "[tool.agentops.agents.support_triage] budgets.max_tool_call: unknown key; known keys in budgets: "
            "max_tool_calls, max_tokens_total, max_cost_usd, timeout_seconds, max_repeated_calls",
        ),
        (
            "modle_routing = {}",
            "[tool.agentops.agents.support_triage] modle_routing: unknown key; known keys: model_routing, budgets",
        ),
        (
            "logging = { store_prompt = 'no' }",
            "[tool.agentops.agents.support_triage] logging.store_prompt: must be true or false",
        ),
        (
            'safety = { allowlisted_tools = "kb_search" }',
            "[tool.agentops.agents.support_triage] safety.allowlisted_tools: must be a list of tool names",
        ),
        (
            "safety = { write_actions_require = [1] }",
            "[tool.agentops.agents.support_triage] safety.write_actions_require.0: must be a precondition name",
        ),
        (
            "model_routing = { draft = 4 }",
            "[tool.agentops.agents.support_triage] model_routing.draft: must be a model id string",
        ),
        (
            'name = "other"',
            "[tool.agentops.agents.support_triage] name: unknown key",
        ),
    ],
)
def test_contract_errors_name_the_file_and_the_key(tmp_path: Path, table: str, message: str) -> None:
    _pyproject(tmp_path, f"[tool.agentops.agents.support_triage]\n{table}\n")
    with pytest.raises(ContractError) as info:
        load(tmp_path)
    assert message in str(info.value)
    assert str(info.value).startswith("pyproject.toml: ")


def test_unknown_agentops_section(tmp_path: Path) -> None:
    _pyproject(tmp_path, "[tool.agentops.agent.x]\nbudgets = {}\n")
    with pytest.raises(ContractError, match=r"pyproject.toml: \[tool.agentops\] agent: unknown key"):
        load(tmp_path)


def test_yaml_contracts_and_duplicates(tmp_path: Path) -> None:
    (tmp_path / "agents.yaml").write_text(
        "agents:\n  billing_bot:\n    budgets: {max_cost_usd: 0.5}\n"
        "    safety:\n      allowlisted_tools: ['billing.*']\n"
        "prices:\n  house: {input: 1, output: 2}\n",
        encoding="utf-8",
    )
    contracts = load(tmp_path, yaml_path="agents.yaml")
    assert contracts.agents["billing_bot"].budgets.max_cost_usd == 0.5
    assert contracts.sources["billing_bot"] == "agents.yaml"
    assert contracts.prices["house"].output == 2.0
    _pyproject(tmp_path, "[tool.agentops.agents.billing_bot]\n")
    with pytest.raises(ContractError, match=r"'billing_bot' is defined twice: in pyproject\.toml and in agents\.yaml"):
        load(tmp_path, yaml_path="agents.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "agents:\n  bot:\n    budgets: {timeout_seconds: 0}\n",
            "agents.yaml: agents.bot budgets.timeout_seconds: must be",
        ),
        (
            "agents:\n  bot:\n    safety: {max_risk: extreme}\n",
            "agents.yaml: agents.bot safety.max_risk: must be one of",
        ),
        ("agent:\n  bot: {}\n", "agents.yaml: agent: unknown key; known keys: agents, prices"),
        ("agents: [1, 2]\n", "agents.yaml: agents: must be a mapping"),
        ("agents:\n  bot: [\n", "agents.yaml: not valid YAML"),
    ],
)
def test_yaml_errors_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "agents.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ContractError) as info:
        load(tmp_path, yaml_path="agents.yaml")
    assert message in str(info.value)


def test_missing_yaml_file(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match=r"nope\.yaml: cannot read the agent contracts file"):
        load(tmp_path, yaml_path="nope.yaml")


def test_python_api() -> None:
    contract = AgentContract(
        name="inline",
        model_routing={"draft": "gpt-4o"},
        budgets=Budget(max_tokens=100, max_seconds=5),
    )
    assert contract.budgets.max_tokens_total == 100 and contract.budgets.timeout_seconds == 5
    merged = contract.budgets.merged(Budget(max_tool_calls=3))
    assert merged == Budget(max_tokens_total=100, timeout_seconds=5, max_tool_calls=3)
    assert Policy(allow=["a"]).merged(Policy(writes_require=["v"])) == Policy(allow=["a"], writes_require=["v"])
    with pytest.raises(ValueError, match="max_repeated_calls"):
        Budget(max_repeated_calls=0)


# ---- in a pytest session ---------------------------------------------------------------------------


def test_bad_contract_is_a_usage_error(project: Project) -> None:
    project.pytester.makeini(INNER_INI)
    project.pytester.makepyprojecttoml(
        "[tool.agentops.agents.support_triage]\nbudgets = { max_tool_calls = 0.5, max_toolcalls = 3 }\n"
    )
    project.pytester.makepyfile(test_agent="def test_x():\n    pass\n")
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*pytest-agentops: invalid agent contract:*",
            "*pyproject.toml: [[]tool.agentops.agents.support_triage[]] budgets.max_tool_calls: "
            "must be an integer >= 0*",
            "*pyproject.toml: [[]tool.agentops.agents.support_triage[]] budgets.max_toolcalls: unknown key*",
        ]
    )


MARKER_TESTS = """
import httpx
import pytest

from pytest_agentops import AgentContract, Budget, register_tool

UP = UPSTREAM
register_tool("kb_search", method="GET", url=UP + "/echo/kb*")
register_tool("crm.contacts.retrieve", method="GET", url=UP + "/echo/crm/*")


@pytest.mark.agent("triage")
def test_contract_applies(agent_run):
    assert agent_run.contract.name == "triage"
    assert agent_run.contract.logging.store_tool_io is False
    assert httpx.get(UP + "/echo/kb/1").status_code == 200
    assert httpx.get(UP + "/echo/crm/1").json()["error"]["rule"] == "allowlist"
    assert httpx.post(UP + "/echo/kb/2", json={}).json()["error"]["rule"] == "allowlist"


@pytest.mark.agent("triage")
@pytest.mark.agent_policy(allow=["crm.*"])
def test_policy_marker_overrides_the_allowlist(agent_run):
    assert httpx.get(UP + "/echo/crm/2").status_code == 200
    assert httpx.get(UP + "/echo/kb/3").status_code == 403


@pytest.mark.agent(AgentContract(name="inline", budgets=Budget(max_tool_calls=0)))
def test_inline_contract(agent_run):
    assert httpx.get(UP + "/echo/kb/4").json()["error"]["rule"] == "budget.max_tool_calls"


@pytest.mark.agent("nope")
def test_unknown_contract():
    pass


@pytest.mark.agent_budget(max_tool_cals=3)
def test_bad_budget_marker():
    pass


@pytest.mark.agent_policy(allow="kb_search")
def test_bad_policy_marker():
    pass
"""


def test_markers_apply_contracts_and_report_bad_names(project: Project, upstream: Upstream) -> None:
    project.pytester.makeini(INNER_INI)
    (project.path / "contracts").mkdir()
    (project.path / "contracts" / "agents.yaml").write_text(
        "agents:\n  triage:\n    logging: {store_tool_io: false}\n    safety:\n      allowlisted_tools: [kb_search]\n"
        "  escalation: {}\n",
        encoding="utf-8",
    )
    project.pytester.makepyfile(test_agent=MARKER_TESTS.replace("UPSTREAM", repr(upstream.url), 1))
    result = project.run("-v", "--agent-contracts=contracts/agents.yaml")
    result.assert_outcomes(passed=2, failed=1, errors=3)
    result.stdout.fnmatch_lines_random(
        [
            "*test_unknown_contract: @pytest.mark.agent: unknown agent contract 'nope'; known: escalation, triage "
            "(from contracts/agents.yaml)",
            "*test_bad_budget_marker: @pytest.mark.agent_budget: max_tool_cals: unknown key; "
            "known keys: max_tool_calls*",
            "*test_bad_policy_marker: @pytest.mark.agent_policy: allow: Input should be a valid list*",
            "*max_tool_calls=0: the agent made 1 tool calls*",
        ]
    )
    assert upstream.paths() == ["/echo/kb/1", "/echo/crm/2"]


def test_contracts_file_from_ini(project: Project, upstream: Upstream) -> None:
    project.pytester.makeini(INNER_INI + "agentops_contracts = agents.yaml\n")
    (project.path / "agents.yaml").write_text(
        "agents:\n  triage:\n    budgets: {max_tool_calls: 7}\n", encoding="utf-8"
    )
    project.pytester.makepyfile(
        test_agent="import pytest\n\n@pytest.mark.agent('triage')\ndef test_x(agent_run):\n"
        "    assert agent_run.budget.remaining.tool_calls == 7\n"
    )
    project.run().assert_outcomes(passed=1)
