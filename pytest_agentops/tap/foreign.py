"""Another recorder in charge: a vcrpy cassette of pytest-recording (``@pytest.mark.vcr``) or vcrpy's own.

While one is open, vcrpy's patches sit above our boundary for its clients; the requests it
serves (or sends on, when it records) are pytest-recording's, exactly as without this plugin.
The tap only traces them, as backend ``vcr``.
"""

from __future__ import annotations

import functools
import sys


def vcr_owner(library: str) -> str:
    """``"vcr"`` when a vcrpy cassette other than ours patches ``library`` now, else ``""``."""
    if "vcr.stubs" not in sys.modules:
        return ""
    if library == "requests":
        return "vcr" if _foreign_urllib3() else ""
    module = sys.modules.get(library)
    transport = getattr(module, "HTTPTransport", None)
    code = getattr(getattr(transport, "handle_request", None), "__code__", None)
    return "vcr" if code is not None and _is_vcr_file(code.co_filename) else ""


def _foreign_urllib3() -> bool:
    from pytest_agentops.tap.install import DISPATCH

    cpool = sys.modules.get("urllib3.connectionpool")
    cls = getattr(getattr(cpool, "HTTPConnectionPool", None), "ConnectionCls", None)
    cassette = getattr(cls, "cassette", None)
    return cassette is not None and cassette is not DISPATCH


@functools.lru_cache(maxsize=64)  # asked for every request, of a handful of files
def _is_vcr_file(filename: str) -> bool:
    return "vcr" in filename.replace("\\", "/").split("/")[-3:-1]
