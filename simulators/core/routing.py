"""Routes: each endpoint is a tool ``<simulator>.<resource>.<action>`` with a pydantic contract.

``Simulator.routes`` (a tuple of :class:`Route`) is the data the policy engine and the OpenAPI
generator consume; ``Route.descriptor()`` is its plain-dict form. Matching is compiled once per
router and indexed by segment count and second segment, so a lookup is a few string comparisons.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import unquote

from pydantic import BaseModel, TypeAdapter

from simulators.core.errors import SimError

if TYPE_CHECKING:
    from simulators.core.simulator import Context

Kind = Literal["read", "write"]
Handler = Callable[["Context", Any], Any]
H = TypeVar("H", bound=Callable[..., Any])

TOOL_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

Segment = str | re.Pattern[str]


def _compile_segment(seg: str) -> Segment:
    if "{" not in seg:
        return seg
    pattern = ""
    pos = 0
    for m in _PARAM.finditer(seg):
        pattern += re.escape(seg[pos : m.start()]) + f"(?P<{m.group(1)}>[^/]+?)"
        pos = m.end()
    pattern += re.escape(seg[pos:])
    return re.compile(f"^{pattern}$")


@dataclass(frozen=True, eq=False)
class Route:
    """One endpoint. ``params`` validates the query (GET/DELETE) or body (POST/PUT/PATCH);
    path parameters reach the handler as ``ctx.path``."""

    simulator: str
    method: str
    path: str
    tool: str
    kind: Kind
    handler: Handler = field(repr=False)
    params: type[BaseModel] | None = None
    response: Any = None
    summary: str = ""
    errors: tuple[str, ...] = ()
    #: the success statuses the endpoint answers (documented in OpenAPI); 204 means no body
    statuses: tuple[int, ...] = (200,)

    @property
    def resource(self) -> str:
        return self.tool.split(".")[1]

    @property
    def action(self) -> str:
        return self.tool.split(".")[2]

    @cached_property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PARAM.findall(self.path))

    @cached_property
    def segments(self) -> tuple[Segment, ...]:
        return tuple(_compile_segment(s) for s in self.path.strip("/").split("/"))

    @property
    def accepts_idempotency_key(self) -> bool:
        return self.method == "POST"

    @cached_property
    def input_schema(self) -> dict[str, Any]:
        """JSON Schema of the tool's arguments: path parameters plus the params model."""
        schema: dict[str, Any] = (
            self.params.model_json_schema() if self.params else {"type": "object", "properties": {}}
        )
        schema = dict(schema)
        props = dict(schema.get("properties", {}))
        required = list(schema.get("required", []))
        for name in self.path_params:
            props[name] = {"type": "string", "description": f"Path parameter `{name}`."}
            required.insert(0, name)
        schema["properties"] = props
        if required:
            schema["required"] = required
        schema.setdefault("title", self.tool)
        return schema

    @cached_property
    def output_schema(self) -> dict[str, Any] | None:
        if self.response is None:
            return None
        return TypeAdapter(self.response).json_schema(mode="serialization")

    def descriptor(self) -> dict[str, Any]:
        """Plain data for consumers that must not import pydantic models (policy, reports)."""
        return {
            "tool": self.tool,
            "simulator": self.simulator,
            "resource": self.resource,
            "action": self.action,
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "summary": self.summary,
            "errors": list(self.errors),
            "input_schema": self.input_schema,
            "output_schema": self.output_schema,
        }

    def match(self, parts: list[str]) -> dict[str, str] | None:
        segs = self.segments
        if len(parts) != len(segs):
            return None
        found: dict[str, str] = {}
        for seg, part in zip(segs, parts, strict=True):
            if isinstance(seg, str):
                if seg != part:
                    return None
            else:
                m = seg.match(part)
                if m is None:
                    return None
                found.update({k: unquote(v) for k, v in m.groupdict().items()})
        return found


_SEEN_SIZE = 2048  # matches kept per simulator class


