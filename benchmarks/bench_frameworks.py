"""The plugin's overhead per model call through each agent framework, same run.

Usage: python benchmarks/bench_frameworks.py [--quick]

One model call (a Chat Completions answer, no tool) through each installed framework, as its users
write it, with the OpenAI client the framework builds handed our base URL:

- bare MockTransport: the framework's openai client on an ``httpx2.MockTransport`` answering the
  fake model's exact reply, canned (the floor: no plugin, no server, no fake);
- plugin off: the framework against the fake model served on a loopback port with no tap (what a
  user would otherwise pick: a local mock server);
- plugin on: ``FakeModel.intercept()``, the tap and the fake model in-process, exactly what the
  ``fake_llm`` fixture runs under (every call parsed, traced and answered by the fake).

Prints ms per call (median of 5 rounds) and the ratios plugin on / plugin off and plugin on / bare.
``--quick`` runs in well under a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import interleaved

from pytest_agentops.backends.model import FakeModel

MODEL = "gpt-4o-mini"
PROMPT = "Weather in Paris?"
Client = Callable[[bool], Any]  # is_async -> an openai client pointed where the configuration says


def agents_call(client: Client) -> Callable[[], Any]:
    from agents import Agent, OpenAIChatCompletionsModel, Runner, set_tracing_disabled

    set_tracing_disabled(True)
    agent = Agent(name="w", model=OpenAIChatCompletionsModel(model=MODEL, openai_client=client(True)))
    return lambda: Runner.run_sync(agent, PROMPT).final_output


def pydantic_ai_call(client: Client) -> Callable[[], Any]:
    from pydantic_ai import Agent
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    agent = Agent(OpenAIChatModel(MODEL, provider=OpenAIProvider(openai_client=client(True))))
    return lambda: agent.run_sync(PROMPT).output


def langchain_call(client: Client) -> Callable[[], Any]:
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(model=MODEL, api_key="k")  # type: ignore[arg-type]
    chat.client = client(False).chat.completions  # the client ChatOpenAI builds, on our transport
    return lambda: chat.invoke(PROMPT).content


def llama_index_call(client: Client) -> Callable[[], Any]:
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openai import OpenAI

    llm = OpenAI(model=MODEL, api_key="k", max_retries=0)
    llm._client = client(False)  # reuse_client (the default) keeps this one
    return lambda: llm.chat([ChatMessage(role="user", content=PROMPT)]).message.content


FRAMEWORKS: dict[str, tuple[str, Callable[[Client], Callable[[], Any]]]] = {
    "openai-agents": ("agents", agents_call),
    "pydantic-ai": ("pydantic_ai", pydantic_ai_call),
    "langchain-openai": ("langchain_openai", langchain_call),
    "llama-index": ("llama_index.llms.openai", llama_index_call),
}


def clients(fake: FakeModel) -> dict[str, Client]:
    import httpx2
    import openai

    canned: dict[str, Any] = {}

    def answer(request: Any) -> Any:
        if "reply" not in canned:
            canned["reply"] = fake.handle(request.method, str(request.url), dict(request.headers), request.content)
        status, headers, body = canned["reply"]
        return httpx2.Response(status, headers=headers, content=body)

    def bare(is_async: bool) -> Any:
        if is_async:
            http = httpx2.AsyncClient(transport=httpx2.MockTransport(answer))
            return openai.AsyncOpenAI(base_url=fake.openai_base_url, api_key="k", http_client=http)
        sync = httpx2.Client(transport=httpx2.MockTransport(answer))
        return openai.OpenAI(base_url=fake.openai_base_url, api_key="k", http_client=sync)

    def at(url: Callable[[], str]) -> Client:
        def make(is_async: bool) -> Any:
            cls = openai.AsyncOpenAI if is_async else openai.OpenAI
            return cls(base_url=url(), api_key="k", max_retries=0)

        return make

    return {
        "bare MockTransport": bare,
        "plugin off (loopback)": at(lambda: str(fake.loopback_url) + "/v1"),
        "plugin on (fake_llm)": at(lambda: fake.openai_base_url),
    }


def measure(fake: FakeModel, build: Callable[[Client], Callable[[], Any]], n: int) -> dict[str, float]:
    """Rounds alternate between the configurations, so drift and warm-up hit all three alike."""
    calls = {name: build(client) for name, client in clients(fake).items()}
    return interleaved(calls, n, intercepted="plugin on (fake_llm)", intercept=fake.intercept)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls (under a minute)")
    n = 20 if parser.parse_args().quick else 200
    logging.disable(logging.WARNING)
    fake = FakeModel()
    fake.script([fake.reply("It is sunny.")], loop=True)
    fake.serve()
    print(f"ms per model call, median of 5 rounds of {n} calls (Python {sys.version.split()[0]})")
    print(f"{'framework':<18}{'bare':>9}{'off':>9}{'on':>9}{'on/off':>9}{'on/bare':>9}")
    try:
        for name, (module, build) in FRAMEWORKS.items():
            try:
                __import__(module)
            except ImportError:
                print(f"{name:<18} not installed")
                continue
            ms = measure(fake, build, n)
            bare, off, on = ms["bare MockTransport"], ms["plugin off (loopback)"], ms["plugin on (fake_llm)"]
            print(f"{name:<18}{bare:>9.3f}{off:>9.3f}{on:>9.3f}{on / off:>8.2f}x{on / bare:>8.2f}x")
    finally:
        fake.close()
        asyncio.set_event_loop(None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
