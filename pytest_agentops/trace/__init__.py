"""The run trace, the bottom layer: what happened on a test's run, as data.

``pytest_agentops.trace`` keeps answering the names users import from it (``Event``, ``Run``, ...);
they live in ``trace.run`` and are loaded on first use, so importing ``trace.sse`` or a provider stays
cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    run = import_module("pytest_agentops.trace.run")
    try:
        return getattr(run, name)
    except AttributeError:
        raise AttributeError(f"module 'pytest_agentops.trace' has no attribute {name!r}") from None
