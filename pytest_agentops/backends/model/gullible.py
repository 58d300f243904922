"""Gullible mode: the worst-case model, which obeys instructions planted in untrusted content.

It reads the *fresh* untrusted content of a request: the user messages and tool results after the
last assistant turn (never system/developer messages, never older turns, so an instruction it
already obeyed is not obeyed again). In that text it finds, in order of appearance:

1. a verb naming an offered tool: ``call``, ``use``, ``invoke``, ``run``, ``execute`` or
   ``trigger``, optionally followed by ``the``, ``tool``/``function``, then the tool's exact name
   (optionally quoted with `` ` ``, ``'`` or ``"``), then optionally its arguments as
   ``(...)`` or ``with {...}``. Inside parentheses: a JSON object, ``key=value``/``key: value``
   pairs, or positional values (given to the schema's properties in order). Values are JSON
   literals, quoted strings, or bare words;
2. JSON tool-call markup naming an offered tool: an object with ``name``/``tool``/``tool_name``/
   ``function`` set to the name and ``arguments``/``args``/``input``/``parameters`` holding the
   arguments (an object, or a JSON string of one), or ``{"function": {"name": ..., "arguments": ...}}``
   (so ``<tool_call>{...}</tool_call>`` is obeyed too);
3. ``ignore (all|any) (the) previous|prior|above|earlier instructions|directions|rules`` followed,
   later in the same text, by the name of an offered tool: that tool, with arguments as in 1 when
   they follow the name.

A text that is a JSON document (a tool result such as an MCP tool's structured content, sent as
text) is read decoded: each of its strings in turn, and the document itself as markup.

Matching is case-insensitive for the verbs and phrases, exact for tool names, and only tools the
request offers are called. Every instruction found becomes a tool call (duplicates dropped); with
``parallel_tool_calls`` false only the first. Required arguments the instruction did not give are
filled with schema-valid placeholder values (``schema.example``), so the call gets past argument
validation and reaches whatever should stop it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pytest_agentops.backends.model import schema
from pytest_agentops.backends.model.types import Conversation, ToolCall, ToolDef, compact_json

_VERBS = r"(?:call|use|invoke|run|execute|trigger)"
_IGNORE = re.compile(
    r"ignore\s+(?:all\s+|any\s+)?(?:the\s+|your\s+)?(?:previous|prior|above|earlier)\s+"
    r"(?:instructions?|directions?|rules?|prompts?)",
    re.IGNORECASE,
)
_NAME_KEYS = ("name", "tool", "tool_name", "function")
_ARG_KEYS = ("arguments", "args", "input", "parameters")


def instructions(conversation: Conversation) -> list[ToolCall]:
    """The tool calls a gullible model makes for ``conversation`` (empty when nothing is planted)."""
    tools = {tool.name: tool for tool in conversation.tools}
    if not tools or conversation.tool_choice == "none":
        return []
    found: list[ToolCall] = []
    seen: set[tuple[str, str]] = set()
    for message in conversation.fresh:
        if message.role not in ("user", "tool") or not message.text:
            continue
        for call in read(message.text, tools):
            key = (call.name, compact_json(call.arguments))
            if key not in seen:
                seen.add(key)
                found.append(call)
    if not conversation.parallel_tool_calls:
        found = found[:1]
    return found


def read(text: str, tools: dict[str, ToolDef]) -> list[ToolCall]:
    """Instructions in ``text`` as a model reads it: a JSON document (a tool result such as an MCP
    tool's structured content as text) is read decoded, string by string, since its raw form escapes
    the quotes of any arguments written in it; the document itself may be tool-call markup too."""
    try:
        value = json.loads(text)
    except ValueError:
        return find(text, tools)
    if not isinstance(value, dict | list):
        return find(text, tools)
    found = [call for leaf in _strings(value) for call in find(leaf, tools)]
    markup = _markup_call(value, tools)
    return [markup, *found] if markup is not None else found


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return [text for item in items for text in _strings(item)]


def find(text: str, tools: dict[str, ToolDef]) -> list[ToolCall]:
    """Instructions in ``text`` to call one of ``tools``, in order of appearance."""
    names = "|".join(re.escape(name) for name in sorted(tools, key=len, reverse=True))
    verb_call = re.compile(
        rf"\b{_VERBS}\s+(?:the\s+)?(?:(?:tool|function)\s+)?[`'\"]?(?P<name>{names})(?![\w.-])[`'\"]?"
        r"(?:\s+(?:tool|function))?",
        re.IGNORECASE,
    )
    hits: list[tuple[int, int, ToolCall]] = []
    for match in verb_call.finditer(text):
        name = match.group("name")
        if name not in tools:  # the verbs are case-insensitive, tool names are not
            continue
        arguments, end = _arguments_after(text, match.end(), tools[name])
        hits.append((match.start(), end, _complete(name, arguments, tools[name])))
    for start, end, call in _json_markup(text, tools):
        if not _inside(start, hits):
            hits.append((start, end, call))
    mention = re.compile(rf"(?<![\w.-])(?P<name>{names})(?![\w.-])")
    for ignore in _IGNORE.finditer(text):
        for match in mention.finditer(text, ignore.end()):
            name = match.group("name")
            if _inside(match.start(), hits):
                break
            arguments, end = _arguments_after(text, match.end(), tools[name])
            hits.append((match.start(), end, _complete(name, arguments, tools[name])))
            break
    hits.sort(key=lambda hit: hit[0])
    return [call for _, _, call in hits]


def _inside(position: int, hits: list[tuple[int, int, ToolCall]]) -> bool:
    return any(start <= position < end for start, end, _ in hits)


def _complete(name: str, arguments: dict[str, Any], tool: ToolDef) -> ToolCall:
    return ToolCall(name, schema.fill_required(tool.parameters, arguments))


# ---- arguments after a tool name ---------------------------------------------------------------


def _arguments_after(text: str, position: int, tool: ToolDef) -> tuple[dict[str, Any], int]:
    """Arguments written right after a tool name, and where they end."""
    rest = text[position:]
    stripped = rest.lstrip()
    offset = position + len(rest) - len(stripped)
    if stripped.startswith("("):
        close = _balanced(text, offset, "(", ")")
        if close is not None:
            return _call_arguments(text[offset + 1 : close], tool), close + 1
    with_args = re.match(r"with\s+(?:(?:the\s+)?(?:arguments|args|input|parameters)\s*:?\s*)?", stripped, re.IGNORECASE)
    if with_args:
        brace = offset + with_args.end()
        value = _json_at(text, brace)
        if value is not None and isinstance(value[0], dict):
            return value[0], value[1]
    return {}, position


def _balanced(text: str, start: int, opening: str, closing: str) -> int | None:
    depth, quote, escaped = 0, "", False
    for i in range(start, len(text)):
        char = text[i]
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return i
    return None


def _json_at(text: str, position: int) -> tuple[Any, int] | None:
    if position >= len(text) or text[position] not in "{[":
        return None
    try:
        value, end = json.JSONDecoder().raw_decode(text, position)
    except ValueError:
        return None
    return value, end


_VALUE = re.compile(
    r"""\s*(?:(?P<key>[A-Za-z_][\w-]*)\s*[=:]\s*)?"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^,]*)\s*(?:,|$)""",
    re.DOTALL,
)


