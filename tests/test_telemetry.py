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


AT_IMPORT = """
import httpx
import litellm  # fetches its price list now, while the module is collected
from litellm.litellm_core_utils.get_model_cost_map import get_model_cost_map_source_info

INGEST = httpx.post("https://api.openai.com/v1/traces/ingest", json={"data": []})
try:
    httpx.get("https://example.com/", timeout=2)
    OTHER = "sent"
except Exception as exc:  # not telemetry: left to the network guard, as without the plugin's tap
    OTHER = type(exc).__name__


def test_collection_time_telemetry_was_answered():
    assert (INGEST.status_code, INGEST.headers["x-agentops-telemetry"]) == (200, "1")
    info = get_model_cost_map_source_info()
    assert info["source"] == "local" and "404" in str(info["fallback_reason"]), info
    assert OTHER == "ConnectError", OTHER  # httpx's wrapping of the guard's refusal
"""

AT_END = """
import httpx


def pytest_runtest_logreport(report):  # between tests: the test's tap has closed
    if report.when == "teardown":
        assert httpx.post("https://telemetry.crewai.com:4319/v1/traces", content=b"x").status_code == 200


def pytest_sessionfinish(session):
    answer = httpx.post("https://api.smith.langchain.com/runs/batch", json={})
    open("end.txt", "w").write(f"{answer.status_code} {answer.json()}")
"""


def test_outside_a_test_telemetry_is_answered_in_strict_offline_mode(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At collection (litellm's price list at import, a trace export), between tests and at the session's end, no
    test's tap is open: ``--agent-replay`` answers the telemetry all the same, lists it, and leaves
    other requests to the guard. Run inside ``unshare -n``, so an answer cannot have come from outside."""
    import shutil
    import subprocess
    import sys

    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"], check=False).returncode:
        pytest.skip("needs `unshare -n` to run in a namespace with no network")
    # tests/frameworks/test_litellm.py sets it for its worker at collection: litellm must fetch here
    monkeypatch.delenv("LITELLM_LOCAL_MODEL_COST_MAP", raising=False)
    pytester.makepyfile(test_at_import=AT_IMPORT)
    pytester.makeconftest(AT_END)
    result = pytester.run("unshare", "-n", sys.executable, "-m", "pytest", "--agent-replay", "-p", "no:cacheprovider")
    out = result.stdout.str()
    assert result.ret == 0, out + result.stderr.str()
    assert "agentops: 4 telemetry request(s) outside a test, answered locally" in out, out
    result.stdout.fnmatch_lines(
        [
            "GET https://raw.githubusercontent.com/BerriAI/litellm/*404 (litellm model price list*",
            "POST https://api.openai.com/v1/traces/ingest -> 200 (OpenAI Agents SDK trace export)",
            "POST https://telemetry.crewai.com:4319/v1/traces -> 200 (CrewAI telemetry)",
            "POST https://api.smith.langchain.com/runs/batch -> 200 (LangSmith run uploads)",
        ]
    )
    assert (pytester.path / "end.txt").read_text() == "200 {}"
    assert not list(pytester.path.rglob("cassettes/**/*.json"))


def test_outside_a_test_nothing_is_answered_without_strict_offline_mode(pytester: pytest.Pytester) -> None:
    """Without ``--agent-replay`` the plugin takes no request made outside a test (harmless to install)."""
    pytester.makepyfile(
        test_plain="""
from pytest_agentops.tap import current

def test_no_answerer():
    assert current._outside == []
"""
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
