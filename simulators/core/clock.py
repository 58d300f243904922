"""Simulated time: it moves only when the test moves it.

Timestamps, token expiry and idempotency-key expiry all read this clock, so a test can cross
"24 hours later" in a microsecond. When a freezegun freeze is active the clock follows the
frozen time (plus anything ``advance`` added), so ``freeze_time(...)``/``tick()`` steer it too.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import sys
import threading
from datetime import UTC

#: 2025-01-01T00:00:00Z: a fixed start so timestamps are identical run after run.
DEFAULT_EPOCH = 1_735_689_600.0


def _freezegun_now() -> float | None:
    api = sys.modules.get("freezegun.api")
    if api is None:
        return None
    factories = getattr(api, "freeze_factories", None)
    if not factories:
        return None
    frozen: _dt.datetime = factories[-1]()
    return calendar.timegm(frozen.timetuple()) + frozen.microsecond / 1_000_000


class SimClock:
    """Seconds since the epoch, as a float; ``timestamp()`` gives Stripe-style integer seconds."""

    __slots__ = ("_lock", "_offset", "_start")

    def __init__(self, start: float | _dt.datetime | None = None) -> None:
        if isinstance(start, _dt.datetime):
            start = start.replace(tzinfo=start.tzinfo or UTC).timestamp()
        self._start = DEFAULT_EPOCH if start is None else float(start)
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        frozen = _freezegun_now()
        base = self._start if frozen is None else frozen
        return base + self._offset

    @property
    def offset(self) -> float:
        """Seconds ``advance``/``set`` have moved this clock from its start (or from the frozen time)."""
        return self._offset

    def timestamp(self) -> int:
        return int(self.now())

    def datetime(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.now(), tz=UTC)

    def advance(self, seconds: float = 0.0, *, minutes: float = 0.0, hours: float = 0.0, days: float = 0.0) -> float:
        """Move simulated time forward (never backward) and return the new time."""
        delta = seconds + 60 * minutes + 3600 * hours + 86400 * days
        if delta < 0:
            raise ValueError("simulated time only moves forward")
        with self._lock:
            self._offset += delta
        return self.now()

    def set(self, when: float | _dt.datetime) -> None:
        """Jump to an absolute time (e.g. to seed data "as of" a date)."""
        if isinstance(when, _dt.datetime):
            when = when.replace(tzinfo=when.tzinfo or UTC).timestamp()
        frozen = _freezegun_now()
        with self._lock:
            self._offset = float(when) - (self._start if frozen is None else frozen)

    def __repr__(self) -> str:
        return f"SimClock({self.datetime().isoformat()})"
