"""Where a pytest test meets the tap's settings: the session's ``Settings`` and a test's cassette file.

The plugin stores the settings under ``SETTINGS`` and opens each test's cassette at
``cassette_path_for``; ``agentops cassettes ls --orphans`` (pytest_agentops.cassette.owners) asks
the same two things of a collection run. They live here, below the plugin, so that it can ask
without importing the plugin (pytest loads the plugin by its entry point; nothing imports it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_agentops.tap.settings import Settings

SETTINGS = pytest.StashKey[Settings]()


def closest_mark(item: pytest.Item, name: str) -> pytest.Mark | None:
    """``item.get_closest_marker(name)``, without its two generators (about 4 µs a call inside a
    suite with pytest's; a replayed test asks three times)."""
    return closest_marks(item, (name,))[0]


def closest_marks(item: pytest.Item, names: tuple[str, ...]) -> list[pytest.Mark | None]:
    """``get_closest_marker`` of each of ``names``, in one walk up the node chain as pytest walks it.

    The names are looked up in the tuple itself: a dict of them built per call made a one-name
    lookup cost 655 ns instead of 347 (a loop over a three-node chain).
    """
    marks: list[pytest.Mark | None] = [None] * len(names)
    node: pytest.Item | pytest.Collector | None = item
    while node is not None:
        for mark in node.own_markers:
            if mark.name in names:
                i = names.index(mark.name)
                if marks[i] is None:
                    marks[i] = mark
        node = node.parent
    return marks


def cassette_path_for(item: pytest.Item, settings: Settings) -> Path:
    """The cassette file ``item`` uses: its ``agent_cassette`` name, else the per-test path."""
    return cassette_path_with(item, settings, closest_mark(item, "agent_cassette"))


def cassette_path_with(item: pytest.Item, settings: Settings, marker: pytest.Mark | None) -> Path:
    """``cassette_path_for``, given the test's closest ``agent_cassette`` marker (None: it has none)."""
    named = None
    if marker is not None and marker.args:
        if not isinstance(marker.args[0], str):
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.agent_cassette takes a cassette name string")
        named = marker.args[0]
    # Class-qualified (TestX.test_y), so a method and a function of the same name never share a file.
    test_name = item.nodeid.split("::", 1)[-1].replace("::", ".") if "::" in item.nodeid else item.name
    return settings.cassette_path(item.path, test_name, named)
