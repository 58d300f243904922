"""pydantic-ai tools and toolsets through the gate.

Every tool an agent runs (function tools, ``FunctionToolset``, MCP servers and other toolsets,
prefixed or renamed) is executed by ``ToolManager._raw_execute`` once its arguments are validated,
so the adapter wraps that one method and sees the validated arguments. A denial is raised as
pydantic-ai's ``ToolFailed``: the model gets a failed tool result naming the rule (no retry
instructions, and no retry budget spent, unlike ``ModelRetry``), and the run goes on.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from pytest_agentops.policy.tools import ToolDenied
from pytest_agentops.tap.frameworks.gate import FrameworkCall, run_async

MODULE = "pydantic_ai.tool_manager"
_MARK = "__agentops_original__"


def patch(_: ModuleType | None = None) -> None:
    module = sys.modules.get(MODULE)
    manager = getattr(module, "ToolManager", None)
    current = getattr(manager, "_raw_execute", None)
    if manager is None or current is None or hasattr(current, _MARK):
        return
    manager._raw_execute = _wrap(current)


def unpatch() -> None:
    manager = getattr(sys.modules.get(MODULE), "ToolManager", None)
    original = getattr(getattr(manager, "_raw_execute", None), _MARK, None)
    if manager is not None and original is not None:
        manager._raw_execute = original


def _wrap(original: Any) -> Any:
    async def _raw_execute(self: Any, validated: Any, *, usage: Any, wrap_validation_errors: bool = True) -> Any:
        ctx = validated.ctx
        call = FrameworkCall(
            "pydantic-ai", validated.call.tool_name, validated.validated_args, _agent(ctx), _function(validated.tool)
        )

        def deny(exc: ToolDenied) -> Any:
            from pydantic_ai.exceptions import ToolFailed

            failed = ToolFailed(str(exc))
            if wrap_validation_errors:
                raise self._wrap_error_as_failed(validated.call.tool_name, validated.call, failed) from exc
            raise failed from exc

        return await run_async(
            call, lambda: original(self, validated, usage=usage, wrap_validation_errors=wrap_validation_errors), deny
        )

    setattr(_raw_execute, _MARK, original)
    return _raw_execute


def _agent(ctx: Any) -> str | None:
    name = getattr(getattr(ctx, "agent", None), "name", None)
    return name if isinstance(name, str) else None


def _function(tool: Any) -> Any:
    """The Python function of a function tool (``FunctionSchema.call`` is bound to its schema)."""
    schema = getattr(getattr(tool, "call_func", None), "__self__", None)
    return getattr(schema, "function", None)
