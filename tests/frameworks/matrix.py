"""Shared steps of the framework matrix: record an inner project against a loopback stand-in, then
replay it offline inside ``unshare -n`` (only loopback up), with the framework's defaults; and the
list of frameworks the matrix covers (the rows of docs/frameworks.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_agentops.backends.model.standin import FirstTool

if TYPE_CHECKING:
    from pytest_agentops.backends.model import FakeModel

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


def replay_in_a_namespace(pytester: pytest.Pytester) -> pytest.RunResult:
    """Replay the project with ``--agent-replay`` inside ``unshare -n`` as it is (loopback down too):
    nothing can answer but the cassette. Skips where the OS refuses a namespace."""
    if subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False).returncode:
        pytest.skip("needs `unshare -n` to replay in a namespace with no network")
    command = ["unshare", "-n", sys.executable, "-m", "pytest", "--agent-replay", "-q", "-p", "no:cacheprovider"]
    return pytester.run(*command, timeout=240)


def record_then_replay_openai(
    pytester: pytest.Pytester, fake_llm: FakeModel, monkeypatch: pytest.MonkeyPatch, inner: str
) -> list[str]:
    """``record_then_replay`` of a project on the framework's default OpenAI client (api.openai.com,
    a key in the environment, tracing as shipped), the fake answering on its port; the URLs recorded."""
    fake_llm.respond(FirstTool("It is sunny.")).serve()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-agentopsmatrix0000000000000000")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_AGENTS_DISABLE_TRACING", raising=False)
    pytester.makepyfile(test_agent=inner)
    interactions = record_then_replay(pytester, f"{fake_llm.loopback_url}/v1")
    return [str(i["request"]["url"]) for i in interactions]  # type: ignore[index]


needs_unshare = pytest.mark.skipif(not can_unshare(), reason="needs `unshare -n` and `ip` (root or user namespaces)")


@dataclass(frozen=True)
class Framework:
    """One row of the matrix: what it is, which distributions to name, which test modules are its."""

    name: str
    dists: tuple[str, ...]
    files: tuple[str, ...]  # test module stems (test_model_side.py's parameter ids count too)
    tools: bool = True  # has tools of its own (LiteLLM and Instructor hand tool calls back to the caller)
    apart: str = ""  # why it is not in the frameworks extra: the pin that conflicts with the test extra
    tox: str = ""  # the tox env that runs it on its own, when it has one


_JITER = (
    "every instructor release pins jiter<0.15 (1.17.0: jiter>=0.6.1,<0.15) and openai 3.4 and later need "
    "jiter>=0.16, so instructor holds openai at 3.3.0, below the openai 3.60 the test extra resolves to"
)
# Keyed by what test_model_side.py and the matrix file use; rows appear on docs/frameworks.md in this order.
FRAMEWORKS: dict[str, Framework] = {
    "openai_agents": Framework(
        "OpenAI Agents SDK",
        ("openai-agents", "openai"),
        ("test_openai_agents", "test_tools_openai_agents", "test_tools_report"),
    ),
    "pydantic_ai": Framework("Pydantic AI", ("pydantic-ai-slim",), ("test_pydantic_ai", "test_tools_pydantic_ai")),
    "langgraph": Framework("LangGraph", ("langgraph", "langchain-openai"), ("test_langgraph", "test_tools_langchain")),
    "llama_index": Framework(
        "LlamaIndex",
        ("llama-index-core", "llama-index-llms-openai", "llama-index-agent-openai"),
        ("test_llama_index", "test_tools_llama_index"),
    ),
    "llama_index_current": Framework(
        "LlamaIndex (current: workflow agents)",
        ("llama-index-core", "llama-index-llms-openai", "openai"),
        ("test_llama_index_current",),
        apart="llama-index-llms-openai 0.8 (beside llama-index-core 0.14) needs openai<3; the test extra has openai 3",
        tox="llamaindex",
    ),
    "litellm": Framework("LiteLLM", ("litellm",), ("test_litellm",), tools=False),
    "instructor": Framework(
        "Instructor", ("instructor", "openai"), ("test_instructor",), tools=False, apart=_JITER, tox="instructor"
    ),
    "crewai": Framework(
        "CrewAI",
        ("crewai", "openai"),
        ("test_crewai",),
        apart="crewai 1.15.30 (the newest) needs openai<3, mcp<2 and pydantic<2.13; the test extra has openai 3, "
        "mcp 2.3 and pydantic 2.14",
        tox="crewai",
    ),
    "google_genai": Framework("Google Gen AI SDK", ("google-genai",), ("test_google_genai",)),
    "google_adk": Framework(
        "Google ADK",
        ("google-adk", "google-genai"),
        ("test_google_adk",),
        apart="google-adk 2.13.0 (the newest) needs google-genai>=2.30,<3; the test extra has google-genai 3.6",
        tox="adk",
    ),
    "bedrock": Framework("boto3 (Bedrock Converse)", ("boto3",), ("test_boto3_bedrock",), tools=False),
    "strands": Framework(
        "Strands Agents",
        ("strands-agents", "mcp"),
        ("test_strands",),
        apart="strands-agents 1.62.0 (the newest) needs mcp<2.2 (the mcp and examples extras need mcp>=2.3,<3), "
        "and its openai and litellm extras need openai<3",
        tox="strands",
    ),
}


def framework_of(nodeid: str) -> str | None:
    """The matrix row a test belongs to: by its module, or test_model_side.py's ``[framework]`` id."""
    path, _, test = nodeid.partition("::")
    stem = Path(path).stem
    if stem == "test_model_side" and "[" in test:
        key = test.rsplit("[", 1)[1].rstrip("]")
        return key if key in FRAMEWORKS else None
    return next((key for key, fw in FRAMEWORKS.items() if stem in fw.files), None)


def assert_plain_streamed_async(run: Any) -> None:
    """The model calls of three runs (plain, streamed, async), each a tool call and then an answer:
    Chat Completions, streamed only in the second run, ``lookup_weather`` asked for once per run."""
    calls = [e.model_call for e in run.events if e.kind == "model"]
    assert [(c.provider, c.streamed) for c in calls] == [
        ("openai.chat", False),
        ("openai.chat", False),
        ("openai.chat", True),
        ("openai.chat", True),
        ("openai.chat", False),
        ("openai.chat", False),
    ]
    assert [t.name for c in calls for t in c.tool_calls] == ["lookup_weather"] * 3
