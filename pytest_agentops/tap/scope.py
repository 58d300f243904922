"""Which requests the tap governs in a test that did not ask for it (the default scope).

A test that uses an agentops marker, fixture or contract (or any test, with ``agentops_scope =
all``) has every request governed. In other tests the tap answers only for traffic that is ours
by nature: model APIs (so no test spends money or leaks a prompt silently), simulators and the
fake model (mounted, so seen by ``Tap.governs``), and registered HTTP tools. Everything else
behaves as if the plugin were not installed.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

# Hosts of hosted model APIs: any request to them is governed, not only the model-call paths the
# provider parsers know (files, batches, embeddings, an SDK's trace upload...).
PROVIDER_HOSTS = (
    "api.openai.com",
    "api.anthropic.com",
    "generativelanguage.googleapis.com",
    "aiplatform.googleapis.com",
    "api.mistral.ai",
    "api.cohere.com",
    "api.cohere.ai",
    "api.groq.com",
    "api.together.xyz",
    "api.deepseek.com",
    "api.x.ai",
    "api.fireworks.ai",
    "openrouter.ai",
    "api.perplexity.ai",
)
PROVIDER_SUFFIXES = (".openai.azure.com", ".services.ai.azure.com", ".amazonaws.com")


@functools.lru_cache(maxsize=256)
def provider_host(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host in PROVIDER_HOSTS:
        return True
    if host.endswith(".amazonaws.com"):
        return host.startswith("bedrock")  # bedrock-runtime.<region>.amazonaws.com, not S3 or SQS
    return host.endswith(PROVIDER_SUFFIXES[:2])


def governed_url(method: str, url: str) -> bool:
    """A model provider's host, or a URL a registered HTTP tool (a simulator's endpoint included) matches."""
    if provider_host(url):
        return True
    from pytest_agentops.policy.tools import registry

    return registry.resolve(method, url) is not None
