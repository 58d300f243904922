"""One gate for every entry point: loopback ports are policed and traced like in-process clients.

A write sent to an ``agent_sims`` port (from a subprocess through ``agent_sims.env()``, or as raw
bytes on a socket, from any thread) is judged by the test's policy before the simulator sees it:
the caller gets the in-process denial (403, ``x-should-retry: false``, the rule named), the ledger
stays empty, and ``agent_run.denials`` lists it. The fake model's port obeys a model pin. Every
event is complete when it is written (tool, access, rule, verdict), never edited afterwards.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from conftest import Project

from pytest_agentops import tool
from pytest_agentops.trace.run import Event

READ_ONLY = pytest.mark.agent_policy(allow=["crm.*.list", "crm.*.retrieve", "crm.*.search"])
CONTACT = {"properties": {"email": "mallory@example.com"}}

SUBPROCESS_AGENT = """
import json, os, urllib.error, urllib.request

url, key = os.environ["AGENTOPS_CRM_URL"], os.environ["AGENTOPS_CRM_API_KEY"]
headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
out = {}
write = urllib.request.Request(url + "/crm/v3/objects/contacts", method="POST", headers=headers,
                               data=json.dumps({"properties": {"email": "mallory@example.com"}}).encode())
try:
    urllib.request.urlopen(write)
    out["write"] = [200, {}, None]
except urllib.error.HTTPError as exc:
    out["write"] = [exc.code, {k.lower(): v for k, v in exc.headers.items()}, json.loads(exc.read())]
