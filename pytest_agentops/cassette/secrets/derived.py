"""detect-secrets' regex patterns, kept between sessions so a session need not import it.

Importing detect-secrets and listing its plugins costs a session about 80 ms (it imports
``requests`` and its whole scanning core) just to read a few dozen class attributes. The patterns
are read from it once, written to a small JSON file in the user's cache folder, and read from
there while detect-secrets' plugin files stay the same (their names, sizes and modification
times are the key, so an upgrade or an edit rebuilds it). Only detect-secrets' own data is kept:
what this package does with it (needles, skipped plugins) is applied after reading, so a new
release of ours never reads stale choices. A file that is missing, damaged, from another key or
holds a pattern that does not compile is rebuilt; a cache folder that cannot be written is
simply not used.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
from pathlib import Path
from typing import Any

from pytest_agentops.trace.files import write_atomic

FORMAT = 1
Pattern = tuple[str, str, str, int]  # secret type, plugin class name, regex source, regex flags


def patterns() -> list[Pattern]:
    """detect-secrets' regex plugins' patterns: from the cache when its key still holds."""
    key = _key()
    path = cache_file()
    if key is not None and path is not None:
        cached = _read(path, key)
        if cached is not None:
            return cached
    found = extract()
    if key is not None and path is not None:
        _write(path, key, found)
    return found


def extract() -> list[Pattern]:
    """The patterns as detect-secrets lists them today (imports it: the slow way)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    out: list[Pattern] = []
    plugins: dict[str, type] = get_mapping_from_secret_type_to_class()
    for secret_type, cls in sorted(plugins.items()):
        if not issubclass(cls, RegexBasedDetector):
            continue
        for regex in cls.denylist:  # type: ignore[attr-defined]  # a class attribute in every plugin
            out.append((secret_type, cls.__name__, regex.pattern, regex.flags))
    return out


def cache_file() -> Path | None:
    """``$XDG_CACHE_HOME/pytest-agentops/`` (or ``~/.cache``); None when there is no home to use."""
    root = os.environ.get("XDG_CACHE_HOME") or ""
    if not root:
        try:
            root = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory
            return None
    return Path(root) / "pytest-agentops" / "detect-secrets-patterns.json"


def _key() -> dict[str, Any] | None:
    """What the patterns depend on: detect-secrets' plugin files as installed (None: not installed)."""
    spec = importlib.util.find_spec("detect_secrets")
    if spec is None or not spec.submodule_search_locations:
        return None
    package = Path(next(iter(spec.submodule_search_locations)))
    files = []
    for folder in (package / "plugins", package / "core" / "plugins"):
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return None
        for entry in entries:
            if entry.name.endswith(".py"):
                stat = entry.stat()
                files.append([f"{folder.name}/{entry.name}", stat.st_size, stat.st_mtime_ns])
    return {"format": FORMAT, "package": str(package), "files": files}


def _read(path: Path, key: dict[str, Any]) -> list[Pattern] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("key") != key:
        return None
    return _valid(document.get("patterns"))


def _valid(entries: object) -> list[Pattern] | None:
    """The entries if each is (str, str, str, int) and compiles, else None (the file is rebuilt)."""
    if not isinstance(entries, list) or not entries:
        return None
    out: list[Pattern] = []
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 4 and isinstance(entry[3], int)):
            return None
        if not all(isinstance(part, str) for part in entry[:3]):
            return None
        try:
            re.compile(entry[2], entry[3])
        except (re.error, ValueError, TypeError):
            return None
        out.append((entry[0], entry[1], entry[2], entry[3]))
    return out


def _write(path: Path, key: dict[str, Any], found: list[Pattern]) -> None:
    document = {"key": key, "patterns": [list(p) for p in found]}
    with contextlib.suppress(OSError):  # a read-only home: each session extracts them, as before the cache
        write_atomic(path, json.dumps(document, indent=1) + "\n")
