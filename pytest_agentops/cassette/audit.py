"""Scan cassettes for secrets that escaped redaction and for personal data (PII).

Every header, URL and body is read, including SSE events, JSON strings holding JSON (tool-call
arguments) and the reassembled text of streamed answers (a value split across chunks is still
found). Secrets are what the ``Redactor`` would have redacted, by the same detectors: value rules
(detect-secrets' plugins and ours, through URL/JSON/base64 encodings), values under secret names
that are not placeholders, and later copies of a secret the request carried. PII detectors
validate what they match (Luhn for cards, mod-97 for IBANs, SSN ranges, formatted phone numbers
only), so ids such as ``chatcmpl-...``, UUIDs and timestamps are not reported. Values are always
printed masked.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

from pytest_agentops.cassette.format import Cassette, header_list
from pytest_agentops.cassette.redact import Redactor
from pytest_agentops.cassette.secrets.names import is_secret_response_name
from pytest_agentops.cassette.secrets.placeholder import PLACEHOLDER, already_redacted

Category = Literal["secret", "pii"]


@dataclass(frozen=True)
class Finding:
    path: str
    location: str
    category: Category
    kind: str
    masked: str

    def line(self) -> str:
        label = self.kind if self.category == "pii" else f"secret {self.kind}"
        return f"{self.path}: {self.location}: {label} {json.dumps(self.masked, ensure_ascii=False)}"

    def to_dict(self) -> dict[str, str]:
        return {
            "path": self.path,
            "location": self.location,
            "category": self.category,
            "kind": self.kind,
            "value": self.masked,
        }


# ---- masking -----------------------------------------------------------------------------------


def mask_secret(value: str) -> str:
    """At most 4 leading characters (fewer for short values), then the length: never the secret."""
    scheme, sep, rest = value.partition(" ")
    if sep and scheme.lower() in ("bearer", "basic", "token", "digest") and rest:
        return f"{scheme} {mask_secret(rest)}"
    shown = min(4, len(value) // 4)
    return f"{value[:shown]}**** ({len(value)} chars)"


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_digits(value: str, keep: int = 4) -> str:
    """Digits replaced by ``*`` except the last ``keep``; separators kept, so the shape shows."""
    total = sum(c.isdigit() for c in value)
    out, seen = [], 0
    for char in value:
        if char.isdigit():
            seen += 1
            out.append(char if seen > total - keep else "*")
        else:
            out.append(char)
    return "".join(out)


def mask_iban(value: str) -> str:
    compact = value.replace(" ", "")
    return compact[:2] + "*" * (len(compact) - 6) + compact[-4:]


# ---- PII detectors -----------------------------------------------------------------------------

_FILE_SUFFIXES = frozenset(
    {"png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "js", "css", "json", "html", "py", "ts"}
)
_EMAIL = re.compile(
    r"(?<![\w.+%-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24})(?![\w-])"
)
# RFC 2606/6761 reserved names: addresses there belong to no one, so they are test data, not PII.
_RESERVED_DOMAIN = re.compile(
    r"@(?:[\w-]+\.)*(?:example\.(?:com|org|net)|[\w-]+\.(?:example|test|invalid|localhost))$", re.I
)
_PHONE_INTL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?![\w-])")
_PHONE_NANP = re.compile(r"(?<![\w+.-])(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[-. ])[2-9]\d{2}[-. ]\d{4}(?![\w-]|\.\d)")
_CARD = re.compile(r"(?<![\w.+-])\d(?:[ -]?\d){12,18}(?![\w+-]|\.\d)")
_SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?")

_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30,
    "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _card_brand_ok(digits: str) -> bool:
    n = len(digits)
    two, three, four, six = int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    return (
        (digits[0] == "4" and n in (13, 16, 19))  # visa
        or ((51 <= two <= 55 or 2221 <= four <= 2720) and n == 16)  # mastercard
        or (two in (34, 37) and n == 15)  # amex
        or ((four == 6011 or two == 65 or 644 <= three <= 649 or 622126 <= six <= 622925) and 16 <= n <= 19)
        or (3528 <= four <= 3589 and 16 <= n <= 19)  # jcb
        or ((300 <= three <= 305 or two in (36, 38, 39)) and 14 <= n <= 19)  # diners
        or (two == 62 and 16 <= n <= 19)  # unionpay
    )


def _card(match: str) -> bool:
    seps = set(re.findall(r"[ -]", match))
    if len(seps) > 1:
        return False
    digits = re.sub(r"[ -]", "", match)
    return 13 <= len(digits) <= 19 and len(set(digits)) > 1 and _card_brand_ok(digits) and luhn_ok(digits)


def _iban(match: str) -> str | None:
    compact = match.replace(" ", "")
    expected = _IBAN_LENGTHS.get(compact[:2])
    if expected is None or len(compact) < expected:
        return None
    compact = compact[:expected]
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return compact if int(number) % 97 == 1 else None


def _phone_digits_ok(match: str) -> bool:
    digits = re.sub(r"\D", "", match)
    return 8 <= len(digits) <= 15 and len(set(digits)) > 2


def find_pii(text: str) -> Iterator[tuple[str, str, tuple[int, int]]]:
    """(kind, masked value, span) of the personal data in ``text``."""
    taken: list[tuple[int, int]] = []

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= a or span[0] >= b for a, b in taken)

    for m in _EMAIL.finditer(text):
        if m.group(1).lower() not in _FILE_SUFFIXES:
            taken.append(m.span())
            if not _RESERVED_DOMAIN.search(m.group(0)):
                yield "email", mask_email(m.group(0)), m.span()
    for m in _IBAN.finditer(text):
        iban = _iban(m.group(0))
        if iban and free(m.span()):
            taken.append(m.span())
            yield "IBAN", mask_iban(iban), m.span()
    for m in _CARD.finditer(text):
        if _card(m.group(0)) and free(m.span()):
            taken.append(m.span())
            yield "credit card number", mask_digits(m.group(0)), m.span()
    for m in _SSN.finditer(text):
        if free(m.span()):
            taken.append(m.span())
            yield "US SSN", mask_digits(m.group(0)), m.span()
    for rx in (_PHONE_INTL, _PHONE_NANP):
        for m in rx.finditer(text):
            if _phone_digits_ok(m.group(0)) and free(m.span()):
                taken.append(m.span())
                yield "phone number", mask_digits(m.group(0)), m.span()


# ---- the scanner -------------------------------------------------------------------------------

_REDACTED = re.compile(r"<redacted:[^>]*>")
_NAMED_MARKER = re.compile(r"[^\s=;,]+=(?=<redacted:)")  # cookie=<redacted:...>
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def is_redacted(value: str) -> bool:
    """Nothing but placeholders left once ``name=`` prefixes and an auth scheme word are removed."""
    rest = _REDACTED.sub("", _NAMED_MARKER.sub("", value)).strip()
    for scheme in ("bearer", "basic", "token", "digest"):
        if rest.lower() == scheme:
            return True
    return not rest or rest in (",", ";") or already_redacted(value)


def _key(path: str, key: Any) -> str:
    key = str(key)
    return f"{path}.{key}" if _IDENT.match(key) else f"{path}[{json.dumps(key, ensure_ascii=False)}]"


class Scanner:
    """Collects findings for one cassette file."""

    def __init__(self, path: str, redactor: Redactor | None = None) -> None:
        self.path = path
        self.redactor = redactor or Redactor(key=b"audit")  # its placeholders are never written
        self.findings: list[Finding] = []
        self._seen: set[tuple[str, str, str]] = set()  # (scope, kind, masked) already reported
        self.scope = ""  # the interaction part being scanned
        self.only_new = False  # scanning a reassembled stream: skip what its events already showed
        self.in_request = False  # secret-named fields count whatever the value in requests only

    def add(self, location: str, category: Category, kind: str, masked: str) -> None:
        self.findings.append(Finding(self.path, location, category, kind, masked))

    # ---- strings ---------------------------------------------------------------------------

    def text(self, value: str, location: str) -> None:
        """Secret patterns and PII in one string."""
        secret_spans: list[tuple[int, int]] = [m.span() for m in PLACEHOLDER.finditer(value)]
        for hit in self.redactor.detector.find(value) if self.redactor.detector.may_hold(value) else ():
            token = value[hit.start : hit.end]
            if any(not (hit.end <= a or hit.start >= b) for a, b in secret_spans):
                continue
            if hit.kind == "bearer-token" and not re.search(r"[0-9_.~+/\-]", token):
                continue  # "Bearer authentication" in prose
            secret_spans.append((hit.start, hit.end))
            self._add_once(location, "secret", hit.kind, mask_secret(token))
        for secret, kind in self.redactor.known_in(value):
            at = value.find(secret)
            if all(at + len(secret) <= a or at >= b for a, b in secret_spans):
                secret_spans.append((at, at + len(secret)))
                self._add_once(location, "secret", f"echo of {kind}", mask_secret(secret))
        for kind, masked, span in find_pii(value):
            if all(span[1] <= a or span[0] >= b for a, b in secret_spans):
                self._add_once(location, "pii", kind, masked)

    def _add_once(self, location: str, category: Category, kind: str, masked: str) -> None:
        """Add a finding; while scanning a reassembled stream, only values its events did not show."""
        key = (self.scope, kind, masked)
        if self.only_new and key in self._seen:
            return
        self._seen.add(key)
        self.add(location, category, kind, masked)

    def value(self, value: Any, location: str) -> None:
        """A parsed JSON value: strings (and JSON held in strings), secret-named fields."""
        if isinstance(value, str):
            stripped = value.strip()
            if stripped[:1] in "{[" and len(stripped) > 1:
                try:
                    inner = json.loads(stripped)
                except ValueError:
                    inner = None
                if isinstance(inner, dict | list):
                    self.value(inner, location)
                    return
            self.text(value, location)
        elif isinstance(value, dict):
            for key, item in value.items():
                where = _key(location, key)
                if (
                    isinstance(key, str)
                    and isinstance(item, str)
                    and item
                    and self._named(key)
                    and not is_redacted(item)
                ):
                    self.redactor.learn(item, key.lower())
                    self._add_once(where, "secret", f"field {key}", mask_secret(item))
                else:
                    self.value(item, where)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.value(item, f"{location}[{i}]")
        elif isinstance(value, int) and not isinstance(value, bool) and value >= 10**12:
            self.text(str(value), location)  # a card number stored as a JSON number

    def _named(self, key: str) -> bool:
        if self.in_request:
            return self.redactor._secret_field(key)
        return is_secret_response_name(key) or key.lower() in self.redactor.fields

    # ---- parts of an interaction -----------------------------------------------------------

    def url(self, url: str, location: str) -> None:
        parts = urlsplit(url)
        rest = []
        for pair in parts.query.split("&") if parts.query else ():
            name, _, item = (unquote_plus(piece) for piece in pair.partition("="))
            if self.redactor._secret_field(name) and item and not is_redacted(item):
                self.add(location, "secret", f"query parameter {name}", mask_secret(item))
                self.redactor.learn(item, name.lower())
            else:
                rest.append(pair)  # as written: decoding "+" to a space would break a base64 secret
        url = urlunsplit(parts._replace(query="&".join(rest))) if parts.query else url
        userinfo = parts.netloc.rpartition("@")[0]
        password = userinfo.partition(":")[2]
        if password and not is_redacted(unquote_plus(password)):
            self.redactor.learn(unquote_plus(password), "url-password")
            self.add(location, "secret", "url-password", mask_secret(unquote_plus(password)))
        self.in_request = False  # what the URL holds is reported once: its own findings, not echoes
        known, self.redactor._known = self.redactor._known, {}
        try:
            self.text(unquote(url if not password else url.replace(password, "")), location)
        finally:
            self.redactor._known = {**known, **self.redactor._known}
            self.in_request = True

    def headers(self, headers: Any, location: str) -> None:
        if not isinstance(headers, dict):
            return
        for name, raw in headers.items():
            values = header_list(raw) if isinstance(raw, str | list) else [str(raw)]
            for j, item in enumerate(values):
                where = f"{location}.{name}" + (f"[{j}]" if isinstance(raw, list) and len(values) > 1 else "")
                item = str(item)
                named = self._header_named(str(name)) and not is_redacted(item)
                if item and named and self.redactor.header_values(str(name), [item]) != [item]:
                    self.add(where, "secret", f"header {str(name).lower()}", mask_secret(item))
                    continue
                self.text(item, where)

    def _header_named(self, name: str) -> bool:
        """The header's value is secret as a whole (its name, or an auth scheme in it)."""
        from pytest_agentops.cassette.secrets.names import is_secret_name

        return name.lower() in self.redactor.headers or is_secret_name(name)

    def body(self, stored: Any, location: str) -> None:
        if not isinstance(stored, dict):
            return
        if "json" in stored:
            self.value(stored["json"], f"{location}.json")
        if "sse" in stored:
            self.value(stored["sse"], f"{location}.sse")
        if "text" in stored:
            self.value(stored["text"], f"{location}.text")
        if "form" in stored:
            for i, pair in enumerate(stored["form"] or []):
                if not isinstance(pair, list | tuple) or len(pair) != 2:
                    continue
                name, item = str(pair[0]), str(pair[1])
                where = f"{location}.form[{i}]"
                if self.redactor._secret_field(name) and item and not is_redacted(item):
                    self.redactor.learn(item, name.lower())
                    self.add(where, "secret", f"field {name}", mask_secret(item))
                else:
                    self.text(item, where)
        if "base64" in stored:
            try:
                raw = base64.b64decode(str(stored["base64"]), validate=False)
            except (binascii.Error, ValueError):
                return
            for run in re.finditer(rb"[\x00-\x7f]{6,}", raw):  # binary: each ASCII run, as the redactor
                self.text(run.group().decode("ascii"), f"{location}.base64")

    def interaction(self, index: int, interaction: dict[str, Any]) -> None:
        where = f"interactions[{index}]"
        request = interaction.get("request") or {}
        response = interaction.get("response") or {}
        self.in_request = True
        self.url(str(request.get("url", "")), f"{where}.request.url")
        self.headers(request.get("headers"), f"{where}.request.headers")
        self.body(request.get("body"), f"{where}.request.body")
        self.in_request = False
        self.headers(response.get("headers"), f"{where}.response.headers")
        self.scope = f"{where}.response"
        self.body(response.get("body"), f"{where}.response.body")
        stored = response.get("body")
        if isinstance(stored, dict) and ("sse" in stored or "text" in stored):
            self.only_new = True
            try:
                self._reassembled(interaction, f"{where}.response.body")
            finally:
                self.only_new = False
        self.scope = ""

    def _reassembled(self, interaction: dict[str, Any], location: str) -> None:
        """A streamed answer split across events: scan the text and tool calls the parser rebuilt."""
        from pytest_agentops.cassette.inspect import model_call

        call = model_call(interaction)
        if call is None or not call.streamed:
            return
        self.text(call.text, f"{location} (reassembled answer)")
        for i, tool_call in enumerate(call.tool_calls):
            self.value(tool_call.arguments, f"{location} (reassembled tool_calls[{i}].arguments)")


