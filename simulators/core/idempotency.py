"""Idempotency keys with Stripe's documented semantics.

A key is scoped to a tenant. The first request reserves it; once its endpoint has run, the
answer (status, headers, body; errors included) is saved and replayed for the same key and the
same parameters. A different payload is an ``idempotency_error``; a concurrent request while the
first is in flight gets ``idempotency_key_in_use``. A request that failed validation or hit
that conflict saves nothing. Keys expire 24 simulated hours after first use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from simulators.core.errors import SimError

MAX_KEY_LENGTH = 255
KEY_TTL_SECONDS = 24 * 3600.0


@dataclass(slots=True)
class SavedResult:
    status: int
    headers: dict[str, str]
    body: bytes
    request_id: str | None
    ledger_seq: int | None


@dataclass(slots=True)
class _Record:
    fingerprint: str
    created_at: float
    result: SavedResult | None = None


Lookup = tuple[Literal["new"], None] | tuple[Literal["replay"], SavedResult]


class IdempotencyStore:
    def __init__(self, ttl: float = KEY_TTL_SECONDS) -> None:
        self.ttl = ttl
        self._records: OrderedDict[tuple[str, str], _Record] = OrderedDict()
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        while self._records:
            first = next(iter(self._records.values()))
            if now - first.created_at < self.ttl:
                break
            self._records.popitem(last=False)

    def begin(self, tenant: str, key: str, fingerprint: str, now: float) -> Lookup:
        """Reserve ``key`` or return the saved result; raises the conflict errors."""
        if len(key) > MAX_KEY_LENGTH:
            raise SimError(
                "idempotency_key_too_long",
                f"Idempotency-Key is {len(key)} characters long; keys are at most {MAX_KEY_LENGTH}.",
                param="Idempotency-Key",
            )
        with self._lock:
            self._expire(now)
            rec = self._records.get((tenant, key))
            if rec is not None and now - rec.created_at >= self.ttl:
                del self._records[(tenant, key)]
                rec = None
            if rec is None:
                self._records[(tenant, key)] = _Record(fingerprint, now)
                return ("new", None)
            if rec.fingerprint != fingerprint:
                raise SimError(
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters they "
                    f"were first used with. Try using a key other than '{key}' if you meant to "
                    "execute a different request.",
                )
            if rec.result is None:
                raise SimError(
                    "idempotency_key_in_use",
                    "There is currently another in-progress request using this idempotency key. "
                    "Please try again later.",
                )
            return ("replay", rec.result)

    def release(self, tenant: str, key: str) -> None:
        """Forget a reservation whose request never started executing."""
        with self._lock:
            rec = self._records.get((tenant, key))
            if rec is not None and rec.result is None:
                del self._records[(tenant, key)]

    def save(self, tenant: str, key: str, result: SavedResult) -> None:
        with self._lock:
            rec = self._records.get((tenant, key))
            if rec is not None:
                rec.result = result

    def __len__(self) -> int:
        return len(self._records)

    def state(self) -> OrderedDict[tuple[str, str], _Record]:
        with self._lock:
            return OrderedDict(
                (k, _Record(r.fingerprint, r.created_at, r.result)) for k, r in self._records.items() if r.result
            )

    def restore(self, state: OrderedDict[tuple[str, str], _Record]) -> None:
        with self._lock:
            self._records = OrderedDict((k, _Record(r.fingerprint, r.created_at, r.result)) for k, r in state.items())
