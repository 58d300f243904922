"""The fake model against the official openai and anthropic SDKs, in-process through the tap.

Every answer is parsed by the real SDK (its models and stream accumulators), and the usage the
run trace holds is compared with counts worked out by hand from the documented tokenizer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anthropic
import openai
import pytest

from pytest_agentops.backends.model import FakeModel, count_tokens

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
    "required": ["city"],
}
CHAT_TOOLS: Any = [
    {
        "type": "function",
        "function": {"name": "get_weather", "description": "Weather now.", "parameters": WEATHER_SCHEMA},
    }
]
RESPONSES_TOOLS: Any = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather now.",
        "parameters": WEATHER_SCHEMA,
        "strict": False,
    }
]
ANTHROPIC_TOOLS: Any = [{"name": "get_weather", "description": "Weather now.", "input_schema": WEATHER_SCHEMA}]

# The documented tokenizer: words and single punctuation marks.
# {"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["c","f"]}},
#  "required":["city"]} -> 67 tokens; "get_weather" 1; "Weather now." 3.
TOOLS_TOKENS = 1 + 3 + 67
ARGS = {"city": "Paris"}  # {"city":"Paris"} -> 9 tokens; with the name get_weather: 10


def oai(fake: FakeModel) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.openai_base_url, api_key="sk-test", max_retries=0)


def claude(fake: FakeModel) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=fake.anthropic_base_url, api_key="sk-ant-test", max_retries=0)


def test_tokenizer_is_the_documented_one() -> None:
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("What's the weather in Paris?") == 8  # What ' s the weather in Paris ?
    assert count_tokens(json.dumps(WEATHER_SCHEMA)) == 67
    assert count_tokens(json.dumps(WEATHER_SCHEMA, separators=(",", ":"))) == 67
    assert count_tokens('{"city":"Oslo","unit":"c"}') == 17
    assert count_tokens("") == 0


# ---- OpenAI Chat Completions -------------------------------------------------------------------


def test_chat_text_and_tool_call_round_trip(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script([fake_llm.tool_call("get_weather", ARGS), "It is 18 degrees in Paris."])
    client = oai(fake_llm)
    messages: Any = [
        {"role": "system", "content": "Be brief."},  # 3
        {"role": "user", "content": "Weather in Paris?"},  # 4
    ]
    first = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=CHAT_TOOLS)
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert first.choices[0].finish_reason == "tool_calls"
    assert first.choices[0].message.content is None
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == ARGS  # type: ignore[union-attr]
    assert first.usage is not None
    assert (first.usage.prompt_tokens, first.usage.completion_tokens) == (7 + TOOLS_TOKENS, 10)

    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18 C, sunny"},  # 18 C , sunny -> 4
    ]
    second = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=CHAT_TOOLS)
    assert second.choices[0].message.content == "It is 18 degrees in Paris."
    assert second.choices[0].finish_reason == "stop"
    # the assistant's call (name + arguments: 10) and the tool result (4) are now part of the prompt
    assert second.usage is not None
    assert (second.usage.prompt_tokens, second.usage.completion_tokens) == (7 + 10 + 4 + TOOLS_TOKENS, 7)

    assert [e.backend for e in agent_run.events] == ["fake_model", "fake_model"]
    usage = [(c.usage.input_tokens, c.usage.output_tokens) for c in agent_run.model_calls]
    assert usage == [(78, 10), (92, 7)]
    assert agent_run.usage.input_tokens == 170
    assert agent_run.model_calls[0].tool_calls[0].arguments == ARGS

    seen = fake_llm.requests[1]
    assert [m.role for m in seen.messages] == ["system", "user", "assistant", "tool"]
    assert seen.messages[3].name == "get_weather" and seen.messages[3].text == "18 C, sunny"
    assert seen.messages[2].tool_calls[0].arguments == ARGS
    assert (seen.input_tokens, seen.output_tokens) == (92, 7)
    fake_llm.assert_script_used()


def test_chat_stream_with_parallel_tool_calls_and_usage_chunk(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script(
        [
            fake_llm.reply(
                "Checking both.",
                [
                    fake_llm.tool_call("get_weather", city="Paris"),
                    fake_llm.tool_call("get_weather", {"city": "Oslo", "unit": "c"}),
                ],
            )
        ]
    )
    client = oai(fake_llm)
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Paris and Oslo?"}],  # 4
        tools=CHAT_TOOLS,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Checking both."
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) == 2  # word by word
    arguments: dict[int, str] = {}
    names: dict[int, str] = {}
    for chunk in chunks:
        for delta in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            arguments[delta.index] = arguments.get(delta.index, "") + (delta.function.arguments or "")  # type: ignore[union-attr]
            if delta.function and delta.function.name:
                names[delta.index] = delta.function.name
    assert names == {0: "get_weather", 1: "get_weather"}
    assert [json.loads(arguments[i]) for i in (0, 1)] == [{"city": "Paris"}, {"city": "Oslo", "unit": "c"}]
    assert chunks[-2].choices[0].finish_reason == "tool_calls"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    # output: "Checking both." 3 + get_weather {"city":"Paris"} 10 + get_weather {"city":"Oslo","unit":"c"} 18
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (4 + TOOLS_TOKENS, 31)
    call = agent_run.model_calls[0]
    assert call.streamed and (call.usage.input_tokens, call.usage.output_tokens) == (75, 31)
    assert [c.arguments for c in call.tool_calls] == [{"city": "Paris"}, {"city": "Oslo", "unit": "c"}]


def test_chat_stream_helper_accumulates_and_no_usage_without_include_usage(fake_llm: FakeModel) -> None:
    fake_llm.script([fake_llm.tool_call("get_weather", ARGS)])
    client = oai(fake_llm)
    with client.chat.completions.stream(
        model="gpt-4o", messages=[{"role": "user", "content": "Paris?"}], tools=CHAT_TOOLS
    ) as stream:
        final = stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == ARGS  # type: ignore[union-attr]
    assert final.usage is None  # the API sends usage in a stream only with include_usage


def test_chat_async_and_async_stream(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script(["one two", "three four five"])

    async def main() -> tuple[str | None, str]:
        client = openai.AsyncOpenAI(base_url=fake_llm.openai_base_url, api_key="sk-test", max_retries=0)
        plain = await client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "a"}])
        stream = await client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "b"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        return plain.choices[0].message.content, text

    assert asyncio.run(main()) == ("one two", "three four five")
    assert [(c.usage.input_tokens, c.usage.output_tokens, c.streamed) for c in agent_run.model_calls] == [
        (1, 2, False),
        (1, 3, True),
    ]


# ---- OpenAI Responses --------------------------------------------------------------------------


def test_responses_tool_loop_with_previous_response_id(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script([fake_llm.tool_call("get_weather", ARGS), "Sunny, 18 C."])
    client = oai(fake_llm)
    first = client.responses.create(
        model="gpt-4.1", instructions="Be brief.", input="Weather in Paris?", tools=RESPONSES_TOOLS
    )
    calls = [item for item in first.output if item.type == "function_call"]
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [("get_weather", ARGS)]  # type: ignore[union-attr]
    assert first.usage is not None and (first.usage.input_tokens, first.usage.output_tokens) == (7 + TOOLS_TOKENS, 10)

    second = client.responses.create(
        model="gpt-4.1",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": "18 C, sunny"}],  # type: ignore[union-attr]
        tools=RESPONSES_TOOLS,
    )
    assert second.output_text == "Sunny, 18 C."
    # history from the previous response (without its instructions): user 4 + call 10 + result 4
    assert second.usage is not None and (second.usage.input_tokens, second.usage.output_tokens) == (
        18 + TOOLS_TOKENS,
        5,
    )
    seen = fake_llm.requests[1].messages
    assert [m.role for m in seen] == ["user", "assistant", "tool"]
    assert seen[2].name == "get_weather"
    assert [(c.usage.input_tokens, c.usage.output_tokens) for c in agent_run.model_calls] == [(78, 10), (89, 5)]


def test_responses_stream_event_sequence(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script([fake_llm.reply("Let me look.", [fake_llm.tool_call("get_weather", ARGS)])])
    client = oai(fake_llm)
    with client.responses.stream(model="gpt-4.1", input="Paris weather?", tools=RESPONSES_TOOLS) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert kinds.count("response.output_text.delta") == 3  # "Let", " me", " look."
    assert "response.function_call_arguments.delta" in kinds
    assert kinds.index("response.output_text.done") < kinds.index("response.function_call_arguments.done")
    assert final.output_text == "Let me look."
    call = final.output[1]
    assert call.type == "function_call" and json.loads(call.arguments) == ARGS
    assert final.usage is not None and (final.usage.input_tokens, final.usage.output_tokens) == (3 + TOOLS_TOKENS, 14)
    model_call = agent_run.model_calls[0]
    assert model_call.streamed and model_call.text == "Let me look."
    assert (model_call.usage.input_tokens, model_call.usage.output_tokens) == (74, 14)


def test_responses_async_stream(fake_llm: FakeModel) -> None:
    fake_llm.script(["async words here"])

    async def main() -> list[str]:
        client = openai.AsyncOpenAI(base_url=fake_llm.openai_base_url, api_key="sk-test", max_retries=0)
        stream = await client.responses.create(model="gpt-4.1", input="hi", stream=True)
        return [e.delta async for e in stream if e.type == "response.output_text.delta"]

    assert asyncio.run(main()) == ["async", " words", " here"]


# ---- Anthropic Messages ------------------------------------------------------------------------


def test_anthropic_tool_use_round_trip(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script([fake_llm.reply("Checking.", [fake_llm.tool_call("get_weather", ARGS)]), "18 C."])
    client = claude(fake_llm)
    messages: Any = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.messages.create(
        model="claude-sonnet-4", max_tokens=256, system="Be brief.", messages=messages, tools=ANTHROPIC_TOOLS
    )
    assert first.stop_reason == "tool_use"
    assert first.content[0].type == "text" and first.content[0].text == "Checking."
    tool_use = first.content[1]
    assert tool_use.type == "tool_use" and tool_use.name == "get_weather" and tool_use.input == ARGS
    assert (first.usage.input_tokens, first.usage.output_tokens) == (7 + TOOLS_TOKENS, 2 + 10)

    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use.id, "content": "18 C, sunny"}]},
    ]
    second = client.messages.create(
        model="claude-sonnet-4", max_tokens=256, system="Be brief.", messages=messages, tools=ANTHROPIC_TOOLS
    )
    assert second.content[0].text == "18 C." and second.stop_reason == "end_turn"  # type: ignore[union-attr]
    # + the assistant turn ("Checking." 2 + call 10) + the tool result 4
    assert (second.usage.input_tokens, second.usage.output_tokens) == (7 + 12 + 4 + TOOLS_TOKENS, 3)
    seen = fake_llm.requests[1].messages
    assert [m.role for m in seen] == ["system", "user", "assistant", "tool"]
    assert seen[3].tool_call_id == tool_use.id and seen[3].name == "get_weather"
    assert [(c.usage.input_tokens, c.usage.output_tokens) for c in agent_run.model_calls] == [(78, 12), (94, 3)]


def test_anthropic_stream_events_and_cumulative_usage(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script([fake_llm.reply("On it.", [fake_llm.tool_call("get_weather", city="Paris")])])
    client = claude(fake_llm)
    with client.messages.stream(
        model="claude-sonnet-4", max_tokens=256, messages=[{"role": "user", "content": "Paris?"}], tools=ANTHROPIC_TOOLS
    ) as stream:
        events = list(stream)
        final = stream.get_final_message()
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    deltas = [e.delta.type for e in events if e.type == "content_block_delta"]
    assert "text_delta" in deltas and "input_json_delta" in deltas
    message_delta = next(e for e in events if e.type == "message_delta")
    assert message_delta.usage.output_tokens == 3 + 10 and message_delta.usage.input_tokens == 2 + TOOLS_TOKENS
    assert final.content[1].type == "tool_use" and final.content[1].input == ARGS
    assert (final.usage.input_tokens, final.usage.output_tokens) == (73, 13)
    call = agent_run.model_calls[0]
    assert call.streamed and (call.usage.input_tokens, call.usage.output_tokens) == (73, 13)
    assert call.tool_calls[0].arguments == ARGS


def test_anthropic_async_and_async_stream(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script(["plain answer", "streamed answer"])

    async def main() -> tuple[str, str]:
        client = anthropic.AsyncAnthropic(base_url=fake_llm.anthropic_base_url, api_key="k", max_retries=0)
        plain = await client.messages.create(
            model="claude-haiku", max_tokens=64, messages=[{"role": "user", "content": "x"}]
        )
        async with client.messages.stream(
            model="claude-haiku", max_tokens=64, messages=[{"role": "user", "content": "y"}]
        ) as stream:
            text = "".join([t async for t in stream.text_stream])
        return plain.content[0].text, text  # type: ignore[union-attr]

    assert asyncio.run(main()) == ("plain answer", "streamed answer")
    assert [(c.usage.output_tokens, c.streamed) for c in agent_run.model_calls] == [(2, False), (2, True)]


def test_anthropic_count_tokens_endpoint(fake_llm: FakeModel) -> None:
    count = claude(fake_llm).messages.count_tokens(
        model="claude-sonnet-4", messages=[{"role": "user", "content": "Weather in Paris?"}], tools=ANTHROPIC_TOOLS
    )
    assert count.input_tokens == 4 + TOOLS_TOKENS
    assert fake_llm.requests == []  # counting is not a model call


# ---- errors, exhaustion, defaults --------------------------------------------------------------


def test_error_turns_use_each_providers_error_shape_and_sdk_retries(fake_llm: FakeModel, agent_run: Any) -> None:
    fake_llm.script([fake_llm.error(429, "slow down"), "after the retry", fake_llm.error(400, "bad", retry=False)])
    client = openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="k", max_retries=2)
    answer = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert answer.choices[0].message.content == "after the retry"  # the SDK retried the 429 by itself
    assert [r.status for r in fake_llm.requests] == [429, 200]
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == 400 and "bad" in caught.value.message
    assert [e.status for e in agent_run.events] == [429, 200, 400]

    fake_llm.script([fake_llm.error(529, "busy", retry=False)])
    with pytest.raises(anthropic.APIStatusError) as overloaded:
        claude(fake_llm).messages.create(model="c", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert overloaded.value.status_code == 529
    assert overloaded.value.body["error"] == {"type": "overloaded_error", "message": "busy"}  # type: ignore[index]


def test_nothing_scripted_answers_done_and_respond_sees_the_conversation(fake_llm: FakeModel) -> None:
    client = oai(fake_llm)
    plain = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert plain.choices[0].message.content == "Done."

    seen: list[Any] = []

    def answer(conversation: Any) -> Any:
        seen.append(conversation)
        if conversation.tool_results:
            return f"{conversation.model} got {conversation.tool_results[-1].text}"
        return fake_llm.tool_call(conversation.tool_names[0], city=conversation.last_user_text)

    fake_llm.respond(answer)
    first = client.responses.create(model="gpt-4.1", input="Oslo", tools=RESPONSES_TOOLS)
    call = first.output[0]
    assert call.type == "function_call" and json.loads(call.arguments) == {"city": "Oslo"}
    final = client.responses.create(
        model="gpt-4.1",
        input=[
            {"role": "user", "content": "Oslo"},
            {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": "-3 C"},
        ],
        tools=RESPONSES_TOOLS,
    )
    assert final.output_text == "gpt-4.1 got -3 C"
    last = seen[-1]
    assert last.provider == "openai.responses" and last.model == "gpt-4.1"
    assert [t.name for t in last.tools] == ["get_weather"] and last.tools[0].parameters == WEATHER_SCHEMA
    assert last.tool_results[0].name == "get_weather"
    assert [r.source for r in fake_llm.requests] == ["default", "respond", "respond"]


def test_an_exhausted_script_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import openai

        def test_agent(fake_llm):
            fake_llm.script(["only one"])
            client = openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="k")
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "1"}])
            try:  # an agent that swallows the error must not hide it
                client.chat.completions.create(model="m", messages=[{"role": "user", "content": "2"}])
            except openai.InternalServerError as exc:
                assert "all were used" in str(exc)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*fake model*script has 1 turn(s) and all were used*"])


def test_default_hosts_serve_unchanged_agent_code(fake_llm: FakeModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    fake_llm.serve_default_hosts().script(["from openai's host", "from anthropic's host"])

    agent_openai = openai.OpenAI()  # what unchanged agent code does
    agent_claude = anthropic.Anthropic()
    first = agent_openai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    second = agent_claude.messages.create(model="c", max_tokens=9, messages=[{"role": "user", "content": "x"}])
    assert first.choices[0].message.content == "from openai's host"
    assert second.content[0].text == "from anthropic's host"  # type: ignore[union-attr]
    assert [r.url for r in fake_llm.requests] == [
        "https://api.openai.com/v1/chat/completions",
        "https://api.anthropic.com/v1/messages",
    ]
    fake_llm.close()
    import os

    assert "OPENAI_API_KEY" not in os.environ  # the dummy keys are removed again
