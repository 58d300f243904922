"""The price table covers the models the frameworks pick when the user names none, and a model
with no price reads as "cost unknown for MODEL", never as $0."""

from __future__ import annotations

import pytest

from pytest_agentops.readers.scorecard import build, format_scorecard
from pytest_agentops.trace.prices import PriceTable


def _defaults() -> dict[str, str]:
    found: dict[str, str] = {}
    try:
        from agents.models import get_default_model

        found["openai-agents"] = get_default_model()
    except ImportError:
        pass
    try:
        from langchain_openai import ChatOpenAI

        found["langchain-openai"] = ChatOpenAI(api_key="sk-test").model_name  # type: ignore[arg-type]
    except ImportError:
        pass
    try:
        from llama_index.llms.openai.base import DEFAULT_OPENAI_MODEL

        found["llama-index"] = DEFAULT_OPENAI_MODEL
    except ImportError:
        pass
    return found


def test_the_default_model_of_every_installed_framework_has_a_price() -> None:
    defaults = _defaults()
    if not defaults:
        pytest.skip("no framework installed (the frameworks extra)")
    table = PriceTable()
    assert {name: model for name, model in defaults.items() if table.lookup(model) is None} == {}


def test_a_model_with_no_price_reads_cost_unknown_for_it() -> None:
    test = {
        "nodeid": "t.py::test_a",
        "agent": "triage",
        "contract": "triage",
        "result": "success",
        "tool_calls": 1,
        "model_calls": 1,
        "tokens": {"total": 10},
        "cost_usd": None,
        "unpriced_models": ["my-model"],
        "denial_rules": {},
        "tool_errors": 0,
        "latency_ms": {},
    }
    text = "\n".join(format_scorecard(build([test])))
    assert "cost unknown for my-model" in text, text
    assert "$0" not in text
