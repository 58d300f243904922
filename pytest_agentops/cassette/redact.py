"""Secret redaction, applied before anything is written and to live requests before matching.

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


def marker(kind: str) -> str:
    return f"<redacted:{kind}>"


@dataclass
class Redactor:
    """Which headers, query parameters, JSON fields and value patterns count as secrets."""

    headers: frozenset[str] = DEFAULT_HEADERS
    query: frozenset[str] = DEFAULT_QUERY
    fields: frozenset[str] = DEFAULT_FIELDS
    patterns: tuple[tuple[str, str], ...] = DEFAULT_PATTERNS
    _compiled: list[tuple[str, re.Pattern[str]]] = field(init=False, repr=False)
    _combined: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._compiled = [(kind, re.compile(rx)) for kind, rx in self.patterns]
        # One pass decides whether a string needs any work: most strings hold no secret.
        try:
            self._combined = re.compile("|".join(f"(?:{rx})" for _, rx in self.patterns))
        except re.error:  # a user pattern with global flags cannot be combined
            self._combined = re.compile("")

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
        if not self._combined.search(value):
            return value
        for kind, rx in self._compiled:
            value = rx.sub(marker(kind), value)
        return value

    def value(self, value: Any) -> Any:
        """Redact a parsed JSON value (or SSE event list) recursively."""
        if isinstance(value, str):
            return self.text(value)
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
        if name.lower() in self.headers:
            return [marker(name.lower()) for _ in values]
        return [self.text(v) for v in values]

    def headers_dict(self, headers: dict[str, list[str]]) -> dict[str, list[str]]:
        return {name: self.header_values(name, values) for name, values in headers.items()}
