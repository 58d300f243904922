"""Servers that speak OpenAI's formats under other URLs: Azure OpenAI, vLLM, Ollama, LiteLLM proxies.

Detection already goes by path suffix on any host (``.../chat/completions``, ``.../responses``), so
``http://127.0.0.1:11434/v1/chat/completions`` (Ollama), ``http://host:8000/v1/...`` (vLLM) and
Azure's ``/openai/deployments/{deployment}/chat/completions?api-version=...`` and ``/openai/v1/...``
are read as ``openai.chat`` / ``openai.responses``. What differs is where the model is named:
Azure's deployment URLs need no ``model`` in the body (the deployment picks it), so when neither the
answer nor the request names one, the deployment in the URL stands in for it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

_DEPLOYMENT = re.compile(r"/openai/deployments/(?P<name>[^/]+)/")


def deployment_of(url: str) -> str | None:
    """The Azure OpenAI deployment a URL addresses (``/openai/deployments/NAME/...``), else None."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    found = _DEPLOYMENT.search(path)
    return unquote(found["name"]) if found else None
