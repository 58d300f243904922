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
alarm such as ``"v2e-3"`` in a string, makes ``fast`` give None, and ``dumps`` writes the text the
slow way (``dumps_indent2`` below, or json.dumps).

A value read by ``loads`` comes with whether it holds such a float at all: its hooks see every
float token of the text. Without one (``plain``), orjson's bytes need no checking (the checks were
most of the cost of writing a replayed answer: a reparse whenever the text has a ``null``).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

import orjson

# Types orjson would write that json.dumps refuses (or writes otherwise) raise instead.
_STRICT = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS


class _Floats(threading.local):
    odd = False  # a float token json.loads reads as NaN, an infinity, or below 1e-4 in magnitude


_FLOATS = _Floats()


def _float(token: str) -> float:
    value = float(token)
    if value and not 1e-4 <= abs(value) < math.inf:
        _FLOATS.odd = True
    return value


_CONSTANTS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _constant(token: str) -> float:
    _FLOATS.odd = True
    return _CONSTANTS[token]


_DECODER = json.JSONDecoder(parse_float=_float, parse_constant=_constant)


def loads(text: str) -> tuple[Any, bool]:
    """``json.loads(text)`` (its errors too), and whether the value is ``plain``: no NaN, infinity or
    float below 1e-4 in magnitude anywhere in it, so ``dumps(..., plain=True)`` may trust orjson."""
    if text.startswith("\ufeff"):
        return json.loads(text), False  # which raises json's own error for a byte order mark
    _FLOATS.odd = False
    value = _DECODER.decode(text)
    return value, not _FLOATS.odd


def dumps(value: Any, *, indent2: bool = False, ascii_only: bool = False, plain: bool = False) -> bytes:
    """``json.dumps(value, ensure_ascii=ascii_only)`` with ``indent=2``, or else with the compact
    separators ``(",", ":")`` (as httpx sends ``json=``), encoded as UTF-8: orjson's bytes where
    they are the same, else the standard library's (whose errors it raises). ``plain``: ``value``
    is (part of) what ``loads`` returned as plain, unchanged since."""
    out = fast(value, indent2=indent2, ascii_only=ascii_only, plain=plain)
    if out is not None:
        return out
    if indent2:
        return dumps_indent2(value, ascii_only).encode("utf-8")
    return json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":")).encode("utf-8")


def fast(value: Any, *, indent2: bool = False, ascii_only: bool = False, plain: bool = False) -> bytes | None:
    """``dumps``'s bytes written by orjson, or None when orjson cannot promise them."""
    if value.__class__ is not dict and value.__class__ is not list:
        return None  # a bare scalar is cheap to write either way
    try:
        out = orjson.dumps(value, option=(_STRICT | orjson.OPT_INDENT_2) if indent2 else _STRICT)
    except (orjson.JSONEncodeError, TypeError):  # an int beyond 64 bits, a non-str key, not JSON
        return None
    if not plain:  # else no float orjson writes otherwise: nothing to check
        if b"0.0000" in out or _exponent(out):  # perhaps a small float, which repr() writes otherwise
            return None
        if b"null" in out and orjson.loads(out) != value:  # NaN and the infinities come out as null
            return None
    if ascii_only and not _ensure_ascii_keeps(out):
        return None
    return out


def _ensure_ascii_keeps(out: bytes) -> bool:
    """Whether ``ensure_ascii`` would leave OUT as it is: it escapes DEL (0x7f) too, which is ASCII."""
    return out.isascii() and b"\x7f" not in out


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


# ---- json.dumps(value, indent=2) without its pure-Python encoder ------------------------------
#
# Before Python 3.14 an ``indent`` makes json.dumps fall back to a generator-based encoder in pure
# Python, the largest single cost of replaying a pretty-printed answer. ``dumps_indent2`` writes the
# same text for what json.loads returns (dict with str keys, list, str, int, float, bool, None), with
# the C string encoder json uses; anything else goes to json.dumps itself.


class _NotPlain(Exception):
    """A value json.loads never returns: leave it to json.dumps."""


def dumps_indent2(value: Any, ascii_only: bool = False) -> str:
    """Exactly ``json.dumps(value, indent=2, ensure_ascii=ascii_only)``, about twice as fast."""
    cls = value.__class__
    if cls is dict or cls is list:
        try:
            return _indented(value, "\n", encode_basestring_ascii if ascii_only else encode_basestring)
        except (_NotPlain, RecursionError):
            pass
    return json.dumps(value, indent=2, ensure_ascii=ascii_only)


def _indented(value: Any, newline: str, encode: Callable[[str], str]) -> str:
    """``value`` (a dict or list) as json.dumps(indent=2) writes it, at the depth of ``newline``."""
    inner = newline + "  "
    if value.__class__ is dict:
        if not value:
            return "{}"
        parts = []
        for key, item in value.items():
            if key.__class__ is not str:
                raise _NotPlain
            cls = item.__class__
            text = _indented(item, inner, encode) if cls is dict or cls is list else _scalar(item, encode)
            parts.append(encode(key) + ": " + text)
        return "{" + inner + ("," + inner).join(parts) + newline + "}"
    if not value:
        return "[]"
    parts = [
        _indented(item, inner, encode) if item.__class__ is dict or item.__class__ is list else _scalar(item, encode)
        for item in value
    ]
    return "[" + inner + ("," + inner).join(parts) + newline + "]"


def _scalar(value: Any, encode: Callable[[str], str]) -> str:
    cls = value.__class__
    if cls is str:
        return encode(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if cls is int:
        return int.__repr__(value)
    if cls is float:
        if value != value:
            return "NaN"
        if value == math.inf:
            return "Infinity"
        if value == -math.inf:
            return "-Infinity"
        return float.__repr__(value)
    raise _NotPlain
