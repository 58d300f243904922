"""Stable placeholders: ``<redacted:KIND:HASH8>``, the hash an HMAC keyed per project.

The same secret always gives the same placeholder in one project, so re-recording writes the same
file and diffs stay clean; the key never leaves the machine (env ``AGENTOPS_REDACT_KEY``, else a
random key file under the rootdir's ``.pytest_cache``), so the hash reveals nothing about a short
secret. Matching compares placeholders without their hash (``normalise``): a live request carrying a
different key than the one recorded still finds its interaction.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

ENV_KEY = "AGENTOPS_REDACT_KEY"
KEY_FILE = Path(".pytest_cache") / "agentops" / "redact-key"

# Old cassettes hold ``<redacted:KIND>`` (no hash); both forms are placeholders.
PLACEHOLDER = re.compile(r"<redacted:([A-Za-z0-9_.\-]{1,60})(?::([0-9a-f]{8}))?>")
_KIND_UNSAFE = re.compile(r"[^a-z0-9_.\-]+")


def kind_slug(kind: str) -> str:
    """A kind as it may appear in a placeholder (lower case, no spaces or brackets)."""
    return _KIND_UNSAFE.sub("-", kind.lower()).strip("-")[:40] or "secret"


def load_key(rootdir: Path | None = None) -> bytes:
    """The project's placeholder key: the env var, else the key file (created once, mode 0600)."""
    env = os.environ.get(ENV_KEY)
    if env:
        return env.encode("utf-8")
    if rootdir is None:
        return secrets.token_bytes(32)  # no project: stable for this process only
    path = rootdir / KEY_FILE
    try:
        return path.read_bytes().strip() or _create_key(path)
    except FileNotFoundError:
        return _create_key(path)
    except OSError:
        return secrets.token_bytes(32)


def _create_key(path: Path) -> bytes:
    key = secrets.token_hex(32).encode("ascii")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker created it first: use theirs
        return path.read_bytes().strip() or key
    except OSError:
        return key
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def make(key: bytes, kind: str, secret: str) -> str:
    digest = hmac.new(key, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:8]
    return f"<redacted:{kind_slug(kind)}:{digest}>"


def normalise(text: str) -> str:
    """``text`` with every placeholder's hash dropped, for matching and diffs."""
    if "<redacted:" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: f"<redacted:{m.group(1)}>", text)


def is_placeholder(text: str) -> bool:
    return PLACEHOLDER.fullmatch(text) is not None


def already_redacted(text: str) -> bool:
    """Nothing but placeholders left in ``text`` (an auth scheme word and separators aside)."""
    if "<redacted:" not in text:
        return False
    rest = PLACEHOLDER.sub("", text)
    return not re.sub(r"(?i)\b(bearer|basic|token|digest|apikey)\b|[\s=;,:]", "", rest)
