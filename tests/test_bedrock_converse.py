"""AWS Bedrock Converse: the event-stream parser against botocore's, and boto3's client through the tap.

botocore has no event-stream encoder, so frames come from two writers: ``eventstream.encode`` (the
stand-in's; boto3 itself must accept them) and ``_spec_frame`` below, written from the framing spec
with every header type. botocore's ``EventStreamBuffer`` decodes both, and ours must agree with it.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

import pytest
from bedrock_standin import TEXT, USAGE, converse, converse_stream, frames
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_agentops.trace import eventstream
from pytest_agentops.trace.providers import detect_provider, parse_model_call
from pytest_agentops.trace.run import ToolCallRequest, Usage

botocore_eventstream = pytest.importorskip("botocore.eventstream")

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
URL = "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
STREAM_URL = URL + "-stream"
TOOL_REQUEST = {
    "messages": [{"role": "user", "content": [{"text": "Oslo?"}]}],
    "toolConfig": {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object"}}}}]},
}
STREAM_HEADERS = {"content-type": "application/vnd.amazon.eventstream"}


def _botocore(data: bytes) -> list[tuple[dict[str, Any], bytes]]:
    buffer = botocore_eventstream.EventStreamBuffer()
    buffer.add_data(data)
    return [(dict(m.headers), m.payload) for m in buffer]


# Header value writers by type id, from the framing spec (0/1 true/false carry no value).
_WRITE = {
    2: lambda v: struct.pack(">b", v),
    3: lambda v: struct.pack(">h", v),
    4: lambda v: struct.pack(">i", v),
    5: lambda v: struct.pack(">q", v),
    6: lambda v: struct.pack(">H", len(v)) + v,
    7: lambda v: struct.pack(">H", len(v.encode())) + v.encode(),
    8: lambda v: struct.pack(">q", v),
    9: lambda v: v,
}


def _spec_frame(headers: list[tuple[str, int, Any]], payload: bytes) -> bytes:
    head = b""
    for name, kind, value in headers:
        head += bytes([len(name)]) + name.encode() + bytes([kind]) + (b"" if kind in (0, 1) else _WRITE[kind](value))
    prelude = struct.pack(">II", 16 + len(head) + len(payload), len(head))
    body = prelude + struct.pack(">I", zlib.crc32(prelude)) + head + payload
    return body + struct.pack(">I", zlib.crc32(body))


_VALUES = {
    0: st.just(True),
    1: st.just(False),
    2: st.integers(-128, 127),
    3: st.integers(-(2**15), 2**15 - 1),
    4: st.integers(-(2**31), 2**31 - 1),
    5: st.integers(-(2**63), 2**63 - 1),
    6: st.binary(max_size=40),
    7: st.text(max_size=40),
    8: st.integers(0, 2**62),
    9: st.binary(min_size=16, max_size=16),
}
_HEADER = st.sampled_from(sorted(_VALUES)).flatmap(
    lambda kind: st.tuples(st.text("abcdefgh:-", min_size=1, max_size=12), st.just(kind), _VALUES[kind])
)


def _comparable(headers: dict[str, Any]) -> dict[str, Any]:
    """botocore reads a uuid as its 16 bytes; ours as an integer. Same value, one form."""
    return {k: v.to_bytes(16, "big") if isinstance(v, int) and k.startswith("uuid") else v for k, v in headers.items()}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.lists(_HEADER, max_size=6, unique_by=lambda h: h[0]), st.binary(max_size=200)), max_size=4)
)
def test_decode_agrees_with_botocore_on_every_header_type(messages: list[tuple[list[Any], bytes]]) -> None:
    renamed = [
        ([(f"{'uuid' if k == 9 else 'h'}{n}{name}", k, v) for n, (name, k, v) in enumerate(h)], p) for h, p in messages
    ]
    data = b"".join(_spec_frame(headers, payload) for headers, payload in renamed)
    ours = [(_comparable(m.headers), m.payload) for m in eventstream.decode(data)]
    assert ours == _botocore(data)


def test_the_encoder_writes_what_botocore_reads() -> None:
    data = frames(converse_stream(TOOL_REQUEST))
    decoded = _botocore(data)
    assert [h[":event-type"] for h, _ in decoded][:2] == ["messageStart", "contentBlockStart"]
    assert [(m.headers, m.payload) for m in eventstream.decode(data)] == decoded


def test_a_damaged_frame_ends_the_decode_where_botocore_raises() -> None:
    whole = frames(converse_stream({}))
    first = eventstream.decode(whole)[0]
    size = struct.unpack(">I", whole[:4])[0]
    flipped = whole[: size + 20] + bytes([whole[size + 20] ^ 1]) + whole[size + 21 :]
    assert eventstream.decode(flipped) == [first]
    with pytest.raises(botocore_eventstream.ChecksumMismatch):
        _botocore(flipped)
    assert eventstream.decode(whole[: size + 10]) == [first]  # cut mid-message: what came whole
    assert eventstream.decode(b"\x00" * 3) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (URL, "bedrock.converse"),
        (STREAM_URL, "bedrock.converse"),
        ("http://127.0.0.1:9/model/us.amazon.nova-lite-v1:0/converse", "bedrock.converse"),
        ("https://bedrock-runtime.us-east-1.amazonaws.com/model/x/invoke", None),  # InvokeModel: not read
    ],
)
def test_detect(url: str, expected: str | None) -> None:
    assert detect_provider("POST", url) == expected


def test_converse_json_tool_use_and_cache_read_added_to_input() -> None:
    answer = json.dumps(converse(TOOL_REQUEST)).encode()
    call = parse_model_call("POST", URL, json.dumps(TOOL_REQUEST).encode(), 200, {}, answer)
    assert call is not None
    assert (call.provider, call.model, call.streamed, call.stop_reason) == (
        "bedrock.converse",
        MODEL,
        False,
        "tool_use",
    )
    read = USAGE["cacheReadInputTokens"]
    assert call.usage == Usage(USAGE["inputTokens"] + read, USAGE["outputTokens"], read, 0)
    assert call.tool_calls == [ToolCallRequest("tooluse_standin1", "get_weather", {"city": "Oslo"})]


def test_converse_stream_reassembles_tool_input_and_text() -> None:
    tool = parse_model_call("POST", STREAM_URL, b"{}", 200, STREAM_HEADERS, frames(converse_stream(TOOL_REQUEST)))
    text = parse_model_call("POST", STREAM_URL, b"{}", 200, STREAM_HEADERS, frames(converse_stream({})))
    assert tool is not None and text is not None
    assert tool.streamed and tool.tool_calls == [ToolCallRequest("tooluse_standin1", "get_weather", {"city": "Oslo"})]
    assert (text.text, text.stop_reason, text.usage.output_tokens) == (TEXT, "end_turn", USAGE["outputTokens"])


def test_error_and_garbage_keep_the_model_with_no_usage() -> None:
    for status, body in ((400, b'{"message": "ValidationException"}'), (200, b"\xff garbage"), (200, b"")):
        call = parse_model_call("POST", STREAM_URL, b"{}", status, STREAM_HEADERS, body)
        assert call is not None and (call.model, call.usage, call.tool_calls) == (MODEL, Usage(), [])
