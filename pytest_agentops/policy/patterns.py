"""Allowlist patterns that match no known tool, and the closest real name to suggest.

A typo in an allowlist denies silently (``crm.contact.*`` matches nothing, so every CRM call is
refused); the engine names such patterns in its denial, and the plugin warns about them at
collection. Here, in the policy layer, so that both can ask without the engine reaching up into
the plugin.
"""

from __future__ import annotations

import difflib
import fnmatch
import sys
from collections.abc import Iterable


def closest(name: str, known: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(name: str, known: Iterable[str], shown: str = "{!r}") -> str:
    """``"; did you mean 'x'?"`` for the closest of ``known``, or ``""`` when none is close."""
    found = closest(name, known)
    return f"; did you mean {shown.format(found)}?" if found else ""


def known_tools() -> set[str]:
    """Tool names known now: the registry (``@tool``, ``register_tool``, MCP tools seen) and every simulator's."""
    from pytest_agentops.policy.tools import registry
    from simulators import SIMULATORS, simulator_class

    names = set(registry.names())
    names.update(_framework_names())
    for name in SIMULATORS:
        names.update(route.tool for route in simulator_class(name).routes)
    return names


def _framework_names() -> set[str]:
    """Framework tools declared with ``declare_tool`` / ``agentops_tool_names`` (their names and aliases)."""
    gate = sys.modules.get("pytest_agentops.tap.frameworks.gate")
    return gate.names.known() if gate is not None else set()


def pattern_problem(pattern: str, known: set[str]) -> str | None:
    """``"pattern 'x' matches no known tool; did you mean 'y'?"``, or None when it matches one."""
    if pattern.startswith("mcp.") or any(fnmatch.fnmatchcase(name, pattern) for name in known):
        return None  # an MCP server's tools are only known once it is seen: never judged ahead
    hint = ""
    parts = pattern.split(".")
    by_position: list[set[str]] = [set() for _ in parts]
    for name in known:
        for i, part in enumerate(name.split(".")[: len(parts)]):
            by_position[i].add(part)
    fixed = [
        part if any(c in part for c in "*?[") else (closest(part, by_position[i]) or part)
        for i, part in enumerate(parts)
    ]
    guess = ".".join(fixed)
    if guess != pattern and any(fnmatch.fnmatchcase(name, guess) for name in known):
        hint = f"; did you mean {guess!r}?"
    else:
        hint = did_you_mean(pattern, known)
    if not hint and "." not in pattern:
        hint = " (a framework's tool? declare it in agentops_tool_names; see docs/framework-tools.md)"
    return f"pattern {pattern!r} matches no known tool{hint}"
