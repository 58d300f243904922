"""A lighter request for vcrpy's httpx/httpx2 stubs: the tap needs four fields, not vcr's Request.

vcr's ``Request`` copies the headers into a case-insensitive ``HeadersDict`` whose update looks
every name up again in the client's ``Headers`` (quadratic in the header count): about a quarter
of the tap's cost per replayed request. The stubs build it in one module-level function, which
``intercept`` swaps for :func:`make_httpx_request` while a tap is open.
"""

from __future__ import annotations

from typing import Any


class TappedRequest:
    """A request as vcr's stubs pass it to the tap (its cassette): method, URL, headers, body."""

    __slots__ = ("_agentops_decision", "body", "headers", "method", "uri")

    def __init__(self, method: str, uri: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.uri = uri
        self.headers = headers  # lower-cased names; repeated headers joined with ", "
        self.body = body
        self._agentops_decision: Any = None

    def __str__(self) -> str:  # vcr logs the request it sends to the network
        return f"<Request ({self.method}) {self.uri}>"

    __repr__ = __str__


def make_httpx_request(real_request: Any, real_request_body: bytes) -> TappedRequest:
    """Stands in for ``vcr.stubs.httpx_stubs._make_vcr_request`` (same signature, httpx and httpx2)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in real_request.headers.raw:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return TappedRequest(real_request.method, str(real_request.url), headers, real_request_body)


def httpx_patches() -> tuple[tuple[Any, str, Any], ...]:
    """vcr ``custom_patches`` triples installing :func:`make_httpx_request` (none if vcr changed)."""
    try:
        from vcr.stubs import httpx_stubs
    except ImportError:  # vcr without its httpx stubs: nothing to speed up
        return ()
    if not callable(getattr(httpx_stubs, "_make_vcr_request", None)):
        return ()
    return ((httpx_stubs, "_make_vcr_request", make_httpx_request),)
