"""Requests of the three API formats as one normalised ``Conversation``."""

from __future__ import annotations

import json
from typing import Any

from pytest_agentops.backends.model.types import Conversation, Message, Provider, ToolCall, ToolDef

_TEXT_PARTS = frozenset({"text", "input_text", "output_text"})


def _text(content: Any) -> str:
    """The text of a message content: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and part.get("type", "text") in _TEXT_PARTS:
                text = part.get("text")
                if isinstance(text, str):
                    texts.append(text)
        return "".join(texts)
    return ""


def _arguments(raw: Any) -> Any:
    if isinstance(raw, str):
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw if raw is not None else {}


def _role(raw: Any) -> str:
    role = str(raw or "user")
    return "system" if role == "developer" else role


def _name_tool_results(messages: list[Message]) -> list[Message]:
    names: dict[str, str] = {}
    for message in messages:
        for call in message.tool_calls:
            if call.id:
                names[call.id] = call.name
        if message.role == "tool" and message.name is None and message.tool_call_id:
            message.name = names.get(message.tool_call_id)
    return messages


def _merge_assistant(messages: list[Message], message: Message) -> None:
    """Consecutive assistant items (Responses: a message item, then function_call items) are one turn."""
    if messages and messages[-1].role == "assistant" and message.role == "assistant":
        last = messages[-1]
        last.text += message.text
        last.tool_calls.extend(message.tool_calls)
    else:
        messages.append(message)


# ---- OpenAI Chat Completions -------------------------------------------------------------------


def _chat_messages(raw_messages: Any) -> list[Message]:
    messages: list[Message] = []
    for raw in raw_messages if isinstance(raw_messages, list) else []:
        if not isinstance(raw, dict):
            continue
        role = _role(raw.get("role"))
        if role == "tool":
            messages.append(Message("tool", _text(raw.get("content")), tool_call_id=_str(raw.get("tool_call_id"))))
        elif role == "function":  # the deprecated function-calling protocol
            messages.append(Message("tool", _text(raw.get("content")), name=_str(raw.get("name"))))
        elif role == "assistant":
            calls = []
            for call in raw.get("tool_calls") or []:
                if isinstance(call, dict):
                    function = call.get("function") or {}
                    calls.append(
                        ToolCall(
                            str(function.get("name") or ""),
                            _arguments(function.get("arguments")),
                            _str(call.get("id")),
                        )
                    )
            legacy = raw.get("function_call")
            if isinstance(legacy, dict):
                calls.append(ToolCall(str(legacy.get("name") or ""), _arguments(legacy.get("arguments"))))
            messages.append(Message("assistant", _text(raw.get("content")), tool_calls=calls))
        elif role in ("system", "user"):
            messages.append(Message(role, _text(raw.get("content"))))  # type: ignore[arg-type]
    return _name_tool_results(messages)


def _chat_tools(body: dict[str, Any]) -> list[ToolDef]:
    tools = []
    for raw in body.get("tools") or []:
        if isinstance(raw, dict) and raw.get("type", "function") == "function":
            function = raw.get("function") or {}
            if isinstance(function, dict) and function.get("name"):
                tools.append(_tool_def(function.get("name"), function.get("description"), function.get("parameters")))
    for function in body.get("functions") or []:
        if isinstance(function, dict) and function.get("name"):
            tools.append(_tool_def(function.get("name"), function.get("description"), function.get("parameters")))
    return tools


def _chat_tool_choice(body: dict[str, Any]) -> str:
    choice = body.get("tool_choice", body.get("function_call"))
    if isinstance(choice, str):
        return choice if choice in ("none", "auto", "required") else "auto"
    if isinstance(choice, dict):
        function = choice.get("function") if isinstance(choice.get("function"), dict) else choice
        name = function.get("name") if isinstance(function, dict) else None
        if isinstance(name, str):
            return name
    return "auto"


# ---- OpenAI Responses --------------------------------------------------------------------------


def _responses_messages(raw_input: Any) -> list[Message]:
    messages: list[Message] = []
    if isinstance(raw_input, str):
        messages.append(Message("user", raw_input))
        return messages
    for item in raw_input if isinstance(raw_input, list) else []:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "function_call":
            call = ToolCall(str(item.get("name") or ""), _arguments(item.get("arguments")), _str(item.get("call_id")))
            _merge_assistant(messages, Message("assistant", tool_calls=[call]))
        elif kind == "function_call_output":
            output = item.get("output")
            messages.append(Message("tool", _text(output), tool_call_id=_str(item.get("call_id"))))
        elif kind in (None, "message") and "role" in item:
            role = _role(item.get("role"))
            if role in ("system", "user", "assistant"):
                _merge_assistant(messages, Message(role, _text(item.get("content"))))  # type: ignore[arg-type]
    return messages


def _responses_tools(body: dict[str, Any]) -> list[ToolDef]:
    return [
        _tool_def(raw.get("name"), raw.get("description"), raw.get("parameters"))
        for raw in body.get("tools") or []
        if isinstance(raw, dict) and raw.get("type", "function") == "function" and raw.get("name")
    ]


def _responses_tool_choice(body: dict[str, Any]) -> str:
    choice = body.get("tool_choice")
    if isinstance(choice, str):
        return choice if choice in ("none", "auto", "required") else "auto"
    if isinstance(choice, dict) and isinstance(choice.get("name"), str):
        return str(choice["name"])
    return "auto"


# ---- Anthropic Messages ------------------------------------------------------------------------


def _anthropic_messages(body: dict[str, Any]) -> list[Message]:
    messages: list[Message] = []
    system = _text(body.get("system"))
    if system:
        messages.append(Message("system", system))
    for raw in body.get("messages") or []:
        if not isinstance(raw, dict):
            continue
        role = _role(raw.get("role"))
        content = raw.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list):
            continue
        if role == "assistant":
            text = "".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
            calls = [
                ToolCall(str(b.get("name") or ""), b.get("input") or {}, _str(b.get("id")))
                for b in content
                if isinstance(b, dict) and b.get("type") == "tool_use"
            ]
            messages.append(Message("assistant", text, tool_calls=calls))
            continue
        texts: list[str] = []
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_result":
                messages.append(
                    Message(
                        "tool",
                        _text(block.get("content")),
                        tool_call_id=_str(block.get("tool_use_id")),
                        is_error=bool(block.get("is_error")),
                    )
                )
            elif block.get("type") == "text":
                texts.append(str(block.get("text") or ""))
        if texts:
            messages.append(Message("user", "".join(texts)))
    return _name_tool_results(messages)


def _anthropic_tools(body: dict[str, Any]) -> list[ToolDef]:
    return [
        _tool_def(raw.get("name"), raw.get("description"), raw.get("input_schema"))
        for raw in body.get("tools") or []
        if isinstance(raw, dict) and raw.get("type", "custom") == "custom" and raw.get("name")
    ]


def _anthropic_tool_choice(body: dict[str, Any]) -> tuple[str, bool]:
    choice = body.get("tool_choice")
    if not isinstance(choice, dict):
        return "auto", True
    parallel = not choice.get("disable_parallel_tool_use")
    kind = choice.get("type")
    if kind == "tool" and isinstance(choice.get("name"), str):
        return str(choice["name"]), parallel
    return {"any": "required", "none": "none"}.get(str(kind), "auto"), parallel


# ---- entry point -------------------------------------------------------------------------------


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _tool_def(name: Any, description: Any, parameters: Any) -> ToolDef:
    return ToolDef(
        str(name),
        description if isinstance(description, str) else "",
        parameters if isinstance(parameters, dict) else {},
    )


def normalise(provider: Provider, body: dict[str, Any], history: list[Message] | None = None) -> Conversation:
    """``body`` (a parsed request of ``provider``'s format) as a Conversation.

    ``history`` holds earlier messages for a Responses request with ``previous_response_id``.
    """
    model = str(body.get("model") or "")
    stream = bool(body.get("stream"))
    parallel = body.get("parallel_tool_calls") is not False
    if provider == "openai.chat":
        messages = _chat_messages(body.get("messages"))
        tools, choice = _chat_tools(body), _chat_tool_choice(body)
    elif provider == "openai.responses":
        instructions = body.get("instructions")
        head = [Message("system", instructions)] if isinstance(instructions, str) and instructions else []
        messages = _name_tool_results([*head, *(history or []), *_responses_messages(body.get("input"))])
        tools, choice = _responses_tools(body), _responses_tool_choice(body)
    else:
        messages = _anthropic_messages(body)
        tools = _anthropic_tools(body)
        choice, parallel = _anthropic_tool_choice(body)
    return Conversation(
        provider=provider,
        model=model,
        messages=messages,
        tools=tools,
        stream=stream,
        tool_choice=choice,
        parallel_tool_calls=parallel,
        body=body,
    )
