"""The fake model as a stand-in upstream for recording (``agentops model serve``).

Recording needs something to answer: the real API (a key, the network) or a stand-in on a loopback
port that ``--agent-staging openai=URL`` sends the traffic to while the cassette keeps the real
URL. This module gives the stand-in its answers, from a script file or a deterministic rule.

Script file (JSON, or YAML when PyYAML is installed): a list of turns, or ``{"turns": [...],
"loop": true}``. A turn is a string (text), an HTTP status (an error answer), or an object:

- ``{"text": "..."}``, optionally with ``"tool_calls": [{"name": ..., "arguments": {...}}]``;
- ``{"tool_call": "name", "arguments": {...}}`` (one tool call; ``"id"`` fixes its call id);
- ``{"error": 503, "message": "..."}``.

Without a script the rule is "call the first tool, then answer": a request that offers tools and
whose newest message is not a tool result is answered with a call of the first offered tool (the
forced one under ``tool_choice``), its arguments a deterministic placeholder valid for the tool's
schema; any other request is answered with the text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_agentops.backends.model import schema as _schema
from pytest_agentops.backends.model.types import Conversation, FakeError, Reply, ToolCall, Turn, as_turn

TURN_HELP = 'a string, an HTTP status, {"text": ...}, {"tool_call": NAME, "arguments": {...}} or {"error": STATUS}'


class ScriptFileError(ValueError):
    """A script file that cannot be read; the message names the file and the turn."""


def load_script(path: Path) -> tuple[list[Turn], bool]:
    """(turns, loop) from a JSON or YAML script file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScriptFileError(f"{path}: cannot read the script: {exc.strerror or exc}") from None
    data = _parse(path, text)
    loop = False
    if isinstance(data, Mapping):
        unknown = sorted(set(data) - {"turns", "loop"})
        if unknown:
            raise ScriptFileError(f"{path}: unknown key(s) {', '.join(unknown)}; a script has 'turns' and 'loop'")
        loop = bool(data.get("loop", False))
        data = data.get("turns")
    if not isinstance(data, list) or not data:
        raise ScriptFileError(f"{path}: a script is a non-empty list of turns (or {{'turns': [...]}})")
    return [_turn(path, n, item) for n, item in enumerate(data)], loop


def _parse(path: Path, text: str) -> Any:
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ScriptFileError(f"{path}: reading YAML needs PyYAML (pip install pyyaml); or use JSON") from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ScriptFileError(f"{path}: not valid YAML: {exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ScriptFileError(f"{path}: not valid JSON: {exc}") from None


def _turn(path: Path, n: int, item: Any) -> Turn:
    where = f"{path}: turns[{n}]"
    if isinstance(item, Mapping):
        return _object_turn(where, item)
    try:
        return as_turn(item)
    except TypeError:
        raise ScriptFileError(f"{where}: {item!r} is not a turn; a turn is {TURN_HELP}") from None


def _object_turn(where: str, item: Mapping[str, Any]) -> Turn:
    keys = set(item)
    if "error" in keys:
        status = item["error"]
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise ScriptFileError(f"{where}: 'error' must be an HTTP status 400-599, got {status!r}")
        return FakeError(status, item.get("message"), retry=False)
    if "tool_call" in keys:
        return Reply(item.get("text"), [_call(where, {"name": item["tool_call"], **item})])
    if keys & {"text", "tool_calls"} and keys <= {"text", "tool_calls", "input_tokens", "output_tokens"}:
        calls = item.get("tool_calls") or []
        if not isinstance(calls, list):
            raise ScriptFileError(f"{where}: 'tool_calls' must be a list")
        text = item.get("text")
        if text is not None and not isinstance(text, str):
            raise ScriptFileError(f"{where}: 'text' must be a string")
        for key in ("input_tokens", "output_tokens"):
            count = item.get(key)
            if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
                raise ScriptFileError(f"{where}: {key!r} must be a whole number >= 0, got {count!r}")
        parsed = [_call(f"{where}.tool_calls[{k}]", c) for k, c in enumerate(calls)]
        return Reply(text, parsed, item.get("input_tokens"), item.get("output_tokens"))
    raise ScriptFileError(f"{where}: keys {sorted(keys)} are not a turn; a turn is {TURN_HELP}")


def _call(where: str, item: Any) -> ToolCall:
    if not isinstance(item, Mapping) or not isinstance(item.get("name"), str) or not item["name"]:
        raise ScriptFileError(f"{where}: a tool call needs a 'name' (string)")
    arguments = item.get("arguments", {})
    if not isinstance(arguments, Mapping):
        raise ScriptFileError(f"{where}: 'arguments' of {item['name']!r} must be an object")
    call_id = item.get("id")
    return ToolCall(item["name"], dict(arguments), str(call_id) if call_id is not None else None)


class FirstTool:
    """The "call the first tool, then answer" rule, as a ``FakeModel.respond`` function."""

    def __init__(self, text: str = "Done.") -> None:
        self.text = text

    def __call__(self, conversation: Conversation) -> Any:
        last = conversation.last
        tools = conversation.tools
        if conversation.tool_choice not in ("auto", "none", "required"):
            tools = [t for t in tools if t.name == conversation.tool_choice]
        if not tools or conversation.tool_choice == "none" or (last is not None and last.role == "tool"):
            return self.text
        tool = tools[0]
        arguments = _schema.example(tool.parameters or {"type": "object", "properties": {}})
        return Reply(tool_calls=[ToolCall(tool.name, arguments if isinstance(arguments, dict) else {})])
