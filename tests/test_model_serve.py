"""``agentops model serve``: the fake model as a stand-in upstream to record from, scripted from a
file or by the "call the first tool, then answer" rule; bad script files named."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_agentops.backends.model import FakeModel
from pytest_agentops.backends.model.standin import FirstTool, ScriptFileError, load_script
from pytest_agentops.backends.model.types import FakeError, Reply
from pytest_agentops.cli import main

if TYPE_CHECKING:
    from conftest import Project

AGENT_TEST = """
import json

from openai import OpenAI

LOOKUP = {"type": "function", "function": {"name": "lookup_customer", "parameters": {
    "type": "object", "properties": {"email": {"type": "string"}}, "required": ["email"]}}}


def test_agent(agent_run):
    client = OpenAI(api_key="sk-test-only")       # the real API's URL: the cassette keeps it
    messages = [{"role": "user", "content": "Refund me. ana@example.com"}]
    while True:
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[LOOKUP])
        message = reply.choices[0].message
        if not message.tool_calls:
            break
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            assert json.loads(call.function.arguments) == {"email": "ana@example.com"}
            messages.append({"role": "tool", "tool_call_id": call.id, "content": '{"plan": "pro"}'})
    assert message.content == "Hi Ana, your refund is on its way."
    assert len(agent_run.model_calls) == 2
"""

SCRIPT = [
    {"tool_call": "lookup_customer", "arguments": {"email": "ana@example.com"}},
    "Hi Ana, your refund is on its way.",
]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``agentops model serve`` in its own process, as the docs run it, with its URL."""
    script = tmp_path / "replies.json"
    script.write_text(json.dumps(SCRIPT), encoding="utf-8")
    command = [sys.executable, "-m", "pytest_agentops.cli", "model", "serve", "--port", "0", "--script", str(script)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("fake model on http://127.0.0.1:"), first
        assert "script " in first and "(2 turn(s))" in first
        yield process, first.split()[3].rstrip(":")
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_record_from_the_stand_in_then_replay_offline(
    project: Project, served: tuple[subprocess.Popen[str], str]
) -> None:
    process, url = served
    project.pytester.makepyfile(test_rec=AGENT_TEST)
    recorded = project.pytester.runpytest_inprocess("--agent-record", f"--agent-staging=openai={url}")
    recorded.assert_outcomes(passed=1)
    cassette = project.cassette("cassettes/test_rec/test_agent.json")
    urls = [i["request"]["url"] for i in cassette["interactions"]]
    assert urls == ["https://api.openai.com/v1/chat/completions"] * 2
    process.terminate()
    process.wait(timeout=10)
    assert process.returncode == 0  # SIGTERM stops it cleanly
    replayed = project.pytester.runpytest_inprocess("--agent-replay")
    replayed.assert_outcomes(passed=1)  # the stand-in is gone: served from the cassette


def _ask(fake: FakeModel, body: dict[str, Any], path: str = "/v1/chat/completions") -> dict[str, Any]:
    status, _, data = fake.handle(
        "POST", fake.base_url + path, {"content-type": "application/json"}, json.dumps(body).encode()
    )
    assert status == 200, data
    answer: dict[str, Any] = json.loads(data)
    return answer


TOOLS = [
    {"type": "function", "function": {"name": "find", "parameters": {"type": "object", "properties": {
        "email": {"type": "string", "format": "email"}, "limit": {"type": "integer", "minimum": 1}},
        "required": ["email", "limit"]}}},
    {"type": "function", "function": {"name": "other", "parameters": {"type": "object"}}},
]  # fmt: skip


def test_first_tool_then_answer() -> None:
    fake = FakeModel().respond(FirstTool("All done."))
    user = [{"role": "user", "content": "find ana"}]
    first = _ask(fake, {"model": "m", "messages": user, "tools": TOOLS})["choices"][0]["message"]
    (call,) = first["tool_calls"]
    arguments = json.loads(call["function"]["arguments"])
    assert call["function"]["name"] == "find"
    assert isinstance(arguments["email"], str) and "@" in arguments["email"]
    assert isinstance(arguments["limit"], int) and arguments["limit"] >= 1
    # the same request again: the same call (deterministic)
    again = _ask(fake, {"model": "m", "messages": user, "tools": TOOLS})["choices"][0]["message"]
    assert json.loads(again["tool_calls"][0]["function"]["arguments"]) == arguments

    result = [*user, first, {"role": "tool", "tool_call_id": call["id"], "content": "{}"}]
    final = _ask(fake, {"model": "m", "messages": result, "tools": TOOLS})["choices"][0]["message"]
    assert final["content"] == "All done." and not final.get("tool_calls")

    forced = {"type": "function", "function": {"name": "other"}}
    chosen = _ask(fake, {"model": "m", "messages": user, "tools": TOOLS, "tool_choice": forced})
    assert chosen["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "other"
    plain = _ask(fake, {"model": "m", "messages": user})["choices"][0]["message"]
    assert plain["content"] == "All done."

    anthropic = _ask(
        fake,
        {"model": "claude", "max_tokens": 50, "messages": user, "tools": [{"name": "get", "input_schema": {}}]},
        "/v1/messages",
    )
    assert [(b["type"], b.get("name")) for b in anthropic["content"]] == [("tool_use", "get")]


def test_script_files(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "loop: true\nturns:\n  - Hello\n  - 503\n  - {error: 429, message: slow down}\n"
        "  - {text: Both, tool_calls: [{name: a, arguments: {x: 1}, id: call_1}]}\n",
        encoding="utf-8",
    )
    turns, loop = load_script(path)
    assert loop is True
    counted = tmp_path / "counted.json"
    counted.write_text('[{"text": "Hi", "input_tokens": 61, "output_tokens": 10}]', encoding="utf-8")
    assert load_script(counted) == ([Reply("Hi", [], 61, 10)], False)
    assert turns[0] == Reply("Hello")
    assert isinstance(turns[1], FakeError) and turns[1].status == 503
    assert isinstance(turns[2], FakeError) and (turns[2].status, turns[2].message) == (429, "slow down")
    assert isinstance(turns[3], Reply) and turns[3].text == "Both"
    assert [(c.name, c.arguments, c.id) for c in turns[3].tool_calls] == [("a", {"x": 1}, "call_1")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "a script is a non-empty list of turns"),
        ("{not json", "not valid JSON"),
        ('{"turns": ["x"], "lop": true}', "unknown key(s) lop"),
        ('["ok", true]', "turns[1]: True is not a turn; a turn is a string, an HTTP status"),
        ('[{"txt": "hi"}]', "turns[0]: keys ['txt'] are not a turn"),
        ('[{"tool_calls": [{"arguments": {}}]}]', "turns[0].tool_calls[0]: a tool call needs a 'name'"),
        ('[{"tool_call": "a", "arguments": [1]}]', "'arguments' of 'a' must be an object"),
        ('[{"error": 200}]', "'error' must be an HTTP status 400-599, got 200"),
        ('[{"text": "hi", "input_tokens": "61"}]', "'input_tokens' must be a whole number >= 0, got '61'"),
    ],
)
def test_a_bad_script_names_the_file_and_turn(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "replies.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ScriptFileError, match=r"replies\.json: ") as caught:
        load_script(path)
    assert message in str(caught.value)


def test_cli_refuses_a_bad_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["model", "serve", "--script", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("agentops: error: ") and "missing.json: cannot read the script" in err
