"""An in-process session (``pytester.runpytest_inprocess``) inside another one leaves no module behind.

pytester puts ``sys.modules`` back after an in-process run, dropping what the inner session first
imported, but a package the outer session already held keeps an attribute naming each dropped
submodule. A later ``from package import submodule`` takes that attribute instead of importing
afresh, so the outer session ends up with two copies of a module (a simulator whose ``pipeline`` is
the dropped copy does not know its own routes' ``Reply``). When a nested session ends, those
attributes go, and the next import loads one fresh copy everywhere. The ``pytester`` fixture
puts ``sys.modules`` back once more when it is torn down (dropping what the test body imported
itself): what it held just before is noted, and the attributes naming a module it dropped go too.
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
#: What ``sys.modules`` held as each pytester fixture began its teardown (gone with the fixture, so a
#: teardown that never reaches ``forget_dropped_submodules`` keeps no copy of ``sys.modules`` alive).
_HELD: weakref.WeakKeyDictionary[Any, dict[str, ModuleType]] = weakref.WeakKeyDictionary()


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
    modules = sys.modules
    for name in sorted(modules.keys() - before):  # the new ones only: the outer session may hold thousands
        parent, _, child = name.rpartition(".")
        if name.startswith(_KEPT) or parent not in before:
            continue
        module, package = modules.get(name), modules.get(parent)
        if module is not None and package is not None and package.__dict__.get(child) is module:
            del package.__dict__[child]
            forgotten.append(name)
    return forgotten


def hold(owner: object) -> None:
    """Note the modules ``sys.modules`` holds as ``owner`` (a pytester fixture) starts its teardown."""
    _HELD[owner] = dict(sys.modules)


def forget_dropped_submodules(owner: object) -> list[str]:
    """Delete the package attributes naming a submodule that ``sys.modules`` held at ``hold(owner)``
    and no longer holds (after a restore); returns the submodules' names."""
    # Only the dropped modules' parents are looked at, not every package loaded: this runs after every
    # test that uses pytester. The package's own dict, not getattr (a module ``__getattr__``, such as
    # openai's lazy one, would run and import for each).
    forgotten = []
    for name, module in _HELD.pop(owner, {}).items():
        if sys.modules.get(name) is module:
            continue
        parent, _, child = name.rpartition(".")
        namespace = getattr(sys.modules.get(parent), "__dict__", None)
        if isinstance(namespace, dict) and namespace.get(child) is module:
            del namespace[child]
            forgotten.append(name)
    return forgotten
