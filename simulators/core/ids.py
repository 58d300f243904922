"""Deterministic, realistic-looking object ids.

Ids are a hash of (seed, prefix, counter): the same sequence of calls yields the same ids on
every run (stable cassettes and snapshots), yet they look like real ones (``cus_4fT...``) so an
agent cannot lean on them being sequential.
"""

from __future__ import annotations

import hashlib
import threading

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# 62**k for the usual lengths: the digest is cut to its low ``length`` digits in one step, so the
# digit loop divides a number of ``length`` digits, not the digest's 160 bits.
_POWERS = [62**k for k in range(33)]


def _base62(data: bytes, length: int) -> str:
    """The ``length`` low base-62 digits of ``data`` (big-endian), least significant first.

    One digit at a time from the 62-character alphabet: a table of the 3,844 digit pairs halved
    the divisions, but inside a simulated write its strings are out of the CPU's caches, and
    reading them cost more than the divisions saved (5.8 against 3.9 us an id, timed in place).
    """
    n = int.from_bytes(data, "big") % (_POWERS[length] if length < len(_POWERS) else 62**length)
    alphabet = _ALPHABET
    out = []
    for _ in range(length):  # % and //= rather than divmod(): no call and no tuple a digit
        out.append(alphabet[n % 62])
        n //= 62
    return "".join(out)


class IdFactory:
    __slots__ = ("_counters", "_issued", "_lock", "length", "seed")

    def __init__(self, seed: str | int = 0, length: int = 14) -> None:
        self.seed = str(seed)
        self.length = length
        self._counters: dict[str, int] = {}
        self._issued: set[str] = set()
        self._lock = threading.Lock()

    def new(self, prefix: str, *, sep: str = "_", length: int | None = None, unique: bool = True) -> str:
        """The next id of ``prefix``. ``unique=False`` is for ids nothing is stored under (request
        ids): they are not kept to be told apart from later ones, so a simulator answering a
        million requests does not hold a million strings; a repeat would need a hash collision."""
        size = length or self.length
        with self._lock:
            while True:
                n = self._counters.get(prefix, 0) + 1
                self._counters[prefix] = n
                digest = hashlib.blake2b(f"{self.seed}/{prefix}/{n}".encode(), digest_size=20).digest()
                ident = f"{prefix}{sep}{_base62(digest, size)}"
                if not unique:
                    return ident
                if ident not in self._issued:
                    self._issued.add(ident)
                    return ident

    def next_int(self, name: str, *, at_least: int = 0) -> int:
        """Sequential integer ids (Zendesk/HubSpot style), one sequence per ``name``."""
        with self._lock:
            n = max(self._counters.get("#" + name, 0), at_least) + 1
            self._counters["#" + name] = n
            return n

    def reserve(self, ident: str | int, *, name: str | None = None) -> None:
        """Mark an externally chosen id (from seed data) as taken; integer ids also move the
        ``name`` sequence past it."""
        with self._lock:
            if isinstance(ident, int) and name is not None:
                self._counters["#" + name] = max(self._counters.get("#" + name, 0), ident)
            else:
                self._issued.add(str(ident))

    def state(self) -> tuple[dict[str, int], frozenset[str]]:
        with self._lock:
            return dict(self._counters), frozenset(self._issued)

    def restore(self, state: tuple[dict[str, int], frozenset[str]]) -> None:
        with self._lock:
            self._counters = dict(state[0])
            self._issued = set(state[1])
