"""The one redactor every sink uses: cassettes, traces, reports, OTel spans and terminal output.

Values are found by ``secrets.detect`` (detect-secrets' plugins plus our own rules, through URL,
JSON and base64 encodings); in requests, values under a secret-looking name (``secrets.names``)
are redacted whatever they are. Each secret becomes a keyed ``<redacted:KIND:HASH8>``
(``secrets.placeholder``), and every secret a request carried is remembered, so a response, trace
event or failure message echoing it later is scrubbed too (``learn``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import ahocorasick_rs

from pytest_agentops.cassette.secrets import placeholder as ph
from pytest_agentops.cassette.secrets.detect import Detector
from pytest_agentops.cassette.secrets.names import is_secret_name, is_secret_response_name
from pytest_agentops.cassette.secrets.rules import all_rules

# Extra names the ini options add to; the word rule in ``secrets.names`` covers most names already.
DEFAULT_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "set-cookie", "x-goog-api-key"}
    | {"anthropic-api-key", "openai-api-key", "x-auth-token", "x-access-token", "dd-api-key", "dd-application-key"}
    | {"ocp-apim-subscription-key", "x-amz-security-token", "x-functions-key"}
)
DEFAULT_QUERY = frozenset({"api_key", "apikey", "key", "token", "access_token", "code", "sig", "signature"})
DEFAULT_FIELDS = frozenset({"api_key", "apikey", "password", "secret", "client_secret", "access_token"})
DEFAULT_PATTERNS: tuple[tuple[str, str], ...] = ()  # the rules live in secrets.rules

AUTH_SCHEME = re.compile(
    r"(?i)^\s*(basic|bearer|digest|token|negotiate|ntlm|aws4-hmac-sha256|oauth|hawk|apikey|api-key|ssws|key|"
    r"sso-key|sharedaccesssignature|splunk|dsn|gitlab|klaviyo-api-key|zoho-oauthtoken)\s+(\S.*)$"
)
_MULTIPART_PART = re.compile(
    r"(Content-Disposition:[^\r\n]*?\bname=\"([^\"]*)\"[^\r\n]*(?:\r?\n[^\r\n]+)*\r?\n\r?\n)(.*?)(?=\r?\n--)",
    re.S | re.I,
)
_ASCII_RUN = re.compile(rb"[\x00-\x7f]{6,}")
_MIN_LEARNED = 6  # shorter values under a secret name ("code=1") are not scrubbed elsewhere
_URL_CACHE = 4096


def marker(kind: str) -> str:
    """A hashless placeholder (the form older cassettes hold); new ones come from ``placeholder``."""
    return f"<redacted:{ph.kind_slug(kind)}>"


class Redactor:
    """Secret names and value rules, a placeholder key, and the secrets seen so far in requests."""

    def __init__(
        self,
        headers: frozenset[str] = DEFAULT_HEADERS,
        query: frozenset[str] = DEFAULT_QUERY,
        fields: frozenset[str] = DEFAULT_FIELDS,
        patterns: tuple[tuple[str, str], ...] = DEFAULT_PATTERNS,
        *,
        key: bytes | None = None,
        rootdir: Path | None = None,
    ) -> None:
        self.headers, self.query, self.fields, self.patterns = headers, query, fields, patterns
        self.key = key if key is not None else ph.load_key(rootdir)
        self._detector: Detector | None = None
        self._known: dict[str, str] = {}  # secret -> kind, from requests (echo scrubbing)
        self._known_ac: tuple[Any, list[str]] | None = None
        self._url_cache: dict[str, str] = {}

    @classmethod
    def with_extra(
        cls,
        headers: Iterable[str] = (),
        query: Iterable[str] = (),
        fields: Iterable[str] = (),
        patterns: Iterable[str] = (),
        *,
        rootdir: Path | None = None,
    ) -> Redactor:
        extra = tuple((f"custom-{i}", rx) for i, rx in enumerate(patterns))
        for _, rx in extra:
            re.compile(rx)  # a bad user pattern fails here, at configuration time
        return cls(
            headers=DEFAULT_HEADERS | {h.lower() for h in headers},
            query=DEFAULT_QUERY | {q.lower() for q in query},
            fields=DEFAULT_FIELDS | {f.lower() for f in fields},
            patterns=DEFAULT_PATTERNS + extra,
            rootdir=rootdir,
        )

    @property
    def detector(self) -> Detector:
        if self._detector is None:
            self._detector = _detector_for(self.patterns)
        return self._detector

    # ---- placeholders and remembered secrets --------------------------------------------------

    def placeholder(self, kind: str, secret: str) -> str:
        return ph.make(self.key, kind, secret)

    def learn(self, secret: str, kind: str) -> None:
        """``secret`` was sent in a request: scrub every later copy of it, wherever it appears."""
        secret = secret.strip()
        if not _distinctive(secret) or "<redacted:" in secret or secret in self._known:
            return
        self._known[secret] = kind
        for form in (quote(secret, safe=""), unquote(secret)):
            if len(form) >= _MIN_LEARNED and form not in self._known:
                self._known[form] = kind
        self._known_ac = None
        self._url_cache.clear()

    def _secret_value(self, kind: str, value: str) -> str:
        """The placeholder for a value redacted by its name; remembered for echoes."""
        if not value or ph.already_redacted(value):
            return value
        self.learn(value, kind)
        return self.placeholder(kind, value)

    def known_in(self, text: str) -> list[tuple[str, str]]:
        """(secret, kind) of every remembered secret ``text`` holds (the audit's echo check)."""
        if not self._known or len(text) < _MIN_LEARNED:
            return []
        return [(secret, kind) for secret, kind in self._known.items() if secret in text]

    def _scrub_known(self, text: str) -> str:
        if not self._known or len(text) < _MIN_LEARNED:
            return text
        built = self._known_ac
        if built is None:  # one (automaton, list) pair: another thread never sees half of it
            ordered = sorted(self._known, key=len, reverse=True)
            automaton = ahocorasick_rs.AhoCorasick(ordered, matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST)
            built = self._known_ac = (automaton, ordered)
        automaton, ordered = built
        try:
            matches = automaton.find_matches_as_indexes(text)
        except UnicodeEncodeError:  # lone surrogates: find the known secrets one by one instead
            matches = _find_each(ordered, text)
        if not matches:
            return text
        out, pos = [], 0
        for index, start, end in matches:
            secret = ordered[index]
            out += [text[pos:start], self.placeholder(self._known.get(secret, "secret"), secret)]
            pos = end
        return "".join(out) + text[pos:]

    # ---- strings ------------------------------------------------------------------------------

    def text(self, value: str) -> str:
        """``value`` with every detected and every remembered secret replaced by its placeholder."""
        value = self._scrub_known(value)
        detector = self.detector
        if not detector.may_hold(value):
            return value
        hits = detector.find(value)
        if not hits:
            return value
        kept = ph.PLACEHOLDER.finditer(value) if "<redacted:" in value else ()
        taken = [m.span() for m in kept]  # a placeholder is never a secret, nor part of one
        out, pos = [], 0
        for hit in hits:
            if any(start < hit.end and hit.start < end for start, end in taken):
                continue
            secret = value[hit.start : hit.end]
            self.learn(secret, hit.kind)  # found by its context here, it may be echoed where none is
            out += [value[pos : hit.start], self.placeholder(hit.kind, secret)]
            pos = hit.end
        return "".join(out) + value[pos:]

    def raw(self, data: bytes) -> bytes:
        """A binary body scanned as bytes: each run of ASCII in it as text (secrets are ASCII), so
        the bytes around a secret neither hide it nor change."""

        def run(match: re.Match[bytes]) -> bytes:
            text = match.group().decode("ascii")
            redacted = self.text(text)
            return match.group() if redacted == text else redacted.encode("ascii", "replace")

        return _ASCII_RUN.sub(run, data)

    # ---- structured values --------------------------------------------------------------------

    def value(self, value: Any) -> Any:
        """A response, event or report value: detected secrets, echoes, unambiguous secret fields."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            if "__form__" in value:
                return {"__form__": [self._form_pair(n, v) for n, v in value["__form__"]]}
            out: dict[str, Any] = {}
            for key, item in value.items():
                named = isinstance(key, str) and (is_secret_response_name(key) or key.lower() in self.fields)
                if named and isinstance(item, str):
                    out[key] = self._secret_value(str(key).lower(), item)
                else:
                    out[key] = self.value(item)
            return out
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value

    def request(self, value: Any) -> Any:
        """A request body: as ``value``, and every secret-named field whatever its value."""
        if isinstance(value, str):
            return self.multipart(value) if _is_multipart(value) else self.text(value)
        if isinstance(value, dict):
            if "__form__" in value:
                return {"__form__": [self._form_pair(n, v) for n, v in value["__form__"]]}
            out: dict[str, Any] = {}
            for key, item in value.items():
                if isinstance(key, str) and isinstance(item, str) and self._secret_field(key):
                    out[key] = self._secret_value(key.lower(), item)
                else:
                    out[key] = self.request(item)
            return out
        if isinstance(value, list | tuple):
            return [self.request(item) for item in value]
        return value

    def _secret_field(self, name: str) -> bool:
        lowered = name.lower()
        return lowered in self.fields or lowered in self.query or is_secret_name(name)

    def _form_pair(self, name: str, item: str) -> tuple[str, str]:
        """Form bodies (Stripe-style) name secrets like JSON fields and query parameters do."""
        if self._secret_field(name):
            return (name, self._secret_value(name.lower(), item))
        return (name, self.text(item))

    def multipart(self, text: str) -> str:
        """A multipart/form-data body, part by part: a secret-named part's content is redacted."""

        def part(match: re.Match[str]) -> str:
            head, name, content = match.group(1), match.group(2), match.group(3)
            if self._secret_field(name):
                return head + self._secret_value(name.lower(), content)
            return head + self.text(content)

        boundary = text[2:].split("\n", 1)[0].strip()
        if boundary and boundary != "agentops-boundary":
            # Clients draw a random boundary per request: a stored one would never match again.
            text = text.replace("--" + boundary, "--agentops-boundary")
        return _MULTIPART_PART.sub(part, text)

    # ---- URLs and headers ---------------------------------------------------------------------

    def url(self, url: str) -> str:
        cached = self._url_cache.get(url)
        if cached is not None:
            return cached
        redacted = self._url(url)
        if len(self._url_cache) >= _URL_CACHE:
            self._url_cache.clear()
        self._url_cache[url] = redacted
        return redacted

    def _url(self, url: str) -> str:
        try:
            parts = urlsplit(url)
        except ValueError:
            return self.text(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = self._userinfo(netloc)
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            redacted = [
                (k, self._secret_value(k.lower(), v) if self._secret_field(k) else self.text(v)) for k, v in pairs
            ]
            if redacted != pairs:
                query = urlencode(redacted, safe="<>:")
        path = self._path(parts.path)
        changed = (netloc, path, query) != (parts.netloc, parts.path, parts.query)
        rebuilt = urlunsplit(parts._replace(netloc=netloc, path=path, query=query)) if changed else url
        return self.text(rebuilt)

    def _path(self, path: str) -> str:
        """Each path segment read on its own, decoded: a secret is one segment (``/keys/<key>``)."""
        if len(path) < 8:
            return path
        out = []
        for segment in path.split("/"):
            decoded = unquote(segment)
            redacted = self.text(decoded) if len(decoded) >= 8 else decoded
            out.append(segment if redacted == decoded else quote(redacted, safe="<>:@!$&'()*+,;="))
        return "/".join(out)

    def _userinfo(self, netloc: str) -> str:
        userinfo, _, host = netloc.rpartition("@")
        user, sep, password = userinfo.partition(":")
        if sep and password:
            return f"{user}:{self._secret_value('url-password', unquote(password))}@{host}"
        if len(user) >= 16 and not ph.already_redacted(user):
            return f"{self._secret_value('url-token', unquote(user))}@{host}"
        return netloc

    def header_values(self, name: str, values: list[str]) -> list[str]:
        lowered = name.lower()
        if lowered in ("cookie", "set-cookie"):
            return [self._cookie(v, lowered) for v in values]
        named = lowered in self.headers or is_secret_name(name)
        return [self._header(lowered, v, named) for v in values]

    def _header(self, name: str, value: str, named: bool) -> str:
        scheme = AUTH_SCHEME.match(value)
        if scheme and not ph.already_redacted(scheme.group(2)):
            return f"{scheme.group(1)} {self._secret_value(name, scheme.group(2).strip())}"
        if named:
            return self._secret_value(name, value)
        return self.text(value)

    def _cookie(self, value: str, kind: str) -> str:
        """Only cookie values are secret: names and attributes (Path, Expires, Max-Age) stay, so a
        replayed Set-Cookie still behaves like the recorded one (same name, same lifetime)."""
        if kind == "set-cookie":
            first, sep, attributes = value.partition(";")
            name, eq, item = first.partition("=")
            if not eq:
                return self._secret_value(kind, value)
            return f"{name.strip()}={self._secret_value(kind, item.strip())}{sep}{attributes}"
        parts = []
        for pair in value.split(";"):
            name, eq, item = pair.partition("=")
            parts.append(
                f"{name.strip()}={self._secret_value(kind, item.strip())}"
                if eq
                else self._secret_value(kind, pair.strip())
            )
        return "; ".join(parts)

    def headers_dict(self, headers: dict[str, list[str]]) -> dict[str, list[str]]:
        return {name: self.header_values(name, values) for name, values in headers.items()}


@functools.lru_cache(maxsize=8)
def _detector_for(patterns: tuple[tuple[str, str], ...]) -> Detector:
    """One compiled rule set per set of user patterns (a session builds it once)."""
    return Detector(all_rules(patterns))


def _find_each(secrets: list[str], text: str) -> list[tuple[int, int, int]]:
    """Leftmost-longest, non-overlapping (index, start, end) of ``secrets`` in ``text``, in order."""
    found = []
    for index, secret in enumerate(secrets):  # longest first
        start = text.find(secret)
        while start >= 0:
            found.append((index, start, start + len(secret)))
            start = text.find(secret, start + len(secret))
    out: list[tuple[int, int, int]] = []
    for match in sorted(found, key=lambda m: (m[1], -(m[2] - m[1]))):
        if not out or match[1] >= out[-1][2]:
            out.append(match)
    return out


def _distinctive(secret: str) -> bool:
    """Worth scrubbing everywhere: a plain word ("secret", "password") would mangle prose."""
    if len(secret) < _MIN_LEARNED:
        return False
    return len(secret) >= 12 or not secret.isalpha()


def _is_multipart(text: str) -> bool:
    return text.startswith("--") and "content-disposition" in text[:2048].lower()


_ACTIVE: list[Redactor] = []


def activate(redactor: Redactor) -> Redactor:
    """Make ``redactor`` the one sinks without a settings object use (OTel, reports, the CLI)."""
    _ACTIVE[:] = [redactor]
    return redactor


def active() -> Redactor:
    """The session's redactor (the first one built if none was activated: its key from the cwd)."""
    if not _ACTIVE:
        _ACTIVE.append(Redactor(rootdir=Path.cwd()))
    return _ACTIVE[0]
