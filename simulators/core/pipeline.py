"""The request pipeline behind ``Simulator.handle``: match the route, then authenticate, inject a
fault, decode the parameters, replay an idempotent retry, and execute (validate, run the handler,
write the ledger row, save the idempotent answer). Each stage may answer early; ``_Call`` carries
what one stage learned to the next.

Functions of the simulator, apart from the class so that the order of the checks reads in one
place; a service changes the wire through the class's hooks (``error_body``, ``encode``, ...).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from pydantic import BaseModel, ValidationError

from simulators.core.auth import READ, WRITE, TokenInfo
from simulators.core.context import Context, Reply
from simulators.core.errors import SimError
from simulators.core.faults import FaultDecision
from simulators.core.idempotency import SavedResult
from simulators.core.ledger import LedgerEntry
from simulators.core.mcp import is_mcp_path
from simulators.core.mcp import serve_http as serve_mcp
from simulators.core.routing import Route
from simulators.core.wire import SimResponse, canonical, decode_body, decode_form

if TYPE_CHECKING:
    from simulators.core.ledger import Change
    from simulators.core.simulator import Simulator

_JSON = "application/json"


@dataclass(slots=True)
class _Call:
    """One request between the stages below: what an early stage learns (the caller, the fault
    drawn, the idempotency key, the decoded parameters) a later one needs."""

    method: str
    url: SplitResult
    path: str
    headers: dict[str, str]
    body: bytes
    request_id: str
    route: Route
    path_params: dict[str, str]
    now: float
    token: TokenInfo | None = None
    tenant: str = ""
    fault: FaultDecision | None = None
    drop_after: bool = False
    key: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def is_write(self) -> bool:
        return self.route.kind == "write"


def handle(
    sim: Simulator, method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes | None = b""
) -> SimResponse:
    """A simulator bug becomes a 500 ``internal_error`` (kept in ``internal_errors``, raised with
    ``raise_server_errors``) so an agent under test sees a server error, never a traceback."""
    try:
        return _serve(sim, method.upper(), url, headers or {}, body or b"")
    except Exception:
        sim.internal_errors.append(traceback.format_exc())
        if sim.raise_server_errors:
            raise
        return _error(sim, SimError("internal_error"), None)


def _respond(
    sim: Simulator, status: int, payload: bytes, request_id: str | None, headers: Mapping[str, str] | None
) -> SimResponse:
    out = {"Content-Type": _JSON}
    if request_id:
        out["Request-Id"] = request_id
        out.update(sim.extra_headers(request_id))
    if headers:
        out.update(headers)
    return SimResponse(status, out, payload)


def _error(sim: Simulator, err: SimError, request_id: str | None) -> SimResponse:
    payload = sim.encode(sim.error_body(err, request_id))
    return _respond(sim, err.status, payload, request_id, err.headers)


def _serve(sim: Simulator, method: str, url: str, raw_headers: Mapping[str, str], body: bytes) -> SimResponse:
    split = urlsplit(url)
    path = split.path or "/"
    if sim._prefix and path.startswith(sim._prefix):
        path = path[len(sim._prefix) :] or "/"
    if path == "/openapi.json" and method in ("GET", "HEAD"):
        return _respond(sim, 200, sim._openapi_payload(), None, None)
    if is_mcp_path(path):
        return serve_mcp(sim, method, url, raw_headers, body)  # tools/call comes back in through handle()

    request_id = sim.ids.new("req", unique=False)
    try:
        route, path_params = sim.router.match(method, path)
    except SimError as err:
        return _error(sim, err, request_id)
    headers = {k.lower(): v for k, v in raw_headers.items()}
    call = _Call(method, split, path, headers, body, request_id, route, path_params, sim.clock.now())
    for stage in (_authenticate, _inject_fault, _decode, _replay):
        answer = stage(sim, call)
        if answer is not None:
            return answer
    return _execute(sim, call)


def _record(
    sim: Simulator,
    call: _Call,
    outcome: Any,
    status: int,
    *,
    params: Any,
    idempotency_key: str | None,
    error_code: str | None = None,
    changes: tuple[Change, ...] = (),
    fault: str | None = None,
    replay_of: int | None = None,
) -> LedgerEntry:
    token = call.token
    tenant, token_id = (token.tenant, token.token_id) if token else (None, None)
    route = call.route

    def make(seq: int) -> LedgerEntry:
        return LedgerEntry(
            seq=seq,
            at=call.now,
            simulator=sim.ledger.simulator,
            tool=route.tool,
            kind=route.kind,
            method=call.method,
            path=call.path,
            tenant=tenant,
            token_id=token_id,
            params=params,
            idempotency_key=idempotency_key,
            outcome=outcome,
            status=status,
            error_code=error_code,
            request_id=call.request_id,
            changes=changes,
            fault=fault,
            replay_of=replay_of,
        )

    return sim.ledger.add(make)


def _authenticate(sim: Simulator, call: _Call) -> SimResponse | None:
    """A refused caller is still logged, under its token when the token is known (expired,
    revoked, short of a scope), so tests can assert on unauthorized attempts."""
    credential = sim.extract_credential(call.headers)
    token: TokenInfo | None = None
    try:
        token = sim.tokens.authenticate(credential, now=call.now)
        needed = WRITE if call.is_write else READ
        if needed not in token.scopes:
            raise SimError(
                "insufficient_permissions",
                f"The provided key ({token.masked}) does not have the '{needed}' scope required for {call.route.tool}.",
            )
    except SimError as err:
        call.token = token if token is not None else sim.tokens.get(credential or "")
        _record(sim, call, "unauthorized", err.status, params=None, idempotency_key=None, error_code=err.code)
        return _error(sim, err, call.request_id)
    call.token = token
    call.tenant = token.tenant
    return None


def _inject_fault(sim: Simulator, call: _Call) -> SimResponse | None:
    """Faults strike before anything runs, so a failed call saves nothing; only
    ``commit_then_drop`` waits, since it loses the answer of a call that did run."""
    fault = sim.faults.decide(call.route.tool, call.method) if sim.faults.rules else None
    call.fault = fault
    if fault is None or fault.kind is None:
        return None
    kind = fault.kind
    if kind == "commit_then_drop":
        call.drop_after = True
        return None
    if call.is_write:
        _record(
            sim,
            call,
            "fault",
            0 if kind in ("timeout", "drop") else int(kind),
            params=None,
            idempotency_key=call.headers.get("idempotency-key"),
            fault=kind,
        )
    if fault.latency:
        time.sleep(fault.latency)
    if kind in ("timeout", "drop"):
        return SimResponse(0, {}, b"", fault=kind)  # type: ignore[arg-type]
    return _error(sim, _fault_error(kind, fault.retry_after), call.request_id)


def _decode(sim: Simulator, call: _Call) -> SimResponse | None:
    """An unreadable request is refused before it claims its idempotency key."""
    if call.route.accepts_idempotency_key:
        call.key = call.headers.get("idempotency-key") or None
    try:
        if call.method in sim.query_methods:
            call.raw = decode_form(call.url.query)
        else:
            call.raw = decode_body(call.body, call.headers.get("content-type"), sim.body_format)
    except SimError as err:
        if call.is_write:
            _record(sim, call, "refused", err.status, params=None, idempotency_key=call.key, error_code=err.code)
        return _error(sim, err, call.request_id)
    return None


def _replay(sim: Simulator, call: _Call) -> SimResponse | None:
    """A retry with a used key gets the first call's saved answer, so a client retry never
    writes twice; a key reused for a different request, or still in flight, is refused."""
    key = call.key
    if key is None:
        return None
    fingerprint = f"{call.method} {call.path} {canonical(call.raw)}"
    try:
        _, saved = sim.idempotency.begin(call.tenant, key, fingerprint, call.now)
    except SimError as err:
        params = {**call.path_params, **call.raw}
        _record(sim, call, "refused", err.status, params=params, idempotency_key=key, error_code=err.code)
        return _error(sim, err, call.request_id)
    if saved is None:
        return None
    _record(
        sim,
        call,
        "replayed",
        saved.status,
        params=_arguments(sim, call.route, call.path_params, call.raw),
        idempotency_key=key,
        replay_of=saved.ledger_seq,
        fault="commit_then_drop" if call.drop_after else None,
    )
    if call.drop_after:
        return SimResponse(0, {}, b"", fault="drop")
    headers = {**saved.headers, "Idempotent-Replayed": "true", "Request-Id": call.request_id}
    if saved.request_id:
        headers["Original-Request"] = saved.request_id
    return SimResponse(saved.status, headers, saved.body)


def _execute(sim: Simulator, call: _Call) -> SimResponse:
    """The key claimed by :meth:`_replay` is freed when the call fails validation (a corrected
    retry may reuse it) or crashes; otherwise it keeps the saved answer."""
    try:
        try:
            params = validate(sim, call.route, call.raw)
        except SimError as err:
            if call.key is not None:
                sim.idempotency.release(call.tenant, call.key)
            if call.is_write:
                raw = {**call.path_params, **call.raw}
                _record(sim, call, "refused", err.status, params=raw, idempotency_key=call.key, error_code=err.code)
            return _error(sim, err, call.request_id)
        if call.fault is not None and call.fault.latency:
            # slow "execution": the idempotency key stays in flight meanwhile
            time.sleep(call.fault.latency)
        with sim._lock:
            response = _run(sim, call, params)
    except BaseException:
        if call.key is not None:
            sim.idempotency.release(call.tenant, call.key)
        raise
    if call.drop_after:
        return SimResponse(0, {}, b"", fault="drop")
    return response


def _run(sim: Simulator, call: _Call, params: Any) -> SimResponse:
    """Called under the lock, so to any other request the handler's writes, its ledger row
    and the saved idempotent answer happen at once."""
    split = call.url
    origin = f"{split.scheme}://{split.netloc}{sim._prefix}" if split.netloc else None
    ctx = Context(sim, call.tenant, call.token, call.route, call.path_params, origin)
    error: SimError | None = None
    try:
        result = call.route.handler(ctx, params)
    except SimError as err:
        if not err.commit:
            ctx.rollback()
        error = err
    except BaseException:
        ctx.rollback()
        raise
    changes = tuple(ctx.changes)
    if error is not None:
        response = _error(sim, error, call.request_id)
    else:
        status, payload, extra_headers = _render(sim, result)
        response = _respond(sim, status, payload, call.request_id, extra_headers)
    if call.key is not None:
        response.headers["Idempotency-Key"] = call.key
    entry = None
    if call.is_write:
        entry = _record(
            sim,
            call,
            "applied" if error is None or changes else "refused",
            response.status,
            params=dump_arguments(call.path_params, params),
            idempotency_key=call.key,
            error_code=error.code if error else None,
            changes=changes,
            fault="commit_then_drop" if call.drop_after else None,
        )
    if call.key is not None:
        seq = entry.seq if entry else None
        saved = SavedResult(response.status, dict(response.headers), response.body, call.request_id, seq)
        sim.idempotency.save(call.tenant, call.key, saved)
    return response


def validate(sim: Simulator, route: Route, raw: dict[str, Any]) -> Any:
    if route.params is None:
        if raw:
            name = next(iter(raw))
            raise sim.validation_error(SimError("parameter_unknown", f"Received unknown parameter: {name}", param=name))
        return None
    try:
        return route.params.model_validate(raw)
    except ValidationError as exc:
        raise sim.validation_error(sim.validation_failure(exc)) from None


def dump_arguments(path_params: dict[str, str], params: Any) -> dict[str, Any]:
    """The call as tool arguments (path parameters plus the typed values sent), so a form
    request and a JSON request with the same meaning log the same thing."""
    if isinstance(params, BaseModel):
        return {**path_params, **params.model_dump(mode="json", exclude_unset=True)}
    return dict(path_params)


def _arguments(sim: Simulator, route: Route, path_params: dict[str, str], raw: dict[str, Any]) -> dict[str, Any]:
    try:
        return dump_arguments(path_params, validate(sim, route, raw))
    except SimError:
        return {**path_params, **raw}


def _render(sim: Simulator, result: Any) -> tuple[int, bytes, Mapping[str, str] | None]:
    if isinstance(result, Reply):
        if result.status == 204:
            return 204, b"", result.headers
        return result.status, sim.encode(result.body), result.headers
    return 200, sim.encode(result), None


def _fault_error(kind: str, retry_after: float) -> SimError:
    if kind == "429":
        secs = max(0, round(retry_after))
        return SimError(
            "rate_limit",
            "Too many requests hit the API too quickly (injected fault).",
            headers={"Retry-After": str(secs)},
        )
    if kind == "503":
        return SimError("service_unavailable", "The service is temporarily unavailable (injected fault).")
    return SimError("service_error", "An error occurred with our connection to the service (injected fault).")
