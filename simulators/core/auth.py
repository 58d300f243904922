"""Tenants and API tokens.

A token belongs to exactly one tenant and carries ``read`` and/or ``write`` scopes; every
lookup a handler makes is confined to that tenant, which is what keeps tenants from seeing
each other's data. Expiry uses simulated time, so "the token expired" is one ``advance`` away.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from simulators.core.errors import SimError

Scope = str
READ: Scope = "read"
WRITE: Scope = "write"
ALL_SCOPES: frozenset[Scope] = frozenset({READ, WRITE})


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What the simulator knows about one token; ``token_id`` is safe to log, ``secret`` is not."""

    token_id: str
    secret: str
    tenant: str
    scopes: frozenset[Scope]
    issued_at: float
    expires_at: float | None = None
    revoked_at: float | None = None
    replaced_by: str | None = None

    @property
    def masked(self) -> str:
        return f"{self.secret[:8]}...{self.secret[-4:]}" if len(self.secret) > 12 else "***"

    def status(self, now: float) -> str | None:
        """None when usable, otherwise the error code that refuses it."""
        if self.revoked_at is not None and now >= self.revoked_at:
            return "api_key_revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "api_key_expired"
        return None


def extract_credential(headers: Mapping[str, str]) -> str | None:
    """Bearer token, or HTTP basic where the key is the password, or the username when the
    password is empty (Stripe's ``-u sk_test_...:`` convention). ``headers`` keys are lower-case."""
    auth = headers.get("authorization")
    if not auth:
        return None
    scheme, _, value = auth.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer":
        return value or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, password = decoded.partition(":")
        return password or user or None
    return None


class TokenRegistry:
    """All tenants and tokens of one simulator instance."""

    def __init__(self, seed: str, live_prefix: str = "sk_test_", restricted_prefix: str = "rk_test_") -> None:
        self._seed = seed
        self._live_prefix = live_prefix
        self._restricted_prefix = restricted_prefix
        self._by_secret: dict[str, TokenInfo] = {}
        self._tenants: dict[str, None] = {}
        self._counter = 0
        self._lock = threading.Lock()

    @property
    def tenants(self) -> list[str]:
        return list(self._tenants)

    def add_tenant(self, tenant: str) -> None:
        if not tenant or not isinstance(tenant, str):
            raise ValueError("tenant must be a non-empty string")
        self._tenants.setdefault(tenant, None)

    def issue(
        self,
        tenant: str,
        scopes: Iterable[Scope] = (READ, WRITE),
        *,
        now: float,
        ttl: float | None = None,
        value: str | None = None,
    ) -> TokenInfo:
        scope_set = frozenset(scopes)
        unknown = scope_set - ALL_SCOPES
        if unknown or not scope_set:
            raise ValueError(f"scopes must be a non-empty subset of {sorted(ALL_SCOPES)}, got {sorted(scope_set)}")
        self.add_tenant(tenant)
        with self._lock:
            self._counter += 1
            n = self._counter
            if value is None:
                digest = hashlib.blake2b(f"{self._seed}/token/{n}".encode(), digest_size=18).hexdigest()
                prefix = self._live_prefix if scope_set == ALL_SCOPES else self._restricted_prefix
                value = f"{prefix}{digest}"
            if value in self._by_secret:
                raise ValueError("token value already issued")
            info = TokenInfo(
                token_id=f"tok_{n}",
                secret=value,
                tenant=tenant,
                scopes=scope_set,
                issued_at=now,
                expires_at=None if ttl is None else now + ttl,
            )
            self._by_secret[value] = info
        return info

    def get(self, secret: str) -> TokenInfo | None:
        return self._by_secret.get(secret)

    def require(self, secret: str) -> TokenInfo:
        info = self._by_secret.get(secret)
        if info is None:
            raise KeyError("unknown token")
        return info

    def revoke(self, secret: str, *, now: float) -> TokenInfo:
        with self._lock:
            info = replace(self.require(secret), revoked_at=now)
            self._by_secret[secret] = info
        return info

    def rotate(self, secret: str, *, now: float, grace: float = 0.0, ttl: float | None = None) -> TokenInfo:
        """Issue a replacement with the same tenant and scopes; the old one dies after ``grace``."""
        old = self.require(secret)
        if ttl is None and old.expires_at is not None:
            ttl = old.expires_at - old.issued_at
        new = self.issue(old.tenant, old.scopes, now=now, ttl=ttl)
        with self._lock:
            self._by_secret[secret] = replace(old, revoked_at=now + grace, replaced_by=new.token_id)
        return new

    def authenticate(self, secret: str | None, *, now: float) -> TokenInfo:
        if not secret:
            raise SimError("authentication_required", "You did not provide an API key.")
        info = self._by_secret.get(secret)
        if info is None:
            raise SimError("api_key_invalid", f"Invalid API Key provided: {_mask(secret)}")
        refusal = info.status(now)
        if refusal == "api_key_expired":
            raise SimError(refusal, f"Expired API Key provided: {info.masked}")
        if refusal is not None:
            raise SimError(refusal, f"This API key has been revoked or rotated: {info.masked}")
        return info

    def state(self) -> tuple[dict[str, TokenInfo], dict[str, None], int]:
        with self._lock:
            return dict(self._by_secret), dict(self._tenants), self._counter

    def restore(self, state: tuple[dict[str, TokenInfo], dict[str, None], int]) -> None:
        with self._lock:
            self._by_secret = dict(state[0])
            self._tenants = dict(state[1])
            self._counter = state[2]

    def all(self) -> list[TokenInfo]:
        return list(self._by_secret.values())


def _mask(secret: str) -> str:
    return f"{secret[:8]}...{secret[-4:]}" if len(secret) > 12 else "***"
