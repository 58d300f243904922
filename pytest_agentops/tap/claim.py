"""Which request object a lower layer is looking at.

A request can pass two of our layers: the observer above the mocks (``tap.observe``) and the
network boundary below them (``tap.core``, vcrpy's connection stubs). The first layer builds the
one ``LiveRequest`` and asks the gates; it leaves it here, in the current context (thread or
asyncio task), so the boundary serves that same object instead of building, gating and tracing
the request a second time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_agentops.tap.routing import LiveRequest

_claimed: ContextVar[LiveRequest | None] = ContextVar("agentops_claimed", default=None)


@contextlib.contextmanager
def claim(live: LiveRequest) -> Iterator[None]:
    token = _claimed.set(live)
    try:
        yield
    finally:
        _claimed.reset(token)


def claimed(method: str, url: str) -> LiveRequest | None:
    """The request an upper layer is sending, if ``method``/``url`` is it and no boundary took it yet."""
    live = _claimed.get()
    if live is None or live.done or live.method != method or not _same_target(live.url, url):
        return None
    return live


def _same_target(a: str, b: str) -> bool:
    # Layers spell a URL slightly differently (a default port, an empty query): compare without them.
    return a == b or plain_url(a) == plain_url(b)


def plain_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    host = (parts.hostname or "").lower()
    port = "" if parts.port in (None, default) else f":{parts.port}"
    return f"{parts.scheme}://{host}{port}{parts.path or '/'}{'?' + parts.query if parts.query else ''}"
