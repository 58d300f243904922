"""The redactor as it was before the detect-secrets rewrite (commit fe997d6), kept only so
bench_redaction.py can compare both in one run.

Secret redaction, applied before anything is written and to live requests before matching.

Redaction is deterministic (a secret becomes ``<redacted:KIND>``), so a live request redacted the
same way finds the interaction recorded from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

DEFAULT_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "cookie",
        "set-cookie",
        "x-goog-api-key",
        "anthropic-api-key",
        "openai-api-key",
        "x-auth-token",
        "x-access-token",
    }
)
DEFAULT_QUERY = frozenset(
    {
        "api_key",
        "apikey",
        "key",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "password",
        "secret",
        "sig",
        "signature",
        "auth",
        "code",
    }
)
DEFAULT_FIELDS = frozenset(
    {
        "api_key",
        "apikey",
        "password",
        "secret",
        "client_secret",
        "access_token",
        "refresh_token",
        "id_token",
        "private_key",
        "authorization",
    }
)

# Ordered: the more specific patterns first, so a kind names what leaked.
DEFAULT_PATTERNS: tuple[tuple[str, str], ...] = (
    ("anthropic-key", r"sk-ant-[A-Za-z0-9_\-]{10,}"),
    ("openai-key", r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}"),
    ("stripe-key", r"(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9]{8,}"),
    ("stripe-webhook-secret", r"whsec_[A-Za-z0-9]{8,}"),
    ("bearer-token", r"(?<=[Bb][Ee][Aa][Rr][Ee][Rr] )[A-Za-z0-9._~+/\-]{8,}=*"),
    ("aws-access-key", r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    ("github-token", r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    ("slack-token", r"\bxox[abprs]-[A-Za-z0-9\-]{10,}"),
    ("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ("private-key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
)

_REDACTED = re.compile(r"<redacted:[^>]*>")

# Literal text that every match of a default pattern contains (one of the needles at least), keyed
# by the exact regex: a string holding none of them cannot match, and substring search is about 10x
# cheaper than running the regexes over it (this check runs on every string of every request body).
# A pattern not listed here (a user pattern, or a default whose regex was edited) is checked by
# regex as before. Needles in _LOWER_NEEDLES are looked for in the lower-cased string.
_NEEDLES: dict[str, tuple[str, ...]] = {
    r"sk-ant-[A-Za-z0-9_\-]{10,}": ("sk-ant-",),
    r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}": ("sk-",),
    r"(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9]{8,}": ("_test_", "_live_"),
    r"whsec_[A-Za-z0-9]{8,}": ("whsec_",),
    r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b": ("AKIA", "ASIA"),
    r"\bgh[pousr]_[A-Za-z0-9]{30,}\b": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    r"\bxox[abprs]-[A-Za-z0-9\-]{10,}": ("xox",),
    r"\bAIza[0-9A-Za-z_\-]{35}\b": ("AIza",),
    r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}": ("eyJ",),
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----": ("-----BEGIN ",),
}
_LOWER_NEEDLES: dict[str, tuple[str, ...]] = {
    r"(?<=[Bb][Ee][Aa][Rr][Ee][Rr] )[A-Za-z0-9._~+/\-]{8,}=*": ("bearer ",),
}


def marker(kind: str) -> str:
    return f"<redacted:{kind}>"


def _redact_cookie(value: str, kind: str) -> str:
    """Only cookie values are secret: names and attributes (Path, Expires, Max-Age) stay, so a
    replayed Set-Cookie still behaves like the recorded one (same name, same lifetime)."""
    if kind == "set-cookie":
        first, sep, attributes = value.partition(";")
        name, eq, _ = first.partition("=")
        return f"{name.strip()}={marker(kind)}{sep}{attributes}" if eq else marker(kind)
    parts = []
    for pair in value.split(";"):
        name, eq, _ = pair.partition("=")
        parts.append(f"{name.strip()}={marker(kind)}" if eq else marker(kind))
    return "; ".join(parts)


@dataclass
class Redactor:
    """Which headers, query parameters, JSON fields and value patterns count as secrets."""

    headers: frozenset[str] = DEFAULT_HEADERS
    query: frozenset[str] = DEFAULT_QUERY
    fields: frozenset[str] = DEFAULT_FIELDS
    patterns: tuple[tuple[str, str], ...] = DEFAULT_PATTERNS
    _compiled: list[tuple[str, re.Pattern[str]]] = field(init=False, repr=False)
    _combined: re.Pattern[str] = field(init=False, repr=False)
    _rest: re.Pattern[str] | None = field(init=False, repr=False)
    _needles: tuple[str, ...] = field(init=False, repr=False)
    _lower_needles: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._compiled = [(kind, re.compile(rx)) for kind, rx in self.patterns]
        # One pass decides whether a string needs any work: most strings hold no secret.
        try:
            self._combined = re.compile("|".join(f"(?:{rx})" for _, rx in self.patterns))
        except re.error:  # a user pattern with global flags cannot be combined
            self._combined = re.compile("")
        # For text(), a cheaper pass: needles for the default patterns, one regex for the rest.
        needles: dict[str, None] = {}
        lower: dict[str, None] = {}
        rest: list[str] = []
        for _, rx in self.patterns:
            if rx in _NEEDLES:
                needles.update(dict.fromkeys(_NEEDLES[rx]))
            elif rx in _LOWER_NEEDLES:
                lower.update(dict.fromkeys(_LOWER_NEEDLES[rx]))
            else:
                rest.append(rx)
        # A needle that contains another needle adds nothing ("sk-ant-" holds "sk-").
        self._needles = tuple(n for n in needles if not any(o != n and o in n for o in needles))
        self._lower_needles = tuple(lower)
        try:
            self._rest = re.compile("|".join(f"(?:{rx})" for rx in rest)) if rest else None
        except re.error:
            self._rest = re.compile("")

    def _may_hold_secret(self, value: str) -> bool:
        """False only when no pattern can match ``value`` (True may be a false alarm)."""
        if any(needle in value for needle in self._needles):
            return True
        if self._lower_needles:
            lowered = value.lower()
            if any(needle in lowered for needle in self._lower_needles):
                return True
        return self._rest is not None and self._rest.search(value) is not None

    @classmethod
    def with_extra(
        cls,
        headers: Iterable[str] = (),
        query: Iterable[str] = (),
        fields: Iterable[str] = (),
        patterns: Iterable[str] = (),
    ) -> Redactor:
        extra = tuple((f"custom-{i}", rx) for i, rx in enumerate(patterns))
        for _, rx in extra:
            re.compile(rx)  # a bad user pattern fails here, at configuration time
        return cls(
            headers=DEFAULT_HEADERS | {h.lower() for h in headers},
            query=DEFAULT_QUERY | {q.lower() for q in query},
            fields=DEFAULT_FIELDS | {f.lower() for f in fields},
            patterns=DEFAULT_PATTERNS + extra,
        )

    def text(self, value: str) -> str:
        if not self._may_hold_secret(value):
            return value
        for kind, rx in self._compiled:
            value = rx.sub(marker(kind), value)
        return value

    def value(self, value: Any) -> Any:
        """Redact a parsed JSON value (or SSE event list) recursively."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict) and "__form__" in value:
            return {"__form__": [self._form_pair(name, item) for name, item in value["__form__"]]}
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if isinstance(key, str) and key.lower() in self.fields and isinstance(item, str) and item:
                    out[key] = item if _REDACTED.fullmatch(item) else marker(key.lower())
                else:
                    out[key] = self.value(item)
            return out
        if isinstance(value, list):
            return [self.value(item) for item in value]
        return value

    def _form_pair(self, name: str, item: str) -> tuple[str, str]:
        """Form bodies (Stripe-style) name secrets like JSON fields and query parameters do."""
        lowered = name.lower()
        if (lowered in self.fields or lowered in self.query) and item and not _REDACTED.fullmatch(item):
            return (name, marker(lowered))
        return (name, self.text(item))

    def url(self, url: str) -> str:
        parts = urlsplit(url)
        if not parts.query:
            return self.text(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if not any(k.lower() in self.query for k, _ in pairs) and not self._combined.search(parts.query):
            return url
        redacted = [(k, marker(k.lower()) if k.lower() in self.query else self.text(v)) for k, v in pairs]
        return urlunsplit(parts._replace(query=urlencode(redacted, safe="<>:")))

    def header_values(self, name: str, values: list[str]) -> list[str]:
        lowered = name.lower()
        if lowered in ("set-cookie", "cookie") and lowered in self.headers:
            return [_redact_cookie(v, lowered) for v in values]
        if lowered in self.headers:
            return [marker(lowered) for _ in values]
        return [self.text(v) for v in values]

    def headers_dict(self, headers: dict[str, list[str]]) -> dict[str, list[str]]:
        return {name: self.header_values(name, values) for name, values in headers.items()}
