"""Model prices, in USD per million tokens, and the cost of a run's model calls.

The built-in table is a snapshot of the providers' public list prices; it goes stale. Override or
extend it in ``[tool.agentops.prices]`` (pyproject.toml), the ``agentops_prices`` ini option, or a
plugin's ``agentops_prices`` hook. A model missing from every table has an *unknown* cost: the
run's ``usage.cost_usd`` is then None and ``usage.unpriced_models`` names it, never a silent 0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_agentops.trace.run import RunUsage

if TYPE_CHECKING:
    from pytest_agentops.trace.run import ModelCall, Run

PRICE_KEYS = ("input", "output", "cached_input", "cache_write")


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens. ``cached_input`` defaults to ``input``, ``cache_write`` to ``input``."""

    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None

    def cost(self, call: ModelCall) -> float:
        usage = call.usage
        cached = usage.cached_input_tokens
        written = usage.cache_creation_input_tokens
        fresh = max(usage.input_tokens - cached - written, 0)
        cached_price = self.input if self.cached_input is None else self.cached_input
        write_price = self.input if self.cache_write is None else self.cache_write
        total = fresh * self.input + cached * cached_price + written * write_price + usage.output_tokens * self.output
        return total / 1_000_000


def _p(inp: float, out: float, cached: float | None = None, write: float | None = None) -> Price:
    return Price(inp, out, cached, write)


# Public list prices (standard tier), USD per 1M tokens. Keys match a model id exactly or as the
# prefix of a dated snapshot ("gpt-4o" prices "gpt-4o-2024-08-06"); the longest key wins.
BUILTIN: dict[str, Price] = {
    # OpenAI. gpt-5.6-luna is the OpenAI Agents SDK's default model (0.24); gpt-3.5-turbo is
    # langchain-openai's and llama-index's (0.10) default.
    "gpt-5.6-luna": _p(0.20, 1.20, 0.02, 0.25),
    "gpt-5.6-terra": _p(2.0, 12.0, 0.20, 2.50),
    "gpt-5": _p(1.25, 10.0, 0.125),
    "gpt-5-mini": _p(0.25, 2.0, 0.025),
    "gpt-5-nano": _p(0.05, 0.40, 0.005),
    "gpt-4.1": _p(2.0, 8.0, 0.50),
    "gpt-4.1-mini": _p(0.40, 1.60, 0.10),
    "gpt-4.1-nano": _p(0.10, 0.40, 0.025),
    "gpt-4o": _p(2.50, 10.0, 1.25),
    "gpt-4o-mini": _p(0.15, 0.60, 0.075),
    "gpt-4-turbo": _p(10.0, 30.0),
    "gpt-4": _p(30.0, 60.0),
    "gpt-3.5-turbo": _p(0.50, 1.50),
    "o1": _p(15.0, 60.0, 7.50),
    "o1-mini": _p(1.10, 4.40, 0.55),
    "o3": _p(2.0, 8.0, 0.50),
    "o3-mini": _p(1.10, 4.40, 0.55),
    "o4-mini": _p(1.10, 4.40, 0.275),
    # Anthropic (cache reads 0.1x input, 5-minute cache writes 1.25x input)
    "claude-opus-4-5": _p(5.0, 25.0, 0.50, 6.25),
    "claude-opus-4-1": _p(15.0, 75.0, 1.50, 18.75),
    "claude-opus-4": _p(15.0, 75.0, 1.50, 18.75),
    "claude-sonnet-4-5": _p(3.0, 15.0, 0.30, 3.75),
    "claude-sonnet-4": _p(3.0, 15.0, 0.30, 3.75),
    "claude-haiku-4-5": _p(1.0, 5.0, 0.10, 1.25),
    "claude-3-7-sonnet": _p(3.0, 15.0, 0.30, 3.75),
    "claude-3-5-sonnet": _p(3.0, 15.0, 0.30, 3.75),
    "claude-3-5-haiku": _p(0.80, 4.0, 0.08, 1.0),
    "claude-3-opus": _p(15.0, 75.0, 1.50, 18.75),
    "claude-3-haiku": _p(0.25, 1.25, 0.03, 0.30),
    # Google Gemini API, standard tier (ai.google.dev/gemini-api/docs/pricing): text input, output
    # (thinking tokens are billed as output) and context-cache reads. Pro's long-prompt tier (over
    # 200k tokens: 2x input, 1.5x output) and cache storage per hour are not modelled. Vertex AI
    # lists the same prices. google-genai's and ADK's samples use gemini-2.5-flash / -2.0-flash.
    "gemini-3-pro-preview": _p(2.0, 12.0, 0.20),
    "gemini-3-flash-preview": _p(0.50, 3.0, 0.05),
    "gemini-2.5-pro": _p(1.25, 10.0, 0.125),
    "gemini-2.5-flash": _p(0.30, 2.50, 0.03),
    "gemini-2.5-flash-lite": _p(0.10, 0.40, 0.01),
    "gemini-2.0-flash": _p(0.10, 0.40, 0.025),
    "gemini-2.0-flash-lite": _p(0.075, 0.30),
    "gemini-1.5-pro": _p(1.25, 5.0, 0.3125),
    "gemini-1.5-flash": _p(0.075, 0.30, 0.01875),
    # Amazon Nova on Bedrock, on-demand (aws.amazon.com/bedrock/pricing; cache reads 0.25x input).
    # Bedrock's Anthropic models have Anthropic's list prices, found under their bare names above
    # ("us.anthropic.claude-3-5-haiku-20241022-v1:0" is claude-3-5-haiku); the 10% premium of
    # regional endpoints for the newest Claude models is not modelled.
    "nova-micro": _p(0.035, 0.14, 0.00875),
    "nova-lite": _p(0.06, 0.24, 0.015),
    "nova-pro": _p(0.80, 3.20, 0.20),
    "nova-premier": _p(2.50, 12.50, 0.625),
}

