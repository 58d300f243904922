"""CrewAI tools (``@tool``, ``BaseTool`` subclasses) through the gate, on both of CrewAI's paths.

With native function calling (the default for a model that has it) CrewAI calls ``BaseTool.run``
(``Tool.run`` for a ``@tool`` function, ``arun`` when async); the text (ReAct) path calls the
tool's ``CrewStructuredTool.invoke``/``ainvoke``. The adapter wraps all of them; a call that one of
them makes to another (``invoke`` runs ``BaseTool._run``) is the same tool one level down, and the
gate counts it once. A denial is raised as the tool's error, which CrewAI phrases for the model
("Error executing tool: ...") so the crew goes on. The tool is named as the model asks for it
(CrewAI's sanitised name: ``Get Weather`` is ``get_weather``). The event names the agent by its
``role``, found as ``_agent`` says.
"""

from __future__ import annotations

import sys
from types import FrameType, ModuleType
from typing import Any

from pytest_agentops.policy.tools import ToolDenied
from pytest_agentops.tap.frameworks.gate import FrameworkCall, run_async, run_sync

BASE, STRUCTURED = "crewai.tools.base_tool", "crewai.tools.structured_tool"
AGENT = "crewai.agents.agent_builder.base_agent"
# module -> (class, sync method, async method, how the method's arguments read)
TARGETS = (
    (BASE, "BaseTool", "run", "arun", "kwargs"),
    (BASE, "Tool", "run", "arun", "kwargs"),
    (STRUCTURED, "CrewStructuredTool", "invoke", "ainvoke", "input"),
)
_MARK = "__agentops_original__"


def patch(_: ModuleType | None = None) -> None:
    for module, cls_name, sync, asynchronous, style in TARGETS:
        cls = getattr(sys.modules.get(module), cls_name, None)
        if cls is None or hasattr(cls.__dict__.get(sync), _MARK):
            continue
        setattr(cls, sync, _wrap_sync(cls.__dict__[sync], style))
        setattr(cls, asynchronous, _wrap_async(cls.__dict__[asynchronous], style))


def unpatch() -> None:
    for module, cls_name, sync, asynchronous, _ in TARGETS:
        cls = getattr(sys.modules.get(module), cls_name, None)
        for attr in (sync, asynchronous):
            original = getattr(cls.__dict__.get(attr) if cls is not None else None, _MARK, None)
            if original is not None:
                setattr(cls, attr, original)


def _name(tool: Any) -> str:
    sanitize = getattr(sys.modules.get("crewai.utilities.string_utils"), "sanitize_tool_name", None)
    name = str(getattr(tool, "name", "tool"))
    return str(sanitize(name)) if sanitize is not None else name


def _call(tool: Any, style: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> FrameworkCall:
    if style == "input":
        given = args[0] if args else kwargs.get("input", {})
        arguments: Any = given if isinstance(given, dict) else {"input": given}
    else:
        arguments = dict(kwargs) if not args else {"args": list(args), **kwargs}
    return FrameworkCall("crewai", _name(tool), arguments, _agent(sys._getframe(2)), getattr(tool, "func", None))


def _agent(frame: FrameType | None, depth: int = 40) -> str | None:
    """The role of the CrewAI agent that runs this tool, or None when no agent is running it.

    CrewAI hands a tool neither its agent nor the role (only a security fingerprint, on the text
    path), but each path that runs a tool holds the agent a few calls up: the text path's
    ``ToolUsage`` (``self.agent``) and ``execute_tool_and_check_finality(agent=...)``, the native
    path's executor (``self.agent``) and its ``agent`` argument. So the caller frames are searched,
    newest first, for an ``agent`` local or attribute that is a CrewAI agent; reading ``__dict__``
    and locals runs no user code.
    """
    base = getattr(sys.modules.get(AGENT), "BaseAgent", None)
    while base is not None and frame is not None and depth > 0:
        local = frame.f_locals
        for found in (local.get("agent"), getattr(local.get("self"), "__dict__", {}).get("agent")):
            if isinstance(found, base) and isinstance(getattr(found, "role", None), str):
                return str(found.role)
        frame, depth = frame.f_back, depth - 1
    return None


def _raise(exc: ToolDenied) -> Any:
    raise exc


def _wrap_sync(original: Any, style: str) -> Any:
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        return run_sync(_call(self, style, args, kwargs), lambda: original(self, *args, **kwargs), _raise)

    setattr(run, _MARK, original)
    run.__doc__ = original.__doc__
    return run


def _wrap_async(original: Any, style: str) -> Any:
    async def arun(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await run_async(_call(self, style, args, kwargs), lambda: original(self, *args, **kwargs), _raise)

    setattr(arun, _MARK, original)
    arun.__doc__ = original.__doc__
    return arun
