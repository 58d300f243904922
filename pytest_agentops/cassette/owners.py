"""Which cassette files the collected tests own, for ``agentops cassettes ls --orphans``.

Collection runs in-process (``pytest --collect-only``, nothing executed) with the project's own
configuration, so the paths are the ones the plugin would open: the per-test path, an
``agent_cassette`` name, and the fuzz harness's ``<test>.failing.json`` beside it.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_agentops.tap.items import SETTINGS, cassette_path_for


@dataclass
class Owners:
    """A pytest plugin object: fills ``paths`` with every collected test's cassette files."""

    paths: set[Path] = field(default_factory=set)
    cassette_dir: Path | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        settings = session.config.stash.get(SETTINGS, None)
        if settings is None:
            return
        self.cassette_dir = settings.cassette_dir
        for item in session.items:
            path = cassette_path_for(item, settings)
            self.paths.add(path.resolve())
            self.paths.add(path.with_name(path.stem + ".failing.json").resolve())


def collect_owners(pytest_args: Sequence[str]) -> tuple[int, Owners, str]:
    """(pytest's exit code, the owners, its output): the output is kept for when collection fails."""
    owners = Owners()
    out = io.StringIO()
    args = ["--collect-only", "-q", *pytest_args]
    with contextlib.redirect_stdout(out):
        code: Any = pytest.main(args, plugins=[owners])
    return int(code), owners, out.getvalue()


def orphans(found: Sequence[Path], owners: Owners) -> list[Path]:
    return [path for path in found if path.resolve() not in owners.paths]
