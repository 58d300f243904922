"""Record against a local upstream, stop it, replay offline: the cassette issue's "done means" list.

Every scenario runs a real inner pytest session (``pytester``) with the real SDKs and HTTP clients;
the upstream is stopped before any replay, so a replay that reached the network would fail.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest
from upstream import ANTHROPIC_USAGE, CHAT_USAGE, RESPONSES_USAGE, TOOL_ARGUMENTS, Upstream

if TYPE_CHECKING:
    from conftest import Project

# ---- the agent code under test (inner module) ----------------------------------------------------

AGENT_TESTS = """
import asyncio
import json

WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
    "required": ["city"],
}
CHAT_TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": WEATHER}}
]
RESPONSES_TOOLS = [{"type": "function", "name": "get_weather", "description": "Weather", "parameters": WEATHER,
                    "strict": False}]
CLAUDE_TOOLS = [{"name": "get_weather", "description": "Weather", "input_schema": WEATHER}]
TOOL_ARGUMENTS = __TOOL_ARGUMENTS__
CHAT = __CHAT_USAGE__
RESP = __RESPONSES_USAGE__
CLAUDE = __ANTHROPIC_USAGE__


def check_events(agent_run, backend, kinds):
    assert [e.kind for e in agent_run.events] == kinds, agent_run.events
    assert {e.backend for e in agent_run.events} == {backend}, agent_run.events
    assert all(e.status == 200 for e in agent_run.events), agent_run.events
    print("EVENTS", [(e.kind, e.backend, e.url) for e in agent_run.events])


def test_openai_sync(oai, agent_run, backend, seen):
    reply = oai.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hi"}],
    )
    text = reply.choices[0].message.content
    assert text.startswith("answer #") and text.endswith(": Say hi")
    seen(text)
    check_events(agent_run, backend, ["model"])
    call = agent_run.model_calls[0]
    assert call.provider == "openai.chat" and call.model == "gpt-4o-mini-2024-07-18"
    assert call.text == text and not call.streamed
    assert (agent_run.usage.input_tokens, agent_run.usage.output_tokens) == (CHAT["prompt"], CHAT["completion"])


def test_openai_async(aoai, agent_run, backend, seen):
    async def main():
        return await asyncio.gather(
            *(
                aoai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": q}])
                for q in ("first question", "second question")
            )
        )

    replies = asyncio.run(main())
    texts = [r.choices[0].message.content for r in replies]
    assert texts[0].endswith(": first question") and texts[1].endswith(": second question")
    seen(texts)
    check_events(agent_run, backend, ["model", "model"])
    assert agent_run.usage.input_tokens == 2 * CHAT["prompt"]
    assert agent_run.usage.output_tokens == 2 * CHAT["completion"]


def test_openai_stream_tool_call(oai, agent_run, backend, seen):
    stream = oai.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=CHAT_TOOLS,
        stream=True,
        stream_options={"include_usage": True},
    )
    calls = {}
    finish = None
    usage = None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for delta in choice.delta.tool_calls or []:
                slot = calls.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
                slot["id"] = delta.id or slot["id"]
                if delta.function and delta.function.name:
                    slot["name"] = delta.function.name
                if delta.function and delta.function.arguments:
                    slot["arguments"] += delta.function.arguments
    assert finish == "tool_calls"
    assert [c["name"] for c in calls.values()] == ["get_weather"]
    assert json.loads(calls[0]["arguments"]) == TOOL_ARGUMENTS
    assert usage.prompt_tokens == CHAT["prompt"]
    seen(calls[0])
    check_events(agent_run, backend, ["model"])
    call = agent_run.model_calls[0]
    assert call.streamed
    assert [(t.name, t.arguments) for t in call.tool_calls] == [("get_weather", TOOL_ARGUMENTS)]
    assert (agent_run.usage.input_tokens, agent_run.usage.output_tokens) == (CHAT["prompt"], CHAT["completion"])


