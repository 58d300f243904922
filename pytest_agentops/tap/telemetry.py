"""The ``telemetry`` backend: SDK trace exports, run uploads, price lists and usage pings.

Frameworks send these on their own (the OpenAI Agents SDK's trace exporter whenever
``OPENAI_API_KEY`` is set, litellm's price-list fetch at import, CrewAI's OpenTelemetry export,
LangSmith run uploads). They are not the agent's work: a test must not depend on them, a cassette
must not hold them, and replay must not miss on them. So they are answered here, locally, the way
each SDK takes as success, in every mode; they are never sent and never recorded, and each one is a
``telemetry`` event on the trace (not a tool call, not counted by budgets).

The built-in list is ``DEFAULT_RULES`` (docs/frameworks-model.md); the ini option
``agentops_telemetry_hosts`` adds lines ``HOST[/PATH-GLOB]`` (shell patterns, e.g.
``telemetry.example.com`` or ``*.example.com/v1/traces*``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# The bytes an SDK takes as success for each kind of upload.
_EMPTY_JSON = b"{}"
_NOT_FOUND = b'{"error": "answered locally by pytest-agentops (telemetry)"}'


@dataclass(frozen=True, slots=True)
class Rule:
    """``host`` and ``path`` are shell patterns; ``status``/``body`` are the local answer."""

    host: str
    path: str = "*"
    status: int = 200
    body: bytes = _EMPTY_JSON
    why: str = ""

    def matches(self, host: str, path: str) -> bool:
        return fnmatch.fnmatchcase(host, self.host) and fnmatch.fnmatchcase(path, self.path)


DEFAULT_RULES: tuple[Rule, ...] = (
    # openai-agents BackendSpanExporter: any 2xx ends the export.
    Rule("api.openai.com", "/v1/traces/ingest*", why="OpenAI Agents SDK trace export"),
    # langsmith Client: /info, /runs, /runs/batch, /runs/multipart; 2xx with a JSON object.
    Rule("api.smith.langchain.com", why="LangSmith run uploads"),
    Rule("*.smith.langchain.com", why="LangSmith run uploads"),
    # litellm get_model_cost_map: a non-2xx answer makes it use the price list it ships.
    Rule(
        "raw.githubusercontent.com",
        "/BerriAI/litellm/*",
        status=404,
        body=_NOT_FOUND,
        why="litellm model price list (its bundled copy is used)",
    ),
    # llama-index-core fetches NLTK's tokenizer data (punkt_tab, stopwords) at import when it is not
    # cached; a 404 makes it log and go on (nothing in a model call depends on it).
    Rule(
        "raw.githubusercontent.com",
        "/nltk/nltk_data/*",
        status=404,
        body=_NOT_FOUND,
        why="NLTK data download (llama-index)",
    ),
    # CrewAI's OpenTelemetry exporter (OTLP/HTTP): 2xx with an empty body.
    Rule("telemetry.crewai.com", status=200, body=b"", why="CrewAI telemetry"),
    # PostHog usage pings (used by chromadb, mem0 and others pulled in by frameworks).
    Rule("*.posthog.com", why="PostHog usage pings"),
    Rule("app.posthog.com", why="PostHog usage pings"),
    # pydantic-logfire, when a framework turns it on without a token.
    Rule("logfire-api.pydantic.dev", why="Logfire export"),
    Rule("logfire-us.pydantic.dev", why="Logfire export"),
    Rule("logfire-eu.pydantic.dev", why="Logfire export"),
)


def parse_rule(line: str) -> Rule:
    """``HOST[/PATH-GLOB]`` from the ini option; an error names the line."""
    text = line.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    host, slash, path = text.partition("/")
    if not host or any(ch.isspace() for ch in text):
        raise ValueError(f"agentops_telemetry_hosts: {line!r} is not HOST or HOST/PATH-GLOB")
    return Rule(host.lower(), "/" + path if slash else "*", why=f"agentops_telemetry_hosts: {line.strip()}")


@dataclass(frozen=True)
class Telemetry:
    """The rules in force for a session (the defaults, then the ini lines)."""

    rules: tuple[Rule, ...] = DEFAULT_RULES
    # url -> its rule, for this session's handful of URLs (a cache keyed by the rules tuple too
    # hashed every rule again at every request).
    _known: dict[str, Rule | None] = field(default_factory=dict, init=False, compare=False, repr=False)

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> Telemetry:
        return cls((*DEFAULT_RULES, *(parse_rule(line) for line in lines if line.strip())))

    def rule_for(self, url: str) -> Rule | None:
        known = self._known
        if url in known:
            return known[url]
        rule = _rule_for(self.rules, url)
        if len(known) < 1024:
            known[url] = rule
        return rule

    def answer(self, url: str) -> tuple[int, dict[str, str], bytes] | None:
        """The local answer for ``url`` when it is telemetry, else None."""
        rule = self.rule_for(url)
        if rule is None:
            return None
        headers = {"content-type": "application/json"} if rule.body else {}
        headers["x-agentops-telemetry"] = "1"
        return rule.status, headers, rule.body


def _rule_for(rules: tuple[Rule, ...], url: str) -> Rule | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    path = parts.path or "/"
    return next((rule for rule in rules if rule.matches(host, path)), None)


DEFAULT = Telemetry()
