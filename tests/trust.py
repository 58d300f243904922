"""The suite's TLS contexts load one certificate instead of the whole bundle (144 here).

Every httpx and httpx2 client, the SDKs' included, builds a TLS context as it is made and loads
the whole CA bundle into it: about 27 ms of CPU each under OpenSSL 3, whether or not the client
ever opens a TLS connection. The suite makes about 1,100 clients (inner sessions, fuzz examples,
docs blocks), so about 31 s of its CPU went to parsing the same certificates again. No test here
verifies a public server's certificate: there is no network, every server of ours is plain HTTP
on loopback, and the tests of TLS settings compare contexts, not chains. Both httpx flavours, and
OpenSSL's own default paths (which may still look certificates up in ``SSL_CERT_DIR`` by
name, without loading them), honour ``SSL_CERT_FILE``; it points to a file holding the first
certificate of the bundle in force (a real root, so a context still loads as it would), written
to the temporary folder as the suite starts. It replaces a bundle the environment named already
(this machine names the system's whole bundle), since nothing here is verified against it.
``AGENTOPS_TEST_TRUST=0`` keeps the environment's bundle (to compare).
"""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from pathlib import Path

_END = "-----END CERTIFICATE-----"


def trust_one_root() -> None:
    """Before any process starts: ``SSL_CERT_FILE`` names a one-certificate bundle (see above)."""
    if os.environ.get("AGENTOPS_TEST_TRUST") == "0":
        return
    target = Path(tempfile.gettempdir()) / f"agentops-test-ca-{os.getuid()}.pem"
    if not target.is_file():
        with contextlib.suppress(OSError, ValueError):
            _write(target, _first_certificate())
    if target.is_file():
        os.environ["SSL_CERT_FILE"] = str(target)


def _first_certificate() -> str:
    source = os.environ.get("SSL_CERT_FILE") or ssl.get_default_verify_paths().cafile
    if not source:
        raise ValueError("no default CA file")
    text = Path(source).read_text(encoding="ascii", errors="replace")
    end = text.index(_END) + len(_END)
    return text[text.index("-----BEGIN CERTIFICATE-----") : end] + "\n"


def _write(target: Path, pem: str) -> None:
    """Atomically, so two workers starting at once never read half a file."""
    ssl.create_default_context(cadata=pem)  # it must load, or the file is not written
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(pem)
    os.replace(temp, target)
