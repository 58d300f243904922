"""The replay fast paths give exactly what the general code gives: bytes, keys, parsed bodies."""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_agentops.cassette import body as bodies
from pytest_agentops.cassette import jsontext
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
    assert jsontext.dumps_indent2(value, ascii_only) == json.dumps(value, indent=2, ensure_ascii=ascii_only)


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
            assert jsontext.dumps_indent2(value, ascii_only) == json.dumps(value, indent=2, ensure_ascii=ascii_only)


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


def test_observer_and_boundary_build_the_same_request() -> None:
    """The httpx request seen above the transport and the httpcore request seen at the pool are one request.

    The boundary finds the observer's request object by method and URL; headers and body must agree
    too, or a replay matched at one layer would miss at the other.
    """
    import httpx
    import httpx2

    from pytest_agentops.tap import core, observe
    from pytest_agentops.tap.claim import plain_url

    for module in (httpx, httpx2):
        real = module.Request(
            "POST",
            "https://api.example.com:443/v1/x?q=1",
            headers=[("X-Multi", "a"), ("x-multi", "b"), ("Content-Type", "application/json")],
            content=b'{"a": 1}',
        )
        above = observe._httpx_live(real, real.read(), module.__name__)
        pool = httpx.HTTPTransport() if module is httpx else httpx2.HTTPTransport()
        seen: list[Any] = []

        def capture(self: Any, request: Any, seen: list[Any] = seen) -> Any:
            seen.append(request)
            raise RuntimeError("captured")

        pool_cls = type(pool._pool)
        original = pool_cls.handle_request
        pool_cls.handle_request = capture
        try:
            with pytest.raises(RuntimeError, match="captured"):
                pool.handle_request(real)
        finally:
            pool_cls.handle_request = original
        method, url = core._target(seen[0])
        below = core._new_live(seen[0], method, url, b"".join(seen[0].stream))
        assert (below.method, below.body) == (above.method, above.body)
        assert plain_url(below.url) == plain_url(above.url), (below.url, above.url)
        assert below.headers == above.headers
        assert below.headers["x-multi"] == "a, b"


def test_interception_starts_once_and_never_takes_vcrs_httpx_stub(tmp_path: Path) -> None:
    """The patches start with the first tap, stay for nested taps and stop with the last.

    vcrpy's own httpx patches are never installed by us (our httpx boundary is httpcore's pool), so a
    pytest-recording cassette opened inside a test finds httpx exactly as without the plugin.
    """
    import httpcore
    import httpx2
    from vcr.stubs import httpx_stubs

    from pytest_agentops.tap import install
    from pytest_agentops.tap.opener import open_tap
    from pytest_agentops.tap.settings import Settings
    from pytest_agentops.trace.run import Run

    before = (httpcore.ConnectionPool.handle_request, httpx2.HTTPTransport.handle_request)
    vcr_request = httpx_stubs._make_vcr_request
    already = install.installed()
    with open_tap(Settings(), Run("outer"), tmp_path / "a.json") as outer:
        assert install.installed()
        patched = httpcore.ConnectionPool.handle_request
        assert already or patched is not before[0]
        with open_tap(Settings(), Run("inner"), tmp_path / "b.json") as inner:
            assert httpcore.ConnectionPool.handle_request is patched  # nested: nothing patched again
            inner.mount("https://svc.test", lambda live: (200, {"content-type": "text/plain"}, live.body))
            assert httpx2.Client().post("https://svc.test/echo", content=b"hi").content == b"hi"
        assert [e.backend for e in inner.run.events] == ["simulator"] and not outer.run.events
        assert httpx2.HTTPTransport.handle_request is before[1]  # vcr's httpx2 transport stub: never ours
        assert httpx_stubs._make_vcr_request is vcr_request
    assert install.installed() == already
    if not already:
        assert httpcore.ConnectionPool.handle_request is before[0]


