"""Matching, body storage and diff text: the pure functions under the cassette."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_agentops.cassette import body as bodies
from pytest_agentops.cassette.format import Cassette, store_request_body
from pytest_agentops.cassette.matching import MatchConfig, body_value, diff_values, explain, request_key
from pytest_agentops.trace import sse

CFG = MatchConfig()
URL = "https://api.openai.com/v1/chat/completions"


def key(body: object, url: str = URL, method: str = "POST", cfg: MatchConfig = CFG) -> str:
    return request_key(method, url, body, cfg)


def test_key_order_and_volatile_fields_do_not_matter() -> None:
    a = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "request_id": "r1"}
    b = {"request_id": "r2", "messages": [{"content": "hi", "role": "user"}], "model": "gpt-4o"}
    assert key(a) == key(b)


def test_content_method_and_url_do_matter() -> None:
    a = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    b = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi!"}]}
    assert key(a) != key(b)
    assert key(a) != key(a, method="PUT")
    assert key(a) != key(a, url="https://api.openai.com/v1/responses")


def test_url_is_canonical_default_port_host_case_and_query_order() -> None:
    assert key(None, "https://API.openai.com:443/v1/x?b=2&a=1") == key(None, "https://api.openai.com/v1/x?a=1&b=2")
    assert key(None, "http://127.0.0.1:8000/x") != key(None, "http://127.0.0.1:8001/x")


def test_user_ignore_rules_for_body_paths_wildcards_and_query() -> None:
    cfg = MatchConfig.from_rules(["body:messages.*.name", "body:**.trace", "query:ts"])
    a = {"messages": [{"role": "user", "content": "x", "name": "a"}], "meta": {"deep": {"trace": 1}}}
    b = {"messages": [{"role": "user", "content": "x", "name": "b"}], "meta": {"deep": {"trace": 2}}}
    assert key(a, cfg=cfg) == key(b, cfg=cfg)
    assert key(a) != key(b)
    assert key(None, URL + "?ts=1", cfg=cfg) == key(None, URL + "?ts=2", cfg=cfg)


@pytest.mark.parametrize("rule", ["nope", "body:", "header:x"])
def test_bad_ignore_rule_names_itself(rule: str) -> None:
    with pytest.raises(ValueError, match="agentops_match_ignore"):
        MatchConfig.from_rules([rule])


def test_form_bodies_match_regardless_of_order() -> None:
    a = body_value(b"amount=100&currency=usd", "application/x-www-form-urlencoded")
    b = body_value(b"currency=usd&amount=100", "application/x-www-form-urlencoded")
    assert key(a) == key(b)


def test_diff_names_the_changed_path() -> None:
    old = {"messages": [{"role": "system", "content": "Classify the ticket."}], "model": "gpt-4o"}
    new = {"messages": [{"role": "system", "content": "Classify this ticket."}], "model": "gpt-4o-mini"}
    lines = diff_values(old, new)
    assert any(line.startswith("messages[0].content changed at char 11") for line in lines), lines
    assert "model changed at char 6: 'gpt-4o' -> 'gpt-4o-mini'" in lines


def test_explain_picks_the_nearest_recorded_request() -> None:
    recorded = [
        (0, "POST", URL, {"messages": [{"content": "something else entirely"}], "model": "m", "n": 1}),
        (1, "POST", URL, {"messages": [{"content": "hello"}], "model": "m"}),
    ]
    index, lines = explain("POST", URL, {"messages": [{"content": "hello!"}], "model": "m"}, recorded, CFG)
    assert index == 1
    assert lines == ["messages[0].content changed at char 5: 'hello' -> 'hello!'"]


def test_identical_requests_replay_in_recorded_order(tmp_path: Path) -> None:
    cassette = Cassette(tmp_path / "c.json")
    body = {"model": "m", "messages": [{"role": "user", "content": "again"}]}
    for answer in ("first", "second"):
        cassette.add(
            {
                "kind": "model",
                "request": {"method": "POST", "url": URL, "headers": {}, "body": store_request_body(body)},
                "response": {"status": 200, "headers": {}, "body": {"text": answer}},
            }
        )
    cassette.save()
    loaded = Cassette.load(tmp_path / "c.json")
    k = key(body)
    answers = [loaded.take(k), loaded.take(k), loaded.take(k)]
    assert [a["response"]["body"]["text"] if a else None for a in answers] == ["first", "second", None]
    assert loaded.recorded_count(k) == 2


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":1,"b":[true,null]}',
        b'{\n  "id": "x",\n  "n": 1\n}\n',
        b'{"a": 1, "b": "\\u00e9"}',
        b'data: {"x":1}\n\ndata: [DONE]\n\n',
        b'event: message_start\ndata: {"type":"message_start"}\n\n',
        b"plain text",
        b"\x89PNG\r\n\x1a\n\x00",
        b'{"spacing" :  "odd"}',
    ],
)
def test_response_bodies_round_trip_byte_for_byte(raw: bytes) -> None:
    stored = bodies.encode(raw, "")
    assert bodies.decode(json.loads(json.dumps(stored))) == raw


def test_json_and_sse_are_stored_parsed() -> None:
    assert bodies.encode(b'{"a":1}', "application/json") == {"json": {"a": 1}, "style": "compact"}
    stored = bodies.encode(b'data: {"x":1}\n\ndata: [DONE]\n\n', "text/event-stream")
    assert stored == {"sse": [{"data": {"x": 1}}, {"data": "[DONE]"}]}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
)


@given(JSON)
def test_any_json_round_trips(value: object) -> None:
    raw = json.dumps(value, indent=2).encode()
    assert bodies.decode(bodies.encode(raw, "application/json")) == raw


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\r\n"), min_size=1), min_size=1))
def test_sse_parse_render_is_lossless_or_declines(lines: list[str]) -> None:
    text = "".join(f"data: {line}\n\n" for line in lines)
    events = sse.parse(text)
    assert events is None or sse.render(events) == text
