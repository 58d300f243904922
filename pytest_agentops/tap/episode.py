"""An episode's share of a test's tap: its own run, gates, mounts and cassette for a ``with`` block.

A fuzz episode (``pytest_agentops.fuzz.episode``) runs one hypothesis example inside a test, on
the test's tap (its interception), yet each example needs a world of its own: its events on its
own run, its own gates, its simulators and fake model served before the test's, its cassette
answering instead of the test's (a ``Layered`` one puts a saved run in front of the test's).
``Tap.episode(...)`` swaps those in and yields a ``TapEpisode``; on exit (an exception included)
the test's are back, and what the episode mounted is gone.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from pytest_agentops.trace.run import Backend

if TYPE_CHECKING:
    from pytest_agentops.cassette.format import Interaction
    from pytest_agentops.tap.routing import LocalHandler, Tap


class TapEpisode:
    """What ``Tap.episode`` yields: mount backends for the episode; read the answers it kept."""

    def __init__(self, tap: Tap, keep: Collection[Backend]) -> None:
        self.tap = tap
        self.keep = frozenset(keep)
        # Each answer served by a backend in ``keep``, as a cassette interaction (redacted as
        # recorded): a fuzz episode saves what a real model said for its failing example.
        self.answers: list[Interaction] = []
        self._first = 0  # mounts of this episode ahead of the test's own

    def mount(
        self, base_url: str, handler: LocalHandler, backend: Backend = "simulator", *, last: bool = False
    ) -> None:
        """Serve ``base_url`` in-process for this episode, before the test's own mounts; with
        ``last``, after them (a catch-all such as ``"https:"`` answers only what nothing else does)."""
        entry = (base_url.rstrip("/").lower(), handler, backend)
        if last:
            self.tap.local.append(entry)
        else:
            self.tap.local.insert(self._first, entry)
            self._first += 1