read = urllib.request.urlopen(urllib.request.Request(url + "/crm/v3/objects/contacts", headers=headers))
out["read"] = read.status
print(json.dumps(out))
"""


def _raw_http(base_url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as bytes on a fresh socket; (status, headers, body) of the answer."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        while len(body) < int(headers.get("content-length", "0")):
            body += conn.recv(65536)
    return int(lines[0].split()[1]), headers, body


def _raw_write(base_url: str, api_key: str) -> bytes:
    body = json.dumps(CONTACT).encode()
    host = urlsplit(base_url).netloc
    return (
        f"POST /crm/v3/objects/contacts HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def _in_process_denial(crm: Any) -> httpx.Response:
    """The reply the same write gets from an in-process client, to compare the loopback one with."""
    with crm.client() as client:
        return client.post("/crm/v3/objects/contacts", json=CONTACT)


def _assert_denied_write(denial: Event) -> None:
    assert (denial.tool, denial.access, denial.backend, denial.rule) == (
        "crm.contacts.create",
        "write",
        "policy",
        "allowlist",
    )
    assert denial.status == 403 and denial.fails_test is False
    assert denial.arguments == CONTACT


@READ_ONLY
def test_a_subprocess_write_through_agent_sims_is_denied(agent_sims: Any, crm: Any, agent_run: Any) -> None:
    env = {"PATH": "", **agent_sims.env()}
    done = subprocess.run(
        [sys.executable, "-c", SUBPROCESS_AGENT], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    status, headers, body = out["write"]
    assert status == 403
    assert headers["x-should-retry"] == "false" and headers["x-agentops-denied"] == "allowlist"
    assert body["error"]["rule"] == "allowlist" and body["error"]["tool"] == "crm.contacts.create"
    assert out["read"] == 200

    crm.assert_no_writes()  # the simulator never saw the write
    assert agent_run.writes == []
    [denial] = agent_run.denials
    _assert_denied_write(denial)
    read = agent_run.events[-1]
    assert (read.tool, read.access, read.backend, read.status) == ("crm.contacts.list", "read", "simulator", 200)
    with pytest.raises(AssertionError, match=r"crm\.contacts\.create"):
        agent_run.assert_no_unauthorized_writes()
    # The subprocess got exactly what an in-process client gets.
    in_process = _in_process_denial(crm)
    assert in_process.status_code == status and in_process.json() == body


@READ_ONLY
def test_raw_bytes_on_the_port_are_denied_from_any_thread(agent_sims: Any, crm: Any, agent_run: Any) -> None:
    url = agent_sims.crm.base_url
    answers: list[tuple[int, dict[str, str], bytes]] = []
    answers.append(_raw_http(url, _raw_write(url, crm.api_key)))
    worker = threading.Thread(target=lambda: answers.append(_raw_http(url, _raw_write(url, crm.api_key))))
    worker.start()
    worker.join(timeout=30)

    assert len(answers) == 2
    in_process = _in_process_denial(crm)
    for status, headers, body in answers:
        assert status == 403 and headers["x-should-retry"] == "false"
        assert headers["x-agentops-denied"] == "allowlist"
        assert json.loads(body) == in_process.json()
    crm.assert_no_writes()
    assert len(agent_run.denials) == 3  # two on the port, one in-process: the same gate
    for denial in agent_run.denials:
        _assert_denied_write(denial)
    assert agent_run.writes == [] and len(crm.ledger) == 0


def test_an_allowed_write_on_the_port_is_traced_as_in_process(agent_sims: Any, crm: Any, agent_run: Any) -> None:
    url = agent_sims.crm.base_url
    status, _, body = _raw_http(url, _raw_write(url, crm.api_key))
    assert status == 201, body
    crm.assert_wrote("contacts", properties={"email": "mallory@example.com"})
    [write] = agent_run.writes
    assert (write.tool, write.access, write.backend, write.rule) == ("crm.contacts.create", "write", "simulator", None)
    assert write.url == url + "/crm/v3/objects/contacts"


def test_a_fault_on_the_port_drops_the_connection_and_is_a_step(agent_sims: Any, crm: Any, agent_run: Any) -> None:
    crm.faults.add("crm.contacts.list", kind="drop", times=1)
    url = agent_sims.crm.base_url
    request = f"GET /crm/v3/objects/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {crm.api_key}\r\n\r\n"
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=10) as conn:
        conn.sendall(request.encode())
        assert conn.recv(65536) == b""  # closed without a byte, as the in-process client's drop
    [event] = agent_run.events
    assert (event.tool, event.access, event.backend, event.status) == ("crm.contacts.list", "read", "simulator", None)
    assert "injected fault" in (event.error or "")


# ---- complete when written ------------------------------------------------------------------------


def _snapshot_at_write(agent_run: Any) -> list[tuple[Any, ...]]:
    """Fields of each event as they are when it is written (a listener that runs before any other)."""
    seen: list[tuple[Any, ...]] = []

    def look(event: Event) -> None:
        seen.append((event.tool, event.access, event.backend, event.rule, event.fails_test, event.arguments))

    agent_run.listeners.insert(0, look)
    return seen


@pytest.mark.agent_policy(deny=["crm.contacts.create"])
def test_an_event_is_complete_when_written(agent_sims: Any, crm: Any, agent_run: Any) -> None:
    seen = _snapshot_at_write(agent_run)

    @tool(kind="read", name="one_gate.lookup")
    def lookup(key: str) -> str:
        return key.upper()

    with crm.client() as client:
        assert client.post("/crm/v3/objects/contacts", json=CONTACT).status_code == 403
        assert client.get("/crm/v3/objects/contacts", params={"limit": 1}).status_code == 200
    url = agent_sims.crm.base_url
    assert _raw_http(url, _raw_write(url, crm.api_key))[0] == 403
    assert lookup("a") == "A"

    assert seen == [
        ("crm.contacts.create", "write", "policy", "denylist", False, CONTACT),
        ("crm.contacts.list", "read", "simulator", None, False, {"limit": "1"}),
        ("crm.contacts.create", "write", "policy", "denylist", False, CONTACT),
        ("one_gate.lookup", "read", "python", None, False, {"key": "a"}),
    ]
    assert [(e.tool, e.access, e.backend, e.rule, e.fails_test, e.arguments) for e in agent_run.events] == seen


# ---- the fake model's port ------------------------------------------------------------------------

MODEL_PIN_TEST = '''
import json, os, subprocess, sys

import pytest

AGENT = """
import json, os, urllib.error, urllib.request
base = os.environ["OPENAI_BASE_URL"]
out = []
for model in ("gpt-4o", "gpt-4o-mini"):
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode()
    req = urllib.request.Request(base + "/chat/completions", data=body, method="POST",
                                 headers={"Content-Type": "application/json",
                                          "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
    try:
        out.append([model, urllib.request.urlopen(req).status, None, None])
    except urllib.error.HTTPError as exc:
        out.append([model, exc.code, exc.headers.get("x-should-retry"), json.loads(exc.read())["error"]["rule"]])
print(json.dumps(out))
"""


@pytest.mark.agent_policy(models=["gpt-4o-mini"])
def test_pinned(fake_llm, agent_run):
    fake_llm.script(["hello"])
    seen = []
    agent_run.listeners.insert(0, lambda e: seen.append((e.kind, e.backend, e.rule, e.fails_test)))
    done = subprocess.run([sys.executable, "-c", AGENT], env={**os.environ, **fake_llm.env()},
                          capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == [["gpt-4o", 403, "false", "model_pinning"], ["gpt-4o-mini", 200, None, None]]
    assert len(fake_llm.requests) == 1 and fake_llm.requests[0].served == "loopback"
    assert seen == [("model", "policy", "model_pinning", True), ("model", "fake_model", None, False)]
    [denial] = agent_run.denials
    assert denial.rule == "model_pinning" and denial.fails_test
    print("INNER-ASSERTS-PASSED")


@pytest.mark.agent_budget(max_tool_calls=1)
def test_budget_on_a_port(agent_sims, crm, agent_run):
    env = {**os.environ, **agent_sims.env()}
    outs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", READ, agent_sims.crm.base_url, crm.api_key], env=env,
                              capture_output=True, text=True, timeout=60, check=True)
        outs.append(done.stdout.strip())
    assert outs == ["200", "403 budget.max_tool_calls"]
    assert [d.rule for d in agent_run.denials] == ["budget.max_tool_calls"] and agent_run.denials[0].fails_test
    print("BUDGET-ASSERTS-PASSED")


READ = """
import sys, urllib.error, urllib.request
request = urllib.request.Request(sys.argv[1] + "/crm/v3/objects/contacts",
                                 headers={"Authorization": "Bearer " + sys.argv[2]})
try:
    print(urllib.request.urlopen(request).status)
except urllib.error.HTTPError as exc:
    print(exc.code, exc.headers["x-agentops-denied"])
"""
'''


def test_the_fake_model_on_a_port_obeys_a_model_pin(project: Project) -> None:
    """Pins and budgets hold on a port, and fail the test there as in-process (from the event's verdict)."""
    project.pytester.makepyfile(test_pin=MODEL_PIN_TEST)
    result = project.run("-s")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*INNER-ASSERTS-PASSED*",
            "*policy: model_pinning denied the model call (seq 0): 'gpt-4o' is not pinned by the policy*",
        ]
    )
    result.stdout.fnmatch_lines(["*BUDGET-ASSERTS-PASSED*", "*budget exceeded*max_tool_calls*"])


def test_the_gate_returns_a_complete_verdict() -> None:
    from pytest_agentops import register_tool
    from pytest_agentops.policy.engine import Guard, Policy
    from pytest_agentops.tap import LiveRequest
    from pytest_agentops.trace.run import Run, Verdict

    register_tool("one_gate.notes.create", method="POST", url="https://notes.one-gate.test/notes")
    guard = Guard(Run("t"), policy=Policy(read_only=True))
    live = LiveRequest("POST", "https://notes.one-gate.test/notes", {"content-type": "application/json"}, b'{"a": 1}')
    reply = guard.gate(live)
    assert reply is not None and reply[0] == 403 and reply[1]["x-agentops-denied"] == "read_only"
    assert live.verdict == Verdict(
        "one_gate.notes.create",
        "write",
        {"a": 1},
        "read_only",
        "one_gate.notes.create: this test's policy is read-only",
        False,
        None,
    )
    assert not live.verdict.allowed
    read = LiveRequest("GET", "https://notes.one-gate.test/other", {}, b"")
    assert guard.gate(read) is None and read.verdict is not None and read.verdict.allowed
    assert (read.verdict.tool, read.verdict.access) == (None, "read")


def test_simulators_never_import_the_plugin() -> None:
    """The gate reaches the loopback server as a callable (``SimServer(front=...)``), never by import."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "simulators"
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            found += [f"{path.relative_to(root)}: {n}" for n in names if n.split(".")[0] == "pytest_agentops"]
    assert len(list(root.rglob("*.py"))) > 20 and found == []
