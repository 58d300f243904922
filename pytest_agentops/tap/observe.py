"""Observers above the mocks: one request object, one gate, one event, whoever answers.

A mock the test installed (respx, a ``MockTransport``/``ASGITransport``, ``responses``,
requests-mock, pytest-recording) answers below these points and never reaches the network
boundary, so without an observer its requests would be missing from the trace and from the
policy. The observer builds the ``LiveRequest``, asks the gates and leaves it claimed for the
boundary; if no boundary of ours served it, the observer writes the event itself, as backend
``mock`` (or ``vcr`` when a pytest-recording cassette answered).
"""

from __future__ import annotations

import datetime
import functools
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pytest_agentops.tap.claim import claim
from pytest_agentops.tap.current import tap_for
from pytest_agentops.tap.foreign import vcr_owner

if TYPE_CHECKING:  # loaded by the first request (most tests of a suite make none)
    from pytest_agentops.tap.request import RawLiveRequest
    from pytest_agentops.tap.routing import Decision, LiveRequest, Tap


HTTPX_LIBRARIES = ("httpx", "httpx2")  # patched when imported (``httpx_patchers``), not up front


def httpx_patchers(lib: ModuleType) -> Iterator[Any]:
    """``mock.patch`` objects for the observer of one httpx flavour's clients (not started)."""
    from unittest import mock

    for cls, wrap in ((lib.Client, _sync), (lib.AsyncClient, _async)):
        original = getattr(cls, "_send_single_request", None)
        if original is not None:
            yield mock.patch.object(cls, "_send_single_request", wrap(lib, original))
    if hasattr(lib, "HTTPTransport") and hasattr(lib, "ByteStream"):
        from pytest_agentops.tap import transport

        yield from transport.patchers(lib)


def patchers(requests: ModuleType) -> Iterator[Any]:
    """``mock.patch`` objects for the requests observers (not started)."""
    from unittest import mock

    yield mock.patch.object(requests.Session, "send", _requests(requests.Session.send))
    # requests-mock calls the ``Session.send`` it saw at import: imported before us, that was the bare one.
    mocker = sys.modules.get("requests_mock.mocker")
    original = getattr(mocker, "_original_send", None)
    if original is not None and not hasattr(original, "__wrapped__"):
        yield mock.patch.object(mocker, "_original_send", _requests(original))


def _tap(request: Any) -> Tap | None:
    return tap_for(str(request.method).upper(), str(request.url))


@functools.cache
def _builders() -> tuple[type[RawLiveRequest], Callable[[str, str], str | None]]:
    """What builds a ``LiveRequest``, imported by the first request (and not again by every one)."""
    from pytest_agentops.tap.request import RawLiveRequest
    from pytest_agentops.trace.providers import detect_provider

    return RawLiveRequest, detect_provider


def _httpx_live(request: Any, body: bytes, library: str, target: tuple[str, str] | None = None) -> LiveRequest:
    """``target``: the request's (METHOD, URL) when the caller has them already (``str(url)`` builds it)."""
    live_request, detect_provider = _builders()
    method, url = target or (request.method.upper(), str(request.url))
    live = live_request(method, url, request.headers.raw, body)
    live.kind = "model" if detect_provider(method, url) else "tool"
    live.owner = vcr_owner(library)
    return live


def _begin(tap: Tap, live: LiveRequest) -> Decision | None:
    """Gate ``live`` once; a denial decision, or None to send it on (claimed) to the layer below."""
    if live.owner:
        return None  # pytest-recording serves it exactly as without us; only traced
    live.gated = True
    return tap.gate(live)


def _httpx_denial(lib: ModuleType, request: Any, decision: Decision) -> Any:
    assert decision.reply is not None
    reply = decision.reply
    headers = [(k, v) for k, vs in reply["headers"].items() for v in vs]
    response = lib.Response(int(reply["status"]["code"]), headers=headers, content=reply["body"]["string"])
    response.request = request
    response.elapsed = datetime.timedelta(0)
    return response


def _end(tap: Tap, live: LiveRequest, status: int, headers: Any, body: bytes | None) -> None:
    """The layer below answered; if no boundary of ours did (a mock, a vcr cassette), trace it here."""
    if live.done:
        return
    from pytest_agentops.tap.routing import Decision

    reply = {
        "status": {"code": status, "message": ""},
        "headers": {str(k).lower(): [str(v)] for k, v in headers.items()},
        "body": {"string": body or b""},
    }
    tap.answer(Decision(live, "vcr" if live.owner else "mock"), reply)


def _end_httpx(lib: ModuleType, tap: Tap, live: LiveRequest, response: Any) -> None:
    """Trace a mock's httpx answer: now if its body is in memory, else once the client has read it."""
    if live.done:
        return
    if hasattr(response, "_content"):
        _end(tap, live, response.status_code, response.headers, response._content)
        return

    def finish(body: bytes) -> None:
        _end(tap, live, response.status_code, response.headers, body)

    capture = _captures(lib)
    response.stream = (capture[1] if hasattr(response.stream, "__aiter__") else capture[0])(response.stream, finish)
    tap.unfinished.append(response.stream)


