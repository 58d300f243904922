"""Adversarial tool calls: ``tool_calls(registry)`` draws sequences of calls (tool name + arguments).

Arguments are valid for the tool's JSON schema (pydantic ``model_json_schema()``, or a simulator
route's ``input_schema``), or deliberately broken: a required field dropped, a wrong type, an unknown
key, an oversized string, an out-of-range number, arguments that are not an object, an injection
payload in a text field. ``execute(ep, call)`` sends a call the way an agent would (HTTP through the
tap for simulator and HTTP tools, the ``@tool`` wrapper for Python tools), so the policy gate and the
simulator's own contract see it; the property is then read from the trace and the ledgers.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from pytest_agentops.fuzz.schema import ANY_JSON, from_schema

if TYPE_CHECKING:
    import httpx

    from pytest_agentops.fuzz.harness import Episode
    from pytest_agentops.policy.tools import ToolSpec

MUTATIONS: tuple[str, ...] = (
    "drop_required",
    "wrong_type",
    "unknown_key",
    "oversized",
    "out_of_range",
    "not_an_object",
    "injection",
)


@dataclass(frozen=True)
class ToolInfo:
    """What a tool-call strategy needs to know about one tool."""

    name: str
    kind: str
    schema: Mapping[str, Any]
    model: type[BaseModel] | None = None
    simulator: str | None = None
    method: str | None = None
    path: str | None = None
    path_params: tuple[str, ...] = ()
    spec: ToolSpec | None = None


@dataclass(frozen=True)
class ToolCall:
    """One call: ``tool`` with ``arguments``; ``valid`` when they pass the tool's schema/model, and
    ``mutation`` naming how they were broken (None for a call drawn valid)."""

    tool: str
    arguments: Any
    valid: bool
    mutation: str | None = None
    kind: str = "read"

    def __repr__(self) -> str:
        tag = f", mutation={self.mutation!r}" if self.mutation else ""
        return f"ToolCall({self.tool!r}, {self.arguments!r}, valid={self.valid}{tag})"


# ---- which tools -----------------------------------------------------------------------------------


def _routes_of(sim: Any) -> list[ToolInfo]:
    from simulators import simulator_class

    cls: Any = simulator_class(sim) if isinstance(sim, str) else (sim if isinstance(sim, type) else type(sim))
    out = []
    for route in cls.routes:
        out.append(
            ToolInfo(
                name=route.tool,
                kind=route.kind,
                schema=route.input_schema,
                model=route.params,
                simulator=cls.name,
                method=route.method,
                path=route.path,
                path_params=tuple(route.path_params),
            )
        )
    return out


def _spec_info(spec: ToolSpec) -> ToolInfo | None:
    if spec.source == "simulator" and spec.owner.startswith("simulators."):
        sim = spec.owner.split(".", 1)[1]
        for info in _routes_of(sim):
            if info.name == spec.name:
                return ToolInfo(**{**info.__dict__, "spec": spec})
        return None
    schema: Mapping[str, Any] = spec.schema.model_json_schema() if spec.schema is not None else {"type": "object"}
    return ToolInfo(
        name=spec.name,
        kind=spec.kind,
        schema=schema,
        model=spec.schema,
        spec=spec,
        method=spec.method if spec.method != "*" else None,
        path=spec.url,
    )


def tools_of(source: Any) -> list[ToolInfo]:
    """Tools of a ``ToolRegistry``, a list of ``ToolSpec``/``ToolInfo``, or a simulator (its name, class
    or an instance)."""
    from pytest_agentops.policy.tools import ToolRegistry, ToolSpec

    if source is None:
        from pytest_agentops.policy.tools import registry

        source = registry
    if isinstance(source, str) or (isinstance(source, type) and hasattr(source, "routes")) or hasattr(source, "router"):
        return _routes_of(source)
    items: Iterable[Any] = list(source) if isinstance(source, ToolRegistry) else source
    out: list[ToolInfo] = []
    for item in items:
        if isinstance(item, ToolInfo):
            out.append(item)
        elif isinstance(item, ToolSpec):
            info = _spec_info(item)
            if info is not None:
                out.append(info)
        else:
            out.extend(tools_of(item))
    return out


# ---- strategies ------------------------------------------------------------------------------------


def _is_valid(info: ToolInfo, arguments: Any) -> bool:
    if not isinstance(arguments, Mapping):
        return False
    if info.model is None:
        return True
    body = {k: v for k, v in arguments.items() if k not in info.path_params}
    try:
        info.model.model_validate(body)
    except (ValidationError, TypeError, ValueError):
        return False
    return all(isinstance(arguments.get(p), str) and arguments.get(p) for p in info.path_params)


def _wrong_type(value: Any) -> st.SearchStrategy[Any]:
    if isinstance(value, bool):
        return st.sampled_from(["yes", 2, [True]])
    if isinstance(value, int | float):
        return st.sampled_from(["not a number", [value], {"value": value}, True])
    if isinstance(value, str):
        return st.sampled_from([12345, [value], {"text": value}, None, False])
    if isinstance(value, list):
        return st.sampled_from(["a,b", 7, {"0": "x"}])
    if isinstance(value, dict):
        return st.sampled_from(["{}", 0, ["x"]])
    return st.sampled_from(["x", 0, [], {}])


def _mutated(info: ToolInfo, valid: st.SearchStrategy[Any], texts: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    required = [r for r in info.schema.get("required") or () if r not in info.path_params] or list(
        info.schema.get("required") or ()
    )
    props: Mapping[str, Any] = info.schema.get("properties") or {}

    @st.composite
    def mutate(draw: st.DrawFn) -> tuple[Any, str]:
        args = draw(valid)
        args = dict(args) if isinstance(args, Mapping) else {}
        kinds = ["wrong_type", "unknown_key", "oversized", "out_of_range", "not_an_object", "injection"]
        if required:
            kinds.insert(0, "drop_required")
        kind = draw(st.sampled_from(kinds))
        keys = sorted(args) or sorted(props) or ["value"]
        if kind == "drop_required":
            args.pop(draw(st.sampled_from(required)), None)
        elif kind == "wrong_type":
            key = draw(st.sampled_from(keys))
            args[key] = draw(_wrong_type(args.get(key, "x")))
        elif kind == "unknown_key":
            args[draw(st.sampled_from(["__proto__", "admin", "tenant", "is_admin", "x-extra"]))] = draw(ANY_JSON)
        elif kind == "oversized":
            key = draw(st.sampled_from(keys))
            args[key] = "A" * draw(st.sampled_from([5001, 300, 20_000]))
        elif kind == "out_of_range":
            key = draw(st.sampled_from(keys))
            args[key] = draw(st.sampled_from([-1, 0, 2**63, -(2**63), 10**12, 1.5]))
        elif kind == "not_an_object":
            return draw(st.sampled_from([None, [], "arguments", 42, [args]])), kind
        elif kind == "injection":
            key = draw(st.sampled_from(keys))
            args[key] = draw(texts)
        return args, kind

    return mutate()


def tool_call(
    source: Any = None,
    *,
    tools: Sequence[str] | None = None,
    invalid: bool = True,
    overrides: Mapping[str, st.SearchStrategy[Any]] | None = None,
    unknown_tools: Sequence[str] = (),
) -> st.SearchStrategy[ToolCall]:
    """One call of a tool of ``source`` (see ``tools_of``; default: the global tool registry).

    ``tools``: names or shell patterns to draw from; ``invalid``: also draw schema-breaking calls;
    ``overrides``: argument name -> strategy (e.g. ``{"customer": st.sampled_from(ids)}``, so calls hit
    objects that exist); ``unknown_tools``: made-up names to call too (an unregistered tool).
    """
    infos = [t for t in tools_of(source) if tools is None or any(fnmatch.fnmatchcase(t.name, p) for p in tools)]
    infos.sort(key=lambda t: (t.kind != "read", t.name))  # shrink toward reads
    if not infos and not unknown_tools:
        raise ValueError("tool_call(): no tools to call")
    from pytest_agentops.fuzz.strategies import payload_texts

    texts = payload_texts(obfuscations=[])
    per_tool: list[st.SearchStrategy[ToolCall]] = []
    for info in infos:
        valid = from_schema(info.schema)
        if overrides:
            valid = st.tuples(
                valid,
                st.fixed_dictionaries(
                    {k: v for k, v in overrides.items() if k in (info.schema.get("properties") or {})}
                ),
            ).map(lambda t: {**t[0], **t[1]} if isinstance(t[0], Mapping) else t[0])

        def good(args: Any, info: ToolInfo = info) -> ToolCall:
            return ToolCall(info.name, args, _is_valid(info, args), None, info.kind)

        def bad(pair: tuple[Any, str], info: ToolInfo = info) -> ToolCall:
            return ToolCall(info.name, pair[0], _is_valid(info, pair[0]), pair[1], info.kind)

        calls = valid.map(good)
        if invalid:
            calls = calls | _mutated(info, valid, texts).map(bad)
        per_tool.append(calls)
    for name in unknown_tools:

        def unknown(value: Any, name: str = name) -> ToolCall:
            return ToolCall(name, {"value": value}, False, "unknown_tool", "write")

        per_tool.append(ANY_JSON.map(unknown))

    @st.composite
    def one(draw: st.DrawFn) -> ToolCall:
        index = draw(st.integers(0, len(per_tool) - 1))
        return draw(per_tool[index])

    return one()


def tool_calls(
    source: Any = None,
    *,
    min_size: int = 1,
    max_size: int = 8,
    **options: Any,
) -> st.SearchStrategy[list[ToolCall]]:
    """Sequences of calls (see ``tool_call`` for the options)."""
    return st.lists(tool_call(source, **options), min_size=min_size, max_size=max_size)


# ---- executing a call ------------------------------------------------------------------------------

_client: httpx.Client | None = None


def _http() -> httpx.Client:
    global _client
    if _client is None:
        import httpx

        _client = httpx.Client(timeout=5.0)
    return _client


@dataclass(frozen=True)
class Outcome:
    status: int | None  # HTTP status, or 200/403/422/500 for a Python tool
    denied: bool  # the policy refused it (it never reached a backend)
    error: str | None = None


def _query(arguments: Mapping[str, Any]) -> str:
    from pytest_agentops.fuzz.plant import form_encode

    return form_encode(arguments)


def execute(ep: Episode, call: ToolCall, source: Any = None, *, token: str | None = None) -> Outcome:
    """Send ``call`` as an agent would, through the episode's tap and guard."""
    import httpx

    try:
        return _execute(ep, call, source, token)
    except httpx.HTTPError as exc:  # refused by the client itself (a URL too long): never sent
        return Outcome(None, False, f"{type(exc).__name__}: {exc}")


