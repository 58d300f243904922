"""A small support-triage agent built on the official openai SDK.

Explicit steps rather than a free loop: classify the ticket with a small model, then draft a
reply with a larger one that may call the ``lookup_customer`` tool, streamed as a real UI would.
The tests replay its recorded model traffic with ``pytest --agent-replay``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openai import OpenAI

CLASSIFY_MODEL = "gpt-4o-mini"
DRAFT_MODEL = "gpt-4o"
CATEGORIES = ("refund", "password_reset", "complaint", "other")

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "lookup_customer",
            "description": "Look up a customer's plan and open orders by email.",
            "parameters": {
                "type": "object",
                "properties": {"email": {"type": "string"}},
                "required": ["email"],
                "additionalProperties": False,
            },
        },
    }
]


@dataclass
class Triage:
    category: str
    reply: str
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


Lookup = Callable[[str], dict[str, Any]]


def classify(client: OpenAI, ticket: str) -> str:
    response = client.chat.completions.create(
        model=CLASSIFY_MODEL,
        messages=[
            {"role": "system", "content": f"Classify the support ticket as one of: {', '.join(CATEGORIES)}."},
            {"role": "user", "content": ticket},
        ],
        temperature=0,
    )
    label = (response.choices[0].message.content or "").strip().lower()
    return label if label in CATEGORIES else "other"


def draft(client: OpenAI, ticket: str, category: str, lookup: Lookup, max_steps: int = 4) -> Triage:
    messages: list[Any] = [
        {"role": "system", "content": "You are a support agent. Look up the customer before answering."},
        {"role": "user", "content": f"[{category}] {ticket}"},
    ]
    result = Triage(category=category, reply="")
    for _ in range(max_steps):
        text, calls = _stream_turn(client, messages)
        if not calls:
            result.reply = text
            return result
        messages.append(
            {
                "role": "assistant",
                "content": text or None,
                "tool_calls": [
                    {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
                    for cid, name, args in calls
                ],
            }
        )
        for cid, name, args in calls:
            arguments = json.loads(args or "{}")
            result.tool_calls.append((name, arguments))
            output = lookup(arguments.get("email", "")) if name == "lookup_customer" else {"error": "unknown tool"}
            messages.append({"role": "tool", "tool_call_id": cid, "content": json.dumps(output)})
    result.reply = "Escalated to a human: too many steps."
    return result


def _stream_turn(client: OpenAI, messages: list[Any]) -> tuple[str, list[tuple[str, str, str]]]:
    """One streamed model turn: the text and the tool calls (id, name, JSON arguments)."""
    stream = client.chat.completions.create(
        model=DRAFT_MODEL,
        messages=messages,
        tools=TOOLS,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    text: list[str] = []
    calls: dict[int, list[str]] = {}
    for chunk in stream:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        if delta.content:
            text.append(delta.content)
        for call in delta.tool_calls or []:
            slot = calls.setdefault(call.index, ["", "", ""])
            if call.id:
                slot[0] = call.id
            if call.function and call.function.name:
                slot[1] = call.function.name
            if call.function and call.function.arguments:
                slot[2] += call.function.arguments
    return "".join(text), [(c[0], c[1], c[2]) for _, c in sorted(calls.items())]


def triage(client: OpenAI, ticket: str, lookup: Lookup) -> Triage:
    return draft(client, ticket, classify(client, ticket), lookup)