LATE_IMPORT = """
import sys

import vcr.patch  # imports httpx, which imports httpcore only when a transport is built

from pytest_agentops.tap import install

assert "httpcore" not in sys.modules
install.acquire()
assert "httpcore" not in sys.modules, "the interception imported httpcore itself"
import httpcore

patched = httpcore.ConnectionPool.handle_request
assert hasattr(patched, "__wrapped__"), "httpcore imported after the start is not patched"
install.release()
assert not hasattr(httpcore.ConnectionPool.handle_request, "__wrapped__"), "release left the patch"
print("ok")
"""


def test_a_client_imported_after_the_start_is_patched_on_import() -> None:
    """httpcore is patched when httpx first imports it, not imported up front by the interception."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", LATE_IMPORT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


REIMPORT = """
import sys

import vcr.patch

from pytest_agentops.tap import install

install.acquire()
import httpcore

first = httpcore.ConnectionPool
for name in [m for m in sys.modules if m == "httpcore" or m.startswith("httpcore.")]:
    del sys.modules[name]  # what pytester does after an in-process session that imported it
import httpcore

assert httpcore.ConnectionPool is not first
assert hasattr(httpcore.ConnectionPool.handle_request, "__wrapped__"), "a fresh import is not patched"
install.release()
assert not hasattr(httpcore.ConnectionPool.handle_request, "__wrapped__")
print("ok")
"""


def test_a_client_imported_afresh_is_patched_again() -> None:
    """pytester restores ``sys.modules`` after an in-process session: the next import is a new module."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", REIMPORT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_a_replayed_answer_gives_the_model_call_its_bytes_give(tmp_path: Path) -> None:
    """The event reads the stored parsed answer (not its bytes again): same call, and editing the
    call's tool arguments leaves the cassette's answer as recorded."""
    import httpx2

    from pytest_agentops.tap.opener import open_tap
    from pytest_agentops.tap.settings import Settings
    from pytest_agentops.trace import providers
    from pytest_agentops.trace.run import Run

    url = "https://api.anthropic.com/v1/messages"
    request = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "weather?"}]}
    answer = {
        "id": "msg_1",
        "type": "message",
        "model": "claude-x",
        "content": [{"type": "tool_use", "id": "tu_1", "name": "weather", "input": {"city": "Paris"}}],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 7, "output_tokens": 3},
    }
    interaction = {
        "kind": "model",
        "request": {"method": "POST", "url": url, "body": {"json": request}},
        "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": {"json": answer}},
    }
    path = tmp_path / "c.json"
    path.write_text(dump({"version": FORMAT_VERSION, "meta": {}, "interactions": [interaction]}))
    run = Run("t")
    sent = json.dumps(request, separators=(",", ":")).encode()
    with open_tap(Settings(), run, path) as tap:
        response = httpx2.Client().post(url, content=sent, headers={"content-type": "application/json"})
        stored = tap.cassette.interactions[0]["response"]["body"]["json"]
    assert response.content == bodies.decode({"json": answer})
    [event] = run.events
    assert event.backend == "cassette" and event.model_call is not None
    from_bytes = providers.parse_model_call("POST", url, sent, 200, {}, response.content)
    assert event.model_call == from_bytes
    assert event.model_call.tool_calls[0].arguments == {"city": "Paris"}
    event.model_call.tool_calls[0].arguments["city"] = "edited"
    assert stored["content"][0]["input"] == {"city": "Paris"}


