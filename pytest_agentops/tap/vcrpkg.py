"""vcr.patch without vcr's package start-up: vcrpy's own cassette machinery loads on first use.

The tap uses only vcrpy's patch builder and its stubs (``vcr.patch``, ``vcr.stubs``). Importing
them ran ``vcr/__init__`` first, which imports what the tap never calls: vcrpy's config, cassette,
matchers, persisters, its YAML serializer and wrapt. That was about 120 million instructions, a
third of what a session's first test paid to start the interception, in every session, including
those whose tests make no request.

When vcr is not imported yet, its package module is made here without running ``__init__``, and
a module ``__getattr__`` (PEP 562) runs it at the first attribute anyone asks of ``vcr`` that only
``__init__`` defines (``vcr.VCR``, ``from vcr import use_cassette``, pytest-recording's import).
Whoever uses vcrpy itself sees it as it always is, one attribute access later.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any


def patch_module() -> ModuleType:
    """``vcr.patch``, imported without ``vcr/__init__`` when vcr is not imported yet."""
    if "vcr" not in sys.modules:
        _defer_init()
    return importlib.import_module("vcr.patch")


def _defer_init() -> None:
    spec = importlib.util.find_spec("vcr")
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return  # not installed (or not a package): the import below says so, as it always did
    loader = spec.loader
    package = importlib.util.module_from_spec(spec)
    lock = threading.RLock()
    started: list[bool] = []

    def complete(name: str) -> Any:
        with lock:  # another thread asking meanwhile waits for the whole start-up, as an import would
            if not started:  # once; a name asked while it runs (same thread) is missing, as in any import
                started.append(True)
                try:
                    loader.exec_module(package)
                finally:
                    package.__dict__.pop("__getattr__", None)
        try:
            return package.__dict__[name]
        except KeyError:
            raise AttributeError(f"module 'vcr' has no attribute {name!r}") from None

    setattr(package, "__getattr__", complete)  # noqa: B010  (PEP 562: mypy knows no module attribute)
    sys.modules["vcr"] = package