# A dated or numbered snapshot of a key: "-2024-08-06", "-20241022", "-001" (Gemini), "-latest",
# "-preview", "-preview-05-20", "-preview-09-2025".
_SNAPSHOT = re.compile(r"^-(\d{4}-\d{2}-\d{2}|\d{8}|\d{3}|latest|preview(-\d{2}-\d{2}|-\d{2}-\d{4})?)$")
# A Bedrock model id: an optional cross-region inference profile ("us.", "global."), the vendor, the
# model, a version ("-v1:0") and an optional context variant (":200k"). Priced by the model part.
_BEDROCK = re.compile(
    r"^(?:(?:us|eu|apac|jp|au|ca|us-gov|global)\.)?"
    r"(?:anthropic|amazon|meta|mistral|cohere|ai21|deepseek|openai|qwen|writer)\."
    r"(?P<name>.+?)(?:-v\d+(?::\d+)?)?(?::\d+k)?$"
)


class PriceError(ValueError):
    """A malformed price entry; the message names the model and the key."""


class PriceTable:
    """Model id -> ``Price``. Lookups are cached, so pricing a long trace costs a dict hit per call."""

    def __init__(self, prices: Mapping[str, Price] | None = None) -> None:
        self.prices: dict[str, Price] = dict(BUILTIN if prices is None else prices)
        self._cache: dict[str, Price | None] = {}

    def with_overrides(self, overrides: Mapping[str, Price]) -> PriceTable:
        return PriceTable({**self.prices, **overrides})

    def lookup(self, model: str | None) -> Price | None:
        """The price of ``model``: an exact key, else the longest key it is a dated snapshot of."""
        if not model:
            return None
        if model in self._cache:
            return self._cache[model]
        found = self.prices.get(model)
        if found is None:
            bare = model.split("/")[-1]  # "openai/gpt-4o" (router prefixes), "models/gemini-...", ARNs
            bedrock = _BEDROCK.match(bare)
            bare = bedrock["name"] if bedrock else bare
            found = self.prices.get(bare)
            if found is None:
                best = ""
                for key in self.prices:
                    if len(key) > len(best) and bare.startswith(key) and _SNAPSHOT.match(bare[len(key) :]):
                        best = key
                found = self.prices.get(best) if best else None
        self._cache[model] = found
        return found

    def cost(self, call: ModelCall) -> float | None:
        price = self.lookup(call.model)
        return None if price is None else price.cost(call)


