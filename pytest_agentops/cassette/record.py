"""Turning a live exchange into a stored interaction: redacted, normalised, echoed secrets scrubbed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pytest_agentops.cassette import body as bodies
from pytest_agentops.cassette.format import Interaction, compact_headers, store_request_body
from pytest_agentops.cassette.redact import Redactor

if TYPE_CHECKING:
    from pytest_agentops.tap.routing import LiveRequest


def to_interaction(
    live: LiveRequest,
    response: dict[str, Any],
    redactor: Redactor,
    hook: Callable[[Interaction], None] | None = None,
) -> Interaction:
    """What the cassette stores for ``live`` and vcr's ``response``: secrets never reach it.

    The request is redacted first: the redactor remembers every secret it carried, so a response
    echoing one (an echo endpoint, an error quoting the key, a ``next`` link with ``?token=``) is
    scrubbed where no name or pattern would give it away.
    """
    redact = redactor
    request = {
        "method": live.method,
        "url": redact.url(live.url),
        "headers": compact_headers(redact.headers_dict({k: [v] for k, v in live.headers.items()})),
        # Redacting twice changes nothing; a value matched on the fast path was never redacted.
        "body": store_request_body(
            redact.request(live.value) if live.value is not None else _request_value(redact, live)
        ),
    }
    resp_headers: dict[str, list[str]] = {}
    for name, values in response["headers"].items():
        values = values if isinstance(values, list) else [values]
        resp_headers[str(name).lower()] = [str(v) for v in values]
    raw = response.get("body", {}).get("string") or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    encoding = (resp_headers.get("content-encoding") or [""])[0]
    if encoding:
        plain = bodies.decompress(raw, encoding)
        if plain is not None:
            raw = plain
            resp_headers.pop("content-encoding", None)
    for hop in ("content-length", "transfer-encoding"):
        resp_headers.pop(hop, None)
    content_type = (resp_headers.get("content-type") or [""])[0]
    interaction: Interaction = {
        "kind": "model" if live.kind == "model" else "tool",  # an MCP protocol message is tool traffic
        "request": request,
        "response": {
            "status": int(response["status"]["code"]),
            "reason": redact.text(str(response["status"].get("message") or "")),
            "headers": compact_headers(redact.headers_dict(resp_headers)),
            "body": redact_body(redact, bodies.encode(_scan_binary(redact, raw), content_type)),
        },
    }
    if hook is not None:
        hook(interaction)
    return interaction


def _request_value(redact: Redactor, live: LiveRequest) -> Any:
    from pytest_agentops.cassette.matching import body_value

    return redact.request(body_value(live.body, live.headers.get("content-type", "")))


def _scan_binary(redact: Redactor, raw: bytes) -> bytes:
    """A body that is not UTF-8 is stored as base64, where no text rule would see it: scan its bytes."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return redact.raw(raw)
    return raw


def redact_body(redact: Redactor, stored: bodies.Body) -> bodies.Body:
    if not stored:
        return stored
    if "json" in stored:
        return {**stored, "json": redact.value(stored["json"])}
    if "sse" in stored:
        return {**stored, "sse": redact.value(stored["sse"])}
    if "text" in stored:
        return {"text": redact.text(stored["text"])}
    return stored
