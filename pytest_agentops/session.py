"""Opening the tap for one test: load its cassette, patch the HTTP clients, save what was recorded."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .cassette.format import Cassette, Interaction
from .config import Settings
from .tap import Tap
from .trace import Run

# Model providers a staging/upstream URL can stand in for while recording (simulators add theirs).
PROVIDER_ORIGINS = {
    "openai": "https://api.openai.com",
    "anthropic": "https://api.anthropic.com",
}


@contextlib.contextmanager
def open_tap(settings: Settings, run: Run, path: Path, hook: Any = None) -> Iterator[Tap]:
    # Re-recording starts empty and replaces the file on save.
    fresh = settings.record == "all"
    cassette = Cassette(path, settings.match) if fresh else Cassette.load(path, settings.match)

    def call_hook(interaction: Interaction) -> None:
        hook(interaction=interaction)

    # No hook, no call: the tap then also skips re-applying it to live requests before matching.
    redact_hook: Callable[[Interaction], None] | None = call_hook if hook is not None else None

    tap = Tap(
        run,
        cassette,
        settings.record,  # type: ignore[arg-type]
        settings.redactor,
        loopback_passthrough=settings.loopback_passthrough,
        redact_hook=redact_hook,
    )
    if settings.record != "none":
        for name, url in settings.staging.items():
            origin = PROVIDER_ORIGINS.get(name)
            if origin is not None:
                tap.redirect(origin, url)
    with intercept(tap):
        yield tap
    if settings.record != "none" and cassette.dirty:
        cassette.save(replace=settings.record == "all", session=settings.session_id)


_active: list[Tap] = []  # the taps intercepting now, innermost last


def active_tap() -> Tap | None:
    """The tap answering requests now (the current test's), or None outside one."""
    return _active[-1] if _active else None


@contextlib.contextmanager
def intercept(tap: Tap) -> Iterator[None]:
    """vcrpy's patches for every HTTP client it knows, answering through ``tap``."""
    from vcr.patch import CassettePatcherBuilder

    from .stubs import httpx_patches

    tap.custom_patches = httpx_patches()
    with contextlib.ExitStack() as stack:
        for patcher in CassettePatcherBuilder(tap).build():
            stack.enter_context(patcher)
        _active.append(tap)
        try:
            yield
        finally:
            _active.remove(tap)
