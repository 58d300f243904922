"""AWS event-stream framing (``application/vnd.amazon.eventstream``), as Bedrock streams answers.

A message is: total length and headers length (big-endian uint32), a CRC32 of those 8 bytes,
the headers, the payload, and a CRC32 of everything before it. Headers are typed name/value
pairs; Bedrock's ``:event-type``, ``:message-type`` and ``:content-type`` are strings. ``decode``
reads what is whole and stops at the first damaged message (a trace must not break the test);
``encode`` writes messages for stand-ins and tests.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

_PRELUDE = struct.Struct(">II")
_STRING = 7
# Value sizes of the fixed-size header types (0/1: true/false carry no value).
_FIXED = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}


@dataclass(frozen=True, slots=True)
class Message:
    headers: dict[str, str | bytes | int | bool]
    payload: bytes


def encode(headers: dict[str, str], payload: bytes) -> bytes:
    """One message with string headers."""
    head = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        head += bytes([len(raw_name)]) + raw_name + bytes([_STRING]) + struct.pack(">H", len(raw_value)) + raw_value
    total = _PRELUDE.size + 4 + len(head) + len(payload) + 4
    prelude = _PRELUDE.pack(total, len(head))
    body = prelude + struct.pack(">I", zlib.crc32(prelude)) + head + payload
    return body + struct.pack(">I", zlib.crc32(body))


def decode(data: bytes) -> list[Message]:
    """The whole, intact messages at the start of ``data``."""
    messages: list[Message] = []
    offset = 0
    while len(data) - offset >= 16:
        total, head_length = _PRELUDE.unpack_from(data, offset)
        end = offset + total
        if total < 16 or end > len(data) or head_length > total - 16:
            break
        (prelude_crc,) = struct.unpack_from(">I", data, offset + 8)
        (message_crc,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(data[offset : offset + 8]) != prelude_crc or zlib.crc32(data[offset : end - 4]) != message_crc:
            break
        head_start = offset + 12
        headers = _headers(data[head_start : head_start + head_length])
        if headers is None:
            break
        messages.append(Message(headers, data[head_start + head_length : end - 4]))
        offset = end
    return messages


def _headers(raw: bytes) -> dict[str, str | bytes | int | bool] | None:
    headers: dict[str, str | bytes | int | bool] = {}
    i = 0
    try:
        while i < len(raw):
            size = raw[i]
            name = raw[i + 1 : i + 1 + size].decode()
            kind = raw[i + 1 + size]
            i += 2 + size
            if kind in (0, 1):
                headers[name] = kind == 0
            elif kind in (6, _STRING):
                (length,) = struct.unpack_from(">H", raw, i)
                value = raw[i + 2 : i + 2 + length]
                headers[name] = value.decode() if kind == _STRING else value
                i += 2 + length
            elif kind in _FIXED:
                width = _FIXED[kind]
                headers[name] = int.from_bytes(raw[i : i + width], "big", signed=kind != 9)
                i += width
            else:
                return None
    except (IndexError, struct.error, UnicodeDecodeError):
        return None
    return headers
