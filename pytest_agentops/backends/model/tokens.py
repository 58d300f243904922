"""Deterministic token counts, so budgets and cost assertions work against the fake model.

A token is a run of word characters (letters, digits, ``_``) or one other non-space character:
``"Hello, world!"`` is 4 tokens (``Hello`` ``,`` ``world`` ``!``). Whitespace never counts, so the
count of a JSON value does not depend on how it is spaced.

- input tokens: for every message, its text, plus for each tool call in it the tool's name and its
  arguments as JSON; for every tool offered, its name, its description and its JSON schema (as
  JSON). Nothing else (no per-message overhead, no images).
- output tokens: the reply's text, plus for each tool call its name and its arguments as JSON.
"""

from __future__ import annotations

import re

from pytest_agentops.backends.model.types import Conversation, Reply, ToolCall, compact_json

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """Tokens in ``text``: words (``\\w+``) and single punctuation/symbol characters."""
    return len(_TOKEN.findall(text)) if text else 0


def _calls(calls: list[ToolCall]) -> int:
    return sum(count_tokens(call.name) + count_tokens(call.arguments_json) for call in calls)


def input_tokens(conversation: Conversation) -> int:
    total = 0
    for message in conversation.messages:
        total += count_tokens(message.text) + _calls(message.tool_calls)
    for tool in conversation.tools:
        total += count_tokens(tool.name) + count_tokens(tool.description)
        total += count_tokens(compact_json(tool.parameters)) if tool.parameters else 0
    return total


def output_tokens(reply: Reply) -> int:
    return count_tokens(reply.text or "") + _calls(reply.tool_calls)


def usage(conversation: Conversation, reply: Reply) -> tuple[int, int]:
    """(input, output) tokens of answering ``conversation`` with ``reply`` (its overrides win)."""
    given_in, given_out = reply.input_tokens, reply.output_tokens
    return (
        input_tokens(conversation) if given_in is None else given_in,
        output_tokens(reply) if given_out is None else given_out,
    )
