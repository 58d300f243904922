"""The write ledger: every state change and every refused or unauthorized attempt.

Reads that succeed are not recorded here (the run trace has them); the ledger answers the
questions that matter for agent safety: what changed, who changed it, what was refused, and
which side effects happened more than once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from simulators.core.wire import canonical

Outcome = Literal["applied", "replayed", "refused", "unauthorized", "fault"]
ChangeOp = Literal["create", "update", "delete"]


def _dump(obj: Any) -> dict[str, Any] | None:
    if obj is None:
        return None
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    return dict(obj)


@dataclass(frozen=True, slots=True)
class Change:
    """One object's before/after. Objects are immutable, so holding them is a true snapshot;
    they are dumped to JSON dicts only when someone looks."""

    resource: str
    id: str
    op: ChangeOp
    before_obj: Any = None
    after_obj: Any = None

    @property
    def before(self) -> dict[str, Any] | None:
        return _dump(self.before_obj)

    @property
    def after(self) -> dict[str, Any] | None:
        return _dump(self.after_obj)

    @property
    def is_noop(self) -> bool:
        return self.op == "update" and self.before == self.after

    def __repr__(self) -> str:
        return f"Change({self.op} {self.resource} {self.id})"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    seq: int
    at: float
    simulator: str
    tool: str | None
    kind: Literal["read", "write"] | None
    method: str
    path: str
    tenant: str | None
    token_id: str | None
    params: Any
    idempotency_key: str | None
    outcome: Outcome
    status: int
    error_code: str | None = None
    request_id: str | None = None
    changes: tuple[Change, ...] = ()
    fault: str | None = None
    replay_of: int | None = None

    @property
    def side_effect(self) -> bool:
        """True when this entry changed state (including changes kept with an error answer)."""
        return self.outcome == "applied" and any(not c.is_noop for c in self.changes)

    def describe(self) -> str:
        parts = [
            f"#{self.seq}",
            f"t={self.at:.0f}",
            f"{self.method} {self.path}",
            self.tool or "-",
            f"tenant={self.tenant}",
            f"token={self.token_id}",
        ]
        if self.idempotency_key:
            parts.append(f"key={self.idempotency_key[:40]}")
        parts.append(f"-> {self.status} {self.outcome}")
        if self.error_code:
            parts.append(f"[{self.error_code}]")
        if self.fault:
            parts.append(f"fault={self.fault}")
        if self.replay_of is not None:
            parts.append(f"(replay of #{self.replay_of})")
        line = " ".join(parts)
        text = canonical(self.params)
        if text not in ("{}", "null"):
            line += f"\n      params={text[:300]}"
        for c in self.changes:
            line += f"\n      {c.op} {c.resource} {c.id}"
        return line


@dataclass
class Ledger:
    simulator: str
    entries: list[LedgerEntry] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def append(self, **fields: Any) -> LedgerEntry:
        return self.add(lambda seq: LedgerEntry(seq=seq, simulator=self.simulator, **fields))

    def add(self, make: Callable[[int], LedgerEntry]) -> LedgerEntry:
        """``make(seq)``'s entry, numbered under the lock: the request pipeline builds its row in one
        call rather than through two rounds of keyword arguments (``append``)."""
        with self._lock:
            entry = make(len(self.entries) + 1)
            self.entries.append(entry)
        return entry

    def __iter__(self) -> Iterator[LedgerEntry]:
        return iter(list(self.entries))

    def __len__(self) -> int:
        return len(self.entries)

    def writes(self) -> list[LedgerEntry]:
        """Entries that changed state."""
        return [e for e in self.entries if e.side_effect]

    def refused(self) -> list[LedgerEntry]:
        return [e for e in self.entries if e.outcome == "refused"]

    def unauthorized(self) -> list[LedgerEntry]:
        return [e for e in self.entries if e.outcome == "unauthorized"]

    def faults(self) -> list[LedgerEntry]:
        return [e for e in self.entries if e.fault is not None]

    def changes(self, resource: str | None = None) -> list[Change]:
        return [c for e in self.writes() for c in e.changes if resource is None or c.resource == resource]

    def duplicates(self) -> list[list[LedgerEntry]]:
        """Groups of writes with the same tenant, endpoint and parameters that each had an effect.

        Idempotent replays are not side effects, so a correctly retried request never shows up;
        an agent that retried a write without a key (or with a fresh key) does.
        """
        groups: dict[tuple[str | None, str | None, str, str], list[LedgerEntry]] = {}
        for e in self.writes():
            groups.setdefault((e.tenant, e.tool, e.path, canonical(e.params)), []).append(e)
        return [g for g in groups.values() if len(g) > 1]

    def truncate(self, length: int) -> None:
        with self._lock:
            del self.entries[length:]

    def format(self, entries: list[LedgerEntry] | None = None) -> str:
        rows = self.entries if entries is None else entries
        return "\n".join("  " + e.describe() for e in rows) or "  (ledger is empty)"
