"""Pipelines (read): HubSpot's default deal and ticket pipelines with their stages, the values
``dealstage``/``pipeline`` and ``hs_pipeline_stage``/``hs_pipeline`` take."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from simulators.core.errors import SimError
from simulators.core.simulator import Context

from ..account import Pipeline, PipelineList, Stage, StageList
from ._common import object_type, router

_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)

#: object type -> (pipeline id, label, [(stage id, label, metadata)])
_PIPELINES: dict[str, tuple[str, str, tuple[tuple[str, str, dict[str, str]], ...]]] = {
    "deals": (
        "default",
        "Sales Pipeline",
        (
            ("appointmentscheduled", "Appointment Scheduled", {"isClosed": "false", "probability": "0.2"}),
            ("qualifiedtobuy", "Qualified To Buy", {"isClosed": "false", "probability": "0.4"}),
            ("presentationscheduled", "Presentation Scheduled", {"isClosed": "false", "probability": "0.6"}),
            ("decisionmakerboughtin", "Decision Maker Bought-In", {"isClosed": "false", "probability": "0.8"}),
            ("contractsent", "Contract Sent", {"isClosed": "false", "probability": "0.9"}),
            ("closedwon", "Closed Won", {"isClosed": "true", "probability": "1.0"}),
            ("closedlost", "Closed Lost", {"isClosed": "true", "probability": "0.0"}),
        ),
    ),
    "tickets": (
        "0",
        "Support Pipeline",
        (
            ("1", "New", {"ticketState": "OPEN", "isClosed": "false"}),
            ("2", "Waiting on contact", {"ticketState": "OPEN", "isClosed": "false"}),
            ("3", "Waiting on us", {"ticketState": "OPEN", "isClosed": "false"}),
            ("4", "Closed", {"ticketState": "CLOSED", "isClosed": "true"}),
        ),
    ),
}


def pipelines_of(t: str) -> list[Pipeline]:
    if t not in _PIPELINES:
        raise SimError("object_type_invalid", f"{t} have no pipelines.", param="objectType", status=400)
    ident, label, stages = _PIPELINES[t]
    built = [
        Stage(id=s, label=name, displayOrder=i, metadata=meta, createdAt=_EPOCH, updatedAt=_EPOCH)
        for i, (s, name, meta) in enumerate(stages)
    ]
    return [Pipeline(id=ident, label=label, displayOrder=0, stages=built, createdAt=_EPOCH, updatedAt=_EPOCH)]


def _pipeline(ctx: Context) -> Pipeline:
    t = object_type(ctx.path["objectType"])
    raw = ctx.path["pipelineId"]
    found = next((p for p in pipelines_of(t) if p.id == raw), None)
    if found is None:
        raise SimError("resource_missing", f"No such pipeline: {raw}", param="pipelineId", status=404)
    return found


@router.get(
    "/crm/v3/pipelines/{objectType}",
    tool="crm.pipelines.list",
    response=PipelineList,
    errors=("object_type_invalid",),
)
def list_pipelines(ctx: Context, p: None) -> Any:
    """The pipelines of deals or tickets, with their stages."""
    return {"results": pipelines_of(object_type(ctx.path["objectType"]))}


@router.get(
    "/crm/v3/pipelines/{objectType}/{pipelineId}",
    tool="crm.pipelines.retrieve",
    response=Pipeline,
    errors=("object_type_invalid", "resource_missing"),
)
def get_pipeline(ctx: Context, p: None) -> Any:
    """One pipeline with its stages."""
    return _pipeline(ctx)


@router.get(
    "/crm/v3/pipelines/{objectType}/{pipelineId}/stages",
    tool="crm.pipelines.stages",
    response=StageList,
    errors=("object_type_invalid", "resource_missing"),
)
def list_stages(ctx: Context, p: None) -> Any:
    """A pipeline's stages in display order (``metadata.isClosed``, deal ``probability``)."""
    return {"results": _pipeline(ctx).stages}
