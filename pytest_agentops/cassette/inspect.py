"""Reading cassettes for people: listing, summaries and a readable rendering of each interaction.

Model calls are read with the providers parser, so SSE streams are shown reassembled (final text
and tool calls) and token counts are the same ones the run trace reports.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pytest_agentops.cassette import body as bodies
from pytest_agentops.cassette.errors import CassetteFormatError
from pytest_agentops.cassette.format import Cassette, Interaction, header_list, request_value
from pytest_agentops.trace.run import ModelCall

DEFAULT_LIMIT = 300  # characters of one prompt message / answer shown unless --full


# ---- loading -----------------------------------------------------------------------------------


def load(path: Path) -> Cassette:
    """A validated cassette; a missing or unreadable file is a ``CassetteFormatError`` naming it."""
    path = Path(path)
    if path.is_dir():
        raise CassetteFormatError(path, "is a directory, not a cassette file")
    if not path.exists():
        raise CassetteFormatError(path, "no such file")
    try:
        return Cassette.load(path)
    except OSError as exc:
        raise CassetteFormatError(path, f"cannot be read ({exc.strerror or exc})") from exc


def find_cassettes(paths: Iterable[Path]) -> list[Path]:
    """Cassette files named, or found (``**/*.json``) under the folders named, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*.json")
                    if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        else:
            found.append(path)  # a missing file is reported by ``load``
    return found


# ---- model calls -------------------------------------------------------------------------------


def flat_headers(headers: Mapping[str, str | list[str]] | None) -> dict[str, str]:
    return {str(k).lower(): ", ".join(header_list(v)) for k, v in (headers or {}).items()}


def request_bytes(interaction: Interaction) -> bytes | None:
    """The request body as the provider saw it (closely enough for parsing: JSON re-serialised)."""
    value = request_value(interaction["request"].get("body"))
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def response_bytes(interaction: Interaction) -> bytes:
    try:
        return bodies.decode(interaction["response"].get("body"))
    except (ValueError, TypeError):
        return b""


def model_call(interaction: Interaction) -> ModelCall | None:
    """What a recorded model API call was (model, tokens, answer, tool calls); None for tool calls."""
    from pytest_agentops.trace.providers import parse_model_call

    request = interaction["request"]
    response = interaction["response"]
    return parse_model_call(
        str(request.get("method", "")),
        str(request.get("url", "")),
        request_bytes(interaction),
        int(response.get("status", 0)),
        flat_headers(response.get("headers")),
        response_bytes(interaction),
    )


def request_json(interaction: Interaction) -> dict[str, Any]:
    value = request_value(interaction["request"].get("body"))
    return value if isinstance(value, dict) else {}


# ---- ls ----------------------------------------------------------------------------------------


@dataclass
class Summary:
    """One line of ``agentops cassettes ls``."""

    path: str
    interactions: int = 0
    model_calls: int = 0
    tool_calls: int = 0
    models: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    recorded_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self, path_width: int = 0) -> str:
        models = ", ".join(self.models) or "-"
        return (
            f"{self.path:<{path_width}}  {self.interactions} interactions "
            f"({self.model_calls} model, {self.tool_calls} tool)  models: {models}  "
            f"tokens: {self.input_tokens} in / {self.output_tokens} out  "
            f"recorded: {self.recorded_at or '-'}"
        )


def summarize(path: Path, cassette: Cassette) -> Summary:
    summary = Summary(path=str(path), interactions=len(cassette.interactions))
    models: list[str] = []
    for interaction in cassette.interactions:
        call = model_call(interaction)
        if interaction.get("kind") == "model" or call is not None:
            summary.model_calls += 1
        else:
            summary.tool_calls += 1
        if call is not None:
            summary.input_tokens += call.usage.input_tokens
            summary.output_tokens += call.usage.output_tokens
            if call.model and call.model not in models:
                models.append(call.model)
    if not models:
        models = [str(m) for m in cassette.meta.get("models") or []]
    summary.models = models
    recorded_at = cassette.meta.get("recorded_at")
    summary.recorded_at = str(recorded_at) if recorded_at else None
    return summary


# ---- show --------------------------------------------------------------------------------------


def clip(text: str, limit: int | None) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if limit is None or len(text) <= limit:
        return text
    return text[:limit].rstrip() + f"... [+{len(text) - limit} chars]"


def compact_json(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def content_text(content: Any) -> str:
    """Message content of any provider format (string, or a list of typed parts) as one string."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(text for text in (_part_text(part) for part in content) if text)
    if isinstance(content, dict):
        return _part_text(content)
    return compact_json(content)


def _part_text(part: Any) -> str:
    if isinstance(part, str):
        return part
    if not isinstance(part, dict):
        return compact_json(part)
    kind = part.get("type")
    if isinstance(part.get("text"), str):
        return str(part["text"])
    if kind == "tool_use":  # anthropic
        return f"[tool call {part.get('name')}({compact_json(part.get('input', {}))})]"
    if kind == "tool_result":
        return f"[tool result for {part.get('tool_use_id')}: {content_text(part.get('content'))}]"
    if kind in ("function_call", "custom_tool_call"):  # openai responses
        args = part.get("arguments", part.get("input", ""))
        return f"[tool call {part.get('name')}({compact_json(args)})]"
    if kind in ("function_call_output", "custom_tool_call_output"):
        return f"[tool result for {part.get('call_id')}: {content_text(part.get('output'))}]"
    if kind in ("image", "image_url", "input_image"):
        return "[image]"
    if kind in ("document", "file", "input_file", "input_audio"):
        return f"[{kind}]"
    if isinstance(kind, str) and kind:
        return f"[{kind}]"
    return compact_json(part)


def prompt_messages(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, text) of the prompt a model request sent, for chat, responses and messages formats."""
    out: list[tuple[str, str]] = []
    if "system" in body:  # anthropic
        out.append(("system", content_text(body["system"])))
    if isinstance(body.get("instructions"), str):  # openai responses
        out.append(("instructions", body["instructions"]))
    messages = body.get("messages")
    if messages is None:
        messages = body.get("input")
    if isinstance(messages, str):
        return [*out, ("user", messages)]
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            out.append(("?", content_text(message)))
            continue
        role = message.get("role")
        if role is None:  # a responses input item: function call / output
            kind = str(message.get("type") or "item")
            role = "tool" if kind.endswith("_output") else "assistant"
            out.append((role, _part_text(message)))
            continue
        text = content_text(message.get("content"))
        extras = []
        for call in message.get("tool_calls") or []:  # openai chat assistant turn
            if isinstance(call, dict):
                function = call.get("function") or call.get("custom") or {}
                args = function.get("arguments", function.get("input", ""))
                extras.append(f"[tool call {function.get('name')}({compact_json(args)})]")
        if isinstance(message.get("function_call"), dict):
            function = message["function_call"]
            extras.append(f"[tool call {function.get('name')}({compact_json(function.get('arguments'))})]")
        label = str(role)
        if message.get("tool_call_id"):
            label += f" ({message['tool_call_id']})"
        elif message.get("name"):
            label += f" ({message['name']})"
        out.append((label, " ".join(t for t in (text, *extras) if t)))
    return out


def tool_names(body: dict[str, Any]) -> list[str]:
    names = []
    for tool in body.get("tools") or []:
        if isinstance(tool, dict):
            name = tool.get("name") or (tool.get("function") or {}).get("name") or tool.get("type")
            if isinstance(name, str):
                names.append(name)
    return names


def _indent(text: str, prefix: str) -> str:
    return text.replace("\n", "\n" + prefix)


def _status_text(response: dict[str, Any]) -> str:
    reason = response.get("reason") or ""
    return f"{response.get('status')} {reason}".rstrip()


def headline(index: int, interaction: Interaction) -> str:
    request = interaction["request"]
    kind = interaction.get("kind") or "?"
    return (
        f"[{index}] {request.get('method')} {request.get('url')} -> {_status_text(interaction['response'])}  ({kind})"
    )


def show_lines(cassette: Cassette, index: int | None = None, limit: int | None = DEFAULT_LIMIT) -> list[str]:
    """A readable rendering of the cassette, or of its interaction ``index``."""
    lines: list[str] = []
    meta = cassette.meta
    if index is None:
        summary = summarize(cassette.path, cassette)
        lines.append(f"{cassette.path}")
        lines.append(
            f"  recorded: {meta.get('recorded_at', '-')} with {meta.get('recorded_with', '-')}; "
            f"{summary.interactions} interactions ({summary.model_calls} model, {summary.tool_calls} tool); "
            f"tokens: {summary.input_tokens} in / {summary.output_tokens} out"
        )
        if summary.models:
            lines.append(f"  models: {', '.join(summary.models)}")
        selected = list(enumerate(cassette.interactions))
    else:
        count = len(cassette.interactions)
        if not -count <= index < count:
            held = f"0..{count - 1}" if count else "none"
            raise CassetteFormatError(cassette.path, f"has no interaction {index} (it holds {count}: {held})")
        index %= count
        selected = [(index, cassette.interactions[index])]
    for i, interaction in selected:
        lines.append("")
        lines.extend(interaction_lines(i, interaction, limit))
    return lines


def interaction_lines(index: int, interaction: Interaction, limit: int | None = DEFAULT_LIMIT) -> list[str]:
    lines = [headline(index, interaction)]
    call = model_call(interaction)
    pad = "    "
    if call is None:
        request_body = interaction["request"].get("body")
        if request_body:
            lines.append(f"  request body: {_indent(clip(_body_text(request_body), limit), pad)}")
        response_body = interaction["response"].get("body")
        if response_body:
            lines.append(f"  response body: {_indent(clip(_body_text(response_body), limit), pad)}")
        return lines
    body = request_json(interaction)
    lines.append(
        f"  model: {call.model or body.get('model') or '?'}  ({call.provider}{', streamed' if call.streamed else ''})"
    )
    tools = tool_names(body)
    if tools:
        lines.append(f"  tools offered: {', '.join(tools)}")
    lines.append("  prompt:")
    for role, text in prompt_messages(body):
        lines.append(f"    {role}: {_indent(clip(text, limit), pad + '  ')}")
    status = int(interaction["response"].get("status", 0))
    if not 200 <= status < 300:
        lines.append(f"  error response: {_indent(clip(_body_text(interaction['response'].get('body')), limit), pad)}")
        return lines
    lines.append(f"  answer: {_indent(clip(call.text, limit), pad) if call.text else '(no text)'}")
    if call.tool_calls:
        lines.append("  tool calls:")
        for tool_call in call.tool_calls:
            ident = f"  [{tool_call.id}]" if tool_call.id else ""
            lines.append(f"    {tool_call.name}({clip(compact_json(tool_call.arguments), limit)}){ident}")
    if call.stop_reason:
        lines.append(f"  stop reason: {call.stop_reason}")
    usage = call.usage
    extra = []
    if usage.cached_input_tokens:
        extra.append(f"{usage.cached_input_tokens} cached")
    if usage.cache_creation_input_tokens:
        extra.append(f"{usage.cache_creation_input_tokens} cache writes")
    detail = f" ({', '.join(extra)})" if extra else ""
    lines.append(f"  usage: {usage.input_tokens} input{detail} / {usage.output_tokens} output tokens")
    return lines


def _body_text(stored: bodies.Body) -> str:
    if not stored:
        return "(empty)"
    if "json" in stored:
        return json.dumps(stored["json"], ensure_ascii=False, indent=2)
    if "form" in stored:
        return "&".join(f"{k}={v}" for k, v in stored["form"])
    if "sse" in stored:
        return f"({len(stored['sse'])} SSE events) " + compact_json(stored["sse"])
    if "text" in stored:
        return str(stored["text"])
    if "base64" in stored:
        return f"({len(str(stored['base64'])) * 3 // 4} bytes of binary data)"
    if "sha256" in stored:
        return f"(binary, sha256 {stored['sha256']})"
    return compact_json(stored)
