"""Bodies as cassettes store them: parsed JSON, SSE event lists, text, or base64.

A response body is stored parsed only when writing it back gives the recorded bytes exactly,
so replay is byte-for-byte and the file stays diffable.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from typing import Any

from pytest_agentops.cassette import jsontext
from pytest_agentops.cassette.matching import body_value
from pytest_agentops.trace import sse

Body = dict[str, Any] | None  # {"json": ...} | {"sse": [...]} | {"text": "..."} | {"base64": "..."}

# (separators, indent, trailing newline) styles tried for an exact JSON round trip.
_JSON_STYLES: dict[str, dict[str, Any]] = {
    "compact": {"separators": (",", ":")},
    "spaced": {"separators": (", ", ": ")},
    "indent2": {"indent": 2},
}


def encode(raw: bytes | None, content_type: str = "") -> Body:
    """Store ``raw`` in the most readable form that still writes back to the same bytes."""
    if not raw:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}
    ctype = content_type.lower()
    if "event-stream" in ctype or text.startswith(("data:", "event:")):
        events = sse.parse(text)
        if events is not None and sse.render(events) == text:
            return {"sse": events}
        lf = text.replace("\r\n", "\n")  # sse-starlette (the mcp SDK's servers) ends lines with CRLF
        if "\r" not in lf and (events := sse.parse(lf)) is not None and sse.render(events) == lf:
            return {"sse": events, "eol": "crlf"}
        return {"text": text}
    if text[:1] in "{[" or "json" in ctype:
        try:
            parsed = json.loads(text)
        except ValueError:
            return {"text": text}
        for style, kwargs in _JSON_STYLES.items():
            for ascii_only in (False, True):
                dumped = json.dumps(parsed, ensure_ascii=ascii_only, **kwargs)
                for newline in ("", "\n"):
                    if dumped + newline == text:
                        return {"json": parsed, "style": _style_name(style, ascii_only, newline)}
        return {"text": text}
    return {"text": text}


def _style_name(style: str, ascii_only: bool, newline: str) -> str:
    return style + ("+ascii" if ascii_only else "") + ("+nl" if newline else "")


def decode(body: Body, *, plain: bool = False) -> bytes:
    """Bytes to send on replay; ``plain``: a JSON body is as ``jsontext.loads`` read it, plain."""
    if not body:
        return b""
    if "json" in body:
        base, *flags = str(body.get("style", "compact")).split("+")
        ascii_only = "ascii" in flags
        if base == "spaced":
            raw = json.dumps(body["json"], ensure_ascii=ascii_only, **_JSON_STYLES["spaced"]).encode("utf-8")
        else:  # indent2, compact, and a style this version does not know (written compact)
            raw = jsontext.dumps(body["json"], indent2=base == "indent2", ascii_only=ascii_only, plain=plain)
        return raw + b"\n" if "nl" in flags else raw
    if "sse" in body:
        text = sse.render(body["sse"])
        return (text.replace("\n", "\r\n") if body.get("eol") == "crlf" else text).encode("utf-8")
    if "text" in body:
        return str(body["text"]).encode("utf-8")
    if "base64" in body:
        return base64.b64decode(body["base64"])
    raise ValueError(f"unknown body encoding {sorted(body)}")


def request_value(stored: Body) -> Any:
    """The comparable value of a stored request body (the inverse of ``store_request_body``)."""
    if not stored:
        return None
    if "json" in stored:
        return stored["json"]
    if "form" in stored:
        return {"__form__": [tuple(pair) for pair in stored["form"]]}
    if "text" in stored:
        return stored["text"]
    if "base64" in stored:
        return body_value(decode(stored))
    return None


def store_request_body(value: Any) -> Body:
    """Request bodies are stored for matching and reading, never replayed, so no byte fidelity."""
    if value is None:
        return None
    if isinstance(value, dict) and "__form__" in value:
        return {"form": [list(pair) for pair in value["__form__"]]}
    if isinstance(value, dict) and "__bytes_sha256__" in value:
        return {"sha256": value["__bytes_sha256__"]}
    if isinstance(value, str):
        return {"text": value}
    return {"json": value}


def as_value(body: Body) -> Any:
    """The body's content for matching, diffing and parsing (parsed JSON where possible)."""
    if not body:
        return None
    if "json" in body:
        return body["json"]
    if "sse" in body:
        return body["sse"]
    if "text" in body:
        return body["text"]
    return body.get("base64")


def decompress(raw: bytes, encoding: str) -> bytes | None:
    """Undo a Content-Encoding so the cassette holds readable text; None if unsupported."""
    encoding = encoding.strip().lower()
    try:
        if encoding in ("gzip", "x-gzip"):
            return gzip.decompress(raw)
        if encoding == "deflate":
            try:
                return zlib.decompress(raw)
            except zlib.error:
                return zlib.decompress(raw, -zlib.MAX_WBITS)
        if encoding in ("", "identity"):
            return raw
        if encoding == "br":
            import brotli  # type: ignore[import-not-found,unused-ignore]  # optional, as in httpx

            return bytes(brotli.decompress(raw))
        if encoding == "zstd":
            import zstandard  # type: ignore[import-not-found,unused-ignore]

            return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(raw))
    except Exception:
        return None
    return None
