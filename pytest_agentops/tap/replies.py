"""Answers in the shape vcrpy's stubs play: replayed from a cassette, built by a local backend, or
fetched from the real service (``forward``, for recording through a staging URL).
"""

from __future__ import annotations

from collections.abc import Mapping
from http.client import responses
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pytest_agentops.cassette import body as bodies
from pytest_agentops.tap.request import _HOP_HEADERS

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


def _replay(interaction: Interaction, plain: bool = False) -> dict[str, Any]:
    """``plain``: the interaction's cassette says its JSON is as read and plain (``Cassette.plain``)."""
    response = interaction["response"]
    raw = bodies.decode(response.get("body"), plain=plain)
    headers = {
        k: [v] if isinstance(v, str) else list(v)  # as header_list(v)
        for k, v in (response.get("headers") or {}).items()  # null: none, as the loader allows
        if k.lower() not in _HOP_HEADERS
    }
    headers["content-length"] = [str(len(raw))]
    status = response["status"]
    return {
        "status": {"code": status, "message": response.get("reason") or _reason(status)},
        "headers": headers,
        "body": {"string": raw},
    }


def _reason(status: int) -> str:
    """The status's standard phrase: http.client's table of them (``HTTPStatus(status)`` ran the enum's
    lookup for every simulator and fake-model answer)."""
    return responses.get(status, "")
