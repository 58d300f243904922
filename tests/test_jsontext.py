"""``cassette.jsontext.dumps`` is json.dumps's exact text or None, never other bytes: replay is byte
for byte, and the cassette index keys requests by the bytes httpx sends."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pytest_agentops.cassette import body, jsontext
from pytest_agentops.cassette.format import Cassette

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too
    | st.floats()  # NaN, the infinities, subnormals, -0.0
    | st.text()  # lone surrogates, control characters, non-ASCII
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=25
)
CONTAINERS = st.one_of(st.lists(VALUES, max_size=4), st.dictionaries(st.text(), VALUES, max_size=4))


def stdlib(value: Any, indent2: bool, ascii_only: bool) -> bytes | None:
    try:
        if indent2:
            return json.dumps(value, indent=2, ensure_ascii=ascii_only).encode("utf-8")
        return json.dumps(value, separators=(",", ":"), ensure_ascii=ascii_only).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 text at all
        return None


@settings(max_examples=400, deadline=None)
@given(value=CONTAINERS, indent2=st.booleans(), ascii_only=st.booleans())
@example(value=[{"\x7f": None}], indent2=False, ascii_only=True)  # DEL: ASCII, yet ensure_ascii escapes it
def test_the_fast_text_is_json_dumps_text_or_nothing(value: Any, indent2: bool, ascii_only: bool) -> None:
    fast = jsontext.fast(value, indent2=indent2, ascii_only=ascii_only)
    expected = stdlib(value, indent2, ascii_only)
    if fast is not None:
        assert fast == expected
    if expected is not None:  # and whichever way it goes, dumps writes json.dumps's bytes
        assert jsontext.dumps(value, indent2=indent2, ascii_only=ascii_only) == expected


@pytest.mark.parametrize(
    "value",
    [
        [1e-07],
        [2.5e-05],
        {"x": float("nan")},
        [float("inf"), None],
        [-math.inf],
        [2**64],
        [-(2**63) - 1],
        {"\ud800": 1},
        ["\udfff"],
    ],
    ids=["1e-07", "2.5e-05", "nan", "inf", "-inf", "2**64", "below int64", "surrogate key", "surrogate"],
)
def test_what_orjson_writes_otherwise_falls_back(value: Any) -> None:
    """The cases orjson writes differently or cannot write: the caller writes them with json."""
    assert jsontext.fast(value) is None
    assert jsontext.fast(value, indent2=True) is None


def test_a_recorded_chat_completion_takes_the_fast_path() -> None:
    """Model answers are where the time goes: they must not fall back (ints, strings, nulls, 0.5)."""
    answer = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1765100000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Bonjour, ça va ?", "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17, "temperature": 0.5},
        "service_tier": "default",
    }
    for indent2 in (False, True):
        fast = jsontext.fast(answer, indent2=indent2)
        assert fast is not None
        assert fast == stdlib(answer, indent2, False)
    assert jsontext.fast(answer, ascii_only=True) is None  # "ça": json.dumps would escape it


@pytest.mark.parametrize("style", ["indent2", "indent2+nl", "compact", "compact+ascii", "spaced", "indent2+ascii+nl"])
def test_replayed_bytes_are_the_recorded_bytes(style: str) -> None:
    """``body.decode`` (the fast path or not) writes back exactly what ``body.encode`` stored."""
    value = {"a": [1, 2.5, None, True], "b": {"c": 'é\n\t"', "d": 1e-09}, "e": []}
    base, *flags = style.split("+")
    kwargs: dict[str, Any] = {"indent": 2} if base == "indent2" else {}
    if base == "compact":
        kwargs["separators"] = (",", ":")
    raw = (json.dumps(value, ensure_ascii="ascii" in flags, **kwargs) + ("\n" if "nl" in flags else "")).encode()
    stored = body.encode(raw, "application/json")
    assert stored is not None and stored.get("style") == style
    assert body.decode(stored) == raw
    stored["json"]["b"].pop("d")  # now with no small float: the fast path when orjson can write it
    expected = json.dumps(stored["json"], ensure_ascii="ascii" in flags, **kwargs) + ("\n" if "nl" in flags else "")
    assert body.decode(stored) == expected.encode()


def test_every_shipped_cassette_replays_the_bytes_json_dumps_writes() -> None:
    """The example and project cassettes, written by real recordings: what replay sends for each
    JSON answer is json.dumps's text in its recorded style."""
    root = Path(__file__).resolve().parents[1]
    seen = 0
    plain = 0
    for path in sorted([*root.glob("examples/**/cassettes/**/*.json"), *root.glob("cassettes/**/*.json")]):
        cassette = Cassette.load(path)  # as replay reads it: its plain flag lets orjson's text through
        plain += cassette.plain
        for interaction in cassette.interactions:
            stored = interaction["response"].get("body")
            if stored and "json" in stored:
                seen += 1
                assert body.decode(stored) == _stdlib_decode(stored), path
                assert body.decode(stored, plain=cassette.plain) == _stdlib_decode(stored), path
    assert seen > 0 and plain > 0


