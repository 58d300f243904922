"""One framework tool call through the same gate as ``@tool``: name, policy, one event, the denial.

A framework (the Agents SDK, pydantic-ai, LangChain, LlamaIndex, Strands, CrewAI, ADK) runs its own
tools; its adapter hands each call here as a ``FrameworkCall`` with a function that runs it and one that
phrases a denial in the framework's own tool-error form. The call is judged by the test's guard
(allowlist, budgets, read-only, preconditions, plugin rules), written as one tool event (the
framework's tool name or its alias, the arguments, the result, the agent), and a denied call never
runs: the model reads the denial as a tool error and the run goes on.

A framework tool whose function is one of our ``@tool`` functions is judged and written by
``@tool`` itself (one event, not two); the adapter only names the agent and turns its
``ToolDenied`` into the framework's error form.

The policy engine is imported only when a guard judges a call (a guard is the engine's own object):
adapters patch a framework as soon as it is imported, often as the session starts, and a session
that imports a framework without running its tools under a test's policy never loads the engine.
"""

from __future__ import annotations

import fnmatch
import inspect
import threading
import time
import typing
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from pytest_agentops.policy.tools import KINDS, Kind, ToolDenied, ToolSpec, current_guard, normalise_name, registry
from pytest_agentops.trace.run import acting_as

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
        self._cache: dict[str, tuple[ToolSpec, bool]] = {}
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

    def swap(self, declared: dict[str, Declared]) -> dict[str, Declared]:
        """Put ``declared`` in place and return what was: a session nested in this process (pytester's
        in-process runs) declares its own names, and the outer session's come back when it ends."""
        with self._lock:
            before, self._declared = self._declared, dict(declared)
            self._version += 1
        return before

    def forget(self) -> None:
        with self._lock:
            self._declared.clear()
            self._version += 1

    def spec(self, name: str) -> tuple[ToolSpec, bool]:
        """The spec a call of framework tool ``name`` is judged by, and whether the user named the tool
        (registered, aliased or declared); cached until the next registration or declaration."""
        key = (registry.version, self._version)
        if key != self._cache_key:
            self._cache, self._cache_key = {}, key
        found = self._cache.get(name)
        if found is None:
            found = self._cache[name] = self._resolve(name)
        return found

    def _resolve(self, name: str) -> tuple[ToolSpec, bool]:
        declared = self._declared.get(normalise_name(name))
        target = (declared.name if declared else None) or name
        kind = declared.kind if declared else None
        spec = registry.get(target) or _by_alias(target)
        if spec is not None:
            if kind is not None and kind != spec.kind:
                spec = ToolSpec(name=spec.name, kind=kind, risk=spec.risk, owner=spec.owner, source="python")
            return spec, True
        return ToolSpec(name=target, kind=kind or DEFAULT_KIND, source="python"), declared is not None


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

    framework: str  # "openai-agents", "pydantic-ai", "langchain", "llama-index", "strands", "crewai", "google-adk"
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


@dataclass(slots=True)
class _Judged:
    """A framework call the guard let through: what to write once it has run."""

    guard: Any
    spec: ToolSpec
    wrapper: bool  # judged as a wrapper of service calls (the allowlist does not govern it)
    inner: list[int]  # seqs of the governed tool calls its body made


_inner: ContextVar[list[int] | None] = ContextVar("agentops_framework_inner", default=None)


def run_sync(call: FrameworkCall, invoke: Callable[[], T], deny: Callable[[ToolDenied], T]) -> T:
    """Judge ``call``, run it with ``invoke`` unless denied (then ``deny``), write its one event."""
    judged, guard = _prepare(call)
    if judged is None:  # no test, our @tool inside, or the same tool one level down
        with acting_as(call.agent):
            try:
                return invoke()
            except ToolDenied as exc:
                if guard is None:
                    raise
                return deny(exc)
    if isinstance(judged, ToolDenied):
        return deny(judged)
    started_at, t0 = time.time(), time.perf_counter()
    tokens = (_running.set(judged.spec.name), _inner.set(judged.inner))
    try:
        with acting_as(call.agent):
            result = invoke()
    except BaseException as exc:
        _reset(tokens)
        _record(judged, call, started_at, t0, error=exc)
        raise
    _reset(tokens)
    _record(judged, call, started_at, t0, result=result)
    return result


async def run_async(
    call: FrameworkCall, invoke: Callable[[], Awaitable[T]], deny: Callable[[ToolDenied], T | Awaitable[T]]
) -> T:
    """``run_sync`` for a framework that awaits its tools (``deny`` may be a coroutine function)."""
    judged, guard = _prepare(call)
    if judged is None:
        with acting_as(call.agent):
            try:
                return await invoke()
            except ToolDenied as exc:
                if guard is None:
                    raise
                return await _answer(deny, exc)
    if isinstance(judged, ToolDenied):
        return await _answer(deny, judged)
    started_at, t0 = time.time(), time.perf_counter()
    tokens = (_running.set(judged.spec.name), _inner.set(judged.inner))
    try:
        with acting_as(call.agent):
            result = await invoke()
    except BaseException as exc:
        _reset(tokens)
        _record(judged, call, started_at, t0, error=exc)
        raise
    _reset(tokens)
    _record(judged, call, started_at, t0, result=result)
    return result


