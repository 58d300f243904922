"""The tool registry: every tool's name, input schema, kind (read/write), risk, owner, preconditions.

Three sources feed one registry (``pytest_agentops.policy.tools.registry``):

- in-process Python functions, with the ``@tool(kind=..., risk=..., owner=...)`` decorator: the
  arguments are validated against a pydantic model built from the signature before the call, and
  the call goes through the current test's policy (``ToolDenied`` / ``ToolArgumentsInvalid``);
- HTTP tools, with ``register_tool(name, method=..., url="https://kb.example.com/search*", ...)``:
  an intercepted request matching the pattern becomes a call of that tool in the trace;
- simulator endpoints (``<simulator>.<resource>.<action>``), added as ``registry.add(ToolSpec(...))``.

URL patterns: ``*`` matches anything (``/`` included), ``{name}`` one path segment (captured as an
argument). A pattern without ``?`` is matched against the URL without its query string; a pattern
starting with ``/`` matches that path on any host. When several patterns match, the one with the
most literal characters wins.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import json
import re
import sys
import time
import typing
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, ParamSpec, Protocol, TypeVar, overload
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from pytest_agentops.policy.current import Pushed as Pushed
from pytest_agentops.policy.current import current_guard as current_guard
from pytest_agentops.policy.current import pop_guard as pop_guard
from pytest_agentops.policy.current import push_guard as push_guard
from pytest_agentops.policy.current import use_guard as use_guard

Kind = Literal["read", "write"]
Risk = Literal["low", "medium", "high", "critical"]
Source = Literal["python", "http", "simulator", "mcp"]
KINDS: tuple[str, ...] = ("read", "write")
RISKS: tuple[str, ...] = ("low", "medium", "high", "critical")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


# ---- decisions and errors -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Denial:
    """Why the policy refused a call. ``fail_test`` denials (model pinning, budgets) also fail the test."""

    rule: str
    message: str
    status: int = 403
    fields: tuple[tuple[str, str], ...] = ()  # (location, problem) for invalid arguments
    fail_test: bool = False

    def error_json(self, tool: str | None) -> dict[str, Any]:
        error: dict[str, Any] = {"type": "policy_denied", "rule": self.rule, "tool": tool, "message": self.message}
        if self.fields:
            error["fields"] = [{"loc": loc, "message": msg} for loc, msg in self.fields]
        return {"error": error}


class ToolDenied(Exception):
    """The policy engine refused an in-process tool call (the call did not run)."""

    def __init__(self, tool: str, denial: Denial) -> None:
        self.tool = tool
        self.denial = denial
        self.rule = denial.rule
        super().__init__(f"policy denied tool {tool!r} (rule {denial.rule}): {denial.message}")


class ToolArgumentsInvalid(ToolDenied):
    """An in-process tool was called with arguments its schema rejects (the call did not run)."""

    @property
    def fields(self) -> tuple[tuple[str, str], ...]:
        return self.denial.fields


def arguments_denial(tool: str, exc: ValidationError | TypeError, prefix: str = "") -> Denial:
    """A 422-style denial naming each field at fault."""
    if isinstance(exc, ValidationError):
        fields = tuple(
            (prefix + (".".join(str(p) for p in err["loc"]) or "(arguments)"), err["msg"]) for err in exc.errors()
        )
    else:
        fields = (("(call)", str(exc)),)
    detail = "; ".join(f"{loc}: {msg}" for loc, msg in fields)
    return Denial("arguments", f"invalid arguments for {tool}: {detail}", status=422, fields=fields)


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


# ---- the current test's guard (set by the plugin) -------------------------------------------------


class ActiveGuard(Protocol):
    """What ``@tool`` needs of the policy engine (``pytest_agentops.policy.engine.Guard``)."""

    def check_python(self, spec: ToolSpec, arguments: dict[str, Any]) -> Denial | None: ...

    def record_python(
        self,
        spec: ToolSpec,
        arguments: Any,
        *,
        started_at: float,
        duration_s: float,
        status: int,
        error: str | None = None,
        denial: Denial | None = None,
        result: Any = None,
    ) -> None: ...


# ---- @tool ----------------------------------------------------------------------------------------


class Tool(Protocol[P, R_co]):
    """What ``@tool`` returns: the function, validated and traced, with its ``spec`` (schema, kind...)."""

    spec: ToolSpec

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...


@overload
def tool(
    fn: Callable[P, R],
    *,
    kind: Kind,
    risk: Risk = "low",
    owner: str = "",
    name: str | None = None,
    preconditions: Sequence[str] = (),
    aliases: Sequence[str] = (),
) -> Tool[P, R]: ...


@overload
def tool(
    fn: None = None,
    *,
    kind: Kind,
    risk: Risk = "low",
    owner: str = "",
    name: str | None = None,
    preconditions: Sequence[str] = (),
    aliases: Sequence[str] = (),
) -> Callable[[Callable[P, R]], Tool[P, R]]: ...


def tool(
    fn: Callable[P, R] | None = None,
    *,
    kind: Kind,
    risk: Risk = "low",
    owner: str = "",
    name: str | None = None,
    preconditions: Sequence[str] = (),
    aliases: Sequence[str] = (),
) -> Tool[P, R] | Callable[[Callable[P, R]], Tool[P, R]]:
    """Register an in-process tool. Each call validates its arguments against a pydantic model of
    the signature, asks the current test's policy, runs, and is recorded on the run's trace."""

    # Annotations may name classes local to the defining scope (``from __future__ import annotations``).
    frame = sys._getframe(1)
    localns = dict(frame.f_locals) if frame.f_locals is not frame.f_globals else None
    del frame

    def decorate(func: Callable[P, R]) -> Tool[P, R]:
        tool_name = name or func.__name__
        schema = schema_from_signature(func, tool_name, localns)
        spec = ToolSpec(
            name=tool_name,
            kind=kind,
            risk=risk,
            owner=owner,
            schema=schema,
            preconditions=tuple(preconditions),
            source="python",
            description=(func.__doc__ or "").strip().split("\n")[0],
            aliases=tuple(aliases),
            func=func,
        )
        wrapper = typing.cast("Tool[P, R]", _wrap(func, spec, schema))
        wrapper.spec = spec
        registry.add(spec)
        return wrapper

    return decorate if fn is None else decorate(fn)


def _type_hints(func: Callable[..., Any], localns: dict[str, Any] | None) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func, localns=localns, include_extras=True)
    except Exception:
        pass
    # Resolve one parameter at a time; one that cannot be resolved is not validated (Any).
    hints: dict[str, Any] = {}
    namespace = {**getattr(func, "__globals__", {}), **(localns or {})}
    for pname, annotation in getattr(func, "__annotations__", {}).items():
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, namespace)  # what get_type_hints does
            except Exception:
                continue
        hints[pname] = annotation
    return hints


def schema_from_signature(
    func: Callable[..., Any], tool_name: str, localns: dict[str, Any] | None = None
) -> type[BaseModel]:
    """A pydantic model of ``func``'s parameters (``*args`` and ``self``/``cls`` excluded)."""
    hints = _type_hints(func, localns)
    fields: dict[str, Any] = {}
    extra: Literal["allow", "forbid"] = "forbid"
    for param in inspect.signature(func).parameters.values():
        if param.kind is param.VAR_KEYWORD:
            extra = "allow"
            continue
        if param.kind is param.VAR_POSITIONAL or param.name in ("self", "cls"):
            continue
        annotation = hints.get(param.name, Any)
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (annotation, default)
    model_name = re.sub(r"\W", "_", tool_name) + "_arguments"
    config = ConfigDict(arbitrary_types_allowed=True, extra=extra)
    model: type[BaseModel] = create_model(model_name, __config__=config, **fields)
    return model