def test_take_exact_keeps_recorded_order_per_request_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Served by position only where that is the key's order: a lone request computes no key; two
    spellings of one request (key order differs, and request_id is ignored) share the key's order."""
    from pytest_agentops.cassette import format as cassette_format

    url = "https://api.openai.com/v1/chat/completions"
    first, second = {"model": "m", "n": 1}, {"n": 1, "model": "m", "request_id": "r"}
    sent = [json.dumps(v, separators=(",", ":")).encode() for v in (first, second)]
    computed: list[str] = []
    real_key = cassette_format.request_key
    monkeypatch.setattr(cassette_format, "request_key", lambda *a: computed.append("key") or real_key(*a))

    lone = _cassette(tmp_path, [{"json": first}, {"json": first}])
    found = [lone.take_exact("POST", url, sent[0]) for _ in range(3)]
    assert [f[0]["response"]["body"]["json"]["n"] if f else None for f in found] == [0, 1, None]
    assert computed == [] and lone.played == {0, 1}

    shared = _cassette(tmp_path, [{"json": first}, {"json": second}])
    order = [shared.take_exact("POST", url, sent[1]), shared.take_exact("POST", url, sent[0])]
    assert [f[0]["response"]["body"]["json"]["n"] if f else None for f in order] == [0, 1]  # the key's order
    assert computed  # a shared bucket goes through the keys

    # Keys needed after a positional take (another spelling): what was played stays played.
    mixed = _cassette(tmp_path, [{"json": first}, {"json": first}])
    assert mixed.take_exact("POST", url, sent[0]) is not None
    taken = mixed.take(request_key("POST", url, first, mixed.config))
    assert taken is not None and taken["response"]["body"]["json"]["n"] == 1
    assert mixed.take_exact("POST", url, sent[0]) is None


