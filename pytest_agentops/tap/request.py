"""The one request object every entry point builds (``LiveRequest``) and the tap's routing
decision for it (``Decision``), with the helpers that read a body from each client's request.

Apart from ``tap.routing`` so that a module that only builds or reads requests imports no cassette
or redaction code.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pytest_agentops.trace.run import Backend, Verdict

_HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "content-encoding", "connection"})
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

_UNPARSED: Any = object()


def raw_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """httpx's and httpcore's raw header pairs as one lower-cased dict; repeated names joined by ", "."""
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}
    return headers if len(headers) == len(raw) else _repeated(raw)  # (one comprehension: every request pays)


def _repeated(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in raw:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


@dataclass(slots=True)
class LiveRequest:
    """A request as the tap sees it, computed once per request."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    started: float = field(default_factory=time.perf_counter)
    started_at: float = field(default_factory=time.time)
    value: Any = None  # parsed, redacted body used for matching
    match_url: str = ""  # redacted URL (and, with a redact hook, the hook's edits) used for matching
    match_value: Any = None  # ``value`` after the redact hook's edits
    key: str = ""
    kind: str = "tool"
    owner: str = ""  # another recorder (pytest-recording's vcr) serves it: pass it through untouched
    gated: bool = False  # the gates have been asked (by the first layer that saw the request)
    done: bool = False  # its one event is written
    verdict: Verdict | None = None  # the gate's, carried to the one place that writes the event
    mcp: Any = None  # the MCP message it carries (pytest_agentops.mcp.gate.message_of), parsed once
    _json: Any = field(default=_UNPARSED, init=False, repr=False)

    def json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object (as sent, not redacted), parsed once; None when it is not one."""
        if self._json is _UNPARSED:
            try:
                value = json.loads(self.body.decode("utf-8")) if self.body else None
            except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
                value = None
            self._json = value if isinstance(value, dict) else None
        return self._json  # type: ignore[no-any-return]

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}".lower()  # no userinfo: it is a secret

    @property
    def is_loopback(self) -> bool:
        host = (urlsplit(self.url).hostname or "").lower()
        return host in _LOOPBACK_HOSTS or host.startswith("127.")


_HEADERS: Any = LiveRequest.__dict__["headers"]  # the slot behind it (``dataclass(slots=True)`` made it)
_PENDING: Any = object()


class RawLiveRequest(LiveRequest):
    """A ``LiveRequest`` of a client's raw header pairs, decoded when ``headers`` is first read: a
    request replayed from its exact bytes with no gate reading them never needs them."""

    __slots__ = ("_raw",)

    def __init__(self, method: str, url: str, raw: list[tuple[bytes, bytes]], body: bytes) -> None:
        self._raw = raw
        super().__init__(method, url, _PENDING, body)

    @property
    def headers(self) -> dict[str, str]:
        value: dict[str, str] = _HEADERS.__get__(self)
        if value is _PENDING:
            value = raw_headers(self._raw)
            _HEADERS.__set__(self, value)
        return value

    @headers.setter
    def headers(self, value: dict[str, str]) -> None:
        _HEADERS.__set__(self, value)


@dataclass(slots=True)
class Decision:
    live: LiveRequest
    backend: Backend
    reply: dict[str, Any] | None = None  # the vcr-shaped response to play, when served locally
    record: bool = False
    traced: bool = True  # False: not governed (or another recorder's), the tap leaves it alone
    # The replayed answer's JSON body as the cassette stores it (parsed): its event reads the model
    # call from it instead of parsing the bytes just written from it. Read only, never edited.
    answer_json: Any = None
    # ``reply``'s headers in the forms the wire and the event take, built with it (a replayed answer).
    headers: ReplyHeaders | None = None


@dataclass(slots=True)
class ReplyHeaders:
    """A reply's headers as the client's response takes them (raw pairs, in order) and as its
    event reads them (one value per lower-cased name)."""

    pairs: list[tuple[bytes, bytes]]
    flat: dict[str, str]


def _vcr_headers(headers: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if headers is None:
        return out
    if hasattr(headers, "lower_items"):  # vcr's HeadersDict: its items() looks every name up again
        items = headers.lower_items()
    else:
        items = headers.items() if hasattr(headers, "items") else headers
    for name, value in items:
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        out[str(name).lower()] = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return out


def _raw_body(request: Any) -> bytes:
    try:
        raw = request.body_bytes if hasattr(type(request), "body_bytes") else request.body
    except TypeError:  # vcr's body_bytes joins a list body, which fails for aiohttp's json=[...]
        raw = request.body
    return _as_bytes(raw)


def _as_bytes(raw: Any) -> bytes:
    """A request body as bytes. vcr's aiohttp stub hands over ``json=``/``data=`` objects unencoded."""
    from urllib.parse import urlencode

    if raw is None:
        return b""
    if isinstance(raw, str):
        return raw.encode("utf-8")
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw)
    if hasattr(raw, "read"):
        return _as_bytes(raw.read())
    if isinstance(raw, dict):
        return json.dumps(raw).encode("utf-8")  # as aiohttp serialises json=
    if isinstance(raw, list | tuple):
        if raw and all(isinstance(item, bytes | bytearray) for item in raw):
            return b"".join(raw)
        if raw and all(isinstance(item, tuple) and len(item) == 2 for item in raw):
            return urlencode(raw).encode("ascii")  # aiohttp data=[(name, value), ...] is a form
        return json.dumps(raw).encode("utf-8")
    return b""  # a payload object (aiohttp FormData, ...) whose bytes are only known when sent
