"""What changed between two cassettes, e.g. before and after re-recording.

Interactions are paired by method and endpoint (scheme, host, path) in recorded order, so an
inserted call shows as one addition instead of shifting every later pair. For paired model calls
the request body is compared leaf by leaf (``messages[0].content changed ...``) and the response
by what the agent acts on: status, reassembled answer text, tool calls and stop reason. Volatile
parts (response ids, timestamps, token counts, recorded_at) are not differences.
"""

from __future__ import annotations

import difflib
from typing import Any
from urllib.parse import urlsplit

from pytest_agentops.cassette.format import Cassette, Interaction, build_meta, request_value
from pytest_agentops.cassette.inspect import model_call, response_bytes
from pytest_agentops.cassette.matching import MatchConfig, canonical_url, diff_values


def _endpoint(interaction: Interaction) -> str:
    request = interaction["request"]
    parts = urlsplit(str(request.get("url", "")))
    return f"{str(request.get('method', '')).upper()} {parts.scheme}://{parts.netloc}{parts.path}".lower()


def _describe(interaction: Interaction) -> str:
    request = interaction["request"]
    return (
        f"{request.get('method')} {request.get('url')} -> {interaction['response'].get('status')} "
        f"({interaction.get('kind') or '?'})"
    )


def _response_view(interaction: Interaction) -> dict[str, Any]:
    response = interaction["response"]
    call = model_call(interaction)
    status = response.get("status")
    if call is None or not isinstance(status, int) or not 200 <= status < 300:
        stored = response.get("body")
        if stored and "base64" in stored:
            import hashlib

            value: Any = {"sha256": hashlib.sha256(response_bytes(interaction)).hexdigest()}
        elif stored and "sse" in stored:
            value = stored["sse"]
        elif stored:
            value = next((stored[k] for k in ("json", "text", "form") if k in stored), None)
        else:
            value = None
        return {"status": status, "body": value}
    return {
        "status": status,
        "model": call.model,
        "answer": call.text,
        "tool_calls": [{"name": c.name, "arguments": c.arguments} for c in call.tool_calls],
        "stop_reason": call.stop_reason,
    }


def diff_interaction(old: Interaction, new: Interaction) -> list[str]:
    lines: list[str] = []
    config = MatchConfig(ignore_body=())
    old_req, new_req = old["request"], new["request"]
    if str(old_req.get("method")).upper() != str(new_req.get("method")).upper():
        lines.append(f"request: method changed: {old_req.get('method')} -> {new_req.get('method')}")
    old_url = canonical_url(str(old_req.get("url", "")), config)
    new_url = canonical_url(str(new_req.get("url", "")), config)
    if old_url != new_url:
        lines.append(f"request: url changed: {old_url} -> {new_url}")
    if old.get("kind") != new.get("kind"):
        lines.append(f"kind changed: {old.get('kind')} -> {new.get('kind')}")
    lines.extend(
        "request: " + line
        for line in diff_values(request_value(old_req.get("body")), request_value(new_req.get("body")))
    )
    lines.extend("response: " + line for line in diff_values(_response_view(old), _response_view(new)))
    return lines


def diff_meta(old: list[Interaction], new: list[Interaction]) -> list[str]:
    """Models, system prompts and tool schemas, recomputed from the interactions (never stale)."""
    a, b = build_meta(old), build_meta(new)
    lines: list[str] = []
    for model in sorted(set(a["models"]) - set(b["models"])):
        lines.append(f"model {model} no longer used")
    for model in sorted(set(b["models"]) - set(a["models"])):
        lines.append(f"model {model} now used")
    gone = sorted(set(a["prompt_hashes"]) - set(b["prompt_hashes"]))
    came = sorted(set(b["prompt_hashes"]) - set(a["prompt_hashes"]))
    if len(gone) == 1 and len(came) == 1:
        lines.append(f"system prompt changed ({gone[0]} -> {came[0]})")
    else:
        lines.extend(f"system prompt removed ({h})" for h in gone)
        lines.extend(f"system prompt added ({h})" for h in came)
    old_tools: dict[str, str] = a["tool_schema_hashes"]
    new_tools: dict[str, str] = b["tool_schema_hashes"]
    for name in sorted(set(old_tools) | set(new_tools)):
        if name not in new_tools:
            lines.append(f"tool {name} removed")
        elif name not in old_tools:
            lines.append(f"tool {name} added")
        elif old_tools[name] != new_tools[name]:
            lines.append(f"tool schema of {name} changed ({old_tools[name]} -> {new_tools[name]})")
    return lines


def diff_cassettes(old: Cassette, new: Cassette) -> list[str]:
    """Readable differences from ``old`` to ``new``; empty when they are equivalent."""
    lines: list[str] = []
    a, b = old.interactions, new.interactions
    if len(a) != len(b):
        lines.append(f"interactions: {len(a)} -> {len(b)}")
    matcher = difflib.SequenceMatcher(a=[_endpoint(i) for i in a], b=[_endpoint(i) for i in b], autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        pairs: list[tuple[int, int]] = []
        removed: list[int] = []
        added: list[int] = []
        if tag == "equal":
            pairs = list(zip(range(a0, a1), range(b0, b1), strict=True))
        elif tag == "replace":
            # Same slot, other endpoint: pair them when the kind agrees (a changed URL), else add/remove.
            for i, j in zip(range(a0, a1), range(b0, b1), strict=False):
                if a[i].get("kind") == b[j].get("kind"):
                    pairs.append((i, j))
                else:
                    removed.append(i)
                    added.append(j)
            shorter = min(a1 - a0, b1 - b0)
            removed.extend(range(a0 + shorter, a1))
            added.extend(range(b0 + shorter, b1))
        elif tag == "delete":
            removed = list(range(a0, a1))
        else:
            added = list(range(b0, b1))
        for i in sorted(removed):
            lines.append(f"interactions[{i}] removed: {_describe(a[i])}")
        for j in sorted(added):
            lines.append(f"interactions[{j}] added: {_describe(b[j])}")
        for i, j in pairs:
            changes = diff_interaction(a[i], b[j])
            if changes:
                where = f"interactions[{i}]" if i == j else f"interactions[{i}] -> [{j}]"
                request = b[j]["request"]
                lines.append(f"{where} {request.get('method')} {request.get('url')} ({b[j].get('kind') or '?'}):")
                lines.extend("  " + change for change in changes)
    lines.extend("meta: " + line for line in diff_meta(a, b))
    return lines