def test_openai_responses(oai, agent_run, backend, seen):
    plain = oai.responses.create(model="gpt-4.1", input="Tell me a fact", instructions="Be brief.")
    assert plain.output_text.endswith(": Tell me a fact")
    arguments = None
    with oai.responses.stream(model="gpt-4.1", input="Weather in Paris?", tools=RESPONSES_TOOLS) as stream:
        for event in stream:
            if event.type == "response.function_call_arguments.done":
                arguments = event.arguments
        final = stream.get_final_response()
    assert json.loads(arguments) == TOOL_ARGUMENTS
    assert final.output[0].name == "get_weather"
    seen([plain.output_text, arguments])
    check_events(agent_run, backend, ["model", "model"])
    assert [c.streamed for c in agent_run.model_calls] == [False, True]
    assert [(t.name, t.arguments) for t in agent_run.model_calls[1].tool_calls] == [("get_weather", TOOL_ARGUMENTS)]
    assert (agent_run.usage.input_tokens, agent_run.usage.output_tokens) == (2 * RESP["input"], 2 * RESP["output"])


def test_anthropic_sync_tool_use(claude, agent_run, backend, seen):
    message = claude.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=256,
        system="You are a weather bot.",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=CLAUDE_TOOLS,
    )
    assert message.stop_reason == "tool_use"
    tool_use = [b for b in message.content if b.type == "tool_use"]
    assert [(b.name, b.input) for b in tool_use] == [("get_weather", TOOL_ARGUMENTS)]
    assert message.usage.input_tokens == CLAUDE["input"]
    seen([message.content[0].text, tool_use[0].id])
    check_events(agent_run, backend, ["model"])
    call = agent_run.model_calls[0]
    assert call.provider == "anthropic.messages" and call.model == "claude-sonnet-4-5"
    assert [(t.name, t.arguments) for t in call.tool_calls] == [("get_weather", TOOL_ARGUMENTS)]
    assert (agent_run.usage.input_tokens, agent_run.usage.output_tokens) == (CLAUDE["input"], CLAUDE["output"])


def test_anthropic_stream_tool_use(claude, agent_run, backend, seen):
    with claude.messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=256,
        messages=[{"role": "user", "content": "Weather in Paris, streamed?"}],
        tools=CLAUDE_TOOLS,
    ) as stream:
        text = "".join(stream.text_stream)
        message = stream.get_final_message()
    assert text.endswith(": Weather in Paris, streamed?")
    tool_use = [b for b in message.content if b.type == "tool_use"]
    assert [(b.name, b.input) for b in tool_use] == [("get_weather", TOOL_ARGUMENTS)]
    assert message.usage.output_tokens == CLAUDE["output"]
    seen(text)
    check_events(agent_run, backend, ["model"])
    call = agent_run.model_calls[0]
    assert call.streamed and call.stop_reason == "tool_use"
    assert [(t.name, t.arguments) for t in call.tool_calls] == [("get_weather", TOOL_ARGUMENTS)]
    assert (agent_run.usage.input_tokens, agent_run.usage.output_tokens) == (CLAUDE["input"], CLAUDE["output"])


def test_httpx_sync_and_async(upstream_url, agent_run, backend, seen):
    import httpx

    with httpx.Client() as client:
        first = client.post(upstream_url + "/echo/httpx", json={"q": "sync"}).json()

    async def main():
        async with httpx.AsyncClient() as client:
            return (await client.get(upstream_url + "/echo/httpx-async", params={"page": "2"})).json()

    second = asyncio.run(main())
    assert first["body"] == {"q": "sync"} and second["query"] == {"page": "2"}
    seen([first, second])
    check_events(agent_run, backend, ["tool", "tool"])
    assert agent_run.model_calls == []


def test_httpx2(upstream_url, agent_run, backend, seen):
    import httpx2

    with httpx2.Client() as client:
        got = client.put(upstream_url + "/echo/httpx2", json={"q": "two"}).json()
    assert got["method"] == "PUT" and got["body"] == {"q": "two"}
    seen(got)
    check_events(agent_run, backend, ["tool"])


def test_requests(upstream_url, agent_run, backend, seen):
    import requests

    got = requests.post(upstream_url + "/echo/requests", json={"q": "req"}, timeout=10).json()
    assert got["body"] == {"q": "req"}
    seen(got)
    check_events(agent_run, backend, ["tool"])


def test_aiohttp(upstream_url, agent_run, backend, seen):
    import aiohttp

    async def main():
        async with aiohttp.ClientSession() as session:
            async with session.post(upstream_url + "/echo/aiohttp", json={"q": "aio"}) as resp:
                return resp.status, await resp.json()

    status, got = asyncio.run(main())
    assert status == 200 and got["body"] == {"q": "aio"}
    seen(got)
    check_events(agent_run, backend, ["tool"])
