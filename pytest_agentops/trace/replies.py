"""The one "don't retry" reply: what a caller gets for a request that will not be answered however
often it is sent (a policy denial, a cassette miss).

Official SDKs retry 4xx/5xx answers on their own (openai and anthropic on 408/409/429/5xx, stripe
on 409 and network errors) unless told not to: ``x-should-retry: false`` stops the openai and
anthropic SDKs, ``stripe-should-retry: false`` the stripe SDK. The marker header says which of our
backends answered, so a log or a test can tell a denial from a miss.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def no_retry(error: Mapping[str, Any], marker: tuple[str, str]) -> tuple[dict[str, str], bytes]:
    """(headers, JSON body) of a final error reply; ``marker`` is the (header, value) naming who refused."""
    headers = {
        "content-type": "application/json",
        "x-should-retry": "false",
        "stripe-should-retry": "false",
        marker[0]: marker[1],
    }
    return headers, json.dumps(dict(error)).encode()
