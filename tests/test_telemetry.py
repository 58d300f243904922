"""SDK telemetry (trace ingest, run uploads, price lists) is answered locally in every mode: never
sent, never in a cassette, never a miss, and on the trace as a ``telemetry`` event, not a tool call."""

from __future__ import annotations

import pytest

from pytest_agentops.tap.telemetry import DEFAULT, Telemetry, parse_rule

INNER = """
import httpx, requests

def test_uploads(agent_run):
    assert httpx.post("https://api.openai.com/v1/traces/ingest", json={"data": []}).status_code == 200
    assert requests.post("https://api.smith.langchain.com/runs/batch", json={}).json() == {}
    price = httpx.get("https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json")
    assert price.status_code == 404  # litellm then reads the list it ships
    assert httpx.post("https://telemetry.example.com/v1/t", content=b"x").status_code == 200
    kinds = [(e.kind, e.backend) for e in agent_run.events]
    assert kinds == [("telemetry", "telemetry")] * 4, kinds
    assert agent_run.tool_calls == [] and not agent_run.misses
"""


@pytest.mark.parametrize("mode", ["--agent-replay", "--agent-record"])
def test_answered_locally_never_recorded(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makeini("[pytest]\nagentops_scope = all\nagentops_telemetry_hosts = telemetry.example.com/v1/*\n")
    pytester.makepyfile(test_t=INNER)
    result = pytester.runpytest_inprocess(mode, "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)
    assert not list(pytester.path.rglob("cassettes/**/*.json"))  # nothing was recorded


def test_rules() -> None:
    assert DEFAULT.rule_for("https://api.openai.com/v1/traces/ingest") is not None
    assert DEFAULT.rule_for("https://api.openai.com/v1/responses") is None
    extra = Telemetry.from_lines(["https://*.example.org/collect*"])
    assert extra.rule_for("https://a.example.org/collect/x") is not None
    assert extra.rule_for("https://a.example.org/api") is None
    with pytest.raises(ValueError, match="agentops_telemetry_hosts"):
        parse_rule("bad host/x y")
