"""Every field of a cassette document checked for its type and depth before anything reads it.

A cassette may be hand-edited, merged badly or planted by a hostile change: whatever is wrong
with it must surface here as one ``CassetteFormatError`` naming the file and the JSON path
(``interactions[3].request.method: expected a string, got 5``), never as an ``AttributeError`` deep
in matching or a ``RecursionError`` while redacting. What passes is what the rest of the package
relies on: the shapes ``record.to_interaction`` writes.
"""

from __future__ import annotations

import base64
import binascii
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pytest_agentops.cassette.errors import CassetteFormatError

# Nesting allowed inside one body or meta value. Model and tool payloads seldom pass 20; the
# limit keeps every recursive reader (matching, redaction, diffs) far from Python's own.
MAX_DEPTH = 100
REQUEST_BODY_KEYS = ("json", "form", "text", "base64", "sha256")
RESPONSE_BODY_KEYS = ("json", "sse", "text", "base64")
_SSE_FIELDS = ("event", "id", "retry")
# A lone surrogate can only come from an escape (the file was decoded as strict UTF-8).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_PARSED_CLEAN: ContextVar[bool] = ContextVar("agentops_cassette_parsed_clean", default=False)
# Set with _PARSED_CLEAN when the whole text opens at most MAX_DEPTH brackets: a value n levels deep
# needs n of them, so no value in it can be too deep and no depth walk is needed. Counted only in a
# short text (a cassette of a few calls): a long one almost always opens more, and counting them
# would cost about as much as the walk it might save.
_SHALLOW_TEXT: ContextVar[bool] = ContextVar("agentops_cassette_shallow_text", default=False)
_SHALLOW_SCAN_LIMIT = 32_768  # characters
_META_TYPES: dict[str, tuple[type, ...]] = {
    "recorded_at": (str,),
    "recorded_with": (str,),
    "interaction_count": (int,),
    "models": (list,),
    "prompt_hashes": (list,),
    "tool_schema_hashes": (dict,),
    "session": (str,),
}
_NAMES = {str: "a string", int: "an integer", list: "a list", dict: "an object", float: "a number"}


class Fault(Exception):
    """One thing wrong, at one JSON path; ``check_*`` turn it into the file's CassetteFormatError."""


def _at(where: str, problem: str) -> Fault:
    return Fault(f"{where}: {problem}")


def _missing(where: str) -> Fault:
    return Fault(f"{where} is missing")


def check_document(path: Path, data: dict[str, Any], text: str) -> None:
    """``data`` is ``json.loads(text)``: its types are JSON's already, and when ``text`` escapes no
    surrogate, none of its strings can hold one, so its bodies need only their depth checked."""
    clean = _SURROGATE_ESCAPE.search(text) is None
    token = _PARSED_CLEAN.set(clean)
    short = len(text) <= _SHALLOW_SCAN_LIMIT
    shallow = _SHALLOW_TEXT.set(clean and short and text.count("{") + text.count("[") <= MAX_DEPTH)
    try:
        check_meta(path, data.get("meta"))
        for i, interaction in enumerate(data["interactions"]):
            check_interaction(path, i, interaction)
    finally:
        _SHALLOW_TEXT.reset(shallow)
        _PARSED_CLEAN.reset(token)
    if not clean:  # keys and fields no check reads are saved again too: no lone surrogate anywhere
        _raise_for(path, _unicode_everywhere, data, "")


