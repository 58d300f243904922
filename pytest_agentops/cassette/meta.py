"""What a cassette's ``meta`` says of its interactions: when and with what they were recorded."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from typing import Any

from pytest_agentops._version import __version__
from pytest_agentops.cassette.body import request_value

Interaction = dict[str, Any]


def _hash(value: Any) -> str:
    canon = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canon.encode("utf-8")).hexdigest()[:16]


def build_meta(interactions: list[Interaction]) -> dict[str, Any]:
    """When and with what the cassette was recorded: models, prompt and tool-schema hashes."""
    models: set[str] = set()
    prompts: set[str] = set()
    tools: dict[str, str] = {}
    for interaction in interactions:
        if interaction.get("kind") != "model":
            continue
        body = request_value(interaction["request"].get("body"))
        if not isinstance(body, dict):
            continue
        if isinstance(body.get("model"), str):
            models.add(body["model"])
        for prompt in _system_prompts(body):
            prompts.add(_hash(prompt))
        tools_sent = body.get("tools")
        for tool in tools_sent if isinstance(tools_sent, list) else []:
            if isinstance(tool, dict):
                function = tool.get("function")
                name = tool.get("name") or (function.get("name") if isinstance(function, dict) else None)
                if isinstance(name, str):
                    tools[name] = _hash(tool)
    return {
        "recorded_at": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        "recorded_with": f"pytest-agentops {__version__}",
        "interaction_count": len(interactions),
        "models": sorted(models),
        "prompt_hashes": sorted(prompts),
        "tool_schema_hashes": dict(sorted(tools.items())),
    }


def _system_prompts(body: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    if "system" in body:  # anthropic messages
        found.append(body["system"])
    if "instructions" in body:  # openai responses
        found.append(body["instructions"])
    messages = body.get("messages") or body.get("input")
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, dict) and message.get("role") in ("system", "developer"):
            found.append(message.get("content"))
    return found