def _reset(tokens: tuple[Any, Any]) -> None:
    _running.reset(tokens[0])
    _inner.reset(tokens[1])


async def _answer(deny: Callable[[ToolDenied], T | Awaitable[T]], exc: ToolDenied) -> T:
    answer = deny(exc)
    if inspect.isawaitable(answer):
        return typing.cast(T, await answer)
    return answer


def _prepare(call: FrameworkCall) -> tuple[_Judged | ToolDenied | None, Any]:
    """None (pass through), the denial (already written), or the allowed call to write after it ran."""
    guard = _guard()
    if guard is None or ours(call.target) is not None:
        return None, guard
    spec, declared = names.spec(call.name)
    if _running.get() == spec.name:
        return None, guard
    _watch(guard.run)
    wrapper = not declared and service_level(guard)
    from pytest_agentops.policy.engine import Call  # with a guard: the engine is loaded already

    arguments = _plain(call.arguments)
    judged = Call(
        "tool",
        spec.name,
        spec,
        None if wrapper else spec.kind,
        "CALL",
        _url(call),
        {},
        arguments,
        arguments,
        source="framework",
        wrapper=wrapper,
    )
    denial = guard.check(judged)
    if denial is None:
        return _Judged(guard, spec, wrapper, []), guard
    _write(guard, spec, call, arguments, time.time(), 0.0, denial.status, access=judged.access, denial=denial)
    return ToolDenied(spec.name, denial), guard


def _watch(run: Any) -> None:
    """Note, for the framework call running in the context, each governed tool call its body makes."""
    if getattr(run, "_agentops_framework_watch", False):
        return
    run._agentops_framework_watch = True

    def seen(event: Any) -> None:
        inner = _inner.get()
        if inner is not None and event.kind == "tool":
            inner.append(event.seq)

    run.listeners.append(seen)


def service_level(guard: Any) -> bool:
    """True when the test's allowlist names service tools only (simulator endpoints, HTTP and MCP tools).

    Such an allowlist was written for the calls a framework tool's body makes, not for the tool:
    an undeclared framework tool is then judged as a wrapper (traced and budgeted; its HTTP calls
    meet the allowlist, access rules and kill switch). Once an allowlist names anything else (a
    framework tool's name), every framework tool must be on it.
    """
    cached = getattr(guard, "_agentops_service_level", None)
    if cached is None:
        allow = guard.policy.allow
        if allow is None:
            cached = False
        else:
            known = _service_tools()
            cached = all(p.startswith("mcp.") or any(fnmatch.fnmatchcase(n, p) for n in known) for p in allow)
        guard._agentops_service_level = cached
    return bool(cached)


def _service_tools() -> set[str]:
    from simulators import SIMULATORS, simulator_class

    found = {spec.name for spec in registry if spec.source != "python"}
    for name in SIMULATORS:
        found.update(route.tool for route in simulator_class(name).routes)
    return found


def _url(call: FrameworkCall) -> str:
    return f"{call.framework}:{call.name}"


def _record(
    judged: _Judged,
    call: FrameworkCall,
    started_at: float,
    t0: float,
    *,
    result: Any = None,
    error: BaseException | None = None,
) -> None:
    """Write the call's event, unless its body made governed tool calls: those are its events
    (they name the agent too), and one action counts once in budgets and the trace."""
    if judged.inner:
        return
    duration = time.perf_counter() - t0
    status = 200 if error is None else 500
    message = None if error is None else f"{type(error).__name__}: {error}"
    if call.output is not None and error is None:
        result = call.output(result)
    access = None if judged.wrapper else judged.spec.kind
    arguments = _plain(call.arguments)
    _write(
        judged.guard,
        judged.spec,
        call,
        arguments,
        started_at,
        duration,
        status,
        access=access,
        error=message,
        result=result,
    )


def _write(
    guard: Any,
    spec: ToolSpec,
    call: FrameworkCall,
    arguments: Any,
    started_at: float,
    duration_s: float,
    status: int,
    *,
    access: Kind | None,
    error: str | None = None,
    denial: Any = None,
    result: Any = None,
) -> None:
    from pytest_agentops.policy.engine import _plain as _result
    from pytest_agentops.policy.engine import _verdict

    run = guard.run
    run.record(
        _verdict(spec.name, access, arguments, denial, _link(guard, spec, call)),
        kind="tool",
        method="CALL",
        url=_url(call),
        backend="policy" if denial is not None else "python",
        status=status,
        started_at=started_at,
        duration_s=duration_s,
        error=error,
        response_body=_result(result) if run.capture_io and result is not None else None,
        agent=call.agent,
    )


def _link(guard: Any, spec: ToolSpec, call: FrameworkCall) -> Any:
    """The model's request for this call: asked by the framework's name, else the contract name."""
    found = guard.link(call.name)
    return found if found is not None or spec.name == call.name else guard.link(spec.name)


def _plain(arguments: Any) -> Any:
    from pytest_agentops.policy.engine import _plain as _result

    return _result(arguments) if arguments is not None else {}
