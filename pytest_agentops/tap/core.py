"""The network boundary of httpx and httpx2: their connection pools (httpcore, httpcore2).

Everything a test can put in front of the network sits above this point and so answers first:
respx (which patches these same methods, after us, and calls us on ``pass_through``), httpx's
``MockTransport``, ``ASGITransport`` and ``WSGITransport``, any custom transport that opens no
socket, pytest-httpx and pytest-recording. Only a request that would really leave the process
reaches the tap here.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pytest_agentops.tap import streams
from pytest_agentops.tap.claim import claimed, decided

if TYPE_CHECKING:  # loaded by the first request (most tests of a suite make none)
    from pytest_agentops.tap.request import ReplyHeaders
    from pytest_agentops.tap.routing import Decision, LiveRequest

_DEFAULT_PORTS = {b"http": 80, b"https": 443}


LIBRARIES = ("httpcore", "httpcore2")
# The pool methods of ours installed now or before (``tap.transport`` asks whether a pool runs one).
BOUNDARIES: weakref.WeakSet[Callable[..., Any]] = weakref.WeakSet()


def patchers(core: ModuleType) -> Iterator[Any]:
    """``mock.patch`` objects for one httpcore flavour's connection pools (not started)."""
    from unittest import mock

    sync_original = core.ConnectionPool.handle_request
    async_original = core.AsyncConnectionPool.handle_async_request
    yield mock.patch.object(core.ConnectionPool, "handle_request", _sync(core, sync_original))
    yield mock.patch.object(core.AsyncConnectionPool, "handle_async_request", _async(core, async_original))


def _url(request: Any) -> str:
    url = request.url
    scheme, host = url.scheme.decode("ascii"), url.host.decode("ascii")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = "" if url.port in (None, _DEFAULT_PORTS.get(url.scheme)) else f":{url.port}"
    return f"{scheme}://{host}{port}{url.target.decode('latin-1')}"


def _target(request: Any) -> tuple[str, str]:
    return request.method.decode("ascii").upper(), _url(request)


def _new_live(request: Any, method: str, url: str, body: bytes) -> LiveRequest:
    """A request no observer of ours claimed (a client with no observer, or httpcore used directly)."""
    from pytest_agentops.tap.request import RawLiveRequest
    from pytest_agentops.trace import providers

    live = RawLiveRequest(method, url, list(request.headers), body)
    live.kind = "model" if providers.detect_provider(method, url) else "tool"
    return live


def answer_parts(
    reply: dict[str, Any], built: ReplyHeaders | None = None
) -> tuple[int, list[tuple[bytes, bytes]], bytes, dict[str, Any]]:
    """Status, raw headers, body and extensions of a vcr-shaped reply, as httpcore and httpx take
    them; ``built``: its headers' wire form, when it was built with the reply (``Decision.headers``)."""
    body = reply["body"]["string"] or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = built.pairs if built is not None else _pairs(reply["headers"])
    reason = str(reply["status"].get("message") or "").encode("latin-1")
    return int(reply["status"]["code"]), headers, body, {"http_version": b"HTTP/1.1", "reason_phrase": reason}


def _pairs(headers: dict[str, list[str]]) -> list[tuple[bytes, bytes]]:
    try:
        return [(k.encode("latin-1"), str(v).encode("latin-1")) for k, vs in headers.items() for v in vs]
    except UnicodeEncodeError:  # (beyond latin-1: the rule lives with the replayed answers' pairs)
        from pytest_agentops.tap.replies import wire_pairs

        return wire_pairs(headers)


def _response(core: ModuleType, reply: dict[str, Any], built: ReplyHeaders | None = None) -> Any:
    status, headers, body, extensions = answer_parts(reply, built)
    return core.Response(status, headers=headers, content=body, extensions=extensions)


def _recorded(response: Any, body: bytes) -> dict[str, Any]:
    headers: dict[str, list[str]] = {}
    for name, value in response.headers:
        headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    reason = response.extensions.get("reason_phrase", b"")
    reason = reason.decode("latin-1") if isinstance(reason, bytes) else str(reason)
    return {"status": {"code": response.status, "message": reason}, "headers": headers, "body": {"string": body}}


def _tap(method: str, url: str) -> Any:
    from pytest_agentops.tap.current import tap_for

    return tap_for(method, url)


def _failed(tap: Any, decision: Decision, exc: Exception) -> None:
    """The network failed a request being recorded: the test fails naming it (nothing to save)."""
    if decision.traced and decision.record:
        tap.upstream_failed(decision.live, f"unreachable ({type(exc).__name__}: {exc})", exc)


def _sync(core: ModuleType, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)  # respx checks the name and reads the signature of what it patches
    def handle_request(self: Any, request: Any) -> Any:
        method, url = _target(request)
        tap = _tap(method, url)
        if tap is None:
            return original(self, request)
        live = claimed(method, url) or _new_live(request, method, url, _read_sync(request))
        decision: Decision = decided(live) or tap.decide(live)
        if decision.reply is not None:
            tap.answer(decision, decision.reply)
            return _response(core, decision.reply, decision.headers)
        try:
            response = original(self, request)
        except Exception as exc:
            _failed(tap, decision, exc)
            raise
        if not decision.traced:
            return response
        if streams.streams(live, response):
            return streams.passed_on(core, live, response, lambda body: tap.answer(decision, _recorded(response, body)))
        try:
            body = response.read()
        finally:
            response.close()
        reply = _recorded(response, body)
        tap.answer(decision, reply)
        return _response(core, reply)

    BOUNDARIES.add(handle_request)
    return handle_request


def _async(core: ModuleType, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def handle_async_request(self: Any, request: Any) -> Any:
        method, url = _target(request)
        tap = _tap(method, url)
        if tap is None:
            return await original(self, request)
        live = claimed(method, url) or _new_live(request, method, url, await _read_async(request))
        decision: Decision = decided(live) or tap.decide(live)
        if decision.reply is not None:
            tap.answer(decision, decision.reply)
            return _response(core, decision.reply, decision.headers)
        try:
            response = await original(self, request)
        except Exception as exc:
            _failed(tap, decision, exc)
            raise
        if not decision.traced:
            return response
        if streams.streams(live, response):
            return streams.passed_on(core, live, response, lambda body: tap.answer(decision, _recorded(response, body)))
        try:
            data = await response.aread()
        finally:
            await response.aclose()
        reply = _recorded(response, data)
        tap.answer(decision, reply)
        return _response(core, reply)

    BOUNDARIES.add(handle_async_request)
    return handle_async_request


def _read_sync(request: Any) -> bytes:
    body = b"".join(request.stream)
    request.stream = _Bytes(body)
    return body


async def _read_async(request: Any) -> bytes:
    body = b"".join([part async for part in request.stream])
    request.stream = _Bytes(body)
    return body


class _Bytes:
    """A request body that can be read again, sync or async (httpcore keeps its ByteStream private)."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def __iter__(self) -> Iterator[bytes]:
        yield self._content

    async def __aiter__(self) -> Any:
        yield self._content
