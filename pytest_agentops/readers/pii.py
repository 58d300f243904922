"""PII masking: e-mail addresses, phone numbers, card numbers, IBANs and US SSNs in what a trace writes.

Trace files apply it under the contract's ``logging.pii_redaction = true``
(``pytest_agentops.readers.tracefile``); the detectors are those of ``agentops cassettes audit``.
"""

from __future__ import annotations

from typing import Any


def mask_pii_text(text: str) -> str:
    """``text`` with e-mail addresses, phone numbers, card numbers, IBANs and SSNs masked.

    Unlike the audit, addresses at reserved domains (``example.com``) are masked too: a redacted
    trace should not depend on which addresses count as test data.
    """
    from pytest_agentops.cassette.audit import _EMAIL, _FILE_SUFFIXES, find_pii, mask_email

    if not text or not any(c.isdigit() or c == "@" for c in text):
        return text
    spans: list[tuple[int, int, str]] = []
    for m in _EMAIL.finditer(text):
        if m.group(1).lower() not in _FILE_SUFFIXES:
            spans.append((m.start(), m.end(), mask_email(m.group(0))))
    for kind, masked, (start, end) in find_pii(text):
        if kind != "email" and all(end <= a or start >= b for a, b, _ in spans):
            spans.append((start, end, masked))
    if not spans:
        return text
    out, last = [], 0
    for start, end, masked in sorted(spans):
        out.append(text[last:start])
        out.append(masked)
        last = end
    out.append(text[last:])
    return "".join(out)


def mask_pii(value: Any) -> Any:
    """A JSON value with every string (and every card-sized integer) passed through ``mask_pii_text``."""
    if isinstance(value, str):
        return mask_pii_text(value)
    if isinstance(value, dict):
        return {key: mask_pii(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_pii(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10**12:
        masked = mask_pii_text(str(value))
        return value if masked == str(value) else masked
    return value
