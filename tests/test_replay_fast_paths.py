"""The replay fast paths give exactly what the general code gives: bytes, keys, parsed bodies."""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_agentops.cassette import body as bodies
from pytest_agentops.cassette.format import FORMAT_VERSION, Cassette, dump
from pytest_agentops.cassette.matching import MatchConfig, body_value, request_key

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text()
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans())
def test_dumps_indent2_is_json_dumps_indent2(value: Any, ascii_only: bool) -> None:
    assert bodies.dumps_indent2(value, ascii_only) == json.dumps(value, indent=2, ensure_ascii=ascii_only)


def test_dumps_indent2_hands_other_types_to_json() -> None:
    class Int(int):
        pass

    for value in (
        {1: "a", None: [True]},
        collections.OrderedDict(b=1, a=[]),
        {"t": (1, 2)},
        [Int(3), 2.5],
        {"deep": [[[{}]], [], {"x": "\u00e9\n\ud800"}]},
    ):
        for ascii_only in (False, True):
            assert bodies.dumps_indent2(value, ascii_only) == json.dumps(value, indent=2, ensure_ascii=ascii_only)


def test_indent2_bodies_replay_byte_for_byte() -> None:
    value = {"id": "x", "choices": [{"message": {"content": "h\u00e9llo", "tool_calls": []}}], "n": 1.5}
    for ascii_only, style in ((False, "indent2+nl"), (True, "indent2+ascii+nl")):
        raw = (json.dumps(value, indent=2, ensure_ascii=ascii_only) + "\n").encode()
        stored = bodies.encode(raw, "application/json")
        assert stored is not None and stored["style"] == style
        assert bodies.decode(stored) == raw


def _cassette(tmp_path: Path, bodies_sent: list[Any]) -> Cassette:
    interactions = [
        {
            "kind": "model",
            "request": {"method": "post", "url": "https://api.openai.com/v1/chat/completions", "body": body},
            "response": {"status": 200, "headers": {}, "body": {"json": {"n": i}}},
        }
        for i, body in enumerate(bodies_sent)
    ]
    path = tmp_path / "c.json"
    path.write_text(dump({"version": FORMAT_VERSION, "meta": {}, "interactions": interactions}))
    return Cassette.load(path, MatchConfig())


def test_exact_match_has_the_canonical_key_and_value(tmp_path: Path) -> None:
    value = {"model": "m", "messages": [{"role": "user", "content": "caf\u00e9 {,:}"}], "request_id": "r1"}
    cassette = _cassette(tmp_path, [{"json": value}, {"text": "plain"}, {"form": [["a", "1"]]}, None])
    url = "https://api.openai.com/v1/chat/completions"
    sent = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    found = cassette.exact_match("POST", url, sent)
    assert found is not None
    key, parsed = found
    assert parsed == body_value(sent) == value
    assert key == request_key("POST", url, body_value(sent), cassette.config)
    # Other spellings of the same body are not exact, but still match by key (request_id is ignored).
    spaced = json.dumps({**value, "request_id": "r2"}).encode()
    assert cassette.exact_match("POST", url, spaced) is None
    assert request_key("POST", url, body_value(spaced), cassette.config) == key
    assert cassette.exact_match("POST", url + "?x=1", sent) is None
    assert cassette.exact_match("GET", url, sent) is None
    assert cassette.exact_match("POST", url, b"plain") is None
