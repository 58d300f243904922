"""``fake_llm.always_include_usage()``: a usage chunk ends every Chat Completions stream even when
the client did not ask (llama-index never sets ``stream_options.include_usage``), so the trace has
token figures; without it the fake answers as the real API does, with no usage chunk."""

from __future__ import annotations

import openai
import pytest


def _stream(fake_llm) -> list[object]:
    client = openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="sk-test", max_retries=0)
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    return [chunk.usage for chunk in stream]


@pytest.mark.parametrize("always", [False, True])
def test_usage_chunk_only_when_asked_or_always(fake_llm, agent_run, always):
    fake_llm.respond(lambda conversation: fake_llm.reply("Hello there.")).always_include_usage(always)
    usages = _stream(fake_llm)
    call = agent_run.model_calls[-1]
    assert call.streamed
    if always:
        assert usages[-1] is not None and usages[-1].total_tokens > 0
        assert call.usage.total_tokens == usages[-1].total_tokens
        assert call.usage_source == "reported"
    else:
        assert all(u is None for u in usages)
        assert not call.usage_known and call.usage_source == "unknown"  # the wire carried none: unknown, not 0
