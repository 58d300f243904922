"""Model API calls as trace events: which provider format a request uses, and what it cost.

Detection goes by URL path only (any host), so proxies, fake servers and Azure-style prefixes
work. Parsing never raises: a trace must not break the test it describes, so a body that cannot
be read yields a ``ModelCall`` with whatever could be taken from it.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from pytest_agentops.trace.providers import (
    anthropic_messages,
    bedrock_converse,
    estimate,
    gemini,
    openai_chat,
    openai_compat,
    openai_responses,
)
from pytest_agentops.trace.providers._json import as_str, loads_object
from pytest_agentops.trace.run import ModelCall

__all__ = ["ProviderParser", "add_parsers", "detect_provider", "is_streamed", "parse_model_call", "remove_parsers"]

# (request JSON, body text, streamed, the body already parsed when the caller has it, else None)
Parser = Callable[[dict[str, Any], str, bool, dict[str, Any] | None], ModelCall]
# Formats that name the model in the URL or stream binary frames read the whole exchange instead.
ExchangeParser = Callable[[str, int, Mapping[str, str], bytes], ModelCall]

_PARSERS: dict[str, Parser] = {
    openai_chat.PROVIDER: openai_chat.parse,
    openai_responses.PROVIDER: openai_responses.parse,
    anthropic_messages.PROVIDER: anthropic_messages.parse,
}
_EXCHANGE_PARSERS: dict[str, ExchangeParser] = {
    gemini.PROVIDER: gemini.parse_exchange,
    bedrock_converse.PROVIDER: bedrock_converse.parse_exchange,
}
_PATH_SUFFIXES = (
    ("/chat/completions", openai_chat.PROVIDER),
    ("/responses", openai_responses.PROVIDER),
    ("/messages", anthropic_messages.PROVIDER),
)


class ProviderParser(Protocol):
    """An extra model-API format (a ``pytest_agentops_providers`` hook returns these).

    ``detect`` names the format of a request (e.g. ``"mistral.chat"``), or None when it is not one;
    ``parse`` reads the exchange into a ``ModelCall`` (None: a ``ModelCall`` with no usage is kept).
    Both run for every intercepted request / model call: keep them cheap. ``parse`` may raise; the
    call is then kept with no usage, the test does not fail.
    """

    def detect(self, method: str, url: str) -> str | None: ...

    def parse(
        self,
        method: str,
        url: str,
        request_body: bytes | None,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
    ) -> ModelCall | None: ...


# Parsers from pytest_agentops_providers hooks, asked before the built-in formats.
_EXTRA: tuple[ProviderParser, ...] = ()


def add_parsers(parsers: Sequence[ProviderParser]) -> None:
    """Consult ``parsers`` (in order, before the built-in formats) from now on."""
    global _EXTRA
    _EXTRA = (*parsers, *_EXTRA)


def remove_parsers(parsers: Sequence[ProviderParser]) -> None:
    global _EXTRA
    _EXTRA = tuple(p for p in _EXTRA if not any(p is q for q in parsers))


def _extra(method: str, url: str) -> tuple[ProviderParser, str] | None:
    for parser in _EXTRA:
        try:
            name = parser.detect(method, url)
        except Exception:  # a defect in a plugin's parser must not fail the user's test
            continue
        if name:
            return parser, name
    return None


def detect_provider(method: str, url: str) -> str | None:
    """The API format of a request (``"openai.chat"``, ...), or None when it is not a model call."""
    if _EXTRA:
        found = _extra(method, url)
        if found is not None:
            return found[1]
    return _detect_builtin(method, url)


@functools.lru_cache(maxsize=512)  # asked twice per request, for a handful of distinct URLs
def _detect_builtin(method: str, url: str) -> str | None:
    if method.upper() != "POST":
        return None
    try:
        path = urlsplit(url).path.rstrip("/").lower()
    except ValueError:
        return None
    for suffix, provider in _PATH_SUFFIXES:
        if path.endswith(suffix):
            # OpenAI's Assistants API also has POST .../threads/{id}/messages; not a model call.
            if provider == anthropic_messages.PROVIDER and "/threads/" in path:
                return None
            return provider
    if gemini.detect(path):
        return gemini.PROVIDER
    if bedrock_converse.detect(path):
        return bedrock_converse.PROVIDER
    return None


def parse_model_call(
    method: str,
    url: str,
    request_body: bytes | None,
    response_status: int,
    response_headers: Mapping[str, str],
    response_body: bytes,
    *,
    request_json: dict[str, Any] | None = None,
    response_json: dict[str, Any] | None = None,
) -> ModelCall | None:
    """The ``ModelCall`` a request/response pair represents; None when it is not a model call.

    ``request_json``: the request body already parsed as a JSON object (so it is not parsed again);
    ``response_json``: the same for the response body (a replayed answer, stored parsed). Either
    must be what the bytes parse to: nothing checks it.
    """
    call = _parse(
        method,
        url,
        request_body,
        response_status,
        response_headers,
        response_body,
        request_json=request_json,
        response_json=response_json,
    )
    if call is not None and not call.usage_known and estimate.active():
        with contextlib.suppress(Exception):  # an estimate must never fail the user's test
            parsed = request_json if request_json is not None else loads_object(_decode(request_body))
            estimate.fill(call, parsed)
    return call


def _parse(
    method: str,
    url: str,
    request_body: bytes | None,
    response_status: int,
    response_headers: Mapping[str, str],
    response_body: bytes,
    *,
    request_json: dict[str, Any] | None = None,
    response_json: dict[str, Any] | None = None,
) -> ModelCall | None:
    """The call as the wire says, usage unknown where the answer carried none."""
    if _EXTRA:
        found = _extra(method, url)
        if found is not None:
            parser, name = found
            try:
                call = parser.parse(method, url, request_body, response_status, response_headers, response_body)
            except Exception:
                call = None
            return call if isinstance(call, ModelCall) else ModelCall(provider=name, model=None)
    provider = _detect_builtin(method, url)
    if provider is None:
        return None
    exchange = _EXCHANGE_PARSERS.get(provider)
    if exchange is not None:
        try:
            return exchange(url, response_status, response_headers, _inflate(response_body))
        except Exception:  # a defect in a parser must not fail the user's test
            return ModelCall(provider=provider, model=None)
    call = _parse_json_format(
        provider, request_json, request_body, response_status, response_headers, response_body, response_json
    )
    if not call.model:  # an Azure deployment URL names the model when the bodies do not
        call.model = openai_compat.deployment_of(url)
    return call


def _parse_json_format(
    provider: str,
    parsed: dict[str, Any] | None,
    request_body: bytes | None,
    response_status: int,
    response_headers: Mapping[str, str],
    response_body: bytes,
    response_json: dict[str, Any] | None = None,
) -> ModelCall:
    request_json: dict[str, Any] = {}
    try:
        request_json = parsed if parsed is not None else loads_object(_decode(request_body))
        if not 200 <= response_status < 300:
            # Error bodies carry no usage: the call was made but cost nothing countable.
            return ModelCall(provider=provider, model=as_str(request_json.get("model")))
        if response_json is not None and not is_streamed(response_headers, ""):
            return _PARSERS[provider](request_json, "", False, response_json)
        text = _decode(response_body)
        return _PARSERS[provider](request_json, text, is_streamed(response_headers, text), None)
    except Exception:  # a defect in a parser must not fail the user's test
        return ModelCall(provider=provider, model=as_str(request_json.get("model")))


def is_streamed(headers: Mapping[str, Any], body_text: str) -> bool:
    """SSE by ``Content-Type`` (any header case), else by how the body starts (headerless cassettes)."""
    value = headers.get("content-type")  # every answer's event asks, its headers lower-cased: one lookup
    if value is not None:
        if "text/event-stream" in str(value).lower():
            return True
    else:
        for key, value in headers.items():  # no joined copy of the values, and a length test before
            # lower(), so an answer's other 15-odd headers cost one compare each
            if len(key) == 12 and key.lower() == "content-type" and "text/event-stream" in str(value).lower():
                return True
    return body_text.lstrip().startswith(("data:", "event:"))


def _decode(body: bytes | str | None) -> str:
    """Body text; gzip-compressed bodies (kept raw by some recorders) are inflated first."""
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    return _inflate(body).decode("utf-8", errors="replace")


def _inflate(body: bytes) -> bytes:
    if body[:2] == b"\x1f\x8b":
        with contextlib.suppress(OSError, EOFError, zlib.error):
            return gzip.decompress(body)
    return body
