"""Opening the tap for one test: its cassette (read on first use), routing to it, saving what was recorded."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pytest_agentops.cassette.format import Cassette, Interaction
from pytest_agentops.tap.current import active_tap as active_tap
from pytest_agentops.tap.current import pending as pending
from pytest_agentops.tap.current import pop as pop
from pytest_agentops.tap.current import push as push
from pytest_agentops.tap.routing import Tap
from pytest_agentops.tap.settings import Settings
from pytest_agentops.trace.run import Run

# Model providers a staging/upstream URL can stand in for while recording (simulators add theirs).
PROVIDER_ORIGINS = {
    "openai": "https://api.openai.com",
    "anthropic": "https://api.anthropic.com",
}


@contextlib.contextmanager
def open_tap(
    settings: Settings, run: Run, path: Path, hook: Any = None, *, in_scope: bool = True, text: str | None = None
) -> Iterator[Tap]:
    """``text``: the cassette file's text, when the caller has read it already."""
    # Re-recording starts empty and replaces the file on save.
    fresh = settings.record == "all"

    def load() -> Cassette:
        return Cassette(path, settings.match) if fresh else Cassette.load(path, settings.match, text)

    def call_hook(interaction: Interaction) -> None:
        hook(interaction=interaction)

    # No hook, no call: the tap then also skips re-applying it to live requests before matching.
    redact_hook: Callable[[Interaction], None] | None = call_hook if hook is not None else None

    tap = Tap(
        run,
        load() if in_scope else load,  # a test outside the scope reads its cassette only if it needs it
        "new" if settings.record == "prune" else settings.record,  # type: ignore[arg-type]
        settings.redactor,
        loopback_passthrough=settings.loopback_passthrough,
        redact_hook=redact_hook,
        in_scope=in_scope,
    )
    tap.telemetry = settings.telemetry
    if settings.record != "none":
        for name, url in settings.staging.items():
            origin = PROVIDER_ORIGINS.get(name)
            if origin is not None:
                tap.redirect(origin, url)
    with intercept(tap):
        try:
            yield tap
        finally:
            tap.close()
    cassette = tap.loaded_cassette
    if settings.record != "none" and cassette is not None and cassette.dirty:
        cassette.save(replace=settings.record == "all", session=settings.session_id)


@contextlib.contextmanager
def intercept(tap: Tap) -> Iterator[None]:
    """Route every intercepted request to ``tap`` while the block runs (the patches start once)."""
    from pytest_agentops.tap import install

    install.acquire()
    push(tap)
    try:
        yield
    finally:
        pop(tap)
        install.release()