DEFAULT = PriceTable()


def parse_price(model: str, raw: Any, where: str) -> Price:
    """A price from a config table ``{input = 2.5, output = 10, cached_input = 1.25}``."""
    prefix = f"{where} {model}"
    if not isinstance(raw, Mapping):
        raise PriceError(f"{prefix}: must be a table like {{ input = 2.5, output = 10 }} (USD per 1M tokens)")
    unknown = sorted(set(raw) - set(PRICE_KEYS))
    if unknown:
        raise PriceError(f"{prefix}.{unknown[0]}: unknown key; known keys: {', '.join(PRICE_KEYS)}")
    values: dict[str, float] = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise PriceError(f"{prefix}.{key}: must be a number >= 0 (USD per 1M tokens), not {value!r}")
        values[key] = float(value)
    for key in ("input", "output"):
        if key not in values:
            raise PriceError(f"{prefix}.{key}: missing (USD per 1M tokens)")
    return Price(values["input"], values["output"], values.get("cached_input"), values.get("cache_write"))


def parse_ini_line(line: str) -> tuple[str, Price]:
    """``gpt-4o = input:2.5 output:10 cached_input:1.25`` (the ``agentops_prices`` ini option)."""
    model, sep, rest = line.partition("=")
    model = model.strip()
    if not sep or not model:
        raise PriceError(f"agentops_prices: {line!r} is not 'MODEL = input:N output:N [cached_input:N]'")
    raw: dict[str, Any] = {}
    for part in rest.replace(",", " ").split():
        key, colon, value = part.partition(":")
        if not colon:
            raise PriceError(f"agentops_prices: {model}: {part!r} is not KEY:NUMBER")
        try:
            raw[key.strip()] = float(value)
        except ValueError:
            raise PriceError(f"agentops_prices: {model}.{key}: {value!r} is not a number") from None
    return model, parse_price(model, raw, "agentops_prices:")


def parse_table(raw: Any, where: str) -> dict[str, Price]:
    if not isinstance(raw, Mapping):
        raise PriceError(f"{where}: must be a table of model = {{ input = N, output = N }}")
    return {str(model): parse_price(str(model), value, where) for model, value in raw.items()}


class UsageSum:
    """Model calls' usage and cost, added one call at a time.

    ``run_usage`` sums a whole run with it; the budget check keeps one running (``budget.Tally``).
    """

    def __init__(self, table: PriceTable) -> None:
        self.table = table
        self.total = RunUsage()
        self.cost = 0.0
        self.unpriced: list[str] = []
        self.unknown: list[str] = []

    def add(self, call: ModelCall, seq: int | None = None) -> None:
        if not call.usage_known:
            self.unknown.append(call.label(seq))  # no tokens to add, and no cost to know
            return
        usage, total = call.usage, self.total
        total.input_tokens += usage.input_tokens
        total.output_tokens += usage.output_tokens
        total.cached_input_tokens += usage.cached_input_tokens
        total.cache_creation_input_tokens += usage.cache_creation_input_tokens
        if usage.total_tokens == 0:
            return  # a denied or failed call: nothing to price
        one = self.table.cost(call)
        if one is None:
            name = call.model or "(model not named)"
            if name not in self.unpriced:
                self.unpriced.append(name)
        else:
            self.cost += one

    @property
    def cost_usd(self) -> float | None:
        """None while some model has no price or some call no usage (unknown is not zero)."""
        return None if self.unpriced or self.unknown else round(self.cost, 10)

    def result(self) -> RunUsage:
        self.total.unpriced_models = tuple(self.unpriced)
        self.total.unknown_calls = tuple(self.unknown)
        self.total.cost_usd = self.cost_usd
        return self.total


def run_usage(run: Run, table: PriceTable | None = None) -> RunUsage:
    """Sum a run's model-call usage and price it with the run's table (or the built-in one)."""
    summed = UsageSum(table if table is not None else getattr(run.guard, "prices", None) or DEFAULT)
    for event in run.events:
        if event.model_call is not None:
            summed.add(event.model_call, event.seq)
    return summed.result()
