"""Which names carry a secret whatever their value: fields, headers, query and form parameters.

A name is split into words (``x-api-token``, ``private_token``, ``AuthToken``, ``apiKey``) and is
secret when one word is. In a request that is the rule for every name; a response is read by the
code under test and replayed, and model answers have fields such as ``token`` (logprobs) and
``*_tokens`` (usage), so there only the unambiguous names (``access_token``, ``client_secret``, ...)
and the user's extra names count.
"""

from __future__ import annotations

import functools
import re

SECRET_WORDS = frozenset(
    {
        "token",
        "secret",
        "password",
        "pass",
        "passwd",
        "pwd",
        "passphrase",
        "key",
        "apikey",
        "auth",
        "authorization",
        "credential",
        "credentials",
        "session",
        "sessionid",
        "signature",
        "sig",
        "cookie",
        "jwt",
        "otp",
        "pin",
    }
)
# Named like a secret, but not one: a replay depends on them and they carry no credential.
NOT_SECRET = frozenset(
    {
        "idempotency-key",
        "x-idempotency-key",
        "idempotency_key",
        "sec-websocket-key",
        "cache-key",
        "x-stainless-async",
    }
)
# In responses: names that are a secret in every API we know (OAuth token endpoints, key creation).
RESPONSE_NAMES = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "api_key",
        "apikey",
        "secret",
        "password",
        "private_key",
        "secret_key",
        "session_token",
        "secret_access_key",
        "authorization",
        "set-cookie",
        "cookie",
        "x-amz-security-token",
    }
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^A-Za-z0-9]+")


@functools.lru_cache(maxsize=4096)
def words(name: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _SPLIT.split(_CAMEL.sub("_", name)) if w)


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """A request's field/header/parameter ``name`` carries a secret (``x-api-token``, ``AuthToken``)."""
    if name.lower() in NOT_SECRET:
        return False
    return any(word in SECRET_WORDS for word in words(name))


def is_secret_response_name(name: str) -> bool:
    return name.lower() in RESPONSE_NAMES
