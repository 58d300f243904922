"""Finding secrets in a string: a multi-pattern prefilter, then only the rules it points to.

Most strings hold no secret, so one Aho-Corasick pass over the lower-cased string (every rule's
literal needles at once) decides which regexes run at all. Secrets hidden under one layer of
encoding are found too: URL escapes (``%2D``), JSON escapes (``\\u002d``) and base64 that decodes to
a secret; when the encoded copy cannot be pinned down, the whole string counts as the secret.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote_plus

import ahocorasick_rs

from pytest_agentops.cassette.secrets.rules import Rule

_MIN_LEN = 8  # no rule matches a shorter string
_ALWAYS_MIN = 20  # rules without needles run only on strings at least this long
_URL_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_JSON_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|(.))")
_JSON_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{20,}={0,2}")
_MAX_BASE64 = 16384


@dataclass(frozen=True, slots=True)
class Hit:
    start: int
    end: int
    kind: str


class Detector:
    """The compiled rule set: ``find`` returns non-overlapping hits, leftmost and longest first."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        needles: dict[str, list[int]] = {}
        self._always: list[int] = []
        for index, rule in enumerate(rules):
            if not rule.needles:
                self._always.append(index)
            for needle in rule.needles:
                needles.setdefault(needle, []).append(index)
        self._needles = list(needles)
        self._targets = [needles[n] for n in self._needles]
        self._automaton = ahocorasick_rs.AhoCorasick(self._needles)

    def may_hold(self, text: str) -> bool:
        """False only when no rule can match ``text`` (cheap: one automaton pass)."""
        if len(text) < _MIN_LEN:
            return False
        if self._always and len(text) >= _ALWAYS_MIN:
            return True
        if self._needles_in(text) or "%" in text or "\\" in text:
            return True
        return len(text) >= _ALWAYS_MIN and _BASE64.search(text) is not None  # base64 may hide one

    def _needles_in(self, text: str) -> list[tuple[int, int, int]]:
        try:
            return self._automaton.find_matches_as_indexes(text.lower(), overlapping=True)
        except UnicodeEncodeError:  # a lone surrogate (a JSON escape of half a pair): Rust wants UTF-8
            clean = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
            return self._automaton.find_matches_as_indexes(clean.lower(), overlapping=True)

    def find(self, text: str, depth: int = 0) -> list[Hit]:
        if len(text) < _MIN_LEN:
            return []
        hits = self._direct(text)
        if depth < 2:
            hits.extend(self._layered(text, depth))
        return _non_overlapping(hits)

    def _direct(self, text: str) -> list[Hit]:
        chosen: set[int] = set()
        for needle, _, _ in self._needles_in(text):
            chosen.update(self._targets[needle])
        if len(text) >= _ALWAYS_MIN:
            chosen.update(self._always)
        hits: list[Hit] = []
        for index in sorted(chosen):
            rule = self.rules[index]
            for match in rule.regex.finditer(text):
                start, end = match.span(rule.group)
                start, end = _trim(text, start, end)
                if end - start >= 6:
                    hits.append(Hit(start, end, rule.kind))
        return hits

    def _layered(self, text: str, depth: int) -> list[Hit]:
        hits: list[Hit] = []
        if "%" in text and _URL_ESCAPE.search(text):
            hits.extend(self._decoded(text, unquote_plus(text), depth, _url_escaped))
        if "\\" in text:
            hits.extend(self._decoded(text, _json_unescape(text), depth, _json_escaped))
        hits.extend(self._base64(text, depth))
        return hits

    def _decoded(self, text: str, decoded: str, depth: int, escaped: Callable[[str], str]) -> list[Hit]:
        """Hits in ``decoded`` mapped back onto ``text``: each encoded copy, else all of ``text``."""
        if decoded == text:
            return []
        out: list[Hit] = []
        for hit in self.find(decoded, depth + 1):
            located = False
            for match in re.finditer(escaped(decoded[hit.start : hit.end]), text):
                out.append(Hit(match.start(), match.end(), hit.kind))
                located = True
            if not located:
                return [Hit(0, len(text), hit.kind)]
        return out

    def _base64(self, text: str, depth: int) -> list[Hit]:
        out: list[Hit] = []
        for match in _BASE64.finditer(text):
            token = match.group()
            if len(token) > _MAX_BASE64:
                continue
            decoded = _b64_text(token)
            if decoded is not None:
                inner = self.find(decoded, depth + 1)
                if inner:
                    out.append(Hit(match.start(), match.end(), "base64-" + inner[0].kind))
        return out


def _url_escaped(secret: str) -> str:
    """A regex for ``secret`` with any of its characters written as ``%XX`` (or ``+`` for a space)."""
    parts = []
    for char in secret:
        codes = "".join(f"%{b:02X}" for b in char.encode("utf-8"))
        alternatives = [re.escape(char), re.escape(codes), re.escape(codes.lower())] + (["\\+"] if char == " " else [])
        parts.append("(?:" + "|".join(alternatives) + ")")
    return "".join(parts)


def _json_escaped(secret: str) -> str:
    """A regex for ``secret`` with any of its characters written as a JSON escape."""
    parts = []
    for char in secret:
        alternatives = [re.escape(char), f"\\\\u{ord(char):04x}", f"\\\\u{ord(char):04X}"]
        if char in '/"\\':
            alternatives.append(re.escape("\\" + char))
        alternatives += [re.escape("\\" + short) for short, real in _JSON_SIMPLE.items() if real == char]
        parts.append("(?:" + "|".join(alternatives) + ")")
    return "".join(parts)


def _json_unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(1):
            return chr(int(match.group(1), 16))
        char = match.group(2)
        return _JSON_SIMPLE.get(char, char)

    return _JSON_ESCAPE.sub(one, text)


def _b64_text(token: str) -> str | None:
    """``token`` decoded as base64 when that gives mostly printable text (else None)."""
    body = token.rstrip("=")
    padded = body + "=" * (-len(body) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) < 12:
        return None
    text = raw.decode("latin-1")
    printable = sum(1 for c in text if c.isprintable() or c in "\n\r\t")
    return text if printable >= 0.95 * len(text) else None


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop the quotes, separators and spaces some detect-secrets patterns match around a secret."""
    while start < end and text[start] in " \t\r\n\"'=:":
        start += 1
    while end > start and text[end - 1] in " \t\r\n\"'":
        end -= 1
    return start, end


def _non_overlapping(hits: list[Hit]) -> list[Hit]:
    out: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -h.end)):
        if out and hit.start < out[-1].end:
            if hit.end > out[-1].end:
                out[-1] = Hit(out[-1].start, hit.end, out[-1].kind)
            continue
        out.append(hit)
    return out
