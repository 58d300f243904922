"""The plugin's overhead per model call for the non-OpenAI-host providers, same run.

Usage: python benchmarks/bench_providers.py [--quick]

One model call (a short text answer, no tool) through each provider's real SDK:

- gemini: ``google-genai``'s ``generate_content`` (``/v1beta/models/...:generateContent``);
- openai base_url: ``openai.OpenAI(base_url="http://127.0.0.1:PORT/v1")``, as for Ollama or vLLM;
- azure: ``openai.AzureOpenAI`` (``/openai/deployments/{deployment}/chat/completions?api-version=``);
- bedrock: boto3's ``bedrock-runtime`` ``converse`` (botocore over urllib3, seen through vcrpy's patch).

Each in three set-ups:

- bare: the SDK's httpx client on a ``MockTransport`` answering the fake model's exact reply,
  canned (the floor: no plugin, no server, no fake); for boto3, botocore's own ``Stubber`` with
  that reply (what boto3 users pick; it skips HTTP altogether, so it is a lower floor);
- plugin off (loopback): the fake model served on a loopback port with no tap (what a user would
  otherwise pick: a local mock server);
- plugin on (fake_llm): ``FakeModel.intercept()``, the tap and the fake model in-process, what the
  ``fake_llm`` fixture runs under (every call parsed by the provider's parser, traced, answered).

Prints ms per call (median of 5 rounds, round 0 dropped) and the ratios on/off and on/bare, then
checks that the plugin-on trace read each call (provider, model, tokens). Loopback only.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import interleaved

from pytest_agentops.backends.model import FakeModel

GEMINI = "gemini-2.5-flash"
LOCAL = "llama3.2"
AZURE_DEPLOYMENT = "prod-4o"
BEDROCK = "us.amazon.nova-lite-v1:0"
PROMPT = "Weather in Paris?"
# (fake, base URL, bare) -> an SDK call; bare: the SDK's own floor instead of HTTP to base URL.
Call = Callable[[FakeModel, str, bool], Callable[[], Any]]


def gemini_call(fake: FakeModel, base_url: str, bare: bool) -> Callable[[], Any]:
    import httpx
    from google import genai
    from google.genai import types

    extra: dict[str, Any] = {"httpx_client": httpx.Client(transport=transport_for(fake, "httpx"))} if bare else {}
    client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=base_url, **extra))
    return lambda: client.models.generate_content(model=GEMINI, contents=PROMPT).text


def _openai_http(fake: FakeModel, bare: bool) -> dict[str, Any]:
    import httpx2

    return {"http_client": httpx2.Client(transport=transport_for(fake, "httpx2"))} if bare else {}


def local_call(fake: FakeModel, base_url: str, bare: bool) -> Callable[[], Any]:
    import openai

    client = openai.OpenAI(base_url=base_url + "/v1", api_key="ollama", max_retries=0, **_openai_http(fake, bare))
    messages: Any = [{"role": "user", "content": PROMPT}]
    return lambda: client.chat.completions.create(model=LOCAL, messages=messages).choices[0].message.content


def azure_call(fake: FakeModel, base_url: str, bare: bool) -> Callable[[], Any]:
    import openai

    client = openai.AzureOpenAI(
        azure_endpoint=base_url,
        azure_deployment=AZURE_DEPLOYMENT,
        api_version="2024-10-21",
        api_key="k",
        max_retries=0,
        **_openai_http(fake, bare),
    )
    messages: Any = [{"role": "user", "content": PROMPT}]
    return lambda: client.chat.completions.create(model="gpt-4o", messages=messages).choices[0].message.content


def bedrock_call(fake: FakeModel, base_url: str, bare: bool) -> Callable[[], Any]:
    import json

    import boto3
    from botocore.stub import Stubber

    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=base_url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="dummy",
    )
    messages = [{"role": "user", "content": [{"text": PROMPT}]}]
    if not bare:
        return lambda: client.converse(modelId=BEDROCK, messages=messages)["output"]
    url = f"{fake.bedrock_base_url}/model/{BEDROCK}/converse"
    reply = json.loads(fake.handle("POST", url, {}, json.dumps({"messages": messages}).encode())[2])
    reply["ResponseMetadata"] = {"HTTPStatusCode": 200}
    stubber = Stubber(client)
    stubber.activate()

    def call() -> Any:
        stubber.add_response("converse", reply)
        return client.converse(modelId=BEDROCK, messages=messages)["output"]

    return call


PROVIDERS: dict[str, tuple[str, Call, tuple[str, str]]] = {
    "gemini": ("google.genai", gemini_call, ("google.gemini", GEMINI)),
    "openai base_url": ("openai", local_call, ("openai.chat", LOCAL)),
    "azure": ("openai", azure_call, ("openai.chat", "gpt-4o")),
    "bedrock": ("boto3", bedrock_call, ("bedrock.converse", BEDROCK)),
}


def transport_for(fake: FakeModel, library: str) -> Any:
    """A MockTransport answering with the fake model's reply to the first request, canned."""
    module = __import__(library)
    canned: dict[str, Any] = {}

    def answer(request: Any) -> Any:
        if "reply" not in canned:
            canned["reply"] = fake.handle(request.method, str(request.url), dict(request.headers), request.content)
        status, headers, body = canned["reply"]
        return module.Response(status, headers=headers, content=body)

    return module.MockTransport(answer)


def measure(fake: FakeModel, build: Call, n: int) -> dict[str, float]:
    """Rounds alternate between the set-ups, so drift and warm-up hit all three alike."""
    assert fake.loopback_url is not None
    calls = {
        "bare": build(fake, fake.base_url, True),
        "off": build(fake, fake.loopback_url, False),
        "on": build(fake, fake.base_url, False),
    }
    return interleaved(calls, n, intercepted="on", intercept=fake.intercept)


def check_trace(fake: FakeModel, build: Call, expected: tuple[str, str]) -> bool:
    """One plugin-on call: the trace names the provider and model and carries the fake's tokens."""
    call = build(fake, fake.base_url, False)
    with fake.intercept() as run:
        call()
    [model_call] = [e.model_call for e in run.events if e.model_call is not None][-1:]
    last = fake.requests[-1]
    usage = (model_call.usage.input_tokens, model_call.usage.output_tokens)
    return (model_call.provider, model_call.model) == expected and usage == (last.input_tokens, last.output_tokens)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls (well under a minute)")
    n = 20 if parser.parse_args().quick else 200
    logging.disable(logging.WARNING)
    fake = FakeModel()
    fake.script([fake.reply("It is sunny.")], loop=True)
    fake.serve()
    print(f"ms per model call, median of 5 rounds of {n} calls (Python {sys.version.split()[0]})")
    print(f"{'provider':<17}{'bare':>9}{'off':>9}{'on':>9}{'on/off':>9}{'on/bare':>9}  trace")
    failed = False
    try:
        for name, (module, build, expected) in PROVIDERS.items():
            try:
                __import__(module)
            except ImportError:
                print(f"{name:<17} not installed")
                continue
            ms = measure(fake, build, n)
            traced = check_trace(fake, build, expected)
            failed |= not traced
            bare, off, on = ms["bare"], ms["off"], ms["on"]
            verdict = "[PASS]" if traced else "[FAIL] trace did not read the call"
            print(f"{name:<17}{bare:>9.3f}{off:>9.3f}{on:>9.3f}{on / off:>8.2f}x{on / bare:>8.2f}x  {verdict}")
    finally:
        fake.close()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