def _validate(
    spec: ToolSpec, sig: inspect.Signature, schema: type[BaseModel], args: Any, kwargs: Any
) -> tuple[inspect.BoundArguments, dict[str, Any]]:
    """Bind and validate; returns the bound call (with validated values) and the recorded arguments."""
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as exc:
        raise ToolArgumentsInvalid(spec.name, arguments_denial(spec.name, exc)) from None
    values: dict[str, Any] = {}
    var_kw: str | None = None
    for pname, value in bound.arguments.items():
        param = sig.parameters[pname]
        if param.kind is param.VAR_KEYWORD:
            var_kw = pname
            values.update(value)
        elif param.kind is not param.VAR_POSITIONAL and pname not in ("self", "cls"):
            values[pname] = value
    try:
        model = schema.model_validate(values)
    except ValidationError as exc:
        raise ToolArgumentsInvalid(spec.name, arguments_denial(spec.name, exc)) from None
    extras = model.model_extra or {}
    for pname in values:
        if pname in extras:
            continue
        bound.arguments[pname] = getattr(model, pname)
    if var_kw is not None:
        bound.arguments[var_kw] = {**bound.arguments[var_kw], **extras}
    try:
        recorded: dict[str, Any] = model.model_dump(mode="json", exclude_unset=True)
    except Exception:
        recorded = dict(values)
    return bound, recorded


