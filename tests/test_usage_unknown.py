"""Unknown usage stays unknown: a model call whose answer carried no usage is never counted as 0
tokens. It is ``usage_source="unknown"`` on the trace, "unknown" in the scorecard and trace files,
and a token or cost budget fails on it naming the call and how to get usage, unless the session
opts into a tokenizer's estimate (``agentops_usage_estimate = tiktoken``)."""

from __future__ import annotations

import functools
import json

import pytest

from pytest_agentops.trace.providers import parse_model_call

CHAT = "https://api.openai.com/v1/chat/completions"
SSE = {"content-type": "text/event-stream"}


def _chat_stream(usage: dict[str, int] | None) -> bytes:
    chunks: list[dict[str, object]] = [
        {"model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]},
        {"model": "gpt-4o", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    if usage is not None:
        chunks.append({"model": "gpt-4o", "choices": [], "usage": usage})
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks).encode() + b"data: [DONE]\n\n"


REQUEST = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}], "stream": True})


def test_a_stream_without_a_usage_chunk_is_unknown_and_with_one_is_reported() -> None:
    none = parse_model_call("POST", CHAT, REQUEST.encode(), 200, SSE, _chat_stream(None))
    some = parse_model_call(
        "POST", CHAT, REQUEST.encode(), 200, SSE, _chat_stream({"prompt_tokens": 7, "completion_tokens": 2})
    )
    assert none is not None and none.usage_source == "unknown" and not none.usage_known
    assert some is not None and some.usage_source == "reported" and some.usage.total_tokens == 9


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (CHAT, {"model": "gpt-4o", "choices": [{"index": 0, "message": {"content": "hi"}}]}),
        ("https://api.openai.com/v1/responses", {"model": "gpt-4o", "output": []}),
        ("https://api.anthropic.com/v1/messages", {"model": "claude-sonnet-4-5", "content": []}),
        (
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
            {"candidates": [{"content": {"parts": [{"text": "hi"}]}}]},
        ),
    ],
)
def test_a_json_answer_without_usage_is_unknown_in_every_format(url: str, body: dict[str, object]) -> None:
    call = parse_model_call(
        "POST", url, b'{"model": "m"}', 200, {"content-type": "application/json"}, json.dumps(body).encode()
    )
    assert call is not None and call.usage_source == "unknown"


def test_an_error_answer_costs_nothing_and_is_not_unknown() -> None:
    call = parse_model_call("POST", CHAT, REQUEST.encode(), 500, {}, b'{"error": {"message": "boom"}}')
    assert call is not None and call.usage_known and call.usage.total_tokens == 0


INNER = """
import openai
import pytest


def _stream(fake_llm):
    client = openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="sk-test", max_retries=0)
    for _ in client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    ):
        pass


@pytest.mark.agent_budget(max_tokens_total=10_000)
def test_token_budget(fake_llm):
    fake_llm.respond(lambda conversation: fake_llm.reply("Hello there."))
    _stream(fake_llm)


@pytest.mark.agent_budget(max_cost_usd=1.0)
def test_cost_budget(fake_llm):
    fake_llm.respond(lambda conversation: fake_llm.reply("Hello there."))
    _stream(fake_llm)


@pytest.mark.agent_budget(max_tokens_total=10_000)
def test_usage_asked_for(fake_llm):
    fake_llm.respond(lambda conversation: fake_llm.reply("Hello there.")).always_include_usage()
    _stream(fake_llm)
"""


def test_token_and_cost_budgets_fail_on_unknown_usage_naming_the_call(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_agent=INNER)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    text = result.stdout.str()
    assert "max_tokens_total=10000: usage unknown for 1 model call(s), #0 gpt-4o-mini (openai.chat, streamed)" in text
    assert "max_cost_usd=1.0: usage unknown for 1 model call(s)" in text
    assert 'stream_options={"include_usage": True}' in text
    assert "usage unknown for 2 model call(s)" in text  # the scorecard line, for the whole suite


ESTIMATE_PLUGIN = '''
"""A tiny byte-level encoding for tiktoken, so the estimate runs offline with real tiktoken code."""
import tiktoken


def _bytes():
    return {
        "name": "agentops_bytes",
        "pat_str": r"[^\\s]+|\\s+",
        "mergeable_ranks": {bytes([i]): i for i in range(256)},
        "special_tokens": {},
    }


ENCODING_CONSTRUCTORS = {"agentops_bytes": _bytes}
'''


def test_an_opted_in_estimate_counts_tokens_with_tiktoken(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tiktoken")
    pytester.mkpydir("tiktoken_ext")
    (pytester.path / "tiktoken_ext" / "__init__.py").unlink()  # a namespace package, as tiktoken's own
    (pytester.path / "tiktoken_ext" / "agentops_bytes.py").write_text(ESTIMATE_PLUGIN)
    monkeypatch.syspath_prepend(pytester.path)
    # tiktoken looks for its plugins once a process: a test before this one in the worker may have
    # looked already, before this folder was on sys.path
    import tiktoken.registry

    monkeypatch.setattr(tiktoken.registry, "ENCODING_CONSTRUCTORS", None)
    plugins = tiktoken.registry._available_plugin_modules
    monkeypatch.setattr(tiktoken.registry, "_available_plugin_modules", functools.lru_cache(plugins.__wrapped__))
    pytester.makeini("[pytest]\nagentops_usage_estimate = tiktoken:agentops_bytes\n")
    pytester.makepyfile(
        test_agent=INNER
        + """

def test_estimated(fake_llm, agent_run):
    fake_llm.respond(lambda conversation: fake_llm.reply("Hello there."))
    _stream(fake_llm)
    call = agent_run.model_calls[-1]
    assert call.usage_source == "estimated"
    assert call.usage.output_tokens == len("Hello there.".encode())  # one token a byte in this encoding
    assert call.usage.input_tokens >= len("hi")
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_a_bad_estimate_setting_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nagentops_usage_estimate = wordcount\n")
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*agentops_usage_estimate = 'wordcount': the estimator is 'tiktoken'*"])


def test_trace_files_and_the_json_report_say_unknown_not_zero(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_agent=INNER)
    pytester.runpytest("-p", "no:cacheprovider", "--agent-trace-dir=traces", "--agent-report=report.json", "-k", "cost")
    (trace,) = (pytester.path / "traces").rglob("*.jsonl")
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    (model,) = [line for line in lines if line.get("kind") == "model"]
    assert model["usage"] == "unknown" and model["tokens"]["total"] is None and model["cost_usd"] is None
    (footer,) = [line for line in lines if line.get("type") == "footer"]
    assert footer["usage"]["total_tokens"] is None
    assert footer["usage"]["unknown_usage_calls"] == ["#0 gpt-4o-mini (openai.chat, streamed)"]
    report = json.loads((pytester.path / "report.json").read_text())
    (test,) = report["tests"]
    assert test["tokens"]["total"] is None and test["cost_usd"] is None
    assert test["unknown_usage_calls"] == ["#0 gpt-4o-mini (openai.chat, streamed)"]
    assert report["total"]["tokens"] is None and report["total"]["unknown_usage_calls"] == 1
