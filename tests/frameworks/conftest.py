"""The framework matrix: which frameworks are installed, printed in the header, and what passed.

Each ``test_<framework>.py`` here runs one framework as its users do (a ``fake_llm`` run with a tool
call, streamed and async; record against a loopback stand-in, replay inside ``unshare -n``). The
header line names every installed version; with ``AGENTOPS_MATRIX_JSON=PATH`` the session also
writes the outcome of each framework's tests there, which ``python -m tests.frameworks.render``
turns into docs/frameworks.md (so the page says what ran, against which versions).
"""

from __future__ import annotations

import json
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # the helpers module beside this file

# Test module stem -> (name shown, distributions whose versions the matrix prints).
FRAMEWORKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "openai_agents": ("OpenAI Agents SDK", ("openai-agents", "openai")),
    "pydantic_ai": ("Pydantic AI", ("pydantic-ai-slim",)),
    "langgraph": ("LangGraph", ("langgraph", "langchain-openai", "langchain-anthropic")),
    "llama_index": ("LlamaIndex", ("llama-index-core", "llama-index-llms-openai")),
    "litellm": ("LiteLLM", ("litellm",)),
    "instructor": ("Instructor", ("instructor",)),
    "crewai": ("CrewAI", ("crewai",)),
    "google_genai": ("Google Gen AI SDK", ("google-genai",)),
    "strands": ("Strands Agents", ("strands-agents",)),
}


def version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    return {dist: version(dist) for _, dists in FRAMEWORKS.values() for dist in dists}


def pytest_report_header(config: pytest.Config) -> list[str]:
    found = versions()
    have = ", ".join(f"{name} {v}" for name, v in found.items() if v)
    missing = ", ".join(name for name, v in found.items() if not v)
    return [f"agentops frameworks: {have or '(none)'}" + (f"; not installed: {missing}" if missing else "")]


_OUTCOMES: dict[str, dict[str, str]] = {}


def _framework(nodeid: str) -> str | None:
    stem = Path(nodeid.split("::", 1)[0]).stem
    for key in FRAMEWORKS:
        if stem in (f"test_{key}", f"test_tools_{key}"):
            return key
    return None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    key = _framework(report.nodeid)
    if key is None or (report.when != "call" and not (report.skipped or report.failed)):
        return
    test = report.nodeid.split("::", 1)[1] if "::" in report.nodeid else report.nodeid
    _OUTCOMES.setdefault(key, {})[test] = report.outcome


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("AGENTOPS_MATRIX_JSON")
    if not target or hasattr(session.config, "workerinput") or not _OUTCOMES:
        return
    path = Path(target)
    existing: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {"frameworks": {}}
    for key, tests in _OUTCOMES.items():
        name, dists = FRAMEWORKS[key]
        existing["frameworks"][key] = {
            "name": name,
            "versions": {d: version(d) for d in dists},
            "python": sys.version.split()[0],
            "tests": dict(sorted(tests.items())),
        }
    path.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
