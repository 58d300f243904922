"""Started first in every Python subprocess of an ``--agent-replay`` session: the same network guard.

The session puts this folder first on ``PYTHONPATH`` and sets ``AGENTOPS_NETGUARD=1``; Python imports
the first ``sitecustomize`` it finds, so this one installs the guard and then imports the next
``sitecustomize`` on the path (a virtualenv's, a distribution's), as if this one were not there.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType

_HERE = os.path.dirname(os.path.abspath(__file__))
_PACKAGE = os.path.dirname(_HERE)


def _guard_module() -> ModuleType:
    """The guard, loaded from its file: importing pytest_agentops here, before pytest, would make
    pytest warn that it cannot rewrite the plugin's asserts. ``pytest_agentops.tap.offline`` adopts
    this module when the session's plugin imports it later (one module, one state)."""
    existing = sys.modules.get("_agentops_netguard")
    if existing is not None:
        return existing
    spec = importlib.util.spec_from_file_location("_agentops_netguard", os.path.join(_PACKAGE, "offline.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["_agentops_netguard"] = module
    spec.loader.exec_module(module)
    return module


def _chain() -> None:
    """Import the ``sitecustomize`` this one shadows, if there is one."""
    me = sys.modules.pop("sitecustomize", None)
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
    try:
        importlib.import_module("sitecustomize")
    except ModuleNotFoundError as exc:
        if exc.name != "sitecustomize":
            raise
        if me is not None:
            sys.modules["sitecustomize"] = me
    finally:
        sys.path[:] = saved


if os.environ.get("AGENTOPS_NETGUARD") == "1":
    _guard_module().install_inherited()
_chain()
