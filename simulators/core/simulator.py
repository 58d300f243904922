"""The simulator base class: one socket-free entry point, ``handle()``, and the plumbing
every service shares (auth, faults, idempotency, validation, ledger, rendering; the request's
stages are in ``simulators.core.pipeline``).

A service subclasses :class:`Simulator`, sets ``name``, ``router``, ``resources`` and
``body_format``, and overrides ``render_error`` / ``format_param`` for its wire conventions.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import urlsplit

import pydantic_core
from pydantic import ValidationError

from simulators.core import pipeline
from simulators.core.auth import READ, WRITE, TokenInfo, TokenRegistry, extract_credential
from simulators.core.clock import SimClock
from simulators.core.context import Context as Context
from simulators.core.context import Reply as Reply
from simulators.core.errors import CORE_ERROR_CODES, SimError, error_from_validation
from simulators.core.faults import Faults
from simulators.core.idempotency import IdempotencyStore
from simulators.core.ids import IdFactory
from simulators.core.ledger import Ledger
from simulators.core.registry import defaults_for
from simulators.core.routing import Route, Router
from simulators.core.state import ResourceSpec, Store, Tables
from simulators.core.wire import SimResponse

if TYPE_CHECKING:
    import httpx

    from simulators.core.server import SimServer


@dataclass(frozen=True)
class Snapshot:
    tables: Tables
    ids: tuple[dict[str, int], frozenset[str]]
    tokens: Any
    idempotency: Any
    ledger_length: int
    api_key: str


class Simulator:
    """In-memory service simulator. Thread-safe: requests execute one at a time."""

    name: ClassVar[str] = "sim"
    router: ClassVar[Router]
    routes: ClassVar[tuple[Route, ...]] = ()
    resources: ClassVar[tuple[ResourceSpec, ...]] = ()
    body_format: ClassVar[Literal["form", "json"]] = "json"
    default_base_url: ClassVar[str] = "https://sim.agentops.local"
    error_codes: ClassVar[dict[str, tuple[int, str]]] = {}
    token_prefixes: ClassVar[tuple[str, str]] = ("sk_test_", "rk_test_")
    api_version: ClassVar[str] = "1"
    #: the official document the simulator's answers are checked against (coverage tables say it)
    validated_against: ClassVar[str] = ""
    title: ClassVar[str] = ""
    #: methods whose parameters come from the query string; the others read the body
    #: (Zendesk's ``DELETE .../tags.json`` carries a JSON body, so ticketing drops DELETE)
    query_methods: ClassVar[frozenset[str]] = frozenset({"GET", "DELETE", "HEAD"})

    _openapi_doc: ClassVar[dict[str, Any] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "router" in cls.__dict__:
            cls.routes = tuple(cls.router.routes)
            cls._openapi_doc = None
        if "default_base_url" not in cls.__dict__:  # declared once, in the registry
            entry = defaults_for(cls)
            if entry is not None:
                cls.default_base_url = entry.base_url

    def __init__(
        self,
        *,
        tenant: str = "default",
        base_url: str | None = None,
        seed: str | int = 0,
        start: Any = None,
        clock: SimClock | None = None,
        api_key: str | None = None,
        raise_server_errors: bool = False,
    ) -> None:
        self.clock = clock or SimClock(start)
        self.ids = IdFactory(f"{self.name}/{seed}")
        self.tokens = TokenRegistry(f"{self.name}/{seed}", *self.token_prefixes)
        self.ledger = Ledger(self.name)
        self.faults = Faults()
        self.idempotency = IdempotencyStore()
        self.store = Store()
        self.default_tenant = tenant
        self.raise_server_errors = raise_server_errors
        self.internal_errors: list[str] = []
        self._lock = threading.RLock()
        self._singular = {r.name: r.singular for r in self.resources}
        self._resources = {r.name: r for r in self.resources}
        self._openapi_bytes: bytes | None = None
        self._prefix = ""
        self.base_url = base_url or self.default_base_url
        self._api_key = self.tokens.issue(tenant, now=self.clock.now(), value=api_key).secret

    # ----------------------------------------------------------------- basics
    @property
    def base_url(self) -> str:
        return self._base_url

    @base_url.setter
    def base_url(self, url: str) -> None:
        self._base_url = url.rstrip("/")
        self._prefix = urlsplit(self._base_url).path.rstrip("/")

    @property
    def api_key(self) -> str:
        """The default tenant's read+write token (follows ``rotate_token`` of it)."""
        return self._api_key

    @property
    def tenants(self) -> list[str]:
        return self.tokens.tenants

    def add_tenant(self, tenant: str) -> str:
        self.tokens.add_tenant(tenant)
        return tenant

    def issue_token(
        self,
        tenant: str | None = None,
        scopes: Iterable[str] = (READ, WRITE),
        ttl: float | None = None,
        *,
        value: str | None = None,
    ) -> str:
        """A new token for ``tenant`` (created if new) with ``scopes``; ``ttl`` in simulated seconds."""
        if isinstance(scopes, str):
            scopes = (scopes,)
        info = self.tokens.issue(tenant or self.default_tenant, scopes, now=self.clock.now(), ttl=ttl, value=value)
        return info.secret

    def rotate_token(self, token: str | None = None, *, grace: float = 0.0, ttl: float | None = None) -> str:
        """Replace ``token`` (default: ``api_key``); the old one is refused after ``grace`` seconds."""
        old = token or self._api_key
        new = self.tokens.rotate(old, now=self.clock.now(), grace=grace, ttl=ttl).secret
        if old == self._api_key:
            self._api_key = new
        return new

    def revoke_token(self, token: str) -> None:
        self.tokens.revoke(token, now=self.clock.now())

    def token_info(self, token: str) -> TokenInfo:
        return self.tokens.require(token)

    def auth_headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self._api_key}"}

    @classmethod
    def tools(cls) -> list[dict[str, Any]]:
        """Every endpoint as a plain tool descriptor (see ``Route.descriptor``)."""
        return [r.descriptor() for r in cls.routes]

    @classmethod
    def route_for(cls, method: str, url: str) -> Route | None:
        """The route (and so the tool name and kind) a request would hit, without running it."""
        found = cls.match_route(method, url)
        return None if found is None else found[0]

    @classmethod
    def match_route(cls, method: str, url: str) -> tuple[Route, dict[str, str]] | None:
        """The route a request would hit and its path parameters (``{"id": "7"}``), without running it."""
        try:
            return cls.router.match(method.upper(), urlsplit(url).path or "/")
        except SimError:
            return None

    # ------------------------------------------------------- service hooks
    @classmethod
    def all_error_codes(cls) -> dict[str, tuple[int, str]]:
        return {**CORE_ERROR_CODES, **cls.error_codes}

    def format_param(self, loc: tuple[Any, ...]) -> str:
        return ".".join(str(p) for p in loc)

    def extract_credential(self, headers: Mapping[str, str]) -> str | None:
        return extract_credential(headers)

    def error_body(self, err: SimError, request_id: str | None) -> Any:
        """The JSON body for an error; services override this with their wire shape."""
        return {"error": {"code": err.code, "message": err.message, "param": err.param, **err.extra}}

    @classmethod
    def error_model(cls) -> Any:
        """The schema type of ``error_body`` for the OpenAPI document."""
        return dict[str, Any]

    def encode(self, result: Any) -> bytes:
        return pydantic_core.to_json(result)

    def extra_headers(self, request_id: str) -> dict[str, str]:
        return {}

    def validation_error(self, err: SimError) -> SimError:
        """Hook: adjust a parameter-validation error (e.g. Zendesk answers them with 422)."""
        return err

    def validation_failure(self, exc: ValidationError) -> SimError:
        """Hook: the error for a request whose parameters fail their model (services word it
        their way; Stripe says "Invalid integer: abc")."""
        return error_from_validation(exc, self.format_param)

    # -------------------------------------------------------------- handle
    def handle(
        self, method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes | None = b""
    ) -> SimResponse:
        """Serve one HTTP request in-process. Never raises for bad input, and answers a 500 with
        code ``internal_error`` (recorded in ``internal_errors``) only for simulator bugs."""
        return pipeline.handle(self, method, url, headers, body)

    # ------------------------------------------------------- direct calls
    def call(
        self,
        tool: str,
        params: Mapping[str, Any] | None = None,
        *,
        tenant: str | None = None,
        record: bool = False,
        **path: str,
    ) -> Any:
        """Run an endpoint's handler directly (validated by the same model, no HTTP, no auth).

        Seeding helpers use this so seeded objects obey the same rules as API-created ones.
        With ``record=True`` the write lands in the ledger like an API call would.
        """
        route = self.router.by_tool(tool)
        params_obj = pipeline.validate(self, route, dict(params or {}))
        tenant = tenant or self.default_tenant
        self.tokens.add_tenant(tenant)
        with self._lock:
            ctx = Context(self, tenant, None, route, dict(path))
            try:
                result = route.handler(ctx, params_obj)
            except SimError as err:
                if not err.commit:
                    ctx.rollback()
                raise
            except BaseException:
                ctx.rollback()
                raise
            if record and route.kind == "write":
                self.ledger.append(
                    at=ctx.now,
                    tool=tool,
                    kind=route.kind,
                    method=route.method,
                    path=route.path,
                    tenant=tenant,
                    token_id="direct",
                    status=200,
                    outcome="applied",
                    params=pipeline.dump_arguments(dict(path), params_obj),
                    idempotency_key=None,
                    changes=tuple(ctx.changes),
                )
        return result

    def get(self, resource: str, ident: str | int, *, tenant: str | None = None) -> Any:
        """The stored object (a frozen model), or None; for test assertions.

        Zendesk's ids are numbers and Stripe's strings; a test may hold either form (``"42"`` from a
        URL, ``42`` from a response), so the other form is tried too.
        """
        where = tenant or self.default_tenant
        found = self.store.get(where, resource, ident)
        if found is None and isinstance(ident, int):
            found = self.store.get(where, resource, str(ident))
        elif found is None and isinstance(ident, str) and ident.isdigit():
            found = self.store.get(where, resource, int(ident))
        return found

    def all(self, resource: str, *, tenant: str | None = None) -> list[Any]:
        return list(self.store.table(tenant or self.default_tenant, resource).values())

    # ------------------------------------------------------------ seeding
    def seed(self, data: Mapping[str, Any], *, tenant: str | None = None) -> None:
        """Load objects: ``{resource: [rows]}`` go to ``tenant`` (default tenant),
        ``{"tenants": {name: {resource: [rows]}}}`` to named tenants, and
        ``{"tokens": [{"tenant", "scopes", "ttl", "value"}]}`` issues tokens."""
        target = tenant or self.default_tenant
        with self._lock:
            for key, value in data.items():
                if key == "tenants":
                    for name, sub in value.items():
                        self.tokens.add_tenant(name)
                        self.seed(sub, tenant=name)
                elif key == "tokens":
                    for tok in value:
                        self.issue_token(
                            tok.get("tenant", target),
                            tok.get("scopes", (READ, WRITE)),
                            tok.get("ttl"),
                            value=tok.get("value"),
                        )
                elif key in self._resources:
                    self.tokens.add_tenant(target)
                    for row in value:
                        self.seed_object(key, row, tenant=target)
                else:
                    raise ValueError(
                        f"unknown seed key {key!r}; expected one of {sorted([*self._resources, 'tenants', 'tokens'])}"
                    )

    def seed_object(self, resource: str, row: Mapping[str, Any], *, tenant: str | None = None) -> Any:
        """Validate one row against the resource model (filling id and created) and store it."""
        spec = self._resources[resource]
        data = dict(row)
        if not data.get("id"):
            data["id"] = self.ids.next_int(spec.name) if spec.numeric_ids else self.ids.new(spec.prefix)
        else:
            ident = data["id"]
            if spec.numeric_ids and isinstance(ident, str) and ident.isdigit():
                ident = int(ident)  # HubSpot-style numeric strings move the sequence too
            self.ids.reserve(ident, name=spec.name)
        if "created" in spec.model.model_fields and "created" not in data:
            data["created"] = self.clock.timestamp()
        obj = spec.model.model_validate(self.prepare_seed(resource, data))
        with self._lock:
            self.store.table(tenant or self.default_tenant, resource)[obj.id] = obj  # type: ignore[attr-defined]
        return obj

    def prepare_seed(self, resource: str, row: dict[str, Any]) -> dict[str, Any]:
        """Hook for services to fill derived fields of seeded rows."""
        return row

    def seed_file(self, path: str | Path, *, tenant: str | None = None) -> None:
        """Seed from a JSON or YAML file with the same shape ``seed`` takes."""
        p = Path(path)
        text = p.read_text(encoding="utf-8")
        if p.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"{p}: seed file must hold a mapping at the top level")
        self.seed(data, tenant=tenant)

    # --------------------------------------------------- snapshot/restore
    def snapshot(self) -> Snapshot:
        """Everything but the clock (time only moves forward) and the fault rules."""
        with self._lock:
            return Snapshot(
                tables=self.store.copy(),
                ids=self.ids.state(),
                tokens=self.tokens.state(),
                idempotency=self.idempotency.state(),
                ledger_length=len(self.ledger),
                api_key=self._api_key,
            )

    def restore(self, snap: Snapshot) -> None:
        with self._lock:
            self.store.replace(snap.tables)
            self.ids.restore(snap.ids)
            self.tokens.restore(snap.tokens)
            self.idempotency.restore(snap.idempotency)
            self.ledger.truncate(snap.ledger_length)
            self._api_key = snap.api_key

    # ---------------------------------------------------------- assertions
    def assert_no_writes(self) -> None:
        writes = self.ledger.writes()
        if writes:
            raise AssertionError(
                f"expected no writes to {self.name}, found {len(writes)}:\n{self.ledger.format(writes)}"
            )

    def assert_wrote(self, resource: str, **fields: Any) -> None:
        """Some create/update of ``resource`` left an object whose fields include ``fields``.

        Names are looked up as written, as ``a__b`` paths, and as the service's flat names
        (``field_value``); a failure shows the closest write field by field (``simulators.core.fieldmatch``).
        """
        from simulators.core import fieldmatch

        names = {resource}
        for spec in self.resources:
            if resource in (spec.name, spec.singular):
                names = {spec.name, spec.singular}
        relevant = [e for e in self.ledger.writes() if any(c.resource in names for c in e.changes)]
        written = [c for e in relevant for c in e.changes if c.resource in names and c.after is not None]
        objects = [(c, after) for c in written if (after := c.after) is not None]

        def lookup(obj: Mapping[str, Any], name: str) -> Any:
            return self.field_value(resource, obj, name)

        for _, obj in objects:
            if fieldmatch.score(obj, fields, lookup) == len(fields):
                return
        lines = [f"expected a write to {self.name} {resource} with {fields!r}"]
        if objects:
            change, closest = max(reversed(objects), key=lambda pair: fieldmatch.score(pair[1], fields, lookup))
            lines.append(f"closest: {change.op} {change.resource} {change.id}:")
            flat = self.flat_field_names(resource, closest)
            lines.extend("  " + line for line in fieldmatch.describe(closest, fields, lookup, flat))
        hint = self.wrote_hint(resource, fields)
        if hint:
            lines.append(hint)
        shown = relevant or self.ledger.writes()
        lines.append(f"{'writes to ' + resource if relevant else 'all writes'}:\n{self.ledger.format(shown)}")
        raise AssertionError("\n".join(lines))

    def field_value(self, resource: str, obj: Mapping[str, Any], name: str) -> Any:
        """Field ``name`` of a written object, for ``assert_wrote``; ``fieldmatch.MISSING`` if absent.

        The default reads the wire shape (and ``a__b`` paths); a service adds its own flat names.
        """
        from simulators.core.fieldmatch import by_path

        return by_path(obj, name)

    def flat_field_names(self, resource: str, obj: Mapping[str, Any]) -> list[str]:
        """Names ``field_value`` accepts beyond the object's own keys (for spelling suggestions)."""
        return []

    def wrote_hint(self, resource: str, fields: Mapping[str, Any]) -> str | None:
        """A service-specific line for a failed ``assert_wrote`` (where such data really lives)."""
        return None

    def assert_no_duplicate_side_effects(self) -> None:
        groups = self.ledger.duplicates()
        if groups:
            text = "\n".join(f"{len(g)}x {g[0].tool}:\n{self.ledger.format(g)}" for g in groups)
            raise AssertionError(f"{self.name}: the same write took effect more than once:\n{text}")

    def assert_no_unauthorized_attempts(self) -> None:
        bad = self.ledger.unauthorized()
        if bad:
            raise AssertionError(f"{self.name}: {len(bad)} unauthorized attempt(s):\n{self.ledger.format(bad)}")

    # ------------------------------------------------------------- openapi
    @classmethod
    def openapi_document(cls) -> dict[str, Any]:
        """The class's OpenAPI 3.1 document, built once (callers must not mutate it)."""
        doc = cls.__dict__.get("_openapi_doc")
        if doc is None:
            from simulators.core.openapi import build_openapi

            doc = build_openapi(cls)
            cls._openapi_doc = doc
        return doc

    def openapi(self) -> dict[str, Any]:
        doc = copy.deepcopy(self.openapi_document())
        doc["servers"] = [{"url": self.base_url}]
        return doc

    def _openapi_payload(self) -> bytes:
        if self._openapi_bytes is None:
            self._openapi_bytes = json.dumps(self.openapi()).encode()
        return self._openapi_bytes

    # ---------------------------------------------------------- transports
    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        """An httpx client wired to ``handle()`` in-process, authenticated with ``token``."""
        import httpx

        from simulators.core.transport import SimTransport

        headers = {**self.auth_headers(token), **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self.base_url, transport=SimTransport(self), headers=headers, **kwargs)

    def async_client(self, token: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
        import httpx

        from simulators.core.transport import AsyncSimTransport

        headers = {**self.auth_headers(token), **kwargs.pop("headers", {})}
        return httpx.AsyncClient(base_url=self.base_url, transport=AsyncSimTransport(self), headers=headers, **kwargs)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> SimServer:
        """Start a loopback HTTP server for this instance (stop it with ``.stop()``)."""
        from simulators.core.server import SimServer

        return SimServer(self, host=host, port=port).start()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url} tenants={self.tenants}>"
