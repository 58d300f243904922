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


def test_httpx_stub_request_keeps_what_vcr_request_keeps() -> None:
    """The light request our httpx stub builds matches vcr's Request on what the tap reads."""
    import httpx
    import httpx2
    from vcr.request import Request as VcrRequest

    from pytest_agentops.stubs import make_httpx_request
    from pytest_agentops.tap import _vcr_headers

    for module in (httpx, httpx2):
        real = module.Request(
            "POST",
            "https://api.example.com/v1/x?q=1",
            headers=[("X-Multi", "a"), ("x-multi", "b"), ("Content-Type", "application/json")],
            content=b'{"a": 1}',
        )
        light = make_httpx_request(real, b'{"a": 1}')
        vcr = VcrRequest(real.method, str(real.url), b'{"a": 1}', real.headers)
        assert (light.method, light.uri, light.body) == (vcr.method, vcr.uri, vcr.body)
        assert light.headers == _vcr_headers(vcr.headers)
        assert light.headers["x-multi"] == "a, b"


def test_httpx_stub_is_installed_only_while_a_tap_is_open(tmp_path: Path) -> None:
    import httpx2
    from vcr.stubs import httpx_stubs

    from pytest_agentops.config import Settings
    from pytest_agentops.session import open_tap
    from pytest_agentops.stubs import TappedRequest, make_httpx_request
    from pytest_agentops.tap import Tap
    from pytest_agentops.trace import Run

    original = httpx_stubs._make_vcr_request
    seen: list[type] = []
    decide = Tap._decide

    def spy(self: Tap, request: Any) -> Any:
        seen.append(type(request))
        return decide(self, request)

    Tap._decide = spy  # type: ignore[method-assign]
    try:
        with open_tap(Settings(), Run("t"), tmp_path / "c.json") as tap:
            assert httpx_stubs._make_vcr_request is make_httpx_request
            tap.mount("https://svc.test", lambda live: (200, {"content-type": "text/plain"}, live.body))
            response = httpx2.Client().post("https://svc.test/echo", content=b"hi")
    finally:
        Tap._decide = decide  # type: ignore[method-assign]
    assert httpx_stubs._make_vcr_request is original
    assert response.content == b"hi"
    assert seen and set(seen) == {TappedRequest}
