"""Which guard ``@tool`` calls report to now: the current test's, set by the plugin.

Apart from ``policy.tools`` so that routing a test that never calls a tool costs no pydantic
import: the plugin pushes a guard for every test, and most tests of a suite define no tool.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_agentops.policy.tools import ActiveGuard

_guard_var: ContextVar[ActiveGuard | None] = ContextVar("agentops_guard", default=None)
_guard_global: ActiveGuard | None = None  # threads started by the agent do not inherit contextvars


def current_guard() -> ActiveGuard | None:
    return _guard_var.get() or _guard_global


@contextlib.contextmanager
def use_guard(guard: ActiveGuard | None) -> Iterator[None]:
    """Make ``guard`` the one ``@tool`` calls report to (the plugin does this for every test)."""
    pushed = push_guard(guard)
    try:
        yield
    finally:
        pop_guard(pushed)


Pushed = tuple["Token[ActiveGuard | None]", "ActiveGuard | None"]


def push_guard(guard: ActiveGuard | None) -> Pushed:
    """``use_guard`` across hooks (a test's setup to its teardown); give the result to ``pop_guard``."""
    global _guard_global
    token = _guard_var.set(guard)
    previous, _guard_global = _guard_global, guard
    return token, previous


def pop_guard(pushed: Pushed) -> None:
    global _guard_global
    token, previous = pushed
    try:
        _guard_var.reset(token)
    except ValueError:  # set in another context (a plugin ran the setup hook elsewhere): restore the value
        _guard_var.set(token.old_value if token.old_value is not Token.MISSING else None)
    _guard_global = previous
