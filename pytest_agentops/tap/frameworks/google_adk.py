"""Google ADK ``FunctionTool`` through the gate.

ADK runs every function tool an ``LlmAgent`` calls (a plain function in ``tools=[...]`` becomes one)
through ``FunctionTool.run_async(args=..., tool_context=...)``. A denial is ADK's own error answer,
the ``{"error": ...}`` dict it gives the model for a call it cannot make (a missing argument), so
the model reads the rule and the agent goes on. The event names the agent ADK runs the tool for
(``tool_context.agent_name``).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from pytest_agentops.policy.tools import ToolDenied
from pytest_agentops.tap.frameworks.gate import FrameworkCall, run_async

MODULE = "google.adk.tools.function_tool"
_MARK = "__agentops_original__"


def patch(_: ModuleType | None = None) -> None:
    cls = getattr(sys.modules.get(MODULE), "FunctionTool", None)
    if cls is None or hasattr(cls.__dict__.get("run_async"), _MARK):
        return
    cls.run_async = _wrap(cls.__dict__["run_async"])


def unpatch() -> None:
    cls = getattr(sys.modules.get(MODULE), "FunctionTool", None)
    original = getattr(cls.__dict__.get("run_async") if cls is not None else None, _MARK, None)
    if original is not None:
        cls.run_async = original  # type: ignore[union-attr]


def _agent(context: Any) -> str | None:
    try:
        name = getattr(context, "agent_name", None)
    except Exception:  # a context without an invocation: no agent to name
        return None
    return name if isinstance(name, str) and name != "unknown" else None


def _denied(exc: ToolDenied) -> dict[str, str]:
    return {"error": str(exc)}


def _wrap(original: Any) -> Any:
    async def run_async_(self: Any, *, args: dict[str, Any], tool_context: Any) -> Any:
        call = FrameworkCall("google-adk", self.name, dict(args), _agent(tool_context), getattr(self, "func", None))
        return await run_async(call, lambda: original(self, args=args, tool_context=tool_context), _denied)

    setattr(run_async_, _MARK, original)
    run_async_.__doc__ = original.__doc__
    return run_async_