def gated(spec: ToolSpec) -> Callable[..., Any]:
    """A Python tool's function as ``@tool`` returns it: arguments validated, the current guard
    asked, the call traced. The fuzzer calls registered tools this way (``fuzz.toolcalls``)."""
    if spec.func is None or spec.schema is None:
        raise ValueError(f"tool {spec.name!r} is not a Python tool (no function or schema)")
    return _wrap(spec.func, spec, spec.schema)


def _wrap(func: Callable[P, R], spec: ToolSpec, schema: type[BaseModel]) -> Callable[P, R]:
    sig = inspect.signature(func)

    def before(args: Any, kwargs: Any) -> tuple[inspect.BoundArguments, dict[str, Any], ActiveGuard | None]:
        guard = current_guard()
        started_at = time.time()
        try:
            bound, recorded = _validate(spec, sig, schema, args, kwargs)
        except ToolArgumentsInvalid as exc:
            if guard is not None:
                guard.record_python(
                    spec,
                    _raw_arguments(sig, args, kwargs),
                    started_at=started_at,
                    duration_s=0.0,
                    status=exc.denial.status,
                    denial=exc.denial,
                )
            raise
        if guard is not None:
            denial = guard.check_python(spec, recorded)
            if denial is not None:
                guard.record_python(
                    spec, recorded, started_at=started_at, duration_s=0.0, status=denial.status, denial=denial
                )
                raise ToolDenied(spec.name, denial)
        return bound, recorded, guard

    def after(
        guard: ActiveGuard | None,
        recorded: dict[str, Any],
        started_at: float,
        t0: float,
        exc: BaseException | None,
        result: Any = None,
    ) -> None:
        if guard is None:
            return
        guard.record_python(
            spec,
            recorded,
            started_at=started_at,
            duration_s=time.perf_counter() - t0,
            status=200 if exc is None else 500,
            error=None if exc is None else f"{type(exc).__name__}: {exc}",
            result=result,
        )

    if inspect.iscoroutinefunction(func):
        afunc = typing.cast(Callable[..., Awaitable[Any]], func)

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            bound, recorded, guard = before(args, kwargs)
            started_at, t0 = time.time(), time.perf_counter()
            try:
                result = await afunc(*bound.args, **bound.kwargs)
            except BaseException as exc:
                after(guard, recorded, started_at, t0, exc)
                raise
            after(guard, recorded, started_at, t0, None, result)
            return result

        return typing.cast(Callable[P, R], async_wrapper)

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        bound, recorded, guard = before(args, kwargs)
        started_at, t0 = time.time(), time.perf_counter()
        try:
            result = func(*bound.args, **bound.kwargs)
        except BaseException as exc:
            after(guard, recorded, started_at, t0, exc)
            raise
        after(guard, recorded, started_at, t0, None, result)
        return result

    return wrapper


def _raw_arguments(sig: inspect.Signature, args: Any, kwargs: Any) -> Any:
    try:
        bound = sig.bind_partial(*args, **kwargs)
    except TypeError:
        return {"args": [repr(a) for a in args], "kwargs": {k: repr(v) for k, v in kwargs.items()}}
    return {k: _jsonable(v) for k, v in bound.arguments.items() if k not in ("self", "cls")}


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


# ---- HTTP arguments -------------------------------------------------------------------------------


def http_payload(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Any:
    """What a schema validates: the JSON or form body, or the query for GET/HEAD/DELETE (or no body)."""
    if body and method not in ("GET", "HEAD"):
        content_type = headers.get("content-type", "").lower()
        if "json" in content_type or (not content_type and body[:1] in (b"{", b"[")):
            try:
                return json.loads(body)
            except ValueError:
                return None
        if "x-www-form-urlencoded" in content_type:
            return _flatten(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return None
    return _flatten(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def _flatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            prev = out[key]
            out[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            out[key] = value
    return out


def normalise_name(name: str) -> str:
    """How model function names are compared with tool names (``crm.contacts.search`` ~ ``crm_contacts_search``)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
