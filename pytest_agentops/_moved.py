"""Old module paths, kept answering for one release after the layout moved modules into packages.

``import pytest_agentops.tools`` still works and gives *the same module object* as
``pytest_agentops.policy.tools`` (so a monkeypatch through the old path patches the real module), with
a ``DeprecationWarning`` naming the new path. Only the moved paths are answered here; the finder sits first on
``sys.meta_path`` so that a moved package's submodule (``pytest_agentops.fakes.model``) is never found
again through the package's ``__path__`` and executed a second time.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Sequence
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

#: old path (under ``pytest_agentops.``) -> new path; a package's submodules follow their package.
MOVED = {
    "prices": "trace.prices",
    "sse": "trace.sse",
    "providers": "trace.providers",
    "budget": "policy.budget",
    "contracts": "policy.contracts",
    "tools": "policy.tools",
    "guard": "plugin.gating",
    "outputs": "plugin.outputs",
    "checks": "plugin.checks",
    "hookspecs": "plugin.hookspecs",
    "config": "tap.settings",
    "session": "tap.opener",
    "netguard": "tap.offline",
    "netns": "tap.netns",
    "fakes": "backends.model",
    "sims": "backends.sims",
    "simverify": "backends.verify",
    "assertions": "readers.assertions",
    "scorecard": "readers.scorecard",
    "tracefile": "readers.tracefile",
    "merge": "readers.merge",
    "otel": "readers.otel",
    "passk": "readers.passk",
    "report": "readers.baseline",
    "htmlreport": "readers.html.page",
    "hygiene": "cassette.hygiene",
}
_ROOT = "pytest_agentops."


def new_path(old: str) -> str | None:
    """The module an old dotted path now lives at, or None when the path never moved."""
    if not old.startswith(_ROOT):
        return None
    head, dot, rest = old[len(_ROOT) :].partition(".")
    moved = MOVED.get(head)
    if moved is None:
        return None
    return _ROOT + moved + dot + rest


class _Existing(Loader):
    """Hands back the already-imported module at its new path instead of executing a copy."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module already ran under its new name."""


class OldPaths(MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        new = new_path(fullname)
        if new is None:
            return None
        warnings.warn(
            f"{fullname} moved to {new}; the old path works for one release",
            DeprecationWarning,
            stacklevel=2,
        )
        return ModuleSpec(fullname, _Existing(new), is_package=True)


def install() -> None:
    if not any(isinstance(finder, OldPaths) for finder in sys.meta_path):
        sys.meta_path.insert(0, OldPaths())
