"""boto3's ``bedrock-runtime`` client (botocore over urllib3) through the tap: Converse and ConverseStream.

vcrpy's boto3 patcher swaps botocore's connection classes, so the tap sees each request whole, and
the answer reaches boto3 after it was read whole (an event stream arrives at once, not frame by
frame). Recorded against a loopback stand-in (``tests/bedrock_standin.py``), then replayed inside
``unshare -n``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from matrix import INI, needs_unshare

pytest.importorskip("boto3")

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"

INNER = """
import os

import boto3

TOOLS = {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object"}}}}]}
ASK = [{"role": "user", "content": [{"text": "Oslo?"}]}]


def _client():
    return boto3.client(
        "bedrock-runtime", region_name="us-east-1", endpoint_url=os.environ["BEDROCK_STANDIN"],
        aws_access_key_id="AKIDEXAMPLEONLY", aws_secret_access_key="not-a-secret",
    )


def _calls(agent_run):
    assert {e.backend for e in agent_run.events} == {EXPECTED}
    return [e.model_call for e in agent_run.events if e.kind == "model"]


def test_converse(agent_run):
    answer = _client().converse(modelId="anthropic.claude-3-5-haiku-20241022-v1:0", messages=ASK, toolConfig=TOOLS)
    [use] = [b["toolUse"] for b in answer["output"]["message"]["content"]]
    [call] = _calls(agent_run)
    assert (call.provider, call.model) == ("bedrock.converse", "anthropic.claude-3-5-haiku-20241022-v1:0")
    assert [(t.id, t.name, t.arguments) for t in call.tool_calls] == [(use["toolUseId"], use["name"], use["input"])]
    usage = answer["usage"]
    assert call.usage.input_tokens == usage["inputTokens"] + usage["cacheReadInputTokens"]
    assert call.usage.output_tokens == usage["outputTokens"]
    assert call.usage.cached_input_tokens == usage["cacheReadInputTokens"]


def test_converse_stream(agent_run):
    answer = _client().converse_stream(modelId="us.amazon.nova-lite-v1:0", messages=ASK)
    events = list(answer["stream"])
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    [call] = _calls(agent_run)
    assert (call.model, call.streamed, call.text) == ("us.amazon.nova-lite-v1:0", True, text)
    assert call.stop_reason == "end_turn"
    assert call.usage.output_tokens == events[-1]["metadata"]["usage"]["outputTokens"]
"""


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Any:
    from bedrock_standin import Standin

    server = Standin()
    monkeypatch.setenv("BEDROCK_STANDIN", server.url)
    yield server
    server.close()


@needs_unshare
def test_boto3_is_recorded_through_the_tap_then_replayed_in_a_fresh_namespace(
    pytester: pytest.Pytester, standin: Any
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_inner=INNER.replace("EXPECTED", '"network"'))
    recorded = pytester.run(sys.executable, "-m", "pytest", "--agent-record", "-q", timeout=240)
    assert recorded.ret == 0, recorded.stdout.str() + recorded.stderr.str()
    assert standin.seen == [(MODEL, "converse"), ("us.amazon.nova-lite-v1:0", "converse-stream")]
    standin.close()
    [stream] = Path(pytester.path, "cassettes").rglob("test_converse_stream.json")
    body = json.loads(stream.read_text())["interactions"][0]["response"]["body"]
    assert set(body) == {"base64"}  # binary frames are kept byte for byte
    text = stream.read_text()
    assert "AWS4-HMAC-SHA256 <redacted:authorization:" in text and "Signature=" not in text  # SigV4 redacted
    pytester.makepyfile(test_inner=INNER.replace("EXPECTED", '"cassette"'))
    script = 'ip link set lo up && exec "$0" -m pytest "$@"'
    replayed = pytester.run("unshare", "-n", "sh", "-c", script, sys.executable, "--agent-replay", "-q", timeout=240)
    assert replayed.ret == 0, replayed.stdout.str() + replayed.stderr.str()
    replayed.assert_outcomes(passed=2)
