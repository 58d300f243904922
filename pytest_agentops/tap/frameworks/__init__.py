"""Agent frameworks' own tools on the trace and under the policy, with no extra decorator.

The plugin calls ``enable()`` at session start: each adapter patches its framework when (and only
if) the framework is imported, so a suite that never loads one pays nothing. Outside pytest, or
with ``agentops_framework_tools = false``, call ``enable()`` yourself. See docs/framework-tools.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType

from .. import later
from . import langchain, openai_agents, pydantic_ai
from .gate import DEFAULT_KIND, FrameworkCall, declare_tool, names, run_async, run_sync

__all__ = [
    "DEFAULT_KIND",
    "FrameworkCall",
    "declare_tool",
    "disable",
    "enable",
    "parse_names",
    "run_async",
    "run_sync",
]

# module whose import switches the adapter on -> (patch, unpatch)
ADAPTERS: dict[str, tuple[Callable[[ModuleType], None], Callable[[], None]]] = {
    "agents": (openai_agents.patch, openai_agents.unpatch),
    "pydantic_ai.tool_manager": (pydantic_ai.patch, pydantic_ai.unpatch),
    "langchain_core.tools.base": (langchain.patch, langchain.unpatch),
}

_users = 0  # enable() calls not yet undone (a pytester session inside a session enables twice)


def enable() -> None:
    """Gate the tools of every supported framework imported now or later (pair it with ``disable``)."""
    global _users
    _users += 1
    if _users > 1:
        return
    for module, (patch, _) in ADAPTERS.items():
        later.when_imported(module, patch)


def disable() -> None:
    """Undo ``enable()``: the last one out unpatches, and the frameworks run their tools unwatched."""
    global _users
    _users = max(_users - 1, 0)
    if _users:
        return
    for module, (patch, unpatch) in ADAPTERS.items():
        later.forget(module, patch)
        unpatch()
    names.forget()


def parse_names(lines: Sequence[str], source: str = "agentops_tool_names") -> None:
    """Declare framework tools from ini lines ``NAME = [read|write] [CONTRACT_NAME]``."""
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        name, sep, rest = text.partition("=")
        words = rest.split()
        if not sep or not name.strip() or not words or len(words) > 2:
            raise ValueError(
                f"{source} line {number} ({line.strip()!r}): expected NAME = [read|write] [CONTRACT_NAME], "
                "e.g. 'lookup_order = read' or 'add_note = write crm.notes.create'"
            )
        kind = words[0] if words[0] in ("read", "write") else None
        alias = words[-1] if (kind is None or len(words) == 2) else None
        if kind is None and len(words) == 2:
            raise ValueError(
                f"{source} line {number} ({line.strip()!r}): access must be read or write, not {words[0]!r}"
            )
        names.declare(name.strip(), kind=kind, alias=alias)
