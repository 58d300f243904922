"""Strands Agents tools (``@tool``, ``PythonAgentTool``, MCP tools) through the gate.

Every tool a Strands agent runs, after its hooks and middleware settled which one, is streamed by
``strands.tools.executors._executor._run_tool``, an async generator that ends with the tool's
``ToolResultEvent``; the adapter wraps that one function. A denial is the tool-error result Strands
gives a tool that raised (``status: "error"``, the denial as its text), so the model reads it and
the agent goes on. The tool's events are gathered while it runs and passed on when it ends, so a
tool that streams progress hands it over at once, at its end.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

from pytest_agentops.policy.tools import ToolDenied
from pytest_agentops.tap.frameworks.gate import FrameworkCall, run_async

MODULE = "strands.tools.executors._executor"
NAME = "_run_tool"
_MARK = "__agentops_original__"


def patch(_: ModuleType | None = None) -> None:
    module = sys.modules.get(MODULE)
    current = getattr(module, NAME, None)
    if current is None or hasattr(current, _MARK):
        return
    setattr(module, NAME, _wrap(current, module))


def unpatch() -> None:
    module = sys.modules.get(MODULE)
    original = getattr(getattr(module, NAME, None), _MARK, None)
    if original is not None:
        setattr(module, NAME, original)


def _wrap(original: Any, module: Any) -> Any:
    async def _run_tool(ctx: Any, extra_kwargs: Any, tool_context: Any) -> AsyncIterator[Any]:
        if ctx.tool is None:  # an unknown tool: Strands answers it with its own error result
            async for event in original(ctx, extra_kwargs, tool_context):
                yield event
            return
        use = ctx.tool_use
        call = FrameworkCall(
            "strands", use["name"], use.get("input"), _agent(ctx), getattr(ctx.tool, "_tool_func", None), _output
        )

        async def invoke() -> list[Any]:
            return [event async for event in original(ctx, extra_kwargs, tool_context)]

        def deny(exc: ToolDenied) -> list[Any]:
            result = {"toolUseId": str(use.get("toolUseId")), "status": "error", "content": [{"text": str(exc)}]}
            return [module.ToolResultEvent(result, exception=exc)]

        for event in await run_async(call, invoke, deny):
            yield event

    setattr(_run_tool, _MARK, original)
    return _run_tool


def _agent(ctx: Any) -> str | None:
    name = getattr(getattr(ctx, "agent", None), "name", None)
    return name if isinstance(name, str) else None


def _output(events: list[Any]) -> Any:
    """The tool's result as the model reads it: the text (or JSON) blocks of its ToolResultEvent."""
    result = getattr(events[-1], "tool_result", None) if events else None
    if not isinstance(result, dict):
        return None
    blocks = [b.get("text", b.get("json")) for b in result.get("content", []) if isinstance(b, dict)]
    return blocks[0] if len(blocks) == 1 else blocks
