"""LlamaIndex ``FunctionTool`` through the gate.

``FunctionTool.call``/``acall`` is what LlamaIndex's agents (and ``call_tool``) run: 0.10's
``OpenAIAgent`` and agent workers, and 0.14's workflow agents (``FunctionAgent``, ``AgentWorkflow``:
``await tool.acall(**tool_input)``), so one adapter covers both (tests/frameworks/). A denial is
LlamaIndex's own error output: a ``ToolOutput`` with ``is_error=True`` and the denial as its
content, which is what ``call_tool`` hands the model when a tool raises; the agent goes on.
LlamaIndex passes no agent to a tool call, so these events name no agent.
"""

from __future__ import annotations

import inspect
import sys
from types import ModuleType
from typing import Any

from pytest_agentops.policy.tools import ToolDenied
from pytest_agentops.tap.frameworks.gate import FrameworkCall, run_async, run_sync

MODULE = "llama_index.core.tools.function_tool"
_MARK = "__agentops_original__"


def patch(_: ModuleType | None = None) -> None:
    cls = getattr(sys.modules.get(MODULE), "FunctionTool", None)
    if cls is None or hasattr(cls.call, _MARK):
        return
    cls.call = _wrap_sync(cls.call)
    cls.acall = _wrap_async(cls.acall)


def unpatch() -> None:
    cls = getattr(sys.modules.get(MODULE), "FunctionTool", None)
    for attr in ("call", "acall"):
        original = getattr(getattr(cls, attr, None), _MARK, None)
        if original is not None:
            setattr(cls, attr, original)


def _arguments(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """By parameter name: LlamaIndex passes a one-parameter tool its argument positionally."""
    if not args:
        return dict(kwargs)
    try:
        return dict(inspect.signature(fn).bind_partial(*args, **kwargs).arguments)
    except (TypeError, ValueError):
        return {"args": list(args), **kwargs}


def _call(tool: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> FrameworkCall:
    arguments = _arguments(getattr(tool, "_fn", None), args, kwargs)
    return FrameworkCall(
        "llama-index",
        tool.metadata.name,
        arguments,
        None,
        getattr(tool, "_fn", None),
        output=lambda out: getattr(out, "raw_output", out),
    )


def _denied(tool: Any, exc: ToolDenied, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    from llama_index.core.tools.types import ToolOutput

    return ToolOutput(
        content=str(exc),
        tool_name=tool.metadata.name,
        raw_input={"args": args, "kwargs": kwargs},
        raw_output=exc,
        is_error=True,
    )


def _wrap_sync(original: Any) -> Any:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return run_sync(
            _call(self, args, kwargs), lambda: original(self, *args, **kwargs), lambda e: _denied(self, e, args, kwargs)
        )

    setattr(call, _MARK, original)
    return call


def _wrap_async(original: Any) -> Any:
    async def acall(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await run_async(
            _call(self, args, kwargs), lambda: original(self, *args, **kwargs), lambda e: _denied(self, e, args, kwargs)
        )

    setattr(acall, _MARK, original)
    return acall
