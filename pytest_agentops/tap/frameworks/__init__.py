"""Agent frameworks' own tools on the trace and under the policy, with no extra decorator.

The plugin calls ``enable()`` at session start: each adapter patches its framework when (and only
if) the framework is imported, so a suite that never loads one pays nothing. Outside pytest, or
with ``agentops_framework_tools = false``, call ``enable()`` yourself. See docs/framework-tools.md.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pytest_agentops.tap import later

if TYPE_CHECKING:
    from pytest_agentops.tap.frameworks.gate import FrameworkCall, declare_tool, run_async, run_sync

__all__ = ["FrameworkCall", "declare_tool", "disable", "enable", "parse_names", "run_async", "run_sync"]

# The module whose import switches an adapter on -> the adapter (imported only then: the adapters
# import the policy engine, which a suite that never loads a framework should not pay for).
ADAPTERS: dict[str, str] = {
    "agents": "openai_agents",
    "pydantic_ai.tool_manager": "pydantic_ai",
    "langchain_core.tools.base": "langchain",
    "llama_index.core.tools.function_tool": "llama_index",
    "strands.tools.executors._executor": "strands",
    "crewai.tools.base_tool": "crewai",
    "crewai.tools.structured_tool": "crewai",
    "google.adk.tools.function_tool": "google_adk",
}
_GATE = f"{__name__}.gate"


def _patch(module: ModuleType) -> None:
    import_module(f"{__name__}.{ADAPTERS[module.__name__]}").patch(module)


_users = 0  # enable() calls not yet undone (a pytester session inside a session enables twice)


def enable() -> None:
    """Gate the tools of every supported framework imported now or later (pair it with ``disable``)."""
    global _users
    _users += 1
    if _users > 1:
        return
    for module in ADAPTERS:
        later.when_imported(module, _patch)


def disable() -> None:
    """Undo ``enable()``: the last one out unpatches, and the frameworks run their tools unwatched."""
    global _users
    _users = max(_users - 1, 0)
    if _users:
        return
    for module, adapter in ADAPTERS.items():
        later.forget(module, _patch)
        loaded = sys.modules.get(f"{__name__}.{adapter}")
        if loaded is not None:
            loaded.unpatch()
    gate = sys.modules.get(_GATE)
    if gate is not None:
        gate.names.forget()


def __getattr__(name: str) -> Any:
    if name in ("FrameworkCall", "declare_tool", "run_async", "run_sync", "names", "DEFAULT_KIND"):
        return getattr(import_module(_GATE), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parse_names(lines: Sequence[str], source: str = "agentops_tool_names") -> None:
    """Declare framework tools from ini lines ``NAME = [read|write] [CONTRACT_NAME]``."""
    declare = None
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
        declare = declare or import_module(_GATE).names.declare
        declare(name.strip(), kind=kind, alias=alias)
