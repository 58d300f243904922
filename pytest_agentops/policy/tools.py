"""The tool registry: every tool's name, input schema, kind (read/write), risk, owner, preconditions.

Three sources feed one registry (``pytest_agentops.policy.tools.registry``):

- in-process Python functions, with the ``@tool(kind=..., risk=..., owner=...)`` decorator: the
  arguments are validated against a pydantic model built from the signature before the call, and
  the call goes through the current test's policy (``ToolDenied`` / ``ToolArgumentsInvalid``);
- HTTP tools, with ``register_tool(name, method=..., url="https://kb.example.com/search*", ...)``:
  an intercepted request matching the pattern becomes a call of that tool in the trace;
- simulator endpoints (``<simulator>.<resource>.<action>``), added as ``registry.add(ToolSpec(...))``.

This module holds ``@tool``, the denials and how an HTTP call's arguments are read; the specs, the
registry and its URL patterns are in ``pytest_agentops.policy.registry``, answered here too.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
import sys
import time
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec, Protocol, TypeVar, overload
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from pytest_agentops.policy.current import Pushed as Pushed
from pytest_agentops.policy.current import current_guard as current_guard
from pytest_agentops.policy.current import pop_guard as pop_guard
from pytest_agentops.policy.current import push_guard as push_guard
from pytest_agentops.policy.current import use_guard as use_guard
from pytest_agentops.policy.registry import KINDS as KINDS
from pytest_agentops.policy.registry import READ_METHODS as READ_METHODS
from pytest_agentops.policy.registry import RISKS as RISKS
from pytest_agentops.policy.registry import Kind as Kind
from pytest_agentops.policy.registry import Matcher as Matcher
from pytest_agentops.policy.registry import Risk as Risk
from pytest_agentops.policy.registry import Source as Source
from pytest_agentops.policy.registry import ToolRegistry as ToolRegistry
from pytest_agentops.policy.registry import ToolSpec as ToolSpec
from pytest_agentops.policy.registry import register_tool as register_tool
from pytest_agentops.policy.registry import registry as registry

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

    if inspect.iscoroutinefunction(func):
        afunc = typing.cast(Callable[..., Awaitable[Any]], func)

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            bound, recorded, guard = _admit(spec, sig, schema, args, kwargs)
            started_at, t0 = time.time(), time.perf_counter()
            try:
                result = await afunc(*bound.args, **bound.kwargs)
            except BaseException as exc:
                _record(spec, guard, recorded, started_at, t0, exc)
                raise
            _record(spec, guard, recorded, started_at, t0, None, result)
            return result

        return typing.cast(Callable[P, R], async_wrapper)

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        bound, recorded, guard = _admit(spec, sig, schema, args, kwargs)
        started_at, t0 = time.time(), time.perf_counter()
        try:
            result = func(*bound.args, **bound.kwargs)
        except BaseException as exc:
            _record(spec, guard, recorded, started_at, t0, exc)
            raise
        _record(spec, guard, recorded, started_at, t0, None, result)
        return result

    return wrapper


def _admit(
    spec: ToolSpec, sig: inspect.Signature, schema: type[BaseModel], args: Any, kwargs: Any
) -> tuple[inspect.BoundArguments, dict[str, Any], ActiveGuard | None]:
    """Validate, then ask the current guard; a refused call is recorded here, since it never runs."""
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


def _record(
    spec: ToolSpec,
    guard: ActiveGuard | None,
    recorded: dict[str, Any],
    started_at: float,
    t0: float,
    exc: BaseException | None,
    result: Any = None,
) -> None:
    """The call's event, once it ran: a raised exception is a 500 with its type and message."""
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
