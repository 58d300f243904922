"""The policy: deterministic rules outside the model (engine, budgets, tool registry, contracts).

``pytest_agentops.policy`` keeps answering the names of the engine (``Policy``, ...), loaded on first
use. A submodule asked for by name (``from pytest_agentops.policy import tools``) is imported as
itself: Python asks this ``__getattr__`` first, and loading the engine for it was most of what a
session with no policy paid at its first test.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_SUBMODULES = frozenset({"budget", "clocks", "contracts", "current", "engine", "patterns", "registry", "tools"})


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    if name in _SUBMODULES:
        return import_module(f"{__name__}.{name}")
    engine = import_module("pytest_agentops.policy.engine")
    try:
        return getattr(engine, name)
    except AttributeError:
        raise AttributeError(f"module 'pytest_agentops.policy' has no attribute {name!r}") from None
