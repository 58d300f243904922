"""LangChain tools (``BaseTool``, ``@tool``, ``StructuredTool``) through the gate, as LangGraph runs them.

``BaseTool.run``/``arun`` is where every LangChain tool call goes, whether a LangGraph
``ToolNode``, ``create_agent`` or the user's own code invokes it. A denial is what LangChain gives
for a handled ``ToolException``: a ``ToolMessage`` with ``status="error"`` when the call carries a
tool-call id (as ``ToolNode``'s calls do, whatever the tool's ``handle_tool_error``), so the model
reads it and the graph goes on; a direct call without an id gets the handled text when the tool
handles errors, else the ``ToolException`` itself, as LangChain would raise it.

The agent is LangChain's agent name (``lc_agent_name``) when set, else the LangGraph node path
that ran the tool, from the run's config metadata: ``tools`` for a prebuilt agent's tool node,
``billing/tools`` when that agent is node ``billing`` of a parent graph (a supervisor's worker).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from pytest_agentops.policy.tools import ToolDenied
from pytest_agentops.tap.frameworks.gate import FrameworkCall, run_async, run_sync

MODULE = "langchain_core.tools.base"
_MARK = "__agentops_original__"


def patch(_: ModuleType | None = None) -> None:
    base = getattr(sys.modules.get(MODULE), "BaseTool", None)
    if base is None or hasattr(base.run, _MARK):
        return
    base.run = _wrap_sync(base.run)
    base.arun = _wrap_async(base.arun)


def unpatch() -> None:
    base = getattr(sys.modules.get(MODULE), "BaseTool", None)
    if base is None:
        return
    for attr in ("run", "arun"):
        original = getattr(getattr(base, attr), _MARK, None)
        if original is not None:
            setattr(base, attr, original)


def _call(tool: Any, tool_input: Any, kwargs: dict[str, Any]) -> FrameworkCall:
    if isinstance(tool_input, dict):
        arguments: Any = tool._filter_injected_args(tool_input)
    else:
        arguments = {"input": tool_input}
    target = getattr(tool, "func", None) or getattr(tool, "coroutine", None)
    return FrameworkCall("langchain", tool.name, arguments, _agent(kwargs.get("config")), target)


def _agent(config: Any) -> str | None:
    if config is None:
        from langchain_core.runnables.config import var_child_runnable_config

        config = var_child_runnable_config.get()
    metadata = (config or {}).get("metadata") or {}
    name = metadata.get("lc_agent_name")
    if isinstance(name, str):
        return name
    namespace = metadata.get("langgraph_checkpoint_ns") or metadata.get("checkpoint_ns")
    if isinstance(namespace, str) and namespace:
        # "helpdesk:<task id>|tools:<task id>": an agent graph run as node "helpdesk" of a parent graph
        return "/".join(part.split(":", 1)[0] for part in namespace.split("|"))
    node = metadata.get("langgraph_node")
    return node if isinstance(node, str) else None


def _denied(tool: Any, exc: ToolDenied, tool_call_id: str | None) -> Any:
    from langchain_core.tools.base import ToolException, _format_output, _handle_tool_error

    problem = ToolException(str(exc))
    if tool_call_id is not None:
        return _format_output(str(exc), None, tool_call_id, tool.name, "error")
    if not tool.handle_tool_error:
        raise problem from exc
    return _handle_tool_error(problem, flag=tool.handle_tool_error)


def _wrap_sync(original: Any) -> Any:
    def run(self: Any, tool_input: Any, *args: Any, **kwargs: Any) -> Any:
        return run_sync(
            _call(self, tool_input, kwargs),
            lambda: original(self, tool_input, *args, **kwargs),
            lambda exc: _denied(self, exc, kwargs.get("tool_call_id")),
        )

    setattr(run, _MARK, original)
    run.__doc__ = original.__doc__
    return run


def _wrap_async(original: Any) -> Any:
    async def arun(self: Any, tool_input: Any, *args: Any, **kwargs: Any) -> Any:
        return await run_async(
            _call(self, tool_input, kwargs),
            lambda: original(self, tool_input, *args, **kwargs),
            lambda exc: _denied(self, exc, kwargs.get("tool_call_id")),
        )

    setattr(arun, _MARK, original)
    arun.__doc__ = original.__doc__
    return arun