@functools.cache
def _captures(lib: ModuleType) -> tuple[type[Any], type[Any]]:
    """Stream wrappers (sync, async) of ``lib``'s own stream types, which its Response insists on."""

    class Capture(lib.SyncByteStream):  # type: ignore[misc,name-defined]
        def __init__(self, stream: Any, finish: Callable[[bytes], None]) -> None:
            self._stream = stream
            self._finish: Callable[[bytes], None] | None = finish
            self._chunks: list[bytes] = []

        def __iter__(self) -> Iterator[bytes]:
            for chunk in self._stream:
                self._chunks.append(chunk)
                yield chunk

        def close(self) -> None:
            self._stream.close()
            self.done()

        def done(self) -> None:
            finish, self._finish = self._finish, None
            if finish is not None:
                finish(b"".join(self._chunks))

    class AsyncCapture(lib.AsyncByteStream):  # type: ignore[misc,name-defined]
        def __init__(self, stream: Any, finish: Callable[[bytes], None]) -> None:
            self._stream = stream
            self._finish: Callable[[bytes], None] | None = finish
            self._chunks: list[bytes] = []

        async def __aiter__(self) -> Any:
            async for chunk in self._stream:
                self._chunks.append(chunk)
                yield chunk

        async def aclose(self) -> None:
            await self._stream.aclose()
            self.done()

        done = Capture.done

    return Capture, AsyncCapture


def _failed(tap: Tap, live: LiveRequest, exc: BaseException) -> None:
    if not live.done:
        tap._record_failure(live, "vcr" if live.owner else "mock", exc)


def _governed(tap: Tap, live: LiveRequest) -> bool:
    return bool(live.owner) or tap.governs(live)


def _sync(lib: ModuleType, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def _send_single_request(self: Any, request: Any) -> Any:
        target = (request.method.upper(), str(request.url))
        tap = tap_for(*target)
        if tap is None:
            return original(self, request)
        live = _httpx_live(request, request.read(), lib.__name__, target)
        if not _governed(tap, live):
            return original(self, request)
        denied = _begin(tap, live)
        if denied is not None:
            tap.answer(denied, denied.reply or {})
            return _httpx_denial(lib, request, denied)
        with claim(live, tap, request):
            try:
                response = original(self, request)
            except BaseException as exc:
                _failed(tap, live, exc)
                raise
        _end_httpx(lib, tap, live, response)
        return response

    return _send_single_request


def _async(lib: ModuleType, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def _send_single_request(self: Any, request: Any) -> Any:
        target = (request.method.upper(), str(request.url))
        tap = tap_for(*target)
        if tap is None:
            return await original(self, request)
        live = _httpx_live(request, await request.aread(), lib.__name__, target)
        if not _governed(tap, live):
            return await original(self, request)
        denied = _begin(tap, live)
        if denied is not None:
            tap.answer(denied, denied.reply or {})
            return _httpx_denial(lib, request, denied)
        with claim(live, tap, request):
            try:
                response = await original(self, request)
            except BaseException as exc:
                _failed(tap, live, exc)
                raise
        _end_httpx(lib, tap, live, response)
        return response

    return _send_single_request


def _requests_live(request: Any) -> LiveRequest:
    from pytest_agentops.tap.routing import LiveRequest, _as_bytes
    from pytest_agentops.trace import providers

    headers = {str(k).lower(): str(v) for k, v in request.headers.items()}
    live = LiveRequest(str(request.method).upper(), str(request.url), headers, _as_bytes(request.body))
    live.kind = "model" if providers.detect_provider(live.method, live.url) else "tool"
    live.owner = vcr_owner("requests")
    return live


def _requests_denial(requests: ModuleType, request: Any, decision: Decision) -> Any:
    import io

    assert decision.reply is not None
    reply = decision.reply
    response = requests.Response()
    response.status_code = int(reply["status"]["code"])
    response.headers.update({k: ", ".join(vs) for k, vs in reply["headers"].items()})
    body = reply["body"]["string"] or b""
    response.raw = io.BytesIO(body)
    response._content = body
    response.url = request.url
    response.request = request
    response.reason = str(reply["status"].get("message") or "")
    response.elapsed = datetime.timedelta(0)
    return response


def _requests(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def send(self: Any, request: Any, **kwargs: Any) -> Any:
        tap = _tap(request)
        if tap is None or hasattr(request.body, "read"):  # a file upload: the boundary reads it
            return original(self, request, **kwargs)
        live = _requests_live(request)
        if not _governed(tap, live):
            return original(self, request, **kwargs)
        denied = _begin(tap, live)
        if denied is not None:
            import requests

            tap.answer(denied, denied.reply or {})
            return _requests_denial(requests, request, denied)
        with claim(live):
            try:
                response = original(self, request, **kwargs)
            except BaseException as exc:
                _failed(tap, live, exc)
                raise
        body = response._content if isinstance(getattr(response, "_content", None), bytes) else None
        _end(tap, live, response.status_code, response.headers, body)
        return response

    return send
