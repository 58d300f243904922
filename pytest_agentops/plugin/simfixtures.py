"""One fixture per registered simulator (``billing``, ``ticketing``, ``crm``, and any a conftest or
plugin registers), made from the simulator registry instead of written out one by one.

The shipped simulators' fixtures are defined in the plugin module like its other fixtures. A
simulator registered afterwards (by a conftest, a plugin) gets a small plugin module of its own,
registered with pytest's plugin manager at configure time, or when it registers if that is later
(a conftest imported during collection), so it is there before any test asks for it.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from simulators import REGISTRY

if TYPE_CHECKING:
    from pytest_agentops.backends.sims import SimSet, TappedSimulator
    from simulators.core.registry import Registration

_PLUGIN_PREFIX = "agentops-sim-"
_STOP = pytest.StashKey[Callable[[], None]]()


def fixture_for(entry: Registration) -> Any:
    """The fixture ``entry.name``: a fresh instance for the test, mounted on its tap."""

    def simulator(request: pytest.FixtureRequest) -> TappedSimulator:
        from pytest_agentops.plugin import SIMS, _enter_scope

        _enter_scope(request)
        sims: SimSet = request.node.stash[SIMS]
        return sims.get(entry.name)

    simulator.__name__ = simulator.__qualname__ = entry.name
    what = f"{entry.about} simulator" if entry.about else f"{entry.name!r} simulator"
    simulator.__doc__ = f"A fresh {what} for this test, served in-process through the tap."
    return pytest.fixture(name=entry.name)(simulator)


def shipped() -> dict[str, Any]:
    """The fixtures of the simulators registered when the plugin is imported (the shipped ones), to
    be defined in the plugin module itself, like its other fixtures."""
    from simulators import REGISTRY

    return {entry.name: fixture_for(entry) for entry in REGISTRY.values()}


def install(config: pytest.Config, defined: Mapping[str, Any]) -> None:
    """Register a fixture plugin for every simulator without a fixture in ``defined`` (the plugin
    module's names), now and for every one registered later in this session (the listener goes at
    ``uninstall``)."""
    from simulators import REGISTRY

    def add(entry: Registration) -> None:
        plugin_name = _PLUGIN_PREFIX + entry.name
        if entry.name in defined or config.pluginmanager.has_plugin(plugin_name):
            return
        module = types.ModuleType(f"pytest_agentops.plugin.simfixtures.{entry.name}")
        setattr(module, entry.name, fixture_for(entry))
        config.pluginmanager.register(module, plugin_name)

    for entry in REGISTRY.values():
        add(entry)
    config.stash[_STOP] = REGISTRY.listen(add)


def uninstall(config: pytest.Config) -> None:
    stop = config.stash.get(_STOP, None)
    if stop is not None:
        stop()


def is_simulator_fixture(name: str) -> bool:
    return name in REGISTRY
