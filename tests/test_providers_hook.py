"""The ``pytest_agentops_providers`` hook: a plugin's model-API parser makes its calls model events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_agentops.trace import providers
from pytest_agentops.trace.run import ModelCall, Usage

if TYPE_CHECKING:
    from conftest import Project

HOOK_CONFTEST = '''
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pytest_agentops.trace.run import ModelCall, Usage


class Generate:
    """A made-up model API: POST .../v1/generate {"model", "prompt"} -> {"text", "usage": {"in", "out"}}."""

    def detect(self, method, url):
        return "madeup.generate" if method == "POST" and url.split("?")[0].endswith("/v1/generate") else None

    def parse(self, method, url, request_body, status, headers, body):
        request = json.loads(request_body or b"{}")
        if status != 200:
            return ModelCall("madeup.generate", request.get("model"))
        data = json.loads(body)
        return ModelCall(
            "madeup.generate",
            request.get("model"),
            Usage(input_tokens=data["usage"]["in"], output_tokens=data["usage"]["out"]),
            text=data["text"],
        )


class Broken:
    def detect(self, method, url):
        return "broken" if url.endswith("/v1/broken") else None

    def parse(self, *args):
        raise RuntimeError("a defect in the plugin")


def pytest_agentops_providers(config):
    return [Generate(), Broken()]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])) or b"{}")
        payload = {"text": "echo: " + body.get("prompt", ""), "usage": {"in": 7, "out": 5}}
        raw = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
'''

HOOK_TESTS = """
import httpx
import pytest


@pytest.mark.agent_policy(allow=[])  # model calls are never tools: an empty allowlist does not deny them
def test_generate_calls_are_model_events(server_url, agent_run):
    answer = httpx.post(server_url + "/v1/generate", json={"model": "made-up-1", "prompt": "hi"})
    assert answer.json()["text"] == "echo: hi"
    (event,) = agent_run.events
    assert event.kind == "model" and event.backend == "passthrough"
    call = event.model_call
    assert (call.provider, call.model, call.text) == ("madeup.generate", "made-up-1", "echo: hi")
    assert (call.usage.input_tokens, call.usage.output_tokens) == (7, 5)
    assert agent_run.usage.total_tokens == 12 and agent_run.tool_calls == []


@pytest.mark.agent_budget(max_tokens=12)
def test_token_budget_counts_them(server_url, agent_run):
    httpx.post(server_url + "/v1/generate", json={"model": "made-up-1", "prompt": "a"})
    denied = httpx.post(server_url + "/v1/generate", json={"model": "made-up-1", "prompt": "b"})
    assert denied.status_code == 403 and denied.json()["error"]["rule"] == "budget.max_tokens_total"


def test_a_parser_that_raises_keeps_the_call_without_usage(server_url, agent_run):
    httpx.post(server_url + "/v1/broken", json={"model": "m"})
    httpx.post(server_url + "/v1/other", json={})
    broken, other = agent_run.events
    assert broken.kind == "model" and broken.model_call.provider == "broken"
    assert broken.model_call.usage.total_tokens == 0
    assert other.kind == "tool" and other.model_call is None
"""


def test_provider_hook_parsers_make_model_events(project: Project) -> None:
    project.pytester.makeconftest(HOOK_CONFTEST)
    project.pytester.makepyfile(test_agent=HOOK_TESTS)
    result = project.run("-v")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*test_token_budget_counts_them FAILED*"])
    result.stdout.fnmatch_lines(["*budget.max_tokens_total denied the model call*"])


class _Proxy:
    def detect(self, method: str, url: str) -> str | None:
        return "proxy.chat" if "/proxy/" in url else None

    def parse(
        self, method: str, url: str, request_body: bytes | None, status: int, headers: object, body: bytes
    ) -> ModelCall:
        return ModelCall("proxy.chat", "proxied", Usage(1, 2))


def test_extra_parsers_are_asked_first_and_removed() -> None:
    proxy = _Proxy()
    url = "https://gw.example/proxy/v1/chat/completions"
    assert providers.detect_provider("POST", url) == "openai.chat"
    providers.add_parsers([proxy])
    try:
        assert providers.detect_provider("POST", url) == "proxy.chat"
        call = providers.parse_model_call("POST", url, b"{}", 200, {}, b"{}")
        assert call is not None and (call.model, call.usage.total_tokens) == ("proxied", 3)
        assert providers.detect_provider("POST", "https://api.openai.com/v1/chat/completions") == "openai.chat"
    finally:
        providers.remove_parsers([proxy])
    assert providers.detect_provider("POST", url) == "openai.chat"
