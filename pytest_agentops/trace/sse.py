"""Server-sent events: split a stream into events and write them back byte-for-byte.

Cassettes store a stream as a list of events (diffable), so splitting must be lossless for the
streams model APIs send: ``render(parse(raw)) == raw`` is checked before a stream is stored as
events, and the raw text is kept otherwise.
"""

from __future__ import annotations

import json
from typing import Any

SSEEvent = dict[str, Any]  # {"event"?: str, "id"?: str, "retry"?: str, "data": str | parsed JSON}

_FIELDS = ("event", "id", "retry")


def parse(text: str) -> list[SSEEvent] | None:
    """Split ``text`` into events, parsing JSON data; None when it is not a plain SSE stream."""
    if not text or "\r" in text or not text.endswith("\n\n"):
        return None
    events: list[SSEEvent] = []
    for block in text[:-2].split("\n\n"):
        event: SSEEvent = {}
        data_lines: list[str] = []
        for line in block.split("\n"):
            name, sep, value = line.partition(": ")
            if not sep:
                if line == "data:" or line.startswith(":"):
                    return None  # comments and empty data lines: keep raw
                return None
            if name == "data":
                data_lines.append(value)
            elif name in _FIELDS and name not in event:
                event[name] = value
            else:
                return None
        if not data_lines and not event:
            return None
        if data_lines:
            data = "\n".join(data_lines)
            event["data"] = _maybe_json(data)
        events.append(event)
    return events


def _maybe_json(data: str) -> Any:
    if data[:1] in "{[":
        try:
            parsed = json.loads(data)
        except (ValueError, RecursionError):
            return data
        if json.dumps(parsed, separators=(",", ":"), ensure_ascii=False) == data:
            return parsed
        return {"__raw__": data}
    return data


def render(events: list[SSEEvent]) -> str:
    """Write events back to the wire format ``parse`` read them from."""
    out: list[str] = []
    for event in events:
        for name in _FIELDS:
            if name in event:
                out.append(f"{name}: {event[name]}\n")
        if "data" in event:
            data = event["data"]
            if isinstance(data, dict) and set(data) == {"__raw__"}:
                text = data["__raw__"]
            elif isinstance(data, str):
                text = data
            else:
                text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
            for line in text.split("\n"):
                out.append(f"data: {line}\n")
        out.append("\n")
    return "".join(out)


def data_items(text: str) -> list[tuple[str | None, Any]]:
    """(event name, parsed data) pairs of a stream, tolerant of any SSE layout; for parsers."""
    items: list[tuple[str | None, Any]] = []
    name: str | None = None
    data_lines: list[str] = []
    for raw_line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if raw_line == "":
            if data_lines:
                items.append((name, _loads("\n".join(data_lines))))
            name, data_lines = None, []
            continue
        if raw_line.startswith(":"):
            continue
        field_name, _, value = raw_line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field_name == "event":
            name = value
        elif field_name == "data":
            data_lines.append(value)
    if data_lines:
        items.append((name, _loads("\n".join(data_lines))))
    return items


def _loads(data: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return data