"""


def agent_tests() -> str:
    return (
        AGENT_TESTS.replace("__TOOL_ARGUMENTS__", repr(TOOL_ARGUMENTS))
        .replace("__CHAT_USAGE__", repr(CHAT_USAGE))
        .replace("__RESPONSES_USAGE__", repr(RESPONSES_USAGE))
        .replace("__ANTHROPIC_USAGE__", repr(ANTHROPIC_USAGE))
    )


N_AGENT_TESTS = AGENT_TESTS.count("\ndef test_")
# Requests each run of AGENT_TESTS sends (openai async and responses send two, httpx sends two).
N_AGENT_REQUESTS = 13


def _interactions(data: dict[str, Any]) -> list[dict[str, Any]]:
    assert data["version"] == 1
    return data["interactions"]


def test_record_then_replay_every_client(project: Project, upstream: Upstream) -> None:
    project.pytester.makepyfile(test_agent=agent_tests())

    recorded = project.run("--agent-record", "-v", seen="record")
    recorded.assert_outcomes(passed=N_AGENT_TESTS)
    assert upstream.count == N_AGENT_REQUESTS
    upstream.stop()

    # Cassettes on disk: one per test, at cassettes/<module path>/<test name>.json.
    folder = project.path / "cassettes" / "test_agent"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{line.split('(')[0][4:]}.json" for line in AGENT_TESTS.splitlines() if line.startswith("def test_")
    )
    sync = project.cassette("cassettes/test_agent/test_openai_sync.json")
    (only,) = _interactions(sync)
    assert only["kind"] == "model"
    assert sync["meta"]["models"] == ["gpt-4o-mini"]
    assert sync["meta"]["interaction_count"] == 1
    assert len(sync["meta"]["prompt_hashes"]) == 1  # the system prompt, hashed, not stored in meta
    assert only["request"]["method"] == "POST" and only["request"]["url"].endswith("/v1/chat/completions")
    assert only["request"]["body"]["json"]["messages"][1] == {"role": "user", "content": "Say hi"}
    assert only["response"]["status"] == 200
    assert only["response"]["body"]["json"]["choices"][0]["message"]["content"].endswith(": Say hi")

    stream = project.cassette("cassettes/test_agent/test_openai_stream_tool_call.json")
    (streamed,) = _interactions(stream)
    assert streamed["kind"] == "model"
    assert set(stream["meta"]["tool_schema_hashes"]) == {"get_weather"}
    events = streamed["response"]["body"]["sse"]
    assert isinstance(events, list) and events[-1] == {"data": "[DONE]"}
    assert events[0]["data"]["object"] == "chat.completion.chunk"  # each event's JSON stored parsed
    assert events[-2]["data"]["usage"]["prompt_tokens"] == CHAT_USAGE["prompt"]

    claude = project.cassette("cassettes/test_agent/test_anthropic_stream_tool_use.json")
    (anthropic_stream,) = _interactions(claude)
    assert claude["meta"]["models"] == ["claude-sonnet-4-5"]
    names = [e["event"] for e in anthropic_stream["response"]["body"]["sse"]]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert "content_block_delta" in names

    both = project.cassette("cassettes/test_agent/test_openai_responses.json")
    assert [i["kind"] for i in _interactions(both)] == ["model", "model"]
    assert both["meta"]["models"] == ["gpt-4.1"]
    assert "sse" in both["interactions"][1]["response"]["body"]

    plain = project.cassette("cassettes/test_agent/test_requests.json")
    (tool,) = _interactions(plain)
    assert tool["kind"] == "tool" and plain["meta"]["models"] == []
    assert tool["request"]["body"] == {"json": {"q": "req"}}

    # Strict offline replay, with the upstream gone: same answers, served from the cassettes.
    replayed = project.run("--agent-replay", "-v", seen="replay")
    replayed.assert_outcomes(passed=N_AGENT_TESTS)
    assert project.seen("replay") == project.seen("record")

    assert upstream.count == N_AGENT_REQUESTS


# ---- replay failures: changed prompt, swallowed miss, recorded order, already played -------------

FLOW_TESTS = """
import os
import time

