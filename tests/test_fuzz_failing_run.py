"""A fuzz failure found against a real model (recording) is saved as a cassette and replays offline.

The "real model" is the fake model served on a real loopback port, reached the way a real one is:
the official openai SDK calls api.openai.com and ``--agent-staging openai=URL`` forwards the
recording there. Phase 1 records (hypothesis finds and shrinks the injection); phase 2 stops the
model, deletes the test's own cassette and replays with ``--agent-replay``: only the example
database and ``<test>.failing.json`` remain, and the same failure comes back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.injection import scenario
from pytest_agentops.backends.model import FakeModel

INNER = """
import os

import httpx
from hypothesis import Phase, given, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from openai import OpenAI

from examples.injection import scenario
from examples.injection.agent import Services, VulnerableAgent
from pytest_agentops import fuzz

# The example database, as a team commits it (CI's hypothesis profile has none by default).
DB = DirectoryBasedExampleDatabase("fuzz-examples")
ONLY_SAVED = [Phase.explicit, Phase.reuse]  # replay what was found; generate nothing new


def run_with_the_real_model(ep, data):
    ep.ticketing.seed(data["ticketing"])
    ep.billing.seed(data["billing"])
    services = Services("https://api.openai.com", ep.ticketing.base_url, ep.ticketing.api_key,
                        ep.billing.base_url, ep.billing.api_key)
    client = OpenAI(api_key="sk-proj-" + "k" * 40, max_retries=0)  # a key that must never reach disk
    return VulnerableAgent(services, openai_client=client, http=httpx.Client()).handle(
        scenario.TICKET, scenario.CUSTOMER)


@settings(max_examples=10, deadline=None, database=DB,
          phases=ONLY_SAVED if os.environ.get("ONLY_SAVED") else list(Phase))
@given(case=scenario.cases())
def test_vulnerable_agent_with_a_real_model(case):
    with fuzz.episode() as ep:
        run_with_the_real_model(ep, case.data)
        fuzz.check(ep, case, allow_writes=scenario.TASK_WRITES)
"""

FAILING = "cassettes/test_fuzz_real/test_vulnerable_agent_with_a_real_model.failing.json"
MAIN = "cassettes/test_fuzz_real/test_vulnerable_agent_with_a_real_model.json"


@pytest.fixture
def real_model() -> Iterator[FakeModel]:
    model = FakeModel().gullible().respond(scenario.support_script).serve()
    try:
        yield model
    finally:
        model.close()


def test_a_failing_example_recorded_against_a_model_replays_offline(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, real_model: FakeModel
) -> None:
    pytester.makepyfile(test_fuzz_real=INNER)
    monkeypatch.delenv("CI", raising=False)  # hypothesis' ci profile would change the search
    # No fixed seed: hypothesis saves nothing to the example database under one.
    flags = ("-p", "no:schemathesis", "-p", "no:cacheprovider", "-q")

    # Phase 1: record. The fuzzer finds the injection, shrinks it, and the final run is saved.
    staging = f"--agent-staging=openai={real_model.loopback_url}"
    recorded = pytester.runpytest_subprocess("--agent-record", staging, *flags, timeout=300)
    recorded.assert_outcomes(failed=1)
    out = recorded.stdout.str()
    assert "template='override.ignore_previous'" in out and "PropertyViolation" in out
    assert f"were saved to {pytester.path / FAILING}" in out or f"were saved to {FAILING}" in out
    model_calls_recorded = len(real_model.requests)
    assert model_calls_recorded > 3  # the search and the shrinking asked the model many times

    saved = json.loads((pytester.path / FAILING).read_text(encoding="utf-8"))
    interactions = saved["interactions"]
    assert interactions and all(i["request"]["url"] == "https://api.openai.com/v1/chat/completions"
                                for i in interactions)  # fmt: skip
    assert len(interactions) < model_calls_recorded  # the final example only, not the whole search
    assert saved["meta"]["fuzz"]["test"] == "test_fuzz_real.py::test_vulnerable_agent_with_a_real_model"
    text = (pytester.path / FAILING).read_text(encoding="utf-8")
    assert "sk-proj-kkkk" not in text  # redacted like every cassette
    # The model was told to refund (the planted instruction reached it) and asked for the refund.
    calls = [c["function"]["name"] for i in interactions
             for c in i["response"]["body"]["json"]["choices"][0]["message"].get("tool_calls") or []]  # fmt: skip
    assert "billing_refunds_create" in calls

    # Phase 2: no model, no test cassette; replay the saved example offline.
    real_model.close()
    (pytester.path / MAIN).unlink()
    monkeypatch.setenv("ONLY_SAVED", "1")
    replayed = pytester.runpytest_subprocess("--agent-replay", *flags, timeout=300)
    replayed.assert_outcomes(failed=1)
    again = replayed.stdout.str()
    assert "PropertyViolation" in again and "template='override.ignore_previous'" in again
    assert "had no recorded answer" not in again  # every model call came from the failing run
    assert len(real_model.requests) == model_calls_recorded  # and none reached the model

    # Without the saved run (and no test cassette), the replay has nothing to answer the model with.
    (pytester.path / FAILING).unlink()
    missing = pytester.runpytest_subprocess("--agent-replay", *flags, timeout=300)
    missing.assert_outcomes(failed=1)
    assert "no recorded answer" in missing.stdout.str()


def test_an_episode_names_a_missing_cassette_file(tmp_path: Path) -> None:
    from pytest_agentops import fuzz

    missing = fuzz.episode(cassette=str(tmp_path / "nope.json"))
    with pytest.raises(FileNotFoundError, match=r"episode\(cassette='.*nope\.json'\): no such cassette file"):
        missing.__enter__()