class Router:
    """Collects a simulator's routes (via decorators) and matches requests to them."""

    def __init__(self, simulator: str) -> None:
        self.simulator = simulator
        self.routes: list[Route] = []
        self._index: dict[Any, list[Route]] | None = None
        # (method, path) -> its match: the policy's gate resolves a request to its route (one
        # matcher per candidate tool) and the simulator then serves it; each finds the match here
        # instead of routing the request again
        self._seen: dict[tuple[str, str], tuple[Route, dict[str, str]]] = {}

    def add(
        self,
        method: str,
        path: str,
        handler: Handler,
        *,
        tool: str,
        kind: Kind | None = None,
        params: type[BaseModel] | None = None,
        response: Any = None,
        summary: str = "",
        errors: tuple[str, ...] = (),
        status: int | tuple[int, ...] = 200,
    ) -> Route:
        method = method.upper()
        if not TOOL_NAME.match(tool) or not tool.startswith(self.simulator + "."):
            raise ValueError(f"tool name {tool!r} must look like '{self.simulator}.<resource>.<action>'")
        if any(r.tool == tool for r in self.routes):
            raise ValueError(f"duplicate tool name {tool!r}")
        route = Route(
            simulator=self.simulator,
            method=method,
            path=path,
            tool=tool,
            kind=kind or ("read" if method in ("GET", "HEAD") else "write"),
            handler=handler,
            params=params,
            response=response,
            summary=summary or (handler.__doc__ or "").strip().split("\n")[0],
            errors=errors,
            statuses=(status,) if isinstance(status, int) else tuple(status),
        )
        self.routes.append(route)
        self._index = None
        self._seen = {}
        return route

    def route(self, method: str, path: str, **options: Any) -> Callable[[H], H]:
        def decorate(fn: H) -> H:
            self.add(method, path, fn, **options)
            return fn

        return decorate

    def get(self, path: str, **options: Any) -> Callable[[H], H]:
        return self.route("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[H], H]:
        return self.route("POST", path, **options)

    def put(self, path: str, **options: Any) -> Callable[[H], H]:
        return self.route("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> Callable[[H], H]:
        return self.route("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[H], H]:
        return self.route("DELETE", path, **options)

    def _build_index(self) -> dict[Any, list[Route]]:
        """Routes by (segment count, second segment) when that segment is literal, else by segment
        count alone: a lookup then tries the few routes of one resource, not all of a length."""
        index: dict[Any, list[Route]] = {}
        for r in self.routes:
            segs = r.segments
            key = (len(segs), segs[1]) if len(segs) > 1 and isinstance(segs[1], str) else len(segs)
            index.setdefault(key, []).append(r)
        for rs in index.values():
            # literal segments beat parameters: /v1/customers/search before /v1/customers/{id}
            rs.sort(key=lambda r: [0 if isinstance(s, str) else 1 for s in r.segments])
        self._index = index
        return index

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route of ``method path`` and its path parameters; a SimError when none serves it."""
        key = (method, path)
        hit = self._seen.get(key)
        if hit is None:
            hit = self._lookup(method, path)
            if len(self._seen) >= _SEEN_SIZE:
                self._seen.clear()  # ids make paths unbounded: start over rather than grow
            self._seen[key] = hit
        return hit[0], dict(hit[1])  # a copy: a handler may change its path parameters

    def _lookup(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        index = self._index if self._index is not None else self._build_index()
        parts = path.strip("/").split("/")
        n = len(parts)
        path_matched = False
        specific = index.get((n, parts[1]), ()) if n > 1 else ()
        for bucket in (specific, index.get(n, ())):
            for r in bucket:
                found = r.match(parts)
                if found is None:
                    continue
                if r.method == method:
                    return r, found
                path_matched = True
        if path_matched:
            raise SimError("method_not_allowed", f"Unsupported method for this URL ({method}: {path}).")
        raise SimError("route_not_found", f"Unrecognized request URL ({method}: {path}).")

    def by_tool(self, tool: str) -> Route:
        for r in self.routes:
            if r.tool == tool:
                return r
        raise KeyError(tool)
