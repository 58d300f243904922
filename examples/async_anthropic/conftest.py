"""Set-up for the async Anthropic example: a dummy API key and the event loop for ``@pytest.mark.anyio``.

Replay never sends the key anywhere (and a recording redacts it: the header carrying it is stored
as ``<redacted:...>``). anyio's pytest plugin ships with anyio, which httpx already depends on,
so the async tests need no extra package.
"""

import os

import pytest

os.environ.setdefault("ANTHROPIC_API_KEY", "sk-ant-replay-only-not-a-real-key-000000")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
