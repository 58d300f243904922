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


@pytest.mark.parametrize(
    ("model", "key"),
    [
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
        ("global.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),
        ("anthropic.claude-3-sonnet-20240229-v1:0:200k", None),  # claude-3-sonnet is retired: no price
        ("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0", "claude-3-haiku"),
        ("amazon.nova-lite-v1:0", "nova-lite"),
        ("us.amazon.nova-pro-v1:0", "nova-pro"),
        ("eu.amazon.nova-micro-v1:0", "nova-micro"),
        ("gemini-2.5-flash", "gemini-2.5-flash"),
        ("models/gemini-2.5-pro", "gemini-2.5-pro"),
        ("gemini-2.0-flash-001", "gemini-2.0-flash"),
        ("gemini-2.5-flash-preview-09-2025", "gemini-2.5-flash"),
        ("gemini-2.5-flash-lite", "gemini-2.5-flash-lite"),
        ("gemini-2.5-flash-image", None),  # an image model: not the text price of gemini-2.5-flash
        ("anthropic.claude-3-5-haiku-20241022-v1:0-custom", None),
    ],
)
def test_bedrock_and_gemini_ids_find_their_price(model: str, key: str | None) -> None:
    table = PriceTable()
    assert table.lookup(model) == (None if key is None else table.prices[key])


def test_bedrock_cache_reads_are_priced_at_the_cache_rate_and_an_unknown_gemini_stays_unknown() -> None:
    from pytest_agentops.trace.prices import UsageSum
    from pytest_agentops.trace.run import ModelCall, Usage

    summed = UsageSum(PriceTable())
    usage = Usage(input_tokens=1000, output_tokens=100, cached_input_tokens=200)
    summed.add(ModelCall("bedrock.converse", "us.anthropic.claude-3-5-haiku-20241022-v1:0", usage))
    assert summed.cost_usd == pytest.approx((800 * 0.80 + 200 * 0.08 + 100 * 4.0) / 1e6)
    summed.add(ModelCall("google.gemini", "gemini-3.8-flash", Usage(input_tokens=10, output_tokens=5)))
    result = summed.result()
    assert (result.cost_usd, result.unpriced_models) == (None, ("gemini-3.8-flash",))


GEMINI_RUN = """
from google import genai
from google.genai import types


def test_models(fake_llm):
    client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=fake_llm.gemini_base_url))
    for model in MODELS:
        client.models.generate_content(model=model, contents="hi")
"""


@pytest.mark.parametrize(
    ("models", "unknown"),
    [(["gemini-2.5-flash"], None), (["gemini-2.5-flash", "gemini-3.8-flash"], "gemini-3.8-flash")],
)
def test_a_gemini_run_is_priced_or_names_the_unknown_model(
    pytester: pytest.Pytester, models: list[str], unknown: str | None
) -> None:
    pytest.importorskip("google.genai")
    pytester.makepyfile(test_gemini=GEMINI_RUN.replace("MODELS", repr(models)))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--agent-report=report.json")
    result.assert_outcomes(passed=1)
    import json

    [test] = json.loads((pytester.path / "report.json").read_text())["tests"]
    if unknown is None:
        assert test["cost_usd"] > 0 and test["unpriced_models"] == []
    else:
        assert test["cost_usd"] is None and test["unpriced_models"] == [unknown]
        assert f"cost unknown for {unknown}" in result.stdout.str()
