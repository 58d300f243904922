"""Shared steps of the framework matrix: record an inner project against a loopback stand-in, then
replay it offline inside ``unshare -n`` (only loopback up), with the framework's defaults."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

INI = """
[pytest]
addopts = -p no:cacheprovider -p no:hypothesispytest -p no:benchmark -p no:recording -p no:schemathesis
    -p no:langsmith_plugin -p no:anyio -p no:xdist
agentops_scope = all
"""


def can_unshare() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True, check=False)
    return probe.returncode == 0


def record_then_replay(pytester: pytest.Pytester, standin_url: str) -> list[dict[str, object]]:
    """Record the project's tests through ``--agent-staging`` to ``standin_url``, replay them offline.

    Returns the interactions of every cassette written (so a test can check what was kept out).
    """
    pytester.makeini(INI)
    staging = [f"--agent-staging={name}={standin_url}" for name in ("openai", "anthropic")]
    recorded = pytester.run(sys.executable, "-m", "pytest", "--agent-record", *staging, "-q", timeout=240)
    assert recorded.ret == 0, recorded.stdout.str() + recorded.stderr.str()
    script = 'ip link set lo up && exec "$0" -m pytest "$@"'
    replayed = pytester.run("unshare", "-n", "sh", "-c", script, sys.executable, "--agent-replay", "-q", timeout=240)
    assert replayed.ret == 0, replayed.stdout.str() + replayed.stderr.str()
    interactions: list[dict[str, object]] = []
    for path in sorted(Path(pytester.path, "cassettes").rglob("*.json")):
        interactions += json.loads(path.read_text())["interactions"]
    assert interactions, "recording wrote no cassette"
    return interactions


needs_unshare = pytest.mark.skipif(not can_unshare(), reason="needs `unshare -n` and `ip` (root or user namespaces)")