def audit_cassette(path: Path, cassette: Cassette, redactor: Redactor | None = None) -> list[Finding]:
    scanner = Scanner(str(path), redactor)
    for index, interaction in enumerate(cassette.interactions):
        scanner.interaction(index, interaction)
    return scanner.findings


# ---- every file a run leaves: traces, payloads, reports ----------------------------------------

_REQUEST_KEYS = frozenset({"request", "arguments", "request_body"})


def _scan_json(scanner: Scanner, value: Any, location: str) -> None:
    """A trace line, payload or report: request parts by the request rules, the rest as values."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = _key(location, key) if location else str(key)
            if key == "url" and isinstance(item, str):
                scanner.in_request = True
                scanner.url(item, where)
                scanner.in_request = False
            elif key in _REQUEST_KEYS:
                scanner.in_request = True
                scanner.value(item, where)
                scanner.in_request = False
            else:
                _scan_json(scanner, item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _scan_json(scanner, item, f"{location}[{i}]")
    else:
        scanner.value(value, location or "(document)")


def audit_file(path: Path, redactor: Redactor | None = None) -> list[Finding]:
    """Findings in one file of any kind a run writes: cassette, trace (JSONL), JSON, HTML or text."""
    scanner = Scanner(str(path), redactor)
    text = path.read_bytes().decode("utf-8", "replace")
    if path.suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            try:
                _scan_json(scanner, json.loads(line), f"line {number}")
            except ValueError:
                scanner.text(line, f"line {number}")
        return scanner.findings
    if path.suffix == ".json":
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if isinstance(document, dict) and "interactions" in document:
            from pytest_agentops.cassette.inspect import load

            for index, interaction in enumerate(load(path).interactions):  # a bad cassette: its error
                scanner.interaction(index, interaction)
            return scanner.findings
        if document is not None:
            _scan_json(scanner, document, "")
            return scanner.findings
    for number, line in enumerate(text.splitlines(), 1):
        scanner.text(line, f"line {number}")
    return scanner.findings


AUDITED_SUFFIXES = (".json", ".jsonl", ".html", ".txt", ".log", ".xml")


def audited_files(roots: list[Path]) -> list[Path]:
    """Files under ``roots`` the audit reads (hidden folders skipped), in a stable order."""
    found: list[Path] = []
    for root in roots:
        if root.is_file():
            found.append(root)
            continue
        found.extend(
            sorted(
                p
                for p in root.rglob("*")
                if p.is_file()
                and p.suffix in AUDITED_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(root).parts)
            )
        )
    return found