PROMPT = os.environ.get("FLOW_PROMPT", "What is the capital of France?")
REPEAT = int(os.environ.get("FLOW_REPEAT", "1"))


def ask(oai, prompt):
    reply = oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}])
    return reply.choices[0].message.content


def test_prompt(oai, seen):
    seen(ask(oai, PROMPT))


def test_swallowed(oai, agent_run, seen):
    started = time.perf_counter()
    try:
        answer = ask(oai, PROMPT + " (swallowed)")
    except Exception:
        answer = None
    elapsed = time.perf_counter() - started
    seen({"answer": answer, "seconds": elapsed, "events": [[e.kind, e.backend, e.status] for e in agent_run.events]})


def test_twice(oai, seen):
    seen([ask(oai, "Same question"), ask(oai, "Same question")])


def test_once(oai, seen):
    seen([ask(oai, "Asked once") for _ in range(REPEAT)])
"""


def test_replay_misses_fail_with_a_diff_and_repeats_replay_in_order(
    project: Project, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.pytester.makepyfile(test_flow=FLOW_TESTS)
    project.run("--agent-record", seen="record").assert_outcomes(passed=4)
    assert upstream.count == 5
    upstream.stop()
    recorded = project.seen("record")
    first, second = recorded["test_twice"][0]
    assert first != second and first.endswith(": Same question")  # the upstream answered twice, differently

    # Without any flag a cassette replays (and never touches the network).
    project.run(seen="replay").assert_outcomes(passed=4)
    replayed = project.seen("replay")
    assert replayed["test_twice"] == [[first, second]]  # identical requests replay in recorded order
    assert replayed["test_prompt"] == recorded["test_prompt"]
    assert replayed["test_swallowed"][0]["answer"] == recorded["test_swallowed"][0]["answer"]

    monkeypatch.setenv("FLOW_PROMPT", "What is the capital of Spain?")
    monkeypatch.setenv("FLOW_REPEAT", "2")
    result = project.run("--agent-replay", seen="changed")
    result.assert_outcomes(passed=1, failed=3)
    out = result.stdout.str()
    cassette = project.path / "cassettes" / "test_flow" / "test_prompt.json"
    # A changed prompt: the failure names the cassette, the request and the differing field.
    assert f"nearest recorded request in {cassette} is interactions[0]; it differs:" in out
    assert "messages[0].content changed at char 23" in out
    assert "France" in out and "Spain" in out
    assert "--agent-record" in out
    assert f"no recorded answer for POST {upstream.url}/v1/chat/completions" in out

    # The agent swallowed the SDK's exception: the test fails anyway, after a single attempt.
    (swallowed,) = project.seen("changed")["test_swallowed"]
    assert swallowed["answer"] is None
    assert swallowed["events"] == [["model", "miss", 404]]  # one request: the SDK did not retry
    assert swallowed["seconds"] < 1.0  # less than the SDK's back-off before a first retry would end
    assert "test_flow.py::test_swallowed" in out
    assert "pytest-agentops: 1 request(s) had no recorded answer" in out

    # Recorded once, sent twice: the second is a miss that says so.
    once = project.path / "cassettes" / "test_flow" / "test_once.json"
    assert f"cassette {once} holds this request 1 time(s) and all were already played" in out
    assert "--agent-record=all" in out
    assert upstream.count == 5


MODE_TESTS = """
import os


def test_ask(oai, agent_run, seen):
    questions = ["First?"] + (["Extra?"] if os.environ.get("MODE_EXTRA") else [])
    answers = [
        oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": q}])
        .choices[0].message.content
        for q in questions
    ]
    seen({"answers": answers, "backends": [e.backend for e in agent_run.events]})
