"""A model call meets the gate with its model read from the body only when a rule reads it."""

from __future__ import annotations

import json

from pytest_agentops.policy.engine import Call, Denial, Guard, Policy
from pytest_agentops.tap import LiveRequest
from pytest_agentops.tap.request import _UNPARSED
from pytest_agentops.trace.run import Run

URL = "https://api.openai.com/v1/chat/completions"


def _live(model: str) -> LiveRequest:
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode()
    live = LiveRequest("POST", URL, {"content-type": "application/json"}, body)
    live.kind = "model"
    return live


def test_no_pin_and_no_rule_leave_the_body_unparsed() -> None:
    live = _live("gpt-4o")
    verdict, denial = Guard(Run()).judge(live)
    assert denial is None and verdict.allowed
    # Parsed later by whoever needs it (the cassette hit, the model-call parser), not by the gate.
    assert live._json is _UNPARSED


def test_a_model_pin_reads_the_model() -> None:
    guard = Guard(Run(), policy=Policy(models=["gpt-4o-mini"]))
    assert guard.judge(_live("gpt-4o-mini"))[1] is None
    denial = guard.judge(_live("gpt-4o"))[1]
    assert denial is not None and denial.rule == "model_pinning" and "'gpt-4o'" in denial.message


def test_a_plugin_rule_sees_the_model() -> None:
    seen: list[str | None] = []

    def no_big_models(call: Call, run: Run) -> Denial | None:
        seen.append(call.model)
        return Denial("no_big_models", "too big") if call.model == "gpt-4o" else None

    guard = Guard(Run(), rules=[no_big_models])
    assert guard.judge(_live("gpt-4o-mini"))[1] is None
    denial = guard.judge(_live("gpt-4o"))[1]
    assert denial is not None and denial.rule == "no_big_models"
    assert seen == ["gpt-4o-mini", "gpt-4o"]
