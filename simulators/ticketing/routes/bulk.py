"""Tickets in bulk: show_many, and update_many as a job Zendesk runs (here at once)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..exceptions import invalid
from ..models import JobResult, JobStatus, JobStatusEnvelope, Ticket, TicketsEnvelope
from ..params import ShowManyParams, TicketUpdateFields, TicketUpdateManyBody
from ._common import WRITE_ERRORS, get_row, router
from .tickets import apply_update


@router.get(
    "/api/v2/tickets/show_many.json",
    tool="ticketing.tickets.show_many",
    params=ShowManyParams,
    response=TicketsEnvelope,
    errors=("parameter_invalid", "parameter_missing"),
)
def show_many(ctx: Context, p: ShowManyParams) -> Any:
    """Up to 100 tickets by id (``ids=1,2,3``); unknown ids are left out, as Zendesk does."""
    found = [get_row(ctx, "tickets", i) for i in dict.fromkeys(p.ids)]
    return {"tickets": [t for t in found if t is not None]}


def ids_into_body(url: str, body: bytes | None) -> bytes | None:
    """``PUT update_many.json?ids=1,2`` names the tickets in the query and the change in the
    body; the simulator reads a PUT's parameters from its body, so the ids join it there."""
    ids = parse_qs(urlsplit(url).query).get("ids")
    if not ids:
        return body
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return body  # the body's own error is the answer
    if not isinstance(data, dict) or "ids" in data:
        return body
    return json.dumps({**data, "ids": ",".join(ids)}).encode()


def _job(ctx: Context, kind: str, results: list[JobResult]) -> dict[str, Any]:
    ident = ctx.new_id("job")
    status = JobStatus(
        id=ident,
        url=f"{ctx.base_url}/api/v2/job_statuses/{ident}.json",
        job_type=kind,
        status="completed",
        total=len(results),
        progress=len(results),
        message=f"Completed at {ctx.timestamp}",
        results=results,
    )
    return {"job_status": status}


@router.put(
    "/api/v2/tickets/update_many.json",
    tool="ticketing.tickets.update_many",
    params=TicketUpdateManyBody,
    response=JobStatusEnvelope,
    errors=WRITE_ERRORS,
)
def update_many(ctx: Context, p: TicketUpdateManyBody) -> Any:
    """Update tickets in bulk: ``?ids=1,2`` with one ``ticket`` for all, or ``tickets`` each with
    its ``id``. Each ticket follows the single-update rules; a ticket they refuse (closed, bad
    status) fails alone and is reported in the job's ``results``, as Zendesk's job does."""
    work: list[tuple[int, TicketUpdateFields]]
    if p.tickets is not None:
        work = [(t.id, t) for t in p.tickets]
    elif p.ticket is not None and p.ids:
        work = [(i, p.ticket) for i in p.ids]
    else:
        raise invalid("parameter_missing", "tickets", "Send `tickets` (each with an id), or `ids` with one `ticket`.")
    results: list[JobResult] = []
    for ident, fields in work:
        ticket: Ticket | None = get_row(ctx, "tickets", ident)
        if ticket is None:
            results.append(JobResult(id=ident, action="update", success=False, status="TicketNotFound"))
            continue
        try:
            apply_update(ctx, ticket, fields)
        except SimError as err:
            results.append(JobResult(id=ident, action="update", success=False, status=err.code))
            continue
        results.append(JobResult(id=ident, action="update", success=True, status="Updated"))
    return _job(ctx, "bulk_update", results)
