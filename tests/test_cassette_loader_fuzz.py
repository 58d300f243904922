"""Fuzzing the cassette loader: whatever the file holds, only CassetteFormatError ever escapes.

Documents start valid (every body form the recorder writes) and get up to three mutations: a
field replaced by any JSON value, a key deleted, raw text JSON parsers choke on spliced in
(nesting thousands deep, a 5000-digit integer, a lone surrogate, NaN), or the file cut short or
made binary. A document that loads must then be usable all the way: every interaction matches
its own request, its answer replays, a miss is explained, and it saves and reloads unchanged.
"""

from __future__ import annotations

import base64
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pytest_agentops.cassette.errors import CassetteFormatError
from pytest_agentops.cassette.format import Cassette, request_value
from pytest_agentops.cassette.matching import explain, request_key
from pytest_agentops.tap.routing import _replay

_EVIL = "@@evil@@"
RAW = [
    "[" * 3000 + "]" * 3000,
    '{"a":' * 150 + "1" + "}" * 150,
    "[" * 99 + "]" * 99,
    "9" * 5000,
    "1e999",
    "-Infinity",
    "NaN",
    '"\\udc80"',
    '"\\ud83d\\ude00"',  # a valid pair: fine
    "true",
    '{"json": null}',
]

text = st.text(max_size=8) | st.sampled_from(["\ud800", "a\udfffb", "é", ""])
leaf = st.none() | st.booleans() | st.integers() | st.floats() | text
json_values = st.recursive(
    leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=8
)
headers = st.dictionaries(
    st.sampled_from(["content-type", "x-a", "set-cookie"]), st.text(max_size=5) | st.lists(st.text(max_size=3))
)
b64 = st.binary(max_size=12).map(lambda raw: base64.b64encode(raw).decode())
request_body = st.one_of(
    st.none(),
    st.builds(lambda v: {"json": v}, json_values),
    st.builds(lambda pairs: {"form": pairs}, st.lists(st.lists(st.text(max_size=3), min_size=2, max_size=2))),
    st.builds(lambda v: {"text": v}, st.text(max_size=10)),
    st.builds(lambda v: {"base64": v}, b64),
    st.builds(lambda: {"sha256": "00ff"}),  # a new dict each time: mutations edit documents in place
)
sse_event = st.fixed_dictionaries(
    {}, optional={"event": st.text(max_size=4), "id": st.text(max_size=3), "data": json_values}
)
response_body = st.one_of(
    st.none(),
    st.builds(
        lambda v, style: {"json": v, "style": style},
        json_values,
        st.sampled_from(["compact", "spaced", "indent2", "indent2+ascii+nl", "odd"]),
    ),
    st.builds(lambda events: {"sse": events}, st.lists(sse_event, max_size=3)),
    st.builds(lambda v: {"text": v}, st.text(max_size=10)),
    st.builds(lambda v: {"base64": v}, b64),
)
interaction = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["model", "tool"]),
        "request": st.fixed_dictionaries(
            {
                "method": st.sampled_from(["GET", "POST", "delete"]),
                "url": st.sampled_from(["https://api.openai.com/v1/responses", "http://127.0.0.1:8080/x?b=2&a=1"]),
                "headers": headers,
                "body": request_body,
            }
        ),
        "response": st.fixed_dictionaries(
            {"status": st.integers(100, 599), "reason": st.text(max_size=4), "headers": headers, "body": response_body}
        ),
    }
)
documents = st.fixed_dictionaries(
    {
        "version": st.just(1),
        "meta": st.fixed_dictionaries({}, optional={"models": st.lists(st.text(max_size=4)), "session": text}),
        "interactions": st.lists(interaction, max_size=3),
    }
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*prefix, i))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid document with up to three faults, as the bytes of a file."""
    doc = draw(documents)
    raw: list[str] = []
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        if not path:
            continue
        *parents, last = path
        target: Any = doc
        for part in parents:
            target = target[part]
        action = draw(st.sampled_from(["replace", "delete", "raw"]))
        if action == "delete":
            del target[last]
        elif action == "raw":
            raw.append(draw(st.sampled_from(RAW)))
            target[last] = _EVIL
        else:
            target[last] = draw(json_values)
    text = json.dumps(doc, ensure_ascii=True)
    for snippet in raw:
        text = text.replace(json.dumps(_EVIL), snippet, 1)
    data = text.encode()
    cut = draw(st.sampled_from(["none", "none", "none", "truncate", "binary"]))
    if cut == "truncate":
        return data[: draw(st.integers(0, max(0, len(data) - 1)))]
    if cut == "binary":
        return data[: len(data) // 2] + draw(st.binary(min_size=1, max_size=6)) + data[len(data) // 2 :]
    return data


def _exercise(cassette: Cassette, folder: Path) -> None:
    """Everything replay and recording do with a loaded cassette."""
    recorded = []
    for i, item in enumerate(cassette.interactions):
        request = item["request"]
        body = request_value(request.get("body"))
        recorded.append((i, request["method"], request["url"], body))
        assert cassette.take(request_key(request["method"], request["url"], body, cassette.config)) is not None
        reply, headers = _replay(item)
        assert isinstance(reply["body"]["string"], bytes)
        names = [name for name, values in reply["headers"].items() for _ in values]
        for (raw, _), name in zip(headers.pairs, names, strict=True):  # latin-1, else UTF-8 (hand-written)
            assert name in (raw.decode("latin-1"), raw.decode("utf-8"))
    cassette.origins()
    explain("PUT", "http://elsewhere.invalid/", {"q": [1]}, recorded, cassette.config)
    copy = Cassette(folder / "copy.json")
    for item in cassette.interactions:
        copy.add(item)
    copy.save()
    again = Cassette.load(folder / "copy.json")
    assert json.dumps(again.interactions) == json.dumps(cassette.interactions)


NULL_HEADERS = json.dumps(
    {
        "version": 1,
        "meta": {"models": []},
        "interactions": [
            {
                "kind": "model",
                "response": {"status": 100, "reason": "", "headers": None, "body": None},
                "request": {"method": "GET", "url": "https://api.openai.com/v1/responses", "headers": {}, "body": None},
            }
        ],
    }
).encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated())
@example(data=NULL_HEADERS)  # found by this test: the loader took null headers and replay then crashed
def test_only_cassette_format_error_escapes_the_loader(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzzed.json"
        path.write_bytes(data)
        try:
            cassette = Cassette.load(path)
        except CassetteFormatError as exc:
            assert str(exc).startswith(f"cassette {path}: ")
            assert path.read_bytes() == data  # the failed load left the file alone
            return
        _exercise(cassette, Path(tmp))


@settings(max_examples=100, deadline=None)
@given(doc=documents)
def test_valid_documents_load_and_replay(doc: dict[str, Any]) -> None:
    """The generator's unmutated documents are valid: the property above is not vacuous."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.json"
        path.write_text(json.dumps(doc))
        try:
            cassette = Cassette.load(path)
        except CassetteFormatError as exc:
            assert "not valid Unicode" in str(exc)  # the only fault a fresh document may carry
            return
        assert len(cassette) == len(doc["interactions"])
        _exercise(cassette, Path(tmp))
