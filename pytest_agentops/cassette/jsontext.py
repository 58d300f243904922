"""JSON text exactly as ``json.dumps`` writes it, from orjson wherever orjson writes the same bytes.

Replay writes every recorded JSON answer back to its bytes (indent 2 for the model APIs), and the
cassette index writes every recorded JSON request as httpx sends it (compact): in a replayed SDK
suite the two took about 60 µs of a test's 800 over no plugin at all, and orjson writes both 20-50
times faster than ``json.dumps``.

For what ``json.loads`` returns, orjson's text differs from ``json.dumps``'s in two cases only:
a float below 1e-4 in magnitude (orjson writes ``1e-7`` and ``0.000025`` where ``repr`` writes
``1e-07`` and ``2.5e-05``), and NaN or an infinity (orjson writes ``null``). Its output is checked
for both (``0.0000``, or ``e-`` after a digit; a ``null`` that does not read back as the value),
and an integer beyond 64 bits or anything but JSON types makes it raise. Each of these, or a false
alarm such as ``"v2e-3"`` in a string, gives None, and the caller writes the text the slow way.
"""

from __future__ import annotations

from typing import Any

import orjson

# Types orjson would write that json.dumps refuses (or writes otherwise) raise instead.
_STRICT = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS


def dumps(value: Any, *, indent2: bool = False, ascii_only: bool = False) -> bytes | None:
    """``json.dumps(value, ensure_ascii=ascii_only)`` with ``indent=2``, or else with the compact
    separators ``(",", ":")``, encoded as UTF-8; None when orjson cannot promise those bytes."""
    if value.__class__ is not dict and value.__class__ is not list:
        return None  # a bare scalar is cheap to write either way
    try:
        out = orjson.dumps(value, option=(_STRICT | orjson.OPT_INDENT_2) if indent2 else _STRICT)
    except (orjson.JSONEncodeError, TypeError):  # an int beyond 64 bits, a non-str key, not JSON
        return None
    if b"0.0000" in out or _exponent(out):  # perhaps a small float, which repr() writes otherwise
        return None
    if b"null" in out and orjson.loads(out) != value:  # NaN and the infinities come out as null
        return None
    if ascii_only and not out.isascii():  # json.dumps would have escaped these characters
        return None
    return out


_DIGITS = frozenset(b"0123456789")


def _exponent(out: bytes) -> bool:
    """``e-`` after a digit: how orjson writes every float it writes otherwise than ``repr`` (a
    string may hold it too: then only a false alarm). Prose has ``e-`` (one-line), seldom after a digit."""
    at = out.find(b"e-")
    while at != -1:
        if at and out[at - 1] in _DIGITS:
            return True
        at = out.find(b"e-", at + 2)
    return False
