"""The one atomic file writer: cassettes, trace files, payloads, reports, the HTML page, baselines.

It sits in the bottom layer (stdlib only) so every writer can use it without an import cycle. A
reader, a parallel worker or a crash sees the old file or the new one, never half of one: the data
goes to a temp file in the same folder (same filesystem, so the rename is atomic), is fsynced, and
replaces the target with ``os.replace``; on any error the temp file is removed and the old file is
left as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def file_mode(path: Path) -> int:
    """Keep an existing file's mode; a new file gets the usual 0o666 less the umask, not mkstemp's 0o600."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: Path, data: bytes | str, *, make_parents: bool = True) -> None:
    """Replace ``path`` with ``data`` (str is written as UTF-8) atomically and durably."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, file_mode(path))  # shared artifacts: the umask's mode, not mkstemp's 0600
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
