"""httpx's default transport answers a request itself only where the tap's pool patch would answer
it the same (``tap/transport.py``), and each request is decided once, whichever layer answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpcore
import httpcore2
import httpx
import httpx2
import pytest
from json_upstream import json_upstream

from pytest_agentops.cassette.format import FORMAT_VERSION, Cassette, dump
from pytest_agentops.tap import core, transport
from pytest_agentops.tap.opener import open_tap
from pytest_agentops.tap.routing import Tap
from pytest_agentops.tap.settings import Settings
from pytest_agentops.trace.run import Run

URL = "https://api.openai.com/v1/chat/completions"
ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-4o-mini",
    "choices": [],
    "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3},
}
LIBS: dict[str, tuple[ModuleType, ModuleType]] = {"httpx": (httpx, httpcore), "httpx2": (httpx2, httpcore2)}


def _cassette(path: Path, bodies: list[dict[str, Any]]) -> Path:
    interactions = [
        {
            "kind": "model",
            "request": {"method": "POST", "url": URL, "body": {"json": body}},
            "response": {
                "status": 200,
                "reason": "OK",
                "headers": {"content-type": "application/json", "set-cookie": ["a=1", "b=2"]},
                "body": {"json": {**ANSWER, "id": f"chatcmpl-{i}"}, "style": "indent2"},
            },
        }
        for i, body in enumerate(bodies)
    ]
    path.write_text(dump({"version": FORMAT_VERSION, "meta": {}, "interactions": interactions}))
    return path


@pytest.fixture
def spies(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often each layer built an answer, and how often the tap decided."""
    counts = {"transport": 0, "pool": 0, "decide": 0}

    def counting(name: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(transport, "_response", counting("transport", transport._response))
    monkeypatch.setattr(core, "_response", counting("pool", core._response))
    monkeypatch.setattr(Tap, "decide", counting("decide", Tap.decide))
    return counts


def _send(lib: ModuleType, asynchronous: bool, bodies: list[dict[str, Any]]) -> list[Any]:
    if not asynchronous:
        with lib.Client() as client:
            return [client.post(URL, json=body) for body in bodies]

    async def send() -> list[Any]:
        async with lib.AsyncClient() as client:
            return [await client.post(URL, json=body) for body in bodies]

    return asyncio.run(send())


def _seen(response: Any) -> tuple[Any, ...]:
    """All a client can tell of an answer."""
    return (
        response.status_code,
        response.headers.raw,
        response.content,
        response.extensions.get("http_version"),
        response.extensions.get("reason_phrase"),
        response.elapsed is not None,
        response.cookies.get("b"),
        response.is_closed,
    )


def _below_the_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """What respx does to the pools: a method of its own over the tap's, calling it on."""
    for pools in (httpcore, httpcore2):
        sync, asynchronous = pools.ConnectionPool.handle_request, pools.AsyncConnectionPool.handle_async_request

        def over(self: Any, request: Any, ours: Any = sync) -> Any:
            return ours(self, request)

        async def over_async(self: Any, request: Any, ours: Any = asynchronous) -> Any:
            return await ours(self, request)

        monkeypatch.setattr(pools.ConnectionPool, "handle_request", over)
        monkeypatch.setattr(pools.AsyncConnectionPool, "handle_async_request", over_async)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("name", sorted(LIBS))
def test_the_transport_answers_as_the_pool_would(
    tmp_path: Path, spies: dict[str, int], monkeypatch: pytest.MonkeyPatch, name: str, asynchronous: bool
) -> None:
    lib, _ = LIBS[name]
    bodies = [{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi" * i}]} for i in range(1, 4)]
    path = _cassette(tmp_path / "c.json", bodies)

    above = Run("above")
    with open_tap(Settings(), above, path):
        at_transport = [_seen(r) for r in _send(lib, asynchronous, bodies)]
    assert spies == {"transport": 3, "pool": 0, "decide": 3}

    spies.update(transport=0, pool=0, decide=0)
    _below_the_transport(monkeypatch)  # something of the test's sits below the transport: the pool answers
    below = Run("below")
    with open_tap(Settings(), below, path):
        at_pool = [_seen(r) for r in _send(lib, asynchronous, bodies)]
    assert spies == {"transport": 0, "pool": 3, "decide": 3}

    assert at_transport == at_pool
    assert [json.loads(seen[2])["id"] for seen in at_transport] == ["chatcmpl-0", "chatcmpl-1", "chatcmpl-2"]
    for run in (above, below):
        assert [(e.backend, e.status, e.kind) for e in run.events] == [("cassette", 200, "model")] * 3
        assert all(e.model_call is not None and e.model_call.usage.input_tokens == 2 for e in run.events)


@pytest.fixture
def upstream() -> Iterator[str]:
    with json_upstream(ANSWER) as base:
        yield f"{base}/v1/chat/completions"


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("name", sorted(LIBS))
def test_a_recorded_request_is_decided_once_and_saved_once(
    tmp_path: Path, spies: dict[str, int], upstream: str, name: str, asynchronous: bool
) -> None:
    """Decided at the transport (to the network), carried out by the pool: one decision, one event,
    one interaction, however many layers the request passes."""
    lib, _ = LIBS[name]
    path = tmp_path / "rec.json"
    run = Run("rec")

    async def send_async() -> Any:
        async with lib.AsyncClient() as client:
            return await client.post(upstream, json={"q": 1})

    with open_tap(Settings(record="new"), run, path) as tap:
        if asynchronous:
            response = asyncio.run(send_async())
        else:
            with lib.Client() as client:
                response = client.post(upstream, json={"q": 1})
        tap.cassette.save()
    assert response.status_code == 200 and response.json() == ANSWER
    assert spies["decide"] == 1 and spies["transport"] == 0 and spies["pool"] == 1
    assert [(e.backend, e.status) for e in run.events] == [("network", 200)]
    saved = Cassette.load(path)
    assert len(saved) == 1 and saved.interactions[0]["request"]["url"] == upstream
