"""OpenAI Agents SDK function tools (``@function_tool``, ``FunctionTool``) through the gate.

The SDK runs every function tool through ``_invoke_function_tool_with_metadata`` (the runner and
the realtime session alike), so wrapping that one function covers ``@function_tool``, hand-built
``FunctionTool``s and agents exposed as tools. A denial is answered the way the SDK answers a
failing tool: the tool's ``failure_error_function`` phrases it, so the model reads it and the run goes on; a tool built
with ``failure_error_function=None`` re-raises, as the SDK does for its own errors. With the SDK's
default (a fixed "An error occurred while running the tool. Please try again.", which hides why),
the output is the SDK's sentence with the denial and its rule in place of "Please try again".
"""

from __future__ import annotations

import json
import sys
from types import ModuleType
from typing import Any

from pytest_agentops.policy.tools import ToolDenied
from pytest_agentops.tap.frameworks.gate import FrameworkCall, run_async

MODULES = ("agents.tool", "agents.run_internal.tool_execution")
NAME = "_invoke_function_tool_with_metadata"
_MARK = "__agentops_original__"


def patch(_: ModuleType | None = None) -> None:
    """Wrap the SDK's function-tool invoker in each module that holds it (idempotent)."""
    tool_module = sys.modules.get("agents.tool")
    if tool_module is None or not hasattr(tool_module, NAME):
        return
    for name in MODULES:
        module = sys.modules.get(name)
        current = getattr(module, NAME, None) if module is not None else None
        if current is None or hasattr(current, _MARK):
            continue
        setattr(module, NAME, _wrap(current, tool_module))


def unpatch() -> None:
    for name in MODULES:
        module = sys.modules.get(name)
        current = getattr(module, NAME, None) if module is not None else None
        original = getattr(current, _MARK, None)
        if original is not None:
            setattr(module, NAME, original)


def _wrap(original: Any, tool_module: ModuleType) -> Any:
    async def invoke(*, function_tool: Any, context: Any, arguments: str) -> Any:
        call = FrameworkCall(
            "openai-agents",
            function_tool.name,
            _arguments(arguments),
            _agent(context),
            _wrapped(function_tool),
            output=lambda invoked: getattr(invoked, "output", invoked),
        )

        async def deny(exc: ToolDenied) -> Any:
            result = tool_module._FunctionToolInvocationResult
            if getattr(function_tool, "_use_default_failure_error_function", True):
                # The SDK's default hides the error ("Please try again."), which invites the model to
                # retry a call the policy will refuse again: a denial is not a secret, so say it.
                return result(f"An error occurred while running the tool: {exc}", is_sdk_generated_error=True)
            phrase = tool_module.maybe_invoke_function_tool_failure_error_function
            text = await phrase(function_tool=function_tool, context=context, error=exc)
            if text is None:  # failure_error_function=None: the SDK raises a tool's errors
                raise exc
            return result(text)

        return await run_async(
            call, lambda: original(function_tool=function_tool, context=context, arguments=arguments), deny
        )

    setattr(invoke, _MARK, original)
    return invoke


def _arguments(raw: str) -> Any:
    """The model's JSON arguments as data (the SDK validates them against the tool's schema next)."""
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {"(unparsed)": raw}


def _agent(context: Any) -> str | None:
    agent = getattr(context, "agent", None)
    name = getattr(agent, "name", None)
    return name if isinstance(name, str) else None


def _wrapped(function_tool: Any) -> Any:
    """The Python function behind ``@function_tool`` (so our ``@tool`` under it records once)."""
    invoker = getattr(function_tool, "on_invoke_tool", None)
    impl = getattr(invoker, "_invoke_tool_impl", invoker)
    return getattr(impl, "__agents_function_tool_wrapped_callable__", None)
