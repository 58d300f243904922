"""Installing the plugin changes no outcome: the test's own mocks and in-process transports answer.

Each inner test routes a request to a mock the way its library's docs say (respx, httpx's
``MockTransport``/``ASGITransport``/``WSGITransport``, Starlette's ``TestClient``, pytest-httpx,
``responses``, requests-mock) and asserts the mocked answer. Tests that use an
agentops fixture also assert the trace event (backend ``mock``). The same file passes in the default
mode and under ``--agent-replay``, and with the plugin disabled, so the plugin changes no outcome.
"""

from __future__ import annotations

import pytest
from conftest import INNER_INI, Project

MOCK_TESTS = '''
import httpx
import httpx2
import pytest
import requests
import requests_mock
import respx
import responses
from fastapi import FastAPI
from fastapi.testclient import TestClient
from flask import Flask

api = FastAPI()


@api.get("/items/{item_id}")
def read_item(item_id: int):
    return {"item_id": item_id, "source": "fastapi"}


wsgi = Flask(__name__)


@wsgi.get("/ping")
def ping():
    return {"pong": True, "source": "flask"}


def traced(agent_run, **expected):
    """The last event must say the test's own mock served it (nothing to check without the plugin)."""
    if agent_run is None:
        return
    event = agent_run.events[-1]
    assert event.backend == "mock", event
    for name, value in expected.items():
        assert getattr(event, name) == value, (name, event)
    return event


@respx.mock
def test_respx_decorator(agent_run):
    route = respx.get("https://api.example.com/users/1").mock(return_value=httpx.Response(200, json={"id": 1}))
    assert httpx.get("https://api.example.com/users/1").json() == {"id": 1}
    assert route.called
    traced(agent_run, method="GET", url="https://api.example.com/users/1", status=200)


def test_respx_context_unmarked():
    with respx.mock(base_url="https://api.example.com") as router:
        router.post("/tickets").respond(201, json={"ok": True})
        assert httpx.post("https://api.example.com/tickets", json={"a": 1}).status_code == 201


def test_respx_mocks_a_model_call(agent_run):
    completion = {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }
    with respx.mock(using="httpcore") as router:
        router.post("https://api.openai.com/v1/chat/completions").respond(200, json=completion)
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
        reply = httpx.post("https://api.openai.com/v1/chat/completions", json=body)
    assert reply.json()["choices"][0]["message"]["content"] == "hi"
    event = traced(agent_run, kind="model")
    if event is not None:
        assert event.model_call is not None and event.model_call.usage.input_tokens == 5


def test_respx_swaps_the_transport(agent_run):
    # respx's "httpx" mocker answers above the transport, then passes the rest through to it.
    with respx.mock(using="httpx") as router:
        router.get("https://api.example.com/plans").respond(200, json=["basic"])
        with httpx.Client() as client:
            assert client.get("https://api.example.com/plans").json() == ["basic"]


def test_httpx_mock_transport(agent_run):
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"path": request.url.path}))
    with httpx.Client(transport=transport) as client:
        assert client.get("https://svc.example.com/a").json() == {"path": "/a"}
    traced(agent_run, url="https://svc.example.com/a")


def test_httpx2_mock_transport(agent_run):
    transport = httpx2.MockTransport(lambda request: httpx2.Response(202, text="queued"))
    with httpx2.Client(transport=transport) as client:
        assert client.post("https://svc.example.com/jobs").text == "queued"
    traced(agent_run, status=202)


async def _asgi_get(url):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://testserver") as client:
        return (await client.get(url)).json()


def test_fastapi_asgi_transport(agent_run):
    import asyncio

    assert asyncio.run(_asgi_get("/items/7")) == {"item_id": 7, "source": "fastapi"}
    traced(agent_run, url="http://testserver/items/7")


def test_fastapi_test_client(agent_run):
    with TestClient(api) as client:
        assert client.get("/items/3").json() == {"item_id": 3, "source": "fastapi"}
    traced(agent_run, status=200)


def test_wsgi_transport_unmarked():
    with httpx.Client(transport=httpx.WSGITransport(app=wsgi), base_url="http://flask") as client:
        assert client.get("/ping").json() == {"pong": True, "source": "flask"}


def test_pytest_httpx(httpx_mock, agent_run):
    httpx_mock.add_response(url="https://api.example.com/orders", json=[{"id": "o1"}])
    assert httpx.get("https://api.example.com/orders").json() == [{"id": "o1"}]
    traced(agent_run, url="https://api.example.com/orders")


@responses.activate
def test_responses(agent_run):
    responses.add(responses.GET, "https://api.example.com/customers/9", json={"id": 9}, status=200)
    assert requests.get("https://api.example.com/customers/9").json() == {"id": 9}
    traced(agent_run, method="GET", status=200)


def test_requests_mock(agent_run):
    with requests_mock.Mocker() as mock:
        mock.post("https://api.example.com/refunds", json={"refund": "re_1"}, status_code=201)
        assert requests.post("https://api.example.com/refunds", json={"amount": 5}).json() == {"refund": "re_1"}
    traced(agent_run, status=201)


@pytest.mark.agent_policy(allow=["users.read"])
def test_policy_applies_to_mocked_tools_when_configured(agent_run):
    if agent_run is None:
        pytest.skip("the policy is the plugin's")
    from pytest_agentops import register_tool

    register_tool("users.read", method="GET", url="https://api.example.com/users/{id}", kind="read")
    register_tool("users.delete", method="DELETE", url="https://api.example.com/users/{id}", kind="write")
    with respx.mock(assert_all_called=False) as router:
        read = router.get("https://api.example.com/users/1").respond(200, json={"id": 1})
        delete = router.delete("https://api.example.com/users/1").respond(204)
        assert httpx.get("https://api.example.com/users/1").status_code == 200
        denied = httpx.delete("https://api.example.com/users/1")
    assert read.called and not delete.called  # the denied call never reached the mock
    assert denied.status_code == 403 and denied.headers["x-should-retry"] == "false"
    assert [d.tool for d in agent_run.denials] == ["users.delete"]
    assert agent_run.events[0].backend == "mock" and agent_run.events[0].tool == "users.read"
'''

COUNT = MOCK_TESTS.count("\ndef test_")


DEFAULT_SCOPE_INI = INNER_INI.replace("agentops_scope = all\n", "")


@pytest.fixture
def mocks(project: Project) -> Project:
    project.pytester.makeini(DEFAULT_SCOPE_INI)
    project.pytester.makepyfile(test_mocks=MOCK_TESTS)
    return project


@pytest.mark.parametrize(
    "mode",
    [[], ["--agent-replay"], ["-o", "agentops_scope=all"], ["-o", "agentops_scope=all", "--agent-replay"]],
    ids=["default", "replay", "scope-all", "scope-all-replay"],
)
def test_every_mock_answers_and_is_traced(mocks: Project, mode: list[str]) -> None:
    result = mocks.run(*mode)
    result.assert_outcomes(passed=COUNT)
    assert "no recorded answer" not in result.stdout.str()
    assert not (mocks.path / "cassettes").exists() or not list((mocks.path / "cassettes").rglob("*.json"))


def test_the_same_tests_pass_without_the_plugin(mocks: Project) -> None:
    """The baseline: every mock answers the same with the plugin off (only the policy test needs it)."""
    mocks.pytester.makeconftest("import pytest\n\n@pytest.fixture\ndef agent_run():\n    return None\n")
    result = mocks.run("-p", "no:agentops", "-W", "ignore::pytest.PytestUnknownMarkWarning")
    result.assert_outcomes(passed=COUNT - 1, skipped=1)
