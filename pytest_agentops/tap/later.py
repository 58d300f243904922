"""Patching a library when it is imported, so a process pays for no client it never loads.

httpx imports httpcore only when a transport is built, and many suites never build one; importing
httpcore and httpcore2 up front to patch them was most of the interception's start-up cost.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

Then = Callable[[ModuleType], None]
Around = Callable[[], contextlib.AbstractContextManager[object]]


class _Loader(importlib.abc.Loader):
    """The real loader, then the callbacks waiting for the module (run once it is complete)."""

    def __init__(self, loader: Any, callbacks: list[Then], around: list[Around]) -> None:
        self._loader, self._callbacks, self._around = loader, callbacks, around

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        created: ModuleType | None = self._loader.create_module(spec)
        return created

    def exec_module(self, module: ModuleType) -> None:
        with contextlib.ExitStack() as stack:
            for context in self._around:
                stack.enter_context(context())
            self._loader.exec_module(module)
        module.__loader__ = self._loader  # the module keeps its own loader (resources, reloads)
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        for callback in self._callbacks:
            callback(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.waiting: dict[str, list[Then]] = {}
        self.around: dict[str, list[Around]] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.waiting and fullname not in self.around:
            return None
        spec = _others_find(self, fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _Loader(spec.loader, list(self.waiting.get(fullname, ())), list(self.around.get(fullname, ())))
        return spec


def _others_find(
    me: object, fullname: str, path: Sequence[str] | None, target: ModuleType | None
) -> importlib.machinery.ModuleSpec | None:
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        if finder is me or find is None:
            continue
        spec: importlib.machinery.ModuleSpec | None = find(fullname, path, target)
        if spec is not None:
            return spec
    return None


_FINDER = _Finder()


def when_imported(name: str, callback: Then) -> None:
    """``callback(module)`` now if ``name`` is imported, and after every import of it until ``forget``.

    Every import, not only the first: pytester's in-process runs restore ``sys.modules`` after each
    inner session, so a library first imported inside one is imported afresh, unpatched, later.
    """
    _FINDER.waiting.setdefault(name, []).append(callback)
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    module = sys.modules.get(name)
    if module is not None:
        callback(module)


def forget(name: str, callback: Then) -> None:
    """Stop waiting (the interception stopped before the library was imported)."""
    _remove(_FINDER.waiting, name, callback)


def while_importing(name: str, context: Around) -> None:
    """Each import of ``name`` from now on runs inside ``context()``, until ``forget_while``.

    For a library that subclasses a patched class at its import (urllib3 subclasses
    ``http.client.HTTPConnection``): it must see the real one, as if imported before the patches.
    """
    _FINDER.around.setdefault(name, []).append(context)
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def forget_while(name: str, context: Around) -> None:
    _remove(_FINDER.around, name, context)


def _remove(table: dict[str, list[Any]], name: str, entry: object) -> None:
    entries = table.get(name, [])
    if entry in entries:
        entries.remove(entry)
    if not entries:
        table.pop(name, None)
