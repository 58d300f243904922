"""The simulator registry: each simulator declares itself here once, and everything that needs
to know the simulators (the pytest fixtures, ``agent_sims``, the ``--agent-staging`` names,
``agentops sim serve``/``verify``, the coverage docs) reads this table instead of a list of its own.

A registration names its class as ``"module:Class"`` so that reading the table imports no
simulator: the plugin derives its fixtures at startup from names alone, and a simulator's models
load on first use. A test or a plugin may register a class object directly.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulators.core.simulator import Simulator

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Registration:
    """One simulator: the name users type (fixture, tool prefix, ``sim serve NAME``), its class,
    where it is mounted by default, and how ``--agent-staging`` names it."""

    name: str
    #: ``"package.module:Class"`` (imported on first ``load()``), or the class itself
    target: str | type[Simulator] = field(repr=False)
    #: the in-process address of a fresh instance (``Simulator.default_base_url``)
    base_url: str
    #: what it imitates, in a few words ("Stripe-compatible billing"): fixture docs and help text
    about: str = ""
    #: the ``--agent-staging NAME=URL`` name (default: ``name``)
    staging: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"simulator name {self.name!r}: use lower-case letters, digits and _ (a fixture name)")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"simulator {self.name!r}: base_url {self.base_url!r} is not an http(s) URL")
        if not self.staging:
            object.__setattr__(self, "staging", self.name)

    def load(self) -> type[Simulator]:
        """The simulator class (imported now if registered by its path)."""
        if isinstance(self.target, str):
            module, _, attr = self.target.partition(":")
            cls: type[Simulator] = getattr(importlib.import_module(module), attr)
            return cls
        return self.target

    @property
    def env_prefix(self) -> str:
        """``AGENTOPS_<NAME>``: the variables ``agent_sims.env()`` sets for a subprocess."""
        return f"AGENTOPS_{self.name.upper()}"


Listener = Callable[[Registration], None]


class Registry(Mapping[str, Registration]):
    """Name -> registration, in registration order; listeners hear of later registrations (the
    pytest plugin adds a fixture for a simulator a conftest registers after startup)."""

    def __init__(self) -> None:
        self._entries: dict[str, Registration] = {}
        self._listeners: list[Listener] = []

    def register(
        self,
        name: str,
        target: str | type[Simulator],
        *,
        base_url: str | None = None,
        about: str = "",
        staging: str = "",
    ) -> Registration:
        """Declare a simulator. A class target may omit ``base_url`` (its own ``default_base_url``
        is used); a path target must give it, since reading it would import the class."""
        known = self._entries.get(name)
        if known is not None and _where(known.target) != _where(target):
            raise ValueError(f"simulator {name!r} is already registered ({_where(known.target)})")
        if base_url is None:
            if isinstance(target, str):
                raise ValueError(f"simulator {name!r}: give base_url= for a class named by path ({target!r})")
            base_url = target.default_base_url
        taken = {entry.staging: entry.name for entry in self._entries.values() if entry.name != name}
        entry = Registration(name, target, base_url.rstrip("/"), about, staging)
        if entry.staging in taken:
            raise ValueError(f"simulator {name!r}: staging name {entry.staging!r} is {taken[entry.staging]!r}'s")
        if not isinstance(target, str):
            _adopt(target, entry)
        self._entries[name] = entry
        for listener in list(self._listeners):
            listener(entry)
        return entry

    def unregister(self, name: str) -> None:
        """Forget ``name`` (a test that registered a simulator cleans up after itself)."""
        self._entries.pop(name, None)

    def get_entry(self, name: str) -> Registration:
        """The registration of ``name``; a ``KeyError`` that lists the known names otherwise."""
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(f"unknown simulator {name!r}; known: {', '.join(self._entries)}") from None

    def by_staging(self, staging: str) -> Registration | None:
        return next((entry for entry in self._entries.values() if entry.staging == staging), None)

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every later registration; returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def __getitem__(self, name: str) -> Registration:
        return self._entries[name]

    def __contains__(self, name: object) -> bool:  # Mapping's asks __getitem__ and catches its KeyError
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)


def _where(target: str | type[Simulator]) -> str:
    """``module:Class`` of a target: the same module imported again registers again, not twice."""
    return target if isinstance(target, str) else f"{target.__module__}:{target.__qualname__}"


def _adopt(cls: type[Simulator], entry: Registration) -> None:
    """A class registered as an object takes the registration's name and base URL, unless it
    declares other ones itself (then the registry refuses: one declaration, not two)."""
    own = cls.__dict__.get("name")
    if own is not None and own != entry.name:
        raise ValueError(f"simulator {entry.name!r}: {cls.__name__}.name is {own!r}")
    own_url = cls.__dict__.get("default_base_url")
    if own_url is not None and own_url.rstrip("/") != entry.base_url:
        raise ValueError(
            f"simulator {entry.name!r}: {cls.__name__}.default_base_url is {own_url!r}, not {entry.base_url!r}"
        )
    cls.name = entry.name
    cls.default_base_url = entry.base_url


#: every simulator this process knows; ``simulators/__init__.py`` registers the shipped ones
REGISTRY = Registry()
register = REGISTRY.register


def defaults_for(cls: type[Simulator]) -> Registration | None:
    """The registration a simulator class is declared by (``Simulator.__init_subclass__`` reads
    its base URL from it, so the class does not repeat it)."""
    return REGISTRY._entries.get(getattr(cls, "name", ""))
