"""Latency of one model call answered by the fake model, through the official SDKs.

Usage: python benchmarks/bench_fake_model.py [--quick]

In-process: ``FakeModel().intercept()`` (the tap and vcrpy's patches, exactly what the ``fake_llm``
fixture runs under), then the openai SDK (Chat Completions plain and streamed with a tool call,
Responses streamed) and the anthropic SDK (Messages streamed). For scale: the same chat call
with the SDK over an ``httpx2.MockTransport`` answering a canned body (the SDK's own floor, no
fake, no tap), ``FakeModel.handle()`` alone (the fake's own work), and the SDK against
``fake.serve()`` on a loopback socket. Prints per-call p50/p95/mean; target: the in-process chat
call under 2 ms at p50.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_agentops.backends.model import FakeModel

SYSTEM = (
    "You are Ada, the support assistant of Northwind Outfitters. Look up orders with lookup_order before "
    "answering questions about shipping, returns or refunds."
)
TOOL_SCHEMA = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "include_items": {"type": "boolean"}},
    "required": ["order_id"],
}
CHAT_TOOLS: Any = [{"type": "function", "function": {"name": "lookup_order", "parameters": TOOL_SCHEMA}}]
RESPONSES_TOOLS: Any = [{"type": "function", "name": "lookup_order", "parameters": TOOL_SCHEMA, "strict": False}]
ANTHROPIC_TOOLS: Any = [{"name": "lookup_order", "input_schema": TOOL_SCHEMA}]
MESSAGES: Any = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Where is my order A-1042?"}]
TURN = "Let me look that up for you."
TARGET_P50_MS = 2.0


def measure(fn: Callable[[], Any], n: int, warmup: int = 20) -> list[float]:
    for _ in range(warmup):
        fn()
    gc.collect()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def row(label: str, times: list[float]) -> str:
    ordered = sorted(times)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[int(len(ordered) * 0.95) - 1] * 1000
    mean = statistics.fmean(ordered) * 1000
    return f"  {label:<72} {p50:8.3f} {p95:8.3f} {mean:8.3f}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    n = 300 if parser.parse_args().quick else 2000

    import anthropic
    import httpx2
    import openai

    fake = FakeModel()
    turn = fake.reply(TURN, [fake.tool_call("lookup_order", order_id="A-1042")])
    fake.script([turn], loop=True)

    def cases(client: Any, claude: Any) -> dict[str, Callable[[], Any]]:
        def chat() -> None:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tools=CHAT_TOOLS)

        def chat_stream() -> None:
            stream = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=MESSAGES,
                tools=CHAT_TOOLS,
                stream=True,
                stream_options={"include_usage": True},
            )
            assert list(stream)[-1].usage is not None

        def responses_stream() -> None:
            with client.responses.stream(model="gpt-4.1", input="Where is A-1042?", tools=RESPONSES_TOOLS) as s:
                s.get_final_response()

        def anthropic_stream() -> None:
            with claude.messages.stream(
                model="claude-sonnet-4", max_tokens=100, messages=MESSAGES[1:], tools=ANTHROPIC_TOOLS
            ) as s:
                s.get_final_message()

        return {
            "openai chat.completions.create": chat,
            "openai chat, streamed + usage chunk": chat_stream,
            "openai responses.stream (text + tool call)": responses_stream,
            "anthropic messages.stream (text + tool_use)": anthropic_stream,
        }

    # The SDK's own floor: the fake's exact answer, canned, over an httpx2.MockTransport (no tap, no fake).
    def canned(request: Any) -> Any:
        status, headers, body = fake.handle(request.method, str(request.url), dict(request.headers), request.content)
        answer = httpx2.Response(status, headers=headers, content=body)
        return lambda _request: answer

    floors: dict[str, list[float]] = {}
    for name in cases(None, None):
        cache: dict[str, Any] = {}

        def transport(request: Any, cache: dict[str, Any] = cache) -> Any:
            if "reply" not in cache:
                cache["reply"] = canned(request)
            return cache["reply"](request)

        http = httpx2.Client(transport=httpx2.MockTransport(transport))
        floor_client = openai.OpenAI(base_url=fake.openai_base_url, api_key="k", http_client=http)
        floor_claude = anthropic.Anthropic(base_url=fake.anthropic_base_url, api_key="k", http_client=http)
        floors[name] = measure(cases(floor_client, floor_claude)[name], n)

    body = json.dumps({"model": "gpt-4o-mini", "messages": MESSAGES, "tools": CHAT_TOOLS, "stream": True}).encode()
    handle_only = measure(lambda: fake.handle("POST", fake.openai_base_url + "/chat/completions", {}, body), n)

    results: dict[str, list[float]] = {}
    with fake.intercept():
        client = openai.OpenAI(base_url=fake.openai_base_url, api_key="k", max_retries=0)
        claude = anthropic.Anthropic(base_url=fake.anthropic_base_url, api_key="k", max_retries=0)
        for name, fn in cases(client, claude).items():
            results[name] = measure(fn, n)

    fake.serve()
    assert fake.loopback_url is not None
    loop_client = openai.OpenAI(base_url=fake.loopback_url + "/v1", api_key="k", max_retries=0)
    loopback = measure(cases(loop_client, None)["openai chat.completions.create"], n)
    fake.close()

    print(f"fake model latency per call, {n} calls each (ms)")
    print(f"  {'':<72} {'p50':>8} {'p95':>8} {'mean':>8}")
    for name, times in results.items():
        print(row(f"in-process (tap + fake): {name}", times))
        print(row(f"  SDK floor (canned answer, MockTransport): {name}", floors[name]))
    print(row("FakeModel.handle() alone: chat, streamed", handle_only))
    print(row("loopback socket: openai chat.completions.create", loopback))
    p50 = statistics.median(results["openai chat.completions.create"]) * 1000
    floor_p50 = statistics.median(floors["openai chat.completions.create"]) * 1000
    verdict = "PASS" if p50 < TARGET_P50_MS else "FAIL"
    print(
        f"[{verdict}] in-process chat call p50 {p50:.3f} ms (target < {TARGET_P50_MS} ms; SDK floor {floor_p50:.3f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