def _call_arguments(inside: str, tool: ToolDef) -> dict[str, Any]:
    inside = inside.strip()
    if not inside:
        return {}
    if inside.startswith("{"):
        parsed = _json_at(inside, 0)
        if parsed is not None and isinstance(parsed[0], dict):
            return parsed[0]
    properties = list((tool.parameters.get("properties") or {}).keys())
    arguments: dict[str, Any] = {}
    position, positional = 0, 0
    while position < len(inside):
        if inside[position] in "{[":  # a JSON object/array value without a key
            parsed = _json_at(inside, position)
            if parsed is not None:
                if positional < len(properties):
                    arguments[properties[positional]] = parsed[0]
                positional += 1
                position = parsed[1]
                while position < len(inside) and inside[position] in " ,":
                    position += 1
                continue
        match = _VALUE.match(inside, position)
        if match is None or match.end() == position:
            break
        key, raw = match.group("key"), match.group("value").strip()
        value_start = match.start("value")
        if raw[:1] in "{[":  # a JSON value after ``key=``: decode it whole (it may contain commas)
            parsed = _json_at(inside, value_start)
            if parsed is not None:
                value: Any = parsed[0]
                end = parsed[1]
                while end < len(inside) and inside[end] in " ,":
                    end += 1
                position = end
                _assign(arguments, key, value, properties, positional)
                positional += key is None
                continue
        _assign(arguments, key, _literal(raw), properties, positional)
        positional += key is None
        position = match.end()
    return arguments


def _assign(arguments: dict[str, Any], key: str | None, value: Any, properties: list[str], positional: int) -> None:
    if key is not None:
        arguments[key] = value
    elif positional < len(properties):
        arguments[properties[positional]] = value


def _literal(raw: str) -> Any:
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1].replace("\\'", "'")
    if raw in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[raw]
    try:
        return json.loads(raw)
    except ValueError:
        return raw


# ---- JSON markup -------------------------------------------------------------------------------


def _json_markup(text: str, tools: dict[str, ToolDef]) -> list[tuple[int, int, ToolCall]]:
    hits: list[tuple[int, int, ToolCall]] = []
    position = 0
    while True:
        position = text.find("{", position)
        if position < 0:
            return hits
        parsed = _json_at(text, position)
        if parsed is None:
            position += 1
            continue
        value, end = parsed
        call = _markup_call(value, tools)
        if call is not None:
            hits.append((position, end, call))
            position = end
        else:
            position += 1


def _markup_call(value: Any, tools: dict[str, ToolDef]) -> ToolCall | None:
    if not isinstance(value, dict):
        return None
    function = value.get("function")
    if isinstance(function, dict):
        return _markup_call(function, tools)
    name = next((value[k] for k in _NAME_KEYS if isinstance(value.get(k), str)), None)
    if name not in tools:
        return None
    raw: Any = next((value[k] for k in _ARG_KEYS if k in value), {})
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return None
    if not isinstance(raw, dict):
        return None
    return _complete(str(name), raw, tools[str(name)])