def _unicode_everywhere(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            at = f"{where}.{key}" if where else str(key)
            _text(key, f"{at} (the key)")
            _unicode_everywhere(item, at)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _unicode_everywhere(item, f"{where}[{i}]")
    else:
        _text(value, where)


def check_meta(path: Path, meta: Any) -> None:
    _raise_for(path, _meta, meta)


def check_interaction(path: Path, index: int, interaction: Any) -> None:
    """One interaction, given as a value (a planted cassette) or read from a file."""
    _raise_for(path, _interaction, interaction, f"interactions[{index}]")


def _raise_for(path: Path, check: Any, *args: Any) -> None:
    try:
        check(*args)
    except Fault as fault:
        raise CassetteFormatError(path, str(fault)) from None


# ---- the parts -------------------------------------------------------------------------------


def _meta(meta: Any) -> None:
    if meta is None:
        return
    _expect(meta, dict, "meta")
    shallow = _SHALLOW_TEXT.get()  # then _json has nothing to check
    for key, value in meta.items():  # the path of a field is built only when it fails
        wanted = _META_TYPES.get(key)
        if wanted is not None and value.__class__ not in wanted:  # (json.loads makes no subclasses)
            _expect(value, wanted, f"meta.{key}")
        if key in ("models", "prompt_hashes"):
            if not all(item.__class__ is str for item in value):
                for i, item in enumerate(value):
                    _expect(item, str, f"meta.{key}[{i}]")
        elif key == "tool_schema_hashes":
            if not all(item.__class__ is str for item in value.values()):
                for name, item in value.items():
                    _expect(item, str, f"meta.{key}.{name}")
        elif not shallow:
            _json(value, f"meta.{key}")


def _interaction(interaction: Any, where: str) -> None:
    _expect(interaction, dict, where)
    kind = interaction.get("kind")
    if kind is not None and kind.__class__ is not str:
        _expect(kind, str, f"{where}.kind")
    for part, check in (("request", _request), ("response", _response)):
        at = f"{where}.{part}"
        if part not in interaction:
            raise _missing(at)
        value = interaction[part]
        if value.__class__ is not dict:
            _expect(value, dict, at)
        check(value, at)


def _request(request: dict[str, Any], where: str) -> None:
    for key in ("method", "url"):
        if key not in request:
            raise _missing(f"{where}.{key}")
        value = request[key]
        if value.__class__ is not str or not value.isascii():  # the common case decided without a path
            _expect(value, str, f"{where}.{key}")
            _text(value, f"{where}.{key}")
    if not request["method"].strip():
        raise _at(f"{where}.method", "is empty")
    try:
        urlsplit(request["url"]).port  # noqa: B018  (an out-of-range or non-numeric port raises here)
    except ValueError as exc:
        raise _at(f"{where}.url", f"not a URL ({exc})") from None
    _headers(request.get("headers"), f"{where}.headers")
    _body(request.get("body"), f"{where}.body", REQUEST_BODY_KEYS)


def _response(response: dict[str, Any], where: str) -> None:
    if "status" not in response:
        raise _missing(f"{where}.status")
    status = response["status"]
    if status.__class__ is not int or not 100 <= status <= 599:
        raise Fault(f"{where}.status {_show(status)} is not an HTTP status (an integer from 100 to 599)")
    reason = response.get("reason")
    if reason is not None:
        _expect(reason, str, f"{where}.reason")
        _text(reason, f"{where}.reason")
    _headers(response.get("headers"), f"{where}.headers")
    _body(response.get("body"), f"{where}.body", RESPONSE_BODY_KEYS)


def _headers(headers: Any, where: str) -> None:
    if headers is None:
        return
    if headers.__class__ is not dict:
        _expect(headers, dict, where)
    clean = _PARSED_CLEAN.get()  # then only the shape is in question, not the text
    for name, value in headers.items():
        if value.__class__ is str and (clean or (value.isascii() and name.isascii())):
            continue  # the common case, decided without building a path
        _text(name, f"{where} name {name!r}")
        if isinstance(value, list):
            for i, item in enumerate(value):
                _expect(item, str, f"{where}.{name}[{i}]")
                _text(item, f"{where}.{name}[{i}]")
        else:
            _expect(value, str, f"{where}.{name}", "a string or a list of strings")
            _text(value, f"{where}.{name}")


def _body(body: Any, where: str, allowed: tuple[str, ...]) -> None:
    if body is None:
        return
    if body.__class__ is not dict:
        _expect(body, dict, where, "null or an object")
    present = [key for key in allowed if key in body]
    if len(present) != 1:
        found = ", ".join(sorted(map(str, body))) or "nothing"
        raise _at(where, f"expected exactly one of {'/'.join(allowed)}, got {found}")
    key = present[0]
    value = body[key]
    if key == "json":
        if not _SHALLOW_TEXT.get():  # (else _json has nothing to check: no path to build for it)
            _json(value, f"{where}.json")
        if "style" in body and body["style"].__class__ is not str:
            _expect(body["style"], str, f"{where}.style")
        return
    at = f"{where}.{key}"
    if key == "sse":
        _sse(value, at)
        if body.get("eol", "crlf") != "crlf":
            raise _at(f"{where}.eol", f"expected 'crlf' (or no eol: lines end with LF), got {body['eol']!r}")
    elif key == "form":
        _form(value, at)
    elif key == "base64":
        _expect(value, str, at)
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _at(at, f"not valid base64 ({exc})") from None
    else:  # text, sha256
        _expect(value, str, at)
        _text(value, at)


def _sse(events: Any, where: str) -> None:
    _expect(events, list, where)
    for i, event in enumerate(events):
        at = f"{where}[{i}]"
        _expect(event, dict, at)
        for name in _SSE_FIELDS:
            if name in event:
                _expect(event[name], str, f"{at}.{name}")
                _text(event[name], f"{at}.{name}")
        data = event.get("data")
        if isinstance(data, dict) and set(data) == {"__raw__"}:
            _expect(data["__raw__"], str, f"{at}.data.__raw__")
        _json(data, f"{at}.data")


def _form(pairs: Any, where: str) -> None:
    _expect(pairs, list, where)
    for i, pair in enumerate(pairs):
        at = f"{where}[{i}]"
        if not isinstance(pair, list) or len(pair) != 2:
            raise _at(at, f"expected a [name, value] pair, got {_show(pair)}")
        for j, part in enumerate(pair):
            _expect(part, str, f"{at}[{j}]")
            _text(part, f"{at}[{j}]")


# ---- values ------------------------------------------------------------------------------------


_SCALARS = (str, int, float, bool, type(None))


def _json(value: Any, where: str) -> None:
    """A JSON value (what json.loads returns), at most MAX_DEPTH deep, its text valid Unicode.

    The walk keeps no paths (it runs over every body of every cassette a test loads); only a
    value that fails is walked again, by ``_explain``, to name the path at fault.
    """
    if _SHALLOW_TEXT.get():  # (set only with _PARSED_CLEAN)
        return
    if _PARSED_CLEAN.get():
        if (value.__class__ is dict or value.__class__ is list) and not _shallow(value):
            _explain(value, where)
    elif not _plain_json(value):
        _explain(value, where)


def _shallow(value: Any) -> bool:
    """At most MAX_DEPTH deep; only containers are looked at (what json.loads built is JSON).

    Level by level: one list per depth, no per-node bookkeeping (this runs over every body).
    """
    level = [value]
    for _ in range(MAX_DEPTH):
        below: list[Any] = []
        for item in level:
            below += [c for c in (item.values() if item.__class__ is dict else item) if c.__class__ in _CONTAINERS]
        if not below:
            return True
        level = below
    return False


def _plain_json(value: Any) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        cls = item.__class__
        if cls is dict:
            if depth > MAX_DEPTH:
                return False
            for key, child in item.items():
                if key.__class__ is not str or not (key.isascii() or _utf8(key)):
                    return False
                if not _leaf_ok(child):
                    stack.append((child, depth + 1))
        elif cls is list:
            if depth > MAX_DEPTH:
                return False
            stack.extend((child, depth + 1) for child in item if not _leaf_ok(child))
        elif not _leaf_ok(item):
            return False
    return True


def _leaf_ok(value: Any) -> bool:
    """A scalar that needs no further look (containers and anything odd go on the stack)."""
    cls = value.__class__
    if cls is str:
        return value.isascii() or _utf8(value)
    return cls in _PLAIN


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_CONTAINERS = frozenset({dict, list})
_PLAIN = frozenset({int, float, bool, type(None)})  # a value of these needs no look


def _explain(value: Any, where: str) -> None:
    """The slow walk, with paths: raises the first fault (a non-ASCII string may be no fault)."""
    stack: list[tuple[Any, int, str]] = [(value, 1, where)]
    while stack:
        item, depth, at = stack.pop()
        cls = item.__class__
        if cls is dict or cls is list:
            if depth > MAX_DEPTH:
                raise _at(at, f"nested deeper than {MAX_DEPTH} levels")
            if cls is dict:
                for key, child in item.items():
                    if key.__class__ is not str:
                        raise _at(at, f"expected string keys, got {_show(key)}")
                    _text(key, f"{at} key {key!r}")
                    stack.append((child, depth + 1, f"{at}.{key}"))
            else:
                stack.extend((child, depth + 1, f"{at}[{i}]") for i, child in enumerate(item))
        elif cls is str:
            _text(item, at)
        elif not isinstance(item, _SCALARS):
            raise _at(at, f"expected a JSON value, got {type(item).__name__}")


def _text(value: Any, where: str) -> None:
    """A lone surrogate (``"\\ud800"`` in the file) parses, but no UTF-8 writer or sender takes it."""
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _at(where, f"not valid Unicode text ({exc.reason} at position {exc.start})") from None


def _expect(value: Any, wanted: type | tuple[type, ...], where: str, name: str = "") -> None:
    types = wanted if isinstance(wanted, tuple) else (wanted,)
    if isinstance(value, types) and not (isinstance(value, bool) and bool not in types):
        return
    raise _at(where, f"expected {name or _NAMES.get(types[0], types[0].__name__)}, got {_show(value)}")


def _show(value: Any) -> str:
    import json

    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError, RecursionError):
        return type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."