"""


def _answers(data: dict[str, Any]) -> list[str]:
    return [i["response"]["body"]["json"]["choices"][0]["message"]["content"] for i in data["interactions"]]


def test_record_new_keeps_what_is_there_and_all_rerecords(
    project: Project, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.pytester.makepyfile(test_modes=MODE_TESTS)
    path = "cassettes/test_modes/test_ask.json"

    project.run("--agent-record", seen="one").assert_outcomes(passed=1)
    assert upstream.count == 1
    assert project.seen("one")["test_ask"][0]["backends"] == ["network"]
    first = _answers(project.cassette(path))
    assert first == ["answer #1: First?"]

    # new (the default mode of --agent-record): replay what is there, record only what is missing.
    monkeypatch.setenv("MODE_EXTRA", "1")
    project.run("--agent-record=new", seen="two").assert_outcomes(passed=1)
    assert upstream.count == 2
    assert project.seen("two")["test_ask"][0] == {
        "answers": ["answer #1: First?", "answer #2: Extra?"],
        "backends": ["cassette", "network"],
    }
    assert _answers(project.cassette(path)) == ["answer #1: First?", "answer #2: Extra?"]

    # all: every request goes to the upstream again and the cassette is replaced, not appended to.
    project.run("--agent-record=all", seen="three").assert_outcomes(passed=1)
    assert upstream.count == 4
    assert project.seen("three")["test_ask"][0]["backends"] == ["network", "network"]
    data = project.cassette(path)
    assert _answers(data) == ["answer #3: First?", "answer #4: Extra?"]
    assert data["meta"]["interaction_count"] == 2


# ---- where cassettes live --------------------------------------------------------------------------

PATH_TESTS = """
import os

import httpx
import pytest

UPSTREAM = os.environ["AGENTOPS_TEST_UPSTREAM"]


def test_plain(agent_cassette):
    assert httpx.get(UPSTREAM + "/echo/plain").json()["path"] == "/echo/plain"
    print("CASSETTE", agent_cassette.path)


@pytest.mark.parametrize("x", ["a/b"])
def test_param(x):
    assert httpx.get(UPSTREAM + "/echo/param", params={"x": x}).json()["query"] == {"x": x}


@pytest.mark.agent_cassette("shared")
def test_shared_one(agent_cassette):
    assert httpx.get(UPSTREAM + "/echo/one").status_code == 200
    print("CASSETTE", agent_cassette.path)


@pytest.mark.agent_cassette("shared")
def test_shared_two():
    assert httpx.get(UPSTREAM + "/echo/two").status_code == 200
"""


def test_cassette_paths_marker_and_cassette_dir(project: Project, upstream: Upstream) -> None:
    project.pytester.mkpydir("sub")
    (project.path / "sub" / "test_paths.py").write_text(PATH_TESTS)

    project.run("--agent-record", "--agent-cassette-dir=recorded", "-s").assert_outcomes(passed=4)
    upstream.stop()
    root = project.path / "recorded"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*.json"))
    assert files == ["shared.json", "sub/test_paths/test_param[a_b].json", "sub/test_paths/test_plain.json"]
    shared = json.loads((root / "shared.json").read_text())
    assert sorted(i["request"]["url"].rsplit("/", 1)[1] for i in shared["interactions"]) == ["one", "two"]
    assert not (project.path / "cassettes").exists()

    replay = project.run("--agent-replay", "--agent-cassette-dir", str(root), "-s")
    replay.assert_outcomes(passed=4)
    replay.stdout.fnmatch_lines([f"*CASSETTE {root}/sub/test_paths/test_plain.json*", f"*CASSETTE {root}/shared.json*"])

    # The ini option does the same as the command line.
    project.pytester.makeini(
        "[pytest]\naddopts = -p no:hypothesispytest -p no:benchmark -p no:recording -p no:cacheprovider\n"
        "agentops_scope = all\n"
        "agentops_cassette_dir = recorded\n"
    )
    project.run("--agent-replay").assert_outcomes(passed=4)


# ---- broken cassettes and bad options ----------------------------------------------------------------

BAD_TESTS = """
import httpx


def test_corrupt():
    httpx.get("http://127.0.0.1:9/x")


def test_hand_edited():
    httpx.get("http://127.0.0.1:9/x")


def test_future_version():
    httpx.get("http://127.0.0.1:9/x")


def test_missing():
    httpx.get("http://127.0.0.1:9/x")