def _stdlib_decode(stored: dict[str, Any]) -> bytes:
    base, *flags = str(stored.get("style", "compact")).split("+")
    separators = {"indent2": None, "spaced": (", ", ": ")}.get(base, (",", ":"))
    indent = 2 if base == "indent2" else None
    text = json.dumps(stored["json"], indent=indent, separators=separators, ensure_ascii="ascii" in flags)
    return (text + ("\n" if "nl" in flags else "")).encode("utf-8")


def strict(value: Any) -> Any:
    """``value`` with each number tagged by its type and repr: 1 and 1.0, 0.0 and -0.0 differ."""
    if isinstance(value, dict):
        return {key: strict(item) for key, item in value.items()}
    if isinstance(value, list):
        return [strict(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    return (type(value).__name__, repr(value))


@settings(max_examples=400, deadline=None)
@given(value=CONTAINERS, indent2=st.booleans(), ascii_only=st.booleans(), spaced=st.booleans())
def test_what_loads_calls_plain_orjson_writes_as_json_dumps(
    value: Any, indent2: bool, ascii_only: bool, spaced: bool
) -> None:
    """``loads`` reads what json.loads reads; when it says plain, the unchecked orjson text is
    json.dumps's (the cassette loader's promise that replay relies on)."""
    try:
        text = json.dumps(value, indent=2 if spaced else None)
    except ValueError:
        return
    parsed, plain = jsontext.loads(text)
    assert strict(parsed) == strict(json.loads(text))
    expected = stdlib(parsed, indent2, ascii_only)
    if plain and expected is not None:
        assert jsontext.dumps(parsed, indent2=indent2, ascii_only=ascii_only, plain=True) == expected
        fast = jsontext.fast(parsed, indent2=indent2, ascii_only=ascii_only, plain=True)
        assert fast is None or fast == expected


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ('{"a": 1.5, "b": null, "c": 0.0001, "d": -0.0}', True),
        ('{"a": 1e-07}', False),
        ("[2.5e-05]", False),
        ("[NaN]", False),
        ("[-Infinity]", False),
        ("[1e999]", False),  # read as inf
        ("[123456789012345678901234567890]", True),  # an int: orjson refuses it, json writes it
    ],
)
def test_loads_says_which_texts_hold_a_float_orjson_writes_otherwise(text: str, plain: bool) -> None:
    parsed, found = jsontext.loads(text)
    assert found is plain
    assert strict(parsed) == strict(json.loads(text))
    assert jsontext.dumps(parsed, plain=found) == json.dumps(parsed, separators=(",", ":")).encode()


def test_loads_raises_what_json_loads_raises() -> None:
    for bad in ("{", "\ufeff{}", "[1,]"):
        with pytest.raises(json.JSONDecodeError) as ours:
            jsontext.loads(bad)
        with pytest.raises(json.JSONDecodeError) as theirs:
            json.loads(bad)
        assert str(ours.value) == str(theirs.value)


def test_a_cassette_is_plain_only_as_read_from_its_file(tmp_path: Path) -> None:
    """A tiny float in the file, or anything recorded or planted after the load, turns it off."""
    interaction = {
        "request": {"method": "GET", "url": "https://api.example.test/x", "headers": {}, "body": None},
        "response": {"status": 200, "headers": {}, "body": {"json": {"p": 0.5}, "style": "compact"}},
    }
    document = {"version": 1, "meta": {}, "interactions": [interaction]}
    path = tmp_path / "c.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert Cassette.load(path).plain
    path.write_text(json.dumps(document).replace("0.5", "2.5e-05"), encoding="utf-8")
    tiny = Cassette.load(path)
    assert not tiny.plain
    assert body.decode(tiny.interactions[0]["response"]["body"], plain=tiny.plain) == b'{"p":2.5e-05}'
    path.write_text(json.dumps(document), encoding="utf-8")
    planted = Cassette.load(path)
    planted.extend([{**interaction, "response": {**interaction["response"], "body": {"json": [math.nan]}}}])
    assert not planted.plain
    recorded = Cassette.load(path)
    recorded.add(interaction)
    assert not recorded.plain


@pytest.mark.parametrize("plain", [False, True])
def test_del_is_escaped_where_json_dumps_escapes_it(plain: bool) -> None:
    """orjson writes DEL (0x7f) raw; ``ensure_ascii`` escapes it, though it is ASCII."""
    value = {"prompt": "a\x7fb"}
    assert jsontext.fast(value, ascii_only=True, plain=plain) is None
    assert jsontext.dumps(value, ascii_only=True, plain=plain) == json.dumps(value, separators=(",", ":")).encode()
    assert jsontext.fast(value, plain=plain) == json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def test_a_recorded_answer_with_an_escaped_del_replays_its_own_bytes() -> None:
    raw = json.dumps({"choices": [{"text": "a\x7fb"}], "n": [1, 2]}, separators=(",", ":")).encode()
    assert b"\\u007f" in raw
    stored = body.encode(raw, "application/json")
    assert stored is not None and stored.get("style") == "compact+ascii"
    for plain in (False, True):
        assert body.decode(stored, plain=plain) == raw