def test_take_exact_in_a_shared_bucket_computes_only_the_keys_it_must(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests to one URL (every chat completion) replay by position when no other recording can
    share their key: a different canonical shape needs no key; an equal shape (the same bytes in
    another order) of an unequal body needs none either when both keys are their bodies' values
    (nothing ignored, no placeholder); else the mates' keys are computed, and equal keys keep the
    key's recorded order."""
    from pytest_agentops.cassette import format as cassette_format

    url = "https://api.openai.com/v1/chat/completions"
    computed: list[Any] = []
    real_key = cassette_format.request_key
    monkeypatch.setattr(cassette_format, "request_key", lambda *a: computed.append(a[2]) or real_key(*a))

    def send(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()

    turns = [{"model": "m", "messages": ["hi" * i]} for i in range(1, 4)]  # three shapes
    distinct = _cassette(tmp_path, [{"json": t} for t in turns])
    answers = [distinct.take_exact("POST", url, send(t)) for t in reversed(turns)]
    assert [a[0]["response"]["body"]["json"]["n"] if a else None for a in answers] == [2, 1, 0]
    assert computed == [] and distinct._index is None

    ab, ba = {"model": "m", "messages": ["ab"]}, {"model": "m", "messages": ["ba"]}  # one shape, two keys
    anagrams = _cassette(tmp_path, [{"json": ab}, {"json": ba}, {"json": {"model": "m", "messages": []}}])
    assert anagrams.take_exact("POST", url, send(ba)) is not None
    assert computed == [] and anagrams._index is None  # unequal values: unequal keys

    ignored = {"model": "m", "messages": ["ba"], "request_id": "ab"}  # its key is not its value
    ab_long = {"model": "m", "messages": ["ab"], "request_id": "ba"}
    mixed = _cassette(tmp_path, [{"json": ab_long}, {"json": ignored}, {"json": {"model": "m", "messages": []}}])
    assert mixed.take_exact("POST", url, send(ab_long)) is not None
    assert sorted(map(json.dumps, computed)) == sorted(map(json.dumps, [ab_long, ignored]))  # only the two mates
    assert mixed._index is None  # still by position: the keys differ

    computed.clear()
    first, second = {"model": "m", "n": 1}, {"n": 1, "model": "m"}  # one key, two spellings
    spellings = _cassette(tmp_path, [{"json": first}, {"json": {"model": "x"}}, {"json": second}])
    order = [spellings.take_exact("POST", url, send(second)), spellings.take_exact("POST", url, send(first))]
    assert [a[0]["response"]["body"]["json"]["n"] if a else None for a in order] == [0, 2]  # the key's order
    assert spellings._index is not None


# Bodies built to collide: equal keys in two spellings, equal shapes under different keys (anagrams),
# an ignored field, and a placeholder whose hash a key drops.
_COLLIDING = [
    {"model": "m", "messages": ["ab"]},
    {"messages": ["ab"], "model": "m"},
    {"model": "m", "messages": ["ba"]},
    {"model": "m", "messages": ["ab"], "request_id": "r1"},
    {"model": "m", "messages": ["<redacted:api_key:1a2b3c4d>"]},
    {"model": "m", "messages": ["<redacted:api_key:9f8e7d6c>"]},
    {"model": "m", "messages": ["a"]},
]


@settings(max_examples=200, deadline=None)
@given(
    recorded=st.lists(st.sampled_from(range(len(_COLLIDING))), min_size=1, max_size=8),
    sent=st.lists(st.sampled_from(range(len(_COLLIDING))), max_size=10),
)
def test_take_exact_answers_what_the_key_answers(recorded: list[int], sent: list[int]) -> None:
    """Whatever it serves by position, ``take_exact`` gives the answers ``take`` gives by request key,
    in the same order, however the recordings share buckets, shapes and keys."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        fast = _cassette(Path(tmp), [{"json": _COLLIDING[i]} for i in recorded])
        slow = Cassette.load(fast.path, MatchConfig())
    url = "https://api.openai.com/v1/chat/completions"
    for i in sent:
        body = json.dumps(_COLLIDING[i], separators=(",", ":")).encode()
        exact = fast.take_exact("POST", url, body)
        by_key = slow.take(request_key("POST", url, _COLLIDING[i], slow.config))
        # None: not sent as any recorded bytes, or none left: the key may still answer.
        answer = exact[0] if exact is not None else fast.take(request_key("POST", url, _COLLIDING[i], fast.config))
        assert answer == by_key
    assert fast.played == slow.played


def test_a_replayed_header_beyond_latin_1_reaches_the_client_as_utf_8(tmp_path: Path) -> None:
    """A hand-written cassette may hold a header value no server sends as latin-1: the client gets
    its UTF-8 bytes (not a UnicodeEncodeError from inside the transport); a latin-1 one its latin-1."""
    import httpx2

    from pytest_agentops.tap.opener import open_tap
    from pytest_agentops.tap.settings import Settings
    from pytest_agentops.trace.run import Run

    url = "https://api.example.com/v1/notes"
    interaction = {
        "kind": "tool",
        "request": {"method": "GET", "url": url, "body": None},
        "response": {"status": 200, "headers": {"x-note": "\u20acuro", "x-plain": "caf\u00e9"}, "body": {"text": "ok"}},
    }
    path = tmp_path / "c.json"
    path.write_text(dump({"version": FORMAT_VERSION, "meta": {}, "interactions": [interaction]}))
    run = Run("t")
    with open_tap(Settings(), run, path):
        response = httpx2.Client().get(url)
    assert response.text == "ok"
    raw = dict(response.headers.raw)
    assert raw[b"x-note"] == "\u20acuro".encode() and raw[b"x-plain"] == "caf\u00e9".encode("latin-1")
    assert [e.backend for e in run.events] == ["cassette"]


def test_any_reply_with_a_header_beyond_latin_1_goes_out_as_its_utf_8_bytes() -> None:
    """One rule for every reply's wire headers (a backend's answer, not only a replayed one)."""
    from pytest_agentops.tap.core import answer_parts

    reply = {"status": {"code": 200, "message": ""}, "headers": {"x-note": ["\u20acuro"], "x-a": ["caf\u00e9"]}}
    _, pairs, _, _ = answer_parts({**reply, "body": {"string": b"ok"}})
    assert pairs == [(b"x-note", "\u20acuro".encode()), (b"x-a", "caf\u00e9".encode("latin-1"))]
