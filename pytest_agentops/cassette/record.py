"""Turning a live exchange into a stored interaction: redacted, normalised, echoed secrets scrubbed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import body as bodies
from .format import Interaction, compact_headers, store_request_body
from .matching import body_value
from .redact import Redactor

if TYPE_CHECKING:
    from ..tap import LiveRequest


def to_interaction(
    live: LiveRequest,
    response: dict[str, Any],
    redactor: Redactor,
    hook: Callable[[Interaction], None] | None = None,
) -> Interaction:
    """What the cassette stores for ``live`` and vcr's ``response``: secrets never reach it."""
    redact = redactor
    req_headers = compact_headers(redact.headers_dict({k: [v] for k, v in live.headers.items()}))
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
    stored_body = bodies.encode(raw, content_type)
    stored_body = redact_body(redact, stored_body)
    interaction: Interaction = {
        "kind": live.kind,
        "request": {
            "method": live.method,
            "url": redact.url(live.url),
            "headers": req_headers,
            "body": store_request_body(live.value),
        },
        "response": {
            "status": int(response["status"]["code"]),
            "reason": response["status"].get("message") or "",
            "headers": compact_headers(redact.headers_dict(resp_headers)),
            "body": stored_body,
        },
    }
    _scrub_echoed_secrets(interaction, _request_secrets(redact, live))
    if hook is not None:
        hook(interaction)
    return interaction


_MIN_SECRET_LEN = 8  # shorter values under a secret name ("code=1", "auth=yes") are not scrubbed elsewhere


def _request_secrets(redact: Redactor, live: LiveRequest) -> dict[str, str]:
    """Values the request sent under a secret name (header, query parameter, JSON field) -> kind.

    The name-based rules redact them where they were sent; an upstream may echo them back where no
    name or pattern gives them away (an echo endpoint, an error quoting the key, a ``next`` link
    carrying ``?token=``), so those copies are scrubbed from the stored interaction too.
    """
    from urllib.parse import parse_qsl

    found: dict[str, str] = {}

    def add(value: str, kind: str) -> None:
        value = value.strip()
        if len(value) >= _MIN_SECRET_LEN and not value.startswith("<redacted:"):
            found.setdefault(value, kind)

    for name, value in live.headers.items():
        if name not in redact.headers:
            continue
        if name in ("cookie", "set-cookie"):
            for part in value.split(";"):
                add(part.partition("=")[2], name)
        else:
            scheme, _, credentials = value.partition(" ")
            add(value, name)
            add(credentials or scheme, name)
    for key, value in parse_qsl(urlsplit(live.url).query, keep_blank_values=True):
        if key.lower() in redact.query:
            add(value, key.lower())

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and key.lower() in redact.fields and isinstance(item, str):
                    add(item, key.lower())
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    if found or live.body:
        walk(body_value(live.body, live.headers.get("content-type", "")))
    return found


def _scrub_echoed_secrets(interaction: Interaction, secrets: dict[str, str]) -> None:
    """Replace every copy of ``secrets`` in the stored response and request headers (never matched on)."""
    if not secrets:
        return
    ordered = sorted(secrets.items(), key=lambda item: -len(item[0]))  # longest first

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            for secret, kind in ordered:
                if secret in value:
                    value = value.replace(secret, f"<redacted:{kind}>")
            return value
        if isinstance(value, dict):
            return {key: scrub(item) for key, item in value.items()}
        if isinstance(value, list):
            return [scrub(item) for item in value]
        return value

    interaction["response"] = scrub(interaction["response"])
    interaction["request"]["headers"] = scrub(interaction["request"]["headers"])


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
