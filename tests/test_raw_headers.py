"""``tap.request.raw_headers``: the one conversion of a client's raw header pairs (httpx's observer
and the httpcore patch share it): names lower-cased, latin-1, repeats joined by ", " in order."""

from __future__ import annotations

from pytest_agentops.tap.request import raw_headers


def test_raw_header_pairs_become_one_dict() -> None:
    assert raw_headers([]) == {}
    assert raw_headers([(b"Content-Type", b"application/json"), (b"X-Token", b"a")]) == {
        "content-type": "application/json",
        "x-token": "a",
    }
    assert raw_headers([(b"Accept", b"a"), (b"accept", b"b"), (b"ACCEPT", b"c")]) == {"accept": "a, b, c"}
    assert raw_headers([(b"X-\xc9", b"\xe9")]) == {"x-\xe9": "\xe9"}


def test_a_request_of_raw_pairs_decodes_them_when_first_read() -> None:
    from pytest_agentops.tap.request import LiveRequest, RawLiveRequest

    pairs = [(b"Accept", b"a"), (b"X-Token", b"t")]
    live = RawLiveRequest("POST", "https://api.example.com/", pairs, b"")
    assert isinstance(live, LiveRequest)
    pairs.append((b"X-Later", b"l"))  # nothing decoded them yet: they are read when first asked for
    assert live.headers == {"accept": "a", "x-token": "t", "x-later": "l"}
    assert live.headers is live.headers  # decoded once
    live.headers = {"content-type": "application/json"}
    assert live.headers == {"content-type": "application/json"}
