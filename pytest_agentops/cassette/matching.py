"""Request matching for LLM traffic: method + URL + canonical body, looked up by hash.

Key order never matters, volatile fields are dropped before hashing, and the nearest recorded
request is only searched for when a request misses (the slow path runs once per failure).
"""

from __future__ import annotations

import functools
import hashlib
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from pytest_agentops.cassette.secrets.placeholder import normalise as _no_hash

DEFAULT_IGNORED_BODY_PATHS: tuple[str, ...] = (
    "request_id",
    "timestamp",
    "created_at",
    "metadata.request_id",
    "metadata.trace_id",
    "metadata.run_id",
    "metadata.timestamp",
    # The OpenAI Agents SDK sends "agents-sdk:run:<uuid4>" on every run (Responses and Chat).
    "prompt_cache_key",
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class MatchConfig:
    """What a match ignores. Paths are dotted (``messages.*.id``); ``**`` matches any depth."""

    ignore_body: tuple[tuple[str, ...], ...] = field(
        default_factory=lambda: tuple(tuple(p.split(".")) for p in DEFAULT_IGNORED_BODY_PATHS)
    )
    ignore_query: frozenset[str] = frozenset()

    @classmethod
    def from_rules(cls, rules: Iterable[str]) -> MatchConfig:
        """Build from ini lines ``body:PATH`` / ``query:NAME`` added to the defaults."""
        body = [tuple(p.split(".")) for p in DEFAULT_IGNORED_BODY_PATHS]
        query: set[str] = set()
        for rule in rules:
            kind, sep, target = rule.strip().partition(":")
            if not sep or not target or kind not in ("body", "query"):
                raise ValueError(f"agentops_match_ignore: {rule!r} is not 'body:<dotted.path>' or 'query:<name>'")
            if kind == "body":
                body.append(tuple(target.split(".")))
            else:
                query.add(target)
        return cls(ignore_body=tuple(body), ignore_query=frozenset(query))

    @functools.cached_property
    def body_heads(self) -> frozenset[str] | None:
        """The top-level keys an ignored body path starts with; None when one starts with a wildcard
        (then any body may hold something to drop). A body with none of them keeps every field, so
        normalising it walks no path (every recorded request's shape asks)."""
        heads = frozenset(path[0] for path in self.ignore_body if path)
        return None if heads & {"*", "**"} else heads


@functools.lru_cache(maxsize=1024)
def canonical_url(url: str, config: MatchConfig) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    query = ""
    if parts.query:
        pairs = sorted(
            (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in config.ignore_query
        )
        query = "&".join(f"{k}={v}" for k, v in pairs)
    # Placeholders match whatever secret they hide: the live key may differ from the recorded one.
    return _no_hash(urlunsplit((scheme, netloc, parts.path or "/", query, "")))


def body_value(raw: bytes | None, content_type: str = "") -> Any:
    """A request body as a comparable value: parsed JSON, sorted form pairs, or text."""
    if not raw:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"__bytes_sha256__": hashlib.sha256(raw).hexdigest()}
    stripped = text.lstrip()
    if stripped[:1] in "{[":
        try:
            return json.loads(text)
        except ValueError:
            return text
    if "x-www-form-urlencoded" in content_type.lower() or ("=" in text and " " not in text and "\n" not in text):
        return {"__form__": sorted(parse_qsl(text, keep_blank_values=True))}
    return text


def _drop(value: Any, path: tuple[str, ...]) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if head == "**":
        value = _drop(value, rest)
        if isinstance(value, dict):
            return {k: _drop(v, path) for k, v in value.items()}
        if isinstance(value, list):
            return [_drop(v, path) for v in value]
        return value
    if isinstance(value, dict):
        if head != "*" and head not in value:
            return value  # nothing to drop here: no copy
        if not rest:
            if head == "*":
                return {}
            return {k: v for k, v in value.items() if k != head}
        return {k: (_drop(v, rest) if head in ("*", k) else v) for k, v in value.items()}
    if isinstance(value, list) and (head == "*" or head.isdigit()):
        if not rest:
            return [] if head == "*" else [v for i, v in enumerate(value) if str(i) != head]
        return [_drop(v, rest) if head in ("*", str(i)) else v for i, v in enumerate(value)]
    return value


def normalise_body(value: Any, config: MatchConfig) -> Any:
    if isinstance(value, dict) and "__form__" in value:
        ignored = {p[0] for p in config.ignore_body if len(p) == 1}
        return {"__form__": [pair for pair in value["__form__"] if pair[0] not in ignored]}
    if isinstance(value, dict | list):
        heads = config.body_heads
        if heads is None or value.__class__ is not dict or not value.keys().isdisjoint(heads):
            for path in config.ignore_body:
                value = _drop(value, path)
        value = _no_jsonrpc_ids(value)
    return value


_JSONRPC_VOLATILE = (("id",), ("params", "_meta", "progressToken"))


def _no_jsonrpc_ids(value: Any) -> Any:
    """A JSON-RPC (MCP) message without its id and progress token: a client numbers its messages as
    it goes, so a replayed session matches whatever ids it uses (the answer gets the live id back)."""
    if isinstance(value, dict) and value.get("jsonrpc") == "2.0":
        for path in _JSONRPC_VOLATILE:
            value = _drop(value, path)
        return value
    if isinstance(value, list) and value and isinstance(value[0], dict) and value[0].get("jsonrpc") == "2.0":
        return [_no_jsonrpc_ids(item) for item in value]
    return value


# json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False), built once.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_body(body: Any, config: MatchConfig) -> str:
    """The part of ``canonical_request`` that comes from the body."""
    return _no_hash(_CANONICAL.encode(normalise_body(body, config)))


def canonical_request(method: str, url: str, body: Any, config: MatchConfig) -> str:
    """What identifies a request, as text: METHOD, canonical URL and canonical body, NUL-separated."""
    return f"{method.upper()}\0{canonical_url(url, config)}\0{canonical_body(body, config)}"


def sent_shape(sent: bytes) -> tuple[int, int] | None:
    """Length and byte sum (mod 65521) of a JSON body as httpx sends it (compact, in insertion
    order); None when a placeholder is in it (a key drops the placeholder's hash). The byte sum is
    the low half of Adler-32, which sums the bytes in C.

    When normalising the body drops nothing (``normalise_body(body) is body``) and no placeholder
    is in it, its canonical text holds the same tokens in another key order: it has this shape
    (``canonical_shape``), and the request's key is the body's value, so two such bodies that are
    unequal have different keys."""
    return None if b"<redacted:" in sent else (len(sent), zlib.adler32(sent) & 0xFFFF)


def canonical_shape(body: Any, config: MatchConfig) -> tuple[int, int]:
    """``sent_shape`` of ``canonical_body(body)`` in UTF-8: a key order does not change it, so
    requests of different shapes never share a key."""
    text = canonical_body(body, config).encode("utf-8", "surrogatepass")
    return len(text), zlib.adler32(text) & 0xFFFF


def key_of(canonical: str) -> str:
    """The index key of a ``canonical_request`` text."""
    return hashlib.blake2b(canonical.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def request_key(method: str, url: str, body: Any, config: MatchConfig) -> str:
    """Hash of what identifies a request; equal for requests that should replay the same answer."""
    return key_of(canonical_request(method, url, body, config))


# ---- the slow path: explaining a miss -------------------------------------------------------


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fmt_path(path: list[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(body)"


def diff_values(old: Any, new: Any, path: list[str | int] | None = None) -> list[str]:
    """Readable differences from a recorded value to a live one, one line per changed leaf."""
    path = path or []
    if isinstance(old, dict) and isinstance(new, dict):
        lines: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            if key not in new:
                lines.append(f"{_fmt_path([*path, key])} removed (was {_short(old[key])})")
            elif key not in old:
                lines.append(f"{_fmt_path([*path, key])} added: {_short(new[key])}")
            else:
                lines.extend(diff_values(old[key], new[key], [*path, key]))
        return lines
    if isinstance(old, list) and isinstance(new, list):
        lines = []
        for i in range(max(len(old), len(new))):
            if i >= len(new):
                lines.append(f"{_fmt_path([*path, i])} removed (was {_short(old[i])})")
            elif i >= len(old):
                lines.append(f"{_fmt_path([*path, i])} added: {_short(new[i])}")
            else:
                lines.extend(diff_values(old[i], new[i], [*path, i]))
        return lines
    if old == new:
        return []
    if isinstance(old, str) and isinstance(new, str):
        return [_string_change(_fmt_path(path), old, new)]
    return [f"{_fmt_path(path)} changed: {_short(old, WHOLE)} -> {_short(new, WHOLE)}"]


WHOLE = 300  # a changed value up to this long is shown whole; longer strings as a diff or a window


def _string_change(where: str, old: str, new: str) -> str:
    """The whole changed string when short; a unified diff of its lines, or a window, when long."""
    at = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new)))
    head = f"{where} changed at char {at}"
    if len(repr(old)) <= WHOLE and len(repr(new)) <= WHOLE:
        return f"{head}: {old!r} -> {new!r}"
    if "\n" in old or "\n" in new:
        import difflib

        diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), "recorded", "sent", n=1, lineterm=""))
        shown = [line if len(line) <= WHOLE else line[: WHOLE - 3] + "..." for line in diff[2:42]]
        more = [f"... {len(diff) - 42} more diff lines"] if len(diff) > 42 else []
        return head + " (unified diff, recorded -> sent):\n  " + "\n  ".join(shown + more)
    start = max(0, at - 100)
    end = at + 200

    def window(text: str) -> str:
        return ("..." if start else "") + repr(text[start:end]) + ("..." if len(text) > end else "")

    return f"{head}: {window(old)} -> {window(new)}"


