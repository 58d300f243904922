"""A placeholder in a recorded request matches whatever secret it hid, even one sent in the clear.

Redaction scrubs every later copy of a secret the process has seen (a token sent in one request and
echoed in another), so whether a value reached disk as a placeholder depends on what ran before it
in the recording session. A replay in another order (one test alone, another shard, a fuzz example
replayed first) has not seen that secret and sends it as it is, so its key cannot equal the recorded
one. On that miss, a recorded request holding placeholders is compared as a pattern: each
placeholder stands for any text inside one JSON string (or URL part), the rest must be equal.
"""

from __future__ import annotations

import json
import re

from pytest_agentops.cassette.secrets.placeholder import PLACEHOLDER

# Any text inside one JSON string: a placeholder never stands for structure around it.
_SECRET = r'((?:[^"\\\x00]|\\.)+?)'


class Hidden:
    """A recorded request's canonical text as a pattern, with the kind of secret each group hid."""

    __slots__ = ("kinds", "pattern")

    def __init__(self, canonical: str) -> None:
        parts: list[str] = []
        kinds: list[str] = []
        pos = 0
        for found in PLACEHOLDER.finditer(canonical):
            parts += [re.escape(canonical[pos : found.start()]), _SECRET]
            kinds.append(found.group(1))
            pos = found.end()
        parts.append(re.escape(canonical[pos:]))
        self.pattern = re.compile("".join(parts), re.DOTALL)
        self.kinds = tuple(kinds)

    def secrets(self, canonical: str) -> list[tuple[str, str]] | None:
        """(kind, value) of each secret the live request sent where the recording has a placeholder
        (placeholders it sent itself left out), or None when it is another request."""
        found = self.pattern.fullmatch(canonical)
        if found is None:
            return None
        out = []
        for kind, text in zip(self.kinds, found.groups(), strict=True):
            if PLACEHOLDER.fullmatch(text) is None:
                out.append((kind, _unescaped(text)))
        return out


def holds_placeholder(canonical: str) -> bool:
    return "<redacted:" in canonical and PLACEHOLDER.search(canonical) is not None


def _unescaped(text: str) -> str:
    """A captured JSON string fragment as the value it encodes (a URL part is returned as it is)."""
    try:
        value = json.loads(f'"{text}"')
    except ValueError:
        return text
    return value if isinstance(value, str) else text