def _execute(ep: Episode, call: ToolCall, source: Any, token: str | None) -> Outcome:
    infos = {t.name: t for t in tools_of(source)} if source is not None else None
    info = infos.get(call.tool) if infos is not None else _lookup(call.tool)
    if info is None:
        response = _http().post(f"https://tools.agentops.invalid/{quote(call.tool)}", json=call.arguments)
        return Outcome(response.status_code, response.headers.get("x-agentops-denied") is not None)
    if info.simulator is not None:
        return _execute_sim(ep, info, call, token)
    if info.spec is not None and info.spec.func is not None:
        return _execute_python(info.spec, call)
    return _execute_http(info, call)


def _lookup(name: str) -> ToolInfo | None:
    from pytest_agentops.policy.tools import registry

    spec = registry.get(name)
    if spec is not None:
        return _spec_info(spec)
    sim = name.split(".", 1)[0]
    try:
        return next((t for t in _routes_of(sim) if t.name == name), None)
    except (KeyError, ImportError):
        return None


def _execute_sim(ep: Episode, info: ToolInfo, call: ToolCall, token: str | None) -> Outcome:
    tapped = ep.sim(info.simulator or "")
    sim = tapped.simulator
    args = dict(call.arguments) if isinstance(call.arguments, Mapping) else None
    path = info.path or "/"
    for name in info.path_params:
        value = (args or {}).pop(name, "missing")
        path = path.replace("{" + name + "}", quote(str(value), safe="") or "x")
    url = sim.base_url + path
    headers = sim.auth_headers(token)
    method = info.method or "POST"
    if method in sim.query_methods:
        query = _query(args) if args else ""
        response = _http().request(method, url + ("?" + query if query else ""), headers=headers)
    elif args is None:
        response = _http().request(
            method,
            url,
            headers={**headers, "content-type": "application/json"},
            content=json.dumps(call.arguments).encode(),
        )
    elif sim.body_format == "form":
        response = _http().request(
            method,
            url,
            headers={**headers, "content-type": "application/x-www-form-urlencoded"},
            content=_query(args).encode(),
        )
    else:
        response = _http().request(method, url, headers=headers, json=args)
    return Outcome(response.status_code, response.headers.get("x-agentops-denied") is not None)


