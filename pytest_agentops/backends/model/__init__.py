"""The scripted fake model: OpenAI Chat Completions, OpenAI Responses, Anthropic Messages and Gemini, plain
and streamed, in-process on the tap or on a loopback port. The ``fake_llm`` fixture is one of these.

See docs/fake-model.md.
"""

from __future__ import annotations

from pytest_agentops.backends.model.model import ANTHROPIC_HOST, OPENAI_HOST, FakeModel
from pytest_agentops.backends.model.tokens import count_tokens
from pytest_agentops.backends.model.types import Conversation, FakeError, FakeRequest, Message, Reply, ToolCall, ToolDef

__all__ = [
    "ANTHROPIC_HOST",
    "OPENAI_HOST",
    "Conversation",
    "FakeError",
    "FakeModel",
    "FakeRequest",
    "Message",
    "Reply",
    "ToolCall",
    "ToolDef",
    "count_tokens",
]
