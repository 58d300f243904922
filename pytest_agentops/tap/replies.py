"""Answers in the shape vcrpy's stubs play: replayed from a cassette, built by a local backend, or
fetched from the real service (``forward``, for recording through a staging URL).
"""

from __future__ import annotations

from collections.abc import Mapping
from http.client import responses
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pytest_agentops.cassette import body as bodies
from pytest_agentops.tap.request import _HOP_HEADERS, ReplyHeaders

if TYPE_CHECKING:
    from pytest_agentops.cassette.format import Interaction
    from pytest_agentops.tap.request import LiveRequest


def forward(live: LiveRequest, base_url: str) -> dict[str, Any]:
    """Send ``live`` to ``base_url`` with the real, unpatched http.client, and read the whole answer."""
    import http.client

    from vcr.patch import force_reset

    parts = urlsplit(live.url)
    target = urlsplit(base_url)
    path = staging_path(target.path, parts.path) + (f"?{parts.query}" if parts.query else "")
    headers = {k: v for k, v in live.headers.items() if k not in ("host", "content-length", "accept-encoding")}
    headers["accept-encoding"] = "identity"
    with force_reset():
        conn_cls = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(target.hostname or "localhost", target.port, timeout=120)
        try:
            conn.request(live.method, path, body=live.body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            out: dict[str, list[str]] = {}
            for name, value in resp.getheaders():
                out.setdefault(name.lower(), []).append(value)
            status, reason = resp.status, resp.reason
        finally:
            conn.close()
    for hop in _HOP_HEADERS:
        out.pop(hop, None)
    out["content-length"] = [str(len(data))]
    return {"status": {"code": status, "message": reason}, "headers": out, "body": {"string": data}}


def staging_path(base: str, path: str) -> str:
    """``path`` under the staging ``base``, written with or without the SDK's own prefix.

    People copy the SDK's base URL (``http://host/v1`` for openai; ``/v1`` for anthropic, whose SDK
    puts it in each path), so a ``base`` ending in the segments ``path`` starts with must not repeat
    them: ``/v1`` + ``/v1/responses`` is ``/v1/responses``, ``/proxy/v1`` + ``/v1/x`` is ``/proxy/v1/x``.
    """
    base_parts = [part for part in base.split("/") if part]
    path_parts = [part for part in (path or "/").split("/") if part]
    for size in range(min(len(base_parts), len(path_parts)), 0, -1):
        if base_parts[-size:] == path_parts[:size]:
            path_parts = path_parts[size:]
            break
    joined = "/" + "/".join(base_parts + path_parts)
    return joined + "/" if path.endswith("/") and len(joined) > 1 else joined


def _status_text(response: dict[str, Any]) -> str:
    status = response["status"]
    return f"{status['code']} {status.get('message') or _reason(int(status['code']))}".strip()


def _reply(status: int, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    out = {k.lower(): [v] for k, v in headers.items() if k.lower() not in _HOP_HEADERS}
    out["content-length"] = [str(len(body))]
    return {"status": {"code": status, "message": _reason(status)}, "headers": out, "body": {"string": body}}


def _replay(interaction: Interaction, plain: bool = False) -> tuple[dict[str, Any], ReplyHeaders]:
    """The vcr-shaped reply of a recorded answer, and its headers as the wire and the event take
    them (``ReplyHeaders``), built in one pass over the recorded ones (each replayed request had three).

    ``plain``: the interaction's cassette says its JSON is as read and plain (``Cassette.plain``).
    """
    response = interaction["response"]
    raw = bodies.decode(response.get("body"), plain=plain)
    stored = response.get("headers") or {}  # null: none, as the loader allows
    try:
        headers, pairs, flat = _header_forms(stored, wire=True)
    except UnicodeEncodeError:  # a hand-written value beyond latin-1
        headers, _, flat = _header_forms(stored, wire=False)
        pairs = wire_pairs(headers)
    length = str(len(raw))
    headers["content-length"] = [length]
    flat["content-length"] = length
    pairs.append((b"content-length", length.encode("latin-1")))
    status = response["status"]
    reply = {
        "status": {"code": status, "message": response.get("reason") or _reason(status)},
        "headers": headers,
        "body": {"string": raw},
    }
    return reply, ReplyHeaders(pairs, flat)


def _header_forms(
    stored: dict[str, Any], wire: bool
) -> tuple[dict[str, list[str]], list[tuple[bytes, bytes]], dict[str, str]]:
    """A recorded answer's headers but the hop-by-hop ones: as the reply holds them, as the wire
    takes them (latin-1 pairs, when ``wire``) and one value per lower-cased name."""
    headers: dict[str, list[str]] = {}
    pairs: list[tuple[bytes, bytes]] = []
    flat: dict[str, str] = {}
    add, hop = pairs.append, _HOP_HEADERS  # (looked up once: every replayed answer runs this loop)
    for k, v in stored.items():
        name = k.lower()
        if name in hop:
            continue
        if v.__class__ is str:  # (every header of a recorded answer but a repeated one)
            headers[k] = [v]
            flat[name] = v
            if wire:
                add((k.encode("latin-1"), v.encode("latin-1")))
            continue
        values = headers[k] = list(v)  # as header_list(v)
        flat[name] = values[0] if values else ""
        for value in values if wire else ():
            add((k.encode("latin-1"), value.encode("latin-1")))
    return headers, pairs, flat


def wire_pairs(headers: dict[str, list[str]]) -> list[tuple[bytes, bytes]]:
    """A reply's headers as raw pairs: latin-1, as HTTP/1.1 carries them, and a name or value beyond
    latin-1 (hand-written, in a cassette or a backend's answer) as its UTF-8 bytes."""
    return [(_wire(k), _wire(str(v))) for k, values in headers.items() for v in values]


def _wire(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _reason(status: int) -> str:
    """The status's standard phrase: http.client's table of them (``HTTPStatus(status)`` ran the enum's
    lookup for every simulator and fake-model answer)."""
    return responses.get(status, "")