def _execute_python(spec: ToolSpec, call: ToolCall) -> Outcome:
    from pytest_agentops.policy.tools import ToolArgumentsInvalid, ToolDenied, gated

    wrapped = gated(spec)
    try:
        if isinstance(call.arguments, Mapping):
            wrapped(**call.arguments)
        else:
            wrapped(call.arguments)
    except ToolArgumentsInvalid as exc:
        return Outcome(422, True, str(exc))
    except ToolDenied as exc:
        return Outcome(exc.denial.status, True, str(exc))
    except Exception as exc:
        return Outcome(500, False, f"{type(exc).__name__}: {exc}")
    return Outcome(200, False)


def _execute_http(info: ToolInfo, call: ToolCall) -> Outcome:
    import re

    args = dict(call.arguments) if isinstance(call.arguments, Mapping) else {}
    url = info.path or f"https://tools.agentops.invalid/{info.name}"
    url = re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: quote(str(args.pop(m.group(1), "x")), safe=""), url)
    url = url.replace("*", "x")
    method = info.method or "POST"
    if method in ("GET", "HEAD", "DELETE"):
        query = _query(args)
        response = _http().request(method, url + ("?" + query if query else ""))
    else:
        response = _http().request(method, url, json=call.arguments)
    return Outcome(response.status_code, response.headers.get("x-agentops-denied") is not None)
