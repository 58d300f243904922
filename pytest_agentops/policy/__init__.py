"""The policy: deterministic rules outside the model (engine, budgets, tool registry, contracts).

``pytest_agentops.policy`` keeps answering the names of the engine (``Policy``, ...), loaded on first
use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    engine = import_module("pytest_agentops.policy.engine")
    try:
        return getattr(engine, name)
    except AttributeError:
        raise AttributeError(f"module 'pytest_agentops.policy' has no attribute {name!r}") from None
