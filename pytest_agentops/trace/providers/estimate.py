"""Token estimates for model calls whose answer carried no usage (opt-in: ini ``agentops_usage_estimate``).

Unknown usage fails token and cost budgets rather than pass them on a 0 nobody measured. A team whose
client cannot be made to report usage (a framework that never asks for ``include_usage``) may accept
an estimate instead: a tokenizer (tiktoken) counts the request's text and the answer's text and tool
arguments. The call is then marked ``usage_source="estimated"`` wherever it is shown.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from pytest_agentops.trace.run import Usage

if TYPE_CHECKING:
    from pytest_agentops.trace.run import ModelCall

FALLBACK = "o200k_base"  # tiktoken's encoding of current OpenAI models, for model names it does not know

_spec: tuple[str, str | None] | None = None  # ("tiktoken", encoding or None: by model)
_text = ""  # the spec as written
_encoders: dict[str, Callable[[str], int] | None] = {}


def use(spec: str) -> str:
    """Switch estimates on (``tiktoken`` or ``tiktoken:ENCODING``) or off (empty); bad values raise.

    Returns the spec in force before, so a nested pytest session can put it back when it ends.
    """
    global _spec, _text
    spec, before = spec.strip(), _text
    if not spec:
        _spec, _text = None, ""
        return before
    tool, _, encoding = spec.partition(":")
    if tool != "tiktoken":
        raise ValueError(f"agentops_usage_estimate = {spec!r}: the estimator is 'tiktoken' or 'tiktoken:ENCODING'")
    try:
        import tiktoken  # noqa: F401
    except ImportError as exc:
        raise ValueError(
            f"agentops_usage_estimate = {spec!r}: tiktoken is not installed (pip install tiktoken)"
        ) from exc
    _encoders.clear()
    _spec, _text = ("tiktoken", encoding.strip() or None), spec
    return before


def active() -> bool:
    return _spec is not None


def fill(call: ModelCall, request: Any) -> None:
    """Estimate ``call``'s usage from the request JSON and the parsed answer, when switched on."""
    if _spec is None or call.usage_known:
        return
    count = _encoder(_spec[1] or _encoding_of(call.model))
    if count is None:
        return  # the tokenizer could not load its encoding: the usage stays unknown
    answer = [call.text, *(t.name for t in call.tool_calls)]
    answer += [json.dumps(t.arguments, ensure_ascii=False) for t in call.tool_calls]
    call.usage = Usage(
        input_tokens=sum(count(text) for text in _texts(request)),
        output_tokens=sum(count(text) for text in answer if text),
    )
    call.usage_source = "estimated"


def _texts(value: Any, key: str | None = None) -> Iterator[str]:
    """Every string of the request body but its model name (messages, system prompt, tool schemas)."""
    if isinstance(value, str):
        if key != "model":
            yield value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _texts(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item, key)


def _encoding_of(model: str | None) -> str:
    import tiktoken

    try:
        return tiktoken.encoding_name_for_model(model or "")
    except KeyError:
        return FALLBACK


def _encoder(name: str) -> Callable[[str], int] | None:
    if name not in _encoders:
        import tiktoken

        try:
            encoding = tiktoken.get_encoding(name)
        except Exception as exc:  # tiktoken fetches encodings on first use: offline that fails
            warnings.warn(
                f"agentops_usage_estimate: tiktoken could not load encoding {name!r} ({exc}); usage stays "
                "unknown (set TIKTOKEN_CACHE_DIR to a folder holding it, or name another: tiktoken:ENCODING)",
                stacklevel=2,
            )
            _encoders[name] = None
        else:
            _encoders[name] = lambda text: len(encoding.encode(text, disallowed_special=()))
    return _encoders[name]
