"""Which request object a lower layer is looking at.

A request can pass two of our layers: the observer above the mocks (``tap.observe``) and the
network boundary below them (``tap.core``, vcrpy's connection stubs). The first layer builds the
one ``LiveRequest`` and asks the gates; it leaves it here, in the current context (thread or
asyncio task), so the boundary serves that same object instead of building, gating and tracing
the request a second time.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_agentops.tap.routing import Decision, LiveRequest, Tap


@dataclass(slots=True)
class Claim:
    """The request an upper layer is sending: its ``LiveRequest``, the tap it asked, the client's own
    request object it was built from, and the tap's decision once a layer below took one.

    Entered (``with claim(...)``), it is the current context's claim until the block ends: a class,
    not a generator context manager, since every request the observer sends enters one.
    """

    live: LiveRequest
    tap: Tap | None = None
    carrier: Any = None
    decision: Decision | None = None
    _token: Token[Claim | None] | None = field(default=None, init=False, repr=False)

    def __enter__(self) -> Claim:
        self._token = _claimed.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._token is not None
        _claimed.reset(self._token)
        self._token = None


_claimed: ContextVar[Claim | None] = ContextVar("agentops_claimed", default=None)


def claim(live: LiveRequest, tap: Tap | None = None, carrier: Any = None) -> Claim:
    """``with claim(live, ...)``: what the block sends is ``live`` (see ``claimed``, ``claim_of``)."""
    return Claim(live, tap, carrier)


def claimed(method: str, url: str) -> LiveRequest | None:
    """The request an upper layer is sending, if ``method``/``url`` is it and no boundary took it yet."""
    held = _claimed.get()
    if held is None:
        return None
    live = held.live
    if live.done or live.method != method or not _same_target(live.url, url):
        return None
    return live


def claim_of(carrier: Any) -> Claim | None:
    """The claim on the client's request object ``carrier`` itself, while no boundary took it yet."""
    held = _claimed.get()
    if held is None or held.carrier is not carrier or held.live.done:
        return None
    return held


def decided(live: LiveRequest) -> Decision | None:
    """The decision a layer above the boundary already took for ``live`` (then the boundary only
    carries it out: a second ``Tap.decide`` would take another recorded answer)."""
    held = _claimed.get()
    return held.decision if held is not None and held.live is live else None


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
