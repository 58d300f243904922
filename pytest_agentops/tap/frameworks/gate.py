"""One framework tool call through the same gate as ``@tool``: name, policy, one event, the denial.

A framework (the Agents SDK, pydantic-ai, LangChain, LlamaIndex, CrewAI) runs its own tools; its
adapter hands each call here as a ``FrameworkCall`` with a function that runs it and one that
phrases a denial in the framework's own tool-error form. The call is judged by the test's guard
(allowlist, budgets, read-only, preconditions, plugin rules), written as one tool event (the
framework's tool name or its alias, the arguments, the result, the agent), and a denied call never
runs: the model reads the denial as a tool error and the run goes on.

A framework tool whose function is one of our ``@tool`` functions is judged and written by
``@tool`` itself (one event, not two); the adapter only names the agent and turns its
``ToolDenied`` into the framework's error form.
"""

from __future__ import annotations

import inspect
import threading
import time
import typing
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from ...tools import KINDS, Kind, ToolDenied, ToolSpec, current_guard, normalise_name, registry
from ...trace import acting_as

T = TypeVar("T")

DEFAULT_KIND: Kind = "write"  # an undeclared framework tool may change something: fail closed, as MCP does

# The framework tool running in this context (its resolved name): a framework that runs another
# framework's tool (llama-index's ``to_langchain_tool``, CrewAI on LangChain tools) is one call.
_running: ContextVar[str | None] = ContextVar("agentops_framework_tool", default=None)


@dataclass(frozen=True, slots=True)
class Declared:
    """What the user said about a framework tool: its contract name and/or its access."""

    name: str | None = None
    kind: Kind | None = None


class Names:
    """Framework tool names -> contract names and access, from ``declare_tool`` and the ini.

    A name is looked up as given, then normalised (``Lookup-Order`` ~ ``lookup_order``), then among
    the registry's tools and their aliases; an unknown tool keeps its own name and is a write.
    """

    def __init__(self) -> None:
        self._declared: dict[str, Declared] = {}
        self._lock = threading.Lock()
        self._cache: dict[str, ToolSpec] = {}
        self._cache_key: tuple[int, int] = (-1, -1)
        self._version = 0

    def declare(self, name: str, *, kind: str | None = None, alias: str | None = None) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ValueError("declare_tool: a framework tool needs a non-empty name")
        if kind is not None and kind not in KINDS:
            raise ValueError(f"declare_tool({name!r}): kind must be one of {', '.join(KINDS)}, not {kind!r}")
        with self._lock:
            self._declared[normalise_name(name)] = Declared(alias or None, kind)  # type: ignore[arg-type]
            self._version += 1

    def known(self) -> set[str]:
        """The declared names and contract names (what an allowlist may name before any call)."""
        with self._lock:
            return set(self._declared) | {d.name for d in self._declared.values() if d.name}

    def forget(self) -> None:
        with self._lock:
            self._declared.clear()
            self._version += 1

    def spec(self, name: str) -> ToolSpec:
        """The spec a call of framework tool ``name`` is judged by (cached until a registration)."""
        key = (registry.version, self._version)
        if key != self._cache_key:
            self._cache, self._cache_key = {}, key
        spec = self._cache.get(name)
        if spec is None:
            spec = self._cache[name] = self._resolve(name)
        return spec

    def _resolve(self, name: str) -> ToolSpec:
        declared = self._declared.get(normalise_name(name), Declared())
        target = declared.name or name
        spec = registry.get(target) or _by_alias(target)
        if spec is not None:
            if declared.kind is not None and declared.kind != spec.kind:
                spec = ToolSpec(name=spec.name, kind=declared.kind, risk=spec.risk, owner=spec.owner, source="python")
            return spec
        return ToolSpec(name=target, kind=declared.kind or DEFAULT_KIND, source="python")


def _by_alias(name: str) -> ToolSpec | None:
    wanted = normalise_name(name)
    for spec in registry:
        if normalise_name(spec.name) == wanted or any(normalise_name(a) == wanted for a in spec.aliases):
            return spec
    return None


names = Names()


def declare_tool(name: str, *, kind: str | None = None, alias: str | None = None) -> None:
    """Say what framework tool ``name`` is: ``kind="read"`` (undeclared tools count as writes) and/or
    ``alias="crm.contacts.search"`` (the name contracts, allowlists and the trace use for it)."""
    names.declare(name, kind=kind, alias=alias)


@dataclass(slots=True)
class FrameworkCall:
    """One call a framework is about to run: its tool's name, the arguments, who asked for it."""

    framework: str  # "openai-agents", "pydantic-ai", "langchain", "llama-index", "crewai"
    name: str
    arguments: Any
    agent: str | None = None
    target: Any = None  # the function the framework tool runs, when known (to find our ``@tool``)
    output: Callable[[Any], Any] | None = None  # the tool's own result inside the framework's wrapper


def ours(target: Any) -> ToolSpec | None:
    """The spec of our ``@tool`` when ``target`` is one (it then judges and records the call itself)."""
    spec = getattr(target, "spec", None)
    if isinstance(spec, ToolSpec) and spec.func is not None and registry.get(spec.name) is spec:
        return spec
    return None