"""

_GOOD_INTERACTION = {
    "kind": "tool",
    "request": {"method": "GET", "url": "http://127.0.0.1:9/x", "headers": {}, "body": None},
    "response": {"status": 200, "reason": "OK", "headers": {}, "body": {"json": {"ok": True}}},
}


def test_broken_or_missing_cassettes_name_the_file_and_the_problem(project: Project) -> None:
    project.pytester.makeini(
        "[pytest]\naddopts = -p no:hypothesispytest -p no:benchmark -p no:recording -p no:cacheprovider\n"
        "agentops_scope = all\n"
        "agentops_loopback_passthrough = false\n"
    )
    project.pytester.makepyfile(test_bad=BAD_TESTS)
    folder = project.path / "cassettes" / "test_bad"
    folder.mkdir(parents=True)
    (folder / "test_corrupt.json").write_text('{"version": 1, "meta": {}, "interactions": [\n  {"kind": ')
    edited = json.loads(json.dumps(_GOOD_INTERACTION))
    del edited["response"]["status"]
    (folder / "test_hand_edited.json").write_text(json.dumps({"version": 1, "meta": {}, "interactions": [edited]}))
    (folder / "test_future_version.json").write_text(
        json.dumps({"version": 99, "meta": {}, "interactions": [_GOOD_INTERACTION]})
    )

    result = project.run("--agent-replay")
    result.assert_outcomes(errors=3, failed=1)
    out = result.stdout.str()
    assert f"cassette {folder / 'test_corrupt.json'}: not valid JSON at line 2 column 12" in out
    assert f"cassette {folder / 'test_hand_edited.json'}: interactions[0].response.status is missing" in out
    assert f"cassette {folder / 'test_future_version.json'}: format version 99 is not supported" in out
    assert f"cassette {folder / 'test_missing.json'} does not exist" in out
    assert "Record it with: pytest --agent-record" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agent-record=bogus"], "--agent-record: 'bogus' is not one of: new, all, prune"),
        (["--agent-replay", "--agent-record"], "--agent-replay and --agent-record cannot be used together"),
        (["--agent-replay", "--agent-record=all"], "--agent-replay and --agent-record cannot be used together"),
        (["-o", "agentops_record=sometimes"], "--agent-record: 'sometimes' is not one of: new, all, prune"),
    ],
)
def test_bad_option_values_are_usage_errors(pytester: pytest.Pytester, args: list[str], message: str) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_upstream_answers_are_what_the_sdks_parse() -> None:
    """The fake upstream's payloads validate against the official SDK types."""
    import anthropic.types as at
    import openai.types.chat as oc
    import openai.types.responses as orr
    from pydantic import TypeAdapter
    from upstream import (
        anthropic_events,
        anthropic_message,
        chat_chunks,
        chat_completion,
        response_object,
        responses_events,
    )

    weather = {"type": "object", "properties": {"city": {"type": "string"}}}
    for with_tools in (False, True):
        chat = {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}],
            "stream_options": {"include_usage": True},
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": weather}}]
            if with_tools
            else None,
        }
        oc.ChatCompletion.model_validate(chat_completion(chat, 1))
        chunks = [oc.ChatCompletionChunk.model_validate(c) for c in chat_chunks(chat, 1)]
        assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == CHAT_USAGE["prompt"]
        resp = {
            "model": "gpt-4.1",
            "input": "hi",
            "tools": [{"type": "function", "name": "get_weather", "parameters": weather}] if with_tools else None,
        }
        orr.Response.model_validate(response_object(resp, 1))
        events = TypeAdapter(orr.ResponseStreamEvent)
        for event in responses_events(resp, 1):
            events.validate_python(event)
        claude = {
            "model": "claude-sonnet-4-5",
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"name": "get_weather", "input_schema": weather}] if with_tools else None,
        }
        message = at.Message.model_validate(anthropic_message(claude, 1))
        assert (message.stop_reason == "tool_use") is with_tools
        raw = TypeAdapter(at.RawMessageStreamEvent)
        for event in anthropic_events(claude, 1):
            if event["type"] != "ping":
                raw.validate_python(event)


def test_upstream_counts_and_stops() -> None:
    import urllib.request

    with Upstream() as up:
        with urllib.request.urlopen(up.url + "/echo/x?a=1") as resp:
            assert json.loads(resp.read())["query"] == {"a": "1"}
        assert up.count == 1
    started = time.perf_counter()
    with pytest.raises(OSError):
        urllib.request.urlopen(up.url + "/echo/x", timeout=5)
    assert time.perf_counter() - started < 2
    assert up.count == 1
