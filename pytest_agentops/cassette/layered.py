"""A saved run answering in front of the test's own cassette (a fuzz test's failing example).

A fuzz test recorded against a real model keeps its shrunk failing example as a cassette of its
own (``<test>.failing.json``, see ``pytest_agentops.fuzz.harness``). Each later example replays
that run from its start first, then falls back to the test's cassette, so the failure replays
offline even after the test's cassette was re-recorded or deleted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_agentops.cassette.format import Cassette, Interaction
from pytest_agentops.cassette.matching import MatchConfig


class Layered:
    """``front`` (read-only) answers first; ``back`` answers the rest and records what is new."""

    plain = False  # two files' interactions: replay checks orjson's bytes of their bodies (Cassette.plain)

    def __init__(self, front: Cassette, back: Any) -> None:
        self.front = front
        self.back = back

    @property
    def path(self) -> Path:
        return Path(self.back.path)

    @property
    def config(self) -> MatchConfig:
        return self.back.config  # type: ignore[no-any-return]

    @property
    def existed(self) -> bool:
        return bool(self.back.existed or self.front.existed)

    @property
    def interactions(self) -> list[Interaction]:
        return list(self.back.interactions)

    @property
    def dirty(self) -> bool:
        return bool(self.back.dirty)

    def take(self, key: str) -> Interaction | None:
        found = self.front.take(key)
        return found if found is not None else self.back.take(key)

    def take_hidden(self, method: str, url: str, value: Any) -> tuple[str, Interaction, list[tuple[str, str]]] | None:
        found = self.front.take_hidden(method, url, value)
        return found if found is not None else self.back.take_hidden(method, url, value)

    def exact_match(self, method: str, url: str, body: bytes) -> tuple[str, Any] | None:
        found = self.front.exact_match(method, url, body)
        return found if found is not None else self.back.exact_match(method, url, body)

    def take_exact(self, method: str, url: str, body: bytes) -> tuple[Interaction, Any] | None:
        """As ``Cassette.take_exact``, through the key: the front layer answers first."""
        exact = self.exact_match(method, url, body)
        if exact is None:
            return None
        found = self.take(exact[0])
        return None if found is None else (found, exact[1])

    def recorded_count(self, key: str) -> int:
        return self.front.recorded_count(key) + int(self.back.recorded_count(key))

    def origins(self) -> set[str]:
        return self.front.origins() | set(self.back.origins())

    def pending(self, key: str) -> list[Interaction]:
        return self.front.pending(key) + list(self.back.pending(key))

    def discard(self, interaction: Interaction) -> None:
        """Drop a stale answer (a saved 5xx fetched again while recording) from whichever layer holds it."""
        held = any(interaction is mine for mine in self.front.interactions)
        (self.front if held else self.back).discard(interaction)

    def add(self, interaction: Interaction) -> None:
        self.back.add(interaction)

    def save(self, replace: bool = False, session: str = "") -> None:
        self.back.save(replace, session)

    def __len__(self) -> int:
        return len(self.front) + len(self.back)