def _guard() -> Any:
    """The test's real guard (built now if deferred), or None outside a test."""
    guard = current_guard()
    get = getattr(guard, "get", None)
    return get() if get is not None else guard


def run_sync(call: FrameworkCall, invoke: Callable[[], T], deny: Callable[[ToolDenied], T]) -> T:
    """Judge ``call``, run it with ``invoke`` unless denied (then ``deny``), write its one event."""
    spec, guard = _prepare(call)
    if spec is None:  # no test, our @tool inside, or the same tool one level down
        with acting_as(call.agent):
            try:
                return invoke()
            except ToolDenied as exc:
                if guard is None:
                    raise
                return deny(exc)
    denied = _judge(guard, spec, call)
    if denied is not None:
        return deny(denied)
    started_at, t0 = time.time(), time.perf_counter()
    token = _running.set(spec.name)
    try:
        with acting_as(call.agent):
            result = invoke()
    except BaseException as exc:
        _record(guard, spec, call, started_at, t0, error=exc)
        raise
    finally:
        _running.reset(token)
    _record(guard, spec, call, started_at, t0, result=result)
    return result


async def run_async(
    call: FrameworkCall, invoke: Callable[[], Awaitable[T]], deny: Callable[[ToolDenied], T | Awaitable[T]]
) -> T:
    """``run_sync`` for a framework that awaits its tools (``deny`` may be a coroutine function)."""
    spec, guard = _prepare(call)
    if spec is None:
        with acting_as(call.agent):
            try:
                return await invoke()
            except ToolDenied as exc:
                if guard is None:
                    raise
                return await _answer(deny, exc)
    denied = _judge(guard, spec, call)
    if denied is not None:
        return await _answer(deny, denied)
    started_at, t0 = time.time(), time.perf_counter()
    token = _running.set(spec.name)
    try:
        with acting_as(call.agent):
            result = await invoke()
    except BaseException as exc:
        _record(guard, spec, call, started_at, t0, error=exc)
        raise
    finally:
        _running.reset(token)
    _record(guard, spec, call, started_at, t0, result=result)
    return result


async def _answer(deny: Callable[[ToolDenied], T | Awaitable[T]], exc: ToolDenied) -> T:
    answer = deny(exc)
    if inspect.isawaitable(answer):
        return typing.cast(T, await answer)
    return answer


def _prepare(call: FrameworkCall) -> tuple[ToolSpec | None, Any]:
    guard = _guard()
    if guard is None or ours(call.target) is not None:
        return None, guard
    spec = names.spec(call.name)
    if _running.get() == spec.name:
        return None, guard
    return spec, guard


def _url(call: FrameworkCall, spec: ToolSpec) -> str:
    return f"{call.framework}:{call.name}"


def _judge(guard: Any, spec: ToolSpec, call: FrameworkCall) -> ToolDenied | None:
    from ...policy import Call

    arguments = _plain(call.arguments)
    url = _url(call, spec)
    denial = guard.check(
        Call("tool", spec.name, spec, spec.kind, "CALL", url, {}, arguments, arguments, source="framework")
    )
    if denial is None:
        return None
    _write(guard, spec, call, arguments, time.time(), 0.0, denial.status, denial=denial)
    return ToolDenied(spec.name, denial)


def _record(
    guard: Any,
    spec: ToolSpec,
    call: FrameworkCall,
    started_at: float,
    t0: float,
    *,
    result: Any = None,
    error: BaseException | None = None,
) -> None:
    duration = time.perf_counter() - t0
    status = 200 if error is None else 500
    message = None if error is None else f"{type(error).__name__}: {error}"
    if call.output is not None and error is None:
        result = call.output(result)
    _write(guard, spec, call, _plain(call.arguments), started_at, duration, status, error=message, result=result)


def _write(
    guard: Any,
    spec: ToolSpec,
    call: FrameworkCall,
    arguments: Any,
    started_at: float,
    duration_s: float,
    status: int,
    *,
    error: str | None = None,
    denial: Any = None,
    result: Any = None,
) -> None:
    from ...policy import _plain as plain_result
    from ...policy import _verdict

    run = guard.run
    run.record(
        _verdict(spec.name, spec.kind, arguments, denial, _link(guard, spec, call)),
        kind="tool",
        method="CALL",
        url=_url(call, spec),
        backend="policy" if denial is not None else "python",
        status=status,
        started_at=started_at,
        duration_s=duration_s,
        error=error,
        response_body=plain_result(result) if run.capture_io and result is not None else None,
        agent=call.agent,
    )


def _link(guard: Any, spec: ToolSpec, call: FrameworkCall) -> Any:
    """The model's request for this call: asked by the framework's name, else the contract name."""
    found = guard.link(call.name)
    return found if found is not None or spec.name == call.name else guard.link(spec.name)


def _plain(arguments: Any) -> Any:
    from ...policy import _plain as plain

    return plain(arguments) if arguments is not None else {}
