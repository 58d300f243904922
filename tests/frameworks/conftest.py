"""The framework matrix: which frameworks are installed, printed in the header, and what passed.

Each framework's tests here run it as its users do (a ``fake_llm`` run with a tool call, streamed
and async; record against a loopback stand-in, replay inside ``unshare -n``; its own tools on the
trace and under the policy). The header line names every installed version; with
``AGENTOPS_MATRIX_JSON=PATH`` the session also adds the outcome of each framework's tests to that
file, which ``python tests/frameworks/render.py`` turns into the table of docs/frameworks.md (so
the page says what ran, against which versions). ``matrix.FRAMEWORKS`` lists the rows.
"""

from __future__ import annotations

import json
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # the helpers module beside this file

from matrix import FRAMEWORKS, framework_of  # noqa: E402


def version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def pytest_report_header(config: pytest.Config) -> list[str]:
    found = {dist: version(dist) for fw in FRAMEWORKS.values() for dist in fw.dists}
    have = ", ".join(f"{name} {v}" for name, v in found.items() if v)
    missing = ", ".join(name for name, v in found.items() if not v)
    return [f"agentops frameworks: {have or '(none)'}" + (f"; not installed: {missing}" if missing else "")]


_OUTCOMES: dict[str, dict[str, str]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    key = framework_of(report.nodeid)
    if key is None or (report.when != "call" and not (report.skipped or report.failed)):
        return
    tests = _OUTCOMES.setdefault(key, {})
    if tests.get(report.nodeid) != "failed":  # a test that failed in teardown stays failed
        tests[report.nodeid] = report.outcome


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("AGENTOPS_MATRIX_JSON")
    if not target or hasattr(session.config, "workerinput") or not _OUTCOMES:
        return
    # .ci/frameworks runs three envs at once into one file: read, add and write under a lock.
    with open(target, "a+", encoding="utf-8") as file:
        _lock(file)
        file.seek(0)
        text = file.read()
        existing: dict[str, Any] = json.loads(text) if text.strip() else {"frameworks": {}}
        for key, tests in _OUTCOMES.items():
            existing["frameworks"][key] = {
                "versions": {d: version(d) for d in FRAMEWORKS[key].dists},
                "python": sys.version.split()[0],
                "env": os.environ.get("TOX_ENV_NAME", "test"),
                "tests": dict(sorted(tests.items())),
            }
        file.seek(0)
        file.truncate()
        file.write(json.dumps(existing, indent=2, sort_keys=True) + "\n")


def _lock(file: IO[str]) -> None:
    """An exclusive lock on ``file`` until it is closed (POSIX; elsewhere the runs are one at a time)."""
    try:
        import fcntl
    except ImportError:
        return
    fcntl.flock(file.fileno(), fcntl.LOCK_EX)
