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
