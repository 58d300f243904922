"""The tool specs and the registry: every tool's name, input schema, kind (read/write), risk, owner,
preconditions, and for an HTTP tool the requests that call it.

URL patterns: ``*`` matches anything (``/`` included), ``{name}`` one path segment (captured as an
argument). A pattern without ``?`` is matched against the URL without its query string; a pattern
starting with ``/`` matches that path on any host. When several patterns match, the one with the
most literal characters wins.

Apart from ``@tool`` (``pytest_agentops.policy.tools``, which re-exports every public name here) so
that each reads on its own: this module knows nothing of validation or of the current test's guard.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from pydantic import BaseModel

Kind = Literal["read", "write"]
Risk = Literal["low", "medium", "high", "critical"]
Source = Literal["python", "http", "simulator", "mcp"]
KINDS: tuple[str, ...] = ("read", "write")
RISKS: tuple[str, ...] = ("low", "medium", "high", "critical")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# ---- specs --------------------------------------------------------------------------------------

Matcher = Callable[[str, str], "Mapping[str, str] | None"]


@dataclass(eq=False)
class ToolSpec:
    """One tool. ``url`` (a pattern) or ``matcher`` makes it an HTTP tool; ``func`` a Python one; an
    ``mcp.<server>.<tool>`` name with neither (``source="mcp"``) an MCP tool, found by name."""

    name: str
    kind: Kind
    risk: Risk = "low"
    owner: str = ""
    schema: type[BaseModel] | None = None
    preconditions: tuple[str, ...] = ()
    method: str = "*"
    url: str | None = None
    matcher: Matcher | None = None  # (method, url) -> path parameters, or None when not this tool
    source: Source = "http"
    description: str = ""
    aliases: tuple[str, ...] = ()  # names a model may use for it (function names cannot hold dots)
    tenant: Callable[[Mapping[str, str], Any], str | None] | None = None  # (headers, arguments) -> tenant
    # (method, url, headers, body) -> the arguments the schema validates; default ``http_payload``
    # (JSON or flat form body, else the query). Simulators pass their own wire decoding.
    decode: Callable[[str, str, Mapping[str, str], bytes], Any] | None = field(default=None, repr=False)
    func: Callable[..., Any] | None = field(default=None, repr=False)
    # False when ``register_tool`` chose ``kind`` from the method: an MCP call then goes by the
    # server's annotations (``readOnlyHint``) instead, so registering a precondition keeps a read a read.
    kind_given: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("a tool needs a non-empty name")
        if self.kind not in KINDS:
            raise ValueError(f"tool {self.name!r}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.risk not in RISKS:
            raise ValueError(f"tool {self.name!r}: risk must be one of {', '.join(RISKS)}, not {self.risk!r}")
        if isinstance(self.preconditions, str):
            self.preconditions = (self.preconditions,)
        self.preconditions = tuple(self.preconditions)
        self.aliases = (self.aliases,) if isinstance(self.aliases, str) else tuple(self.aliases)
        self.method = self.method.upper()
        self._pattern = _UrlPattern(self.url) if self.url is not None else None

    @property
    def is_write(self) -> bool:
        return self.kind == "write"

    def json_schema(self) -> dict[str, Any]:
        """The arguments' JSON schema (what a model's function definition declares); ``{}`` without a schema."""
        return self.schema.model_json_schema() if self.schema is not None else {}

    def match(self, method: str, url: str) -> Mapping[str, str] | None:
        """Path parameters when ``method url`` is a call of this tool, else None."""
        return self._match(method.upper(), url, None)

    def _match(self, method: str, url: str, target: _Target | None) -> Mapping[str, str] | None:
        if self.method not in ("*", method):
            return None
        if self.matcher is not None:
            return self.matcher(method, url)
        if self._pattern is None:
            return None
        return self._pattern.match_target(target or _Target(url))

    @property
    def specificity(self) -> int:
        return self._pattern.literal if self._pattern is not None else 1 << 20


class _UrlPattern:
    _TOKEN = re.compile(r"\*|\{([A-Za-z_][A-Za-z0-9_]*)\}")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.path_only = pattern.startswith("/")
        self.with_query = "?" in pattern
        text = pattern
        if not self.path_only:
            # Scheme and host compare case-insensitively: lower-case them in the pattern.
            scheme, sep, rest = text.partition("://")
            host, slash, path = rest.partition("/")
            text = f"{scheme.lower()}{sep}{host.lower()}{slash}{path}"
        out, pos, literal = "", 0, 0
        for m in self._TOKEN.finditer(text):
            out += re.escape(text[pos : m.start()])
            literal += m.start() - pos
            out += f"(?P<{m.group(1)}>[^/?#]+)" if m.group(1) else ".*"
            pos = m.end()
        out += re.escape(text[pos:])
        literal += len(text) - pos
        self.literal = literal
        self.regex = re.compile(out + r"/?\Z", re.DOTALL)
        self.prefix = text.split("*", 1)[0].split("{", 1)[0]  # a cheap test before the regex
        # Index by origin when scheme and host are literal (no wildcard before the path starts).
        head = text.split("*", 1)[0].split("{", 1)[0]
        host_literal = head == text or "/" in head.partition("://")[2]
        self.origin = _origin(head) if not self.path_only and "://" in head and host_literal else None

    def match(self, url: str) -> Mapping[str, str] | None:
        return self.match_target(_Target(url))

    def match_target(self, target: _Target) -> Mapping[str, str] | None:
        if self.path_only:
            text = target.path_query if self.with_query else target.path
        else:
            text = target.full if self.with_query else target.no_query
        if not text.startswith(self.prefix):
            return None
        m = self.regex.match(text)
        return None if m is None else {k: v for k, v in m.groupdict().items() if v is not None}


class _Target:
    """A request URL in the forms patterns compare with, computed once per request."""

    __slots__ = ("full", "no_query", "path", "path_query")

    def __init__(self, url: str) -> None:
        url = url.split("#", 1)[0]
        scheme, sep, rest = url.partition("://")
        host, slash, path_query = rest.partition("/")
        self.full = f"{scheme.lower()}{sep}{host.lower()}{slash}{path_query}"
        self.no_query = self.full.split("?", 1)[0]
        self.path_query = slash + path_query
        self.path = self.path_query.split("?", 1)[0]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


# ---- the registry -------------------------------------------------------------------------------


class ToolRegistry:
    """Every known tool, by name; resolves an HTTP request to the tool it calls."""

    def __init__(self) -> None:
        self._specs: dict[str, ToolSpec] = {}
        self.version = 0
        self._index_version = -1
        self._by_origin: dict[str, list[ToolSpec]] = {}
        self._generic: list[ToolSpec] = []
        self._origin_cache: dict[str, list[ToolSpec]] = {}

    def add(self, spec: ToolSpec) -> ToolSpec:
        """Register ``spec``; a tool of the same name is replaced."""
        self._specs[spec.name] = spec
        self.version += 1
        return spec

    def remove(self, name: str) -> None:
        if self._specs.pop(name, None) is not None:
            self.version += 1

    def alias(self, name: str, *aliases: str) -> ToolSpec:
        """Let the trace link a model's function name (a framework's ``add_note``) to tool ``name``.

        The spec is replaced, not edited, so an ``isolated()`` block undoes it like a registration.
        """
        spec = self._specs.get(name)
        if spec is None:
            known = ", ".join(self.names()) or "none"
            raise KeyError(f"alias({name!r}): no tool of that name is registered (known: {known})")
        merged = spec.aliases + tuple(a for a in aliases if a not in spec.aliases)
        return self.add(dataclasses.replace(spec, aliases=merged))

    def get(self, name: str) -> ToolSpec | None:
        return self._specs.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[ToolSpec]:
        return iter(list(self._specs.values()))

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        return sorted(self._specs)

    @contextlib.contextmanager
    def isolated(self) -> Iterator[ToolRegistry]:
        """Registrations made inside are undone on exit (for tests of tools themselves)."""
        saved = dict(self._specs)
        try:
            yield self
        finally:
            self._specs = saved
            self.version += 1

    def resolve(self, method: str, url: str) -> tuple[ToolSpec, Mapping[str, str]] | None:
        """The HTTP tool ``method url`` calls, with its path parameters; None when unregistered."""
        if self._index_version != self.version:
            self._reindex()
        origin = _origin(url)
        candidates = self._origin_cache.get(origin)
        if candidates is None:
            candidates = sorted(self._by_origin.get(origin, []) + self._generic, key=lambda s: -s.specificity)
            self._origin_cache[origin] = candidates
        method = method.upper()
        target = _Target(url)
        for spec in candidates:
            params = spec._match(method, url, target)
            if params is not None:
                return spec, params
        return None

    def _reindex(self) -> None:
        by_origin: dict[str, list[ToolSpec]] = {}
        generic: list[ToolSpec] = []
        for spec in self._specs.values():
            if spec.matcher is None and spec._pattern is None:
                continue  # a Python tool
            origin = spec._pattern.origin if spec._pattern is not None and spec.matcher is None else None
            if origin is None:
                generic.append(spec)
            else:
                by_origin.setdefault(origin, []).append(spec)
        self._by_origin, self._generic = by_origin, generic
        self._origin_cache = {}
        self._index_version = self.version


registry = ToolRegistry()


def register_tool(
    name: str,
    *,
    url: str | None = None,
    method: str = "*",
    kind: Kind | None = None,
    risk: Risk = "low",
    owner: str = "",
    schema: type[BaseModel] | None = None,
    preconditions: Sequence[str] = (),
    aliases: Sequence[str] = (),
    description: str = "",
    matcher: Matcher | None = None,
    tenant: Callable[[Mapping[str, str], Any], str | None] | None = None,
    decode: Callable[[str, str, Mapping[str, str], bytes], Any] | None = None,
    source: Source = "http",
) -> ToolSpec:
    """Register an HTTP tool by method and URL pattern. ``kind`` defaults to read for GET/HEAD/OPTIONS
    and write for any other method (or ``*``).

    An MCP tool (``mcp.<server>.<tool>``) needs neither ``url`` nor ``matcher``: the MCP gate finds it
    by name, to give it a kind, preconditions or a risk; without ``kind`` its server's annotations
    still decide read or write."""
    given = kind is not None
    if url is None and matcher is None:
        if not name.startswith("mcp."):
            raise ValueError(
                f"register_tool({name!r}): give url= (a pattern) or matcher= "
                "(only an MCP tool, named mcp.<server>.<tool>, needs neither)"
            )
        source = "mcp"
    if kind is None:
        kind = "read" if method.upper() in READ_METHODS else "write"
    return registry.add(
        ToolSpec(
            name=name,
            kind=kind,
            risk=risk,
            owner=owner,
            schema=schema,
            preconditions=tuple(preconditions),
            method=method,
            url=url,
            matcher=matcher,
            source=source,
            description=description,
            aliases=tuple(aliases),
            tenant=tenant,
            decode=decode,
            kind_given=given,
        )
    )
