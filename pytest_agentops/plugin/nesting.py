"""An in-process session (``pytester.runpytest_inprocess``) inside another one leaves no module behind.

pytester puts ``sys.modules`` back after an in-process run, dropping what the inner session first
imported, but a package the outer session already held keeps an attribute naming each dropped
submodule. A later ``from package import submodule`` takes that attribute instead of importing
afresh, so the outer session ends up with two copies of a module (a simulator whose ``pipeline`` is
the dropped copy does not know its own routes' ``Reply``). When a nested session ends, those
attributes go, and the next import loads one fresh copy everywhere. The ``pytester`` fixture
puts ``sys.modules`` back once more when it is torn down (dropping what the test body imported
itself), and then the attributes naming a module no longer there go too.
"""

from __future__ import annotations

import sys
import weakref
from types import ModuleType
from typing import Any

import pytest

#: The modules pytester's snapshot keeps (``Pytester.__take_sys_modules_snapshot``).
_KEPT = ("zope", "readline")
_BEFORE: weakref.WeakKeyDictionary[Any, frozenset[str]] = weakref.WeakKeyDictionary()
_SESSIONS: list[pytest.Config] = []


def note_start(pluginmanager: pytest.PytestPluginManager) -> None:
    """The modules present as this session's plugin manager takes the plugin (before conftests)."""
    _BEFORE[pluginmanager] = frozenset(sys.modules)


def configure(config: pytest.Config) -> None:
    """In a nested session, forget its new submodules when it ends (after every unconfigure hook)."""
    before = _BEFORE.pop(config.pluginmanager, None)
    if _SESSIONS and before is not None:

        def forget() -> None:
            forget_new_submodules(before)

        config.add_cleanup(forget)
    _SESSIONS.append(config)
    config.add_cleanup(lambda: _SESSIONS.remove(config))


def forget_new_submodules(before: frozenset[str]) -> list[str]:
    """Delete, from packages in ``before``, the attributes naming their submodules imported since;
    returns the submodules' names. pytester drops those modules from ``sys.modules`` next."""
    forgotten = []
    for name, module in list(sys.modules.items()):
        parent, _, child = name.rpartition(".")
        if name in before or name.startswith(_KEPT) or parent not in before:
            continue
        package = sys.modules.get(parent)
        if package is not None and package.__dict__.get(child) is module:
            del package.__dict__[child]
            forgotten.append(name)
    return forgotten


def forget_dropped_submodules() -> list[str]:
    """Delete every package attribute naming a submodule that ``sys.modules`` no longer holds
    (after a restore); returns the submodules' names."""
    # Run after every test that uses pytester, over every package loaded: the checks are the cheap
    # ones. The package's own dict, not hasattr (a module ``__getattr__`` would run for each), and
    # the value's real type, not isinstance (a lazy proxy, such as openai's, answers ``__class__`` by
    # importing what it stands for; and it is not a submodule to forget).
    forgotten = []
    for name, package in list(sys.modules.items()):
        namespace = getattr(package, "__dict__", None)
        if not isinstance(namespace, dict) or "__path__" not in namespace:
            continue
        for child, value in list(namespace.items()):
            if not issubclass(type(value), ModuleType):
                continue
            full = f"{name}.{child}"
            if value.__name__ == full and sys.modules.get(full) is not value:
                del namespace[child]
                forgotten.append(full)
    return forgotten