def explain(
    method: str, url: str, body: Any, recorded: Iterable[tuple[int, str, str, Any]], config: MatchConfig
) -> tuple[int | None, list[str]]:
    """Nearest recorded request (index) and the lines saying how the live request differs."""
    live_url = canonical_url(url, config)
    live_body = _placeholders_equal(normalise_body(body, config))
    best: tuple[int, int, list[str]] | None = None
    for index, rec_method, rec_url, rec_body in recorded:
        lines: list[str] = []
        penalty = 0
        if rec_method.upper() != method.upper():
            lines.append(f"method changed: {rec_method} -> {method}")
            penalty += 1000
        rec_canon = canonical_url(rec_url, config)
        if rec_canon != live_url:
            lines.append(f"url changed: {rec_canon} -> {live_url}")
            penalty += 500
        lines.extend(diff_values(_placeholders_equal(normalise_body(rec_body, config)), live_body))
        score = penalty + len(lines)
        if best is None or score < best[0]:
            best = (score, index, lines)
    if best is None:
        return None, []
    return best[1], best[2]


def _placeholders_equal(value: Any) -> Any:
    """``value`` with placeholder hashes dropped, so a diff never reports two placeholders as changed."""
    if isinstance(value, str):
        return _no_hash(value)
    if isinstance(value, dict):
        return {key: _placeholders_equal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_placeholders_equal(item) for item in value]
    return value
