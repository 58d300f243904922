"""An SSE answer handed to the client as it arrives, and recorded when it ends or the client closes it.

MCP's streamable HTTP keeps an SSE stream open for as long as a session lasts (the previous
revision's ``GET /mcp``, and a ``POST`` whose answer streams progress before its result). Reading
such an answer whole before the client sees it would hang the client; so the chunks go on as they
come, and the tap gets the answer (events recorded, one event traced) with everything seen so far.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any


class Tee:
    """Wraps an httpcore response stream; ``done(body)`` is called once: as soon as ``complete(body)``
    says the answer the request waits for is in (before the client sees that chunk, so the event and
    what the server's answer teaches, such as its name and tools, come first), else at its end or close."""

    def __init__(
        self, stream: Any, done: Callable[[bytes], None], complete: Callable[[bytes], bool] | None = None
    ) -> None:
        self._stream = stream
        self._done: Callable[[bytes], None] | None = done
        self._complete = complete
        self._seen: list[bytes] = []

    def _take(self, chunk: bytes) -> None:
        if self._done is None:
            return
        self._seen.append(chunk)
        if self._complete is not None and self._complete(b"".join(self._seen)):
            self._finish()

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._stream:
                self._take(chunk)
                yield chunk
        finally:
            self._finish()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                self._take(chunk)
                yield chunk
        finally:
            self._finish()

    def close(self) -> None:
        try:
            if hasattr(self._stream, "close"):
                self._stream.close()
        finally:
            self._finish()

    async def aclose(self) -> None:
        try:
            if hasattr(self._stream, "aclose"):
                await self._stream.aclose()
        finally:
            self._finish()

    def _finish(self) -> None:
        done, self._done = self._done, None
        if done is not None:
            done(b"".join(self._seen))


def streams(live: Any, response: Any) -> bool:
    """Whether to pass ``response`` through as it arrives: an MCP message answered with SSE."""
    if live.mcp is None:
        return False
    for name, value in response.headers:
        if name.lower() == b"content-type":
            return bool(value.lower().startswith(b"text/event-stream"))
    return False


def answered_in(live: Any, body: bytes) -> bool:
    """Whether ``body`` (an SSE answer so far) holds the JSON-RPC response to ``live``'s message."""
    from pytest_agentops.mcp.messages import Message, answer_to

    message = live.mcp
    if not isinstance(message, Message) or message.id is None:
        return False
    return answer_to(message, body, "text/event-stream") is not None


def passed_on(core: Any, live: Any, response: Any, done: Callable[[bytes], None]) -> Any:
    """A response like ``response`` whose body reaches the client chunk by chunk through a ``Tee``."""
    tee = Tee(response.stream, done, lambda body: answered_in(live, body))
    return core.Response(response.status, headers=response.headers, content=tee, extensions=response.extensions)
