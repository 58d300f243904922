"""Which tap answers requests now: the current test's, or the opener that opens it on first use.

Apart from ``tap.opener`` so that routing a test (every test of a session) imports no tap: most
tests never make a request.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_agentops.tap.routing import Tap

# The taps intercepting now, innermost last; an opener stands for the tap of a test outside the
# scope, opened by the first request that needs it (it then pushes the tap above itself).
_active: list[Tap | Callable[[], Tap | None]] = []
# While no test's tap is open: the sessions' answerers of SDK telemetry (``tap.outside``), innermost
# last; each returns its tap for a request it answers, else None.
_outside: list[Callable[[str, str], Tap | None]] = []


def active_tap() -> Tap | None:
    """The tap answering requests now (the current test's), or None outside one."""
    if not _active:
        return None
    top = _active[-1]
    return top() if callable(top) else top  # an opener, or the tap itself


def tap_for(method: str, url: str) -> Tap | None:
    """The tap that answers for this request, or None to let it pass as if the plugin were absent.

    A test outside the scope opens its tap only for a request it governs (an opener's ``wants``):
    a mock-only test then never builds a run, a guard or a cassette for its mocked requests.
    """
    if not _active:
        return _outside[-1](method, url) if _outside else None
    top = _active[-1]
    if not callable(top):
        return top
    wants = getattr(top, "wants", None)
    if wants is not None and not wants(method, url):
        return None
    return top()


def push(entry: Tap | Callable[[], Tap | None]) -> None:
    """From now until ``pop``, ``entry`` answers (a tap), or opens the test's tap on first use (an opener)."""
    _active.append(entry)


def pop(entry: Tap | Callable[[], Tap | None]) -> None:
    _active.remove(entry)


def push_outside(answer: Callable[[str, str], Tap | None]) -> None:
    """From now until ``pop_outside``, ``answer`` is asked for requests made while no test's tap is open."""
    _outside.append(answer)


def pop_outside(answer: Callable[[str, str], Tap | None]) -> None:
    _outside.remove(answer)


@contextlib.contextmanager
def pending(opener: Callable[[], Tap | None]) -> Iterator[None]:
    """Until the block ends, ``opener`` opens the current test's tap when a request first asks for it."""
    push(opener)
    try:
        yield
    finally:
        pop(opener)
