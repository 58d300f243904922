"""OpenTelemetry export (``--agent-otel``): one span per test run, a child span per model/tool call.

Spans follow the OpenTelemetry GenAI semantic conventions and go to the *global* tracer provider
(``opentelemetry.trace.set_tracer_provider``), so whatever exporter the project configured
receives them. They are made when the test ends, from the trace, with the recorded start and end
times. Needs ``opentelemetry-api`` (``pip install 'pytest-agentops[otel]'`` brings the SDK too).

- the run: ``invoke_agent <contract or test>``, ``gen_ai.operation.name=invoke_agent``,
  ``gen_ai.agent.name``, ``test.case.name``, ``test.case.result.status``, ``agentops.trace_id``, and
  the test's figures: ``agentops.model_calls``, ``agentops.tool_calls``, ``agentops.denials``,
  ``agentops.tool_errors``, ``gen_ai.usage.input_tokens``/``output_tokens``, ``agentops.tokens``,
  ``agentops.cost_usd`` (an unknown figure is left out);
- a model call: ``chat <model>``, ``gen_ai.operation.name=chat``, ``gen_ai.provider.name``,
  ``gen_ai.request.model``, ``gen_ai.response.model``, ``gen_ai.usage.input_tokens``,
  ``gen_ai.usage.output_tokens``, ``gen_ai.response.finish_reasons``;
- a tool call: ``execute_tool <tool>``, ``gen_ai.operation.name=execute_tool``, ``gen_ai.tool.name``,
  ``gen_ai.tool.call.id`` (when the model asked for it), ``http.request.method``,
  ``http.response.status_code``; a policy denial adds ``agentops.denied_by``.

A call answered 4xx/5xx (or denied) has ``error.type`` and an error status. Prompts and tool
payloads are never put on spans.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_agentops.trace.run import Event, Run

INSTRUMENTATION = "pytest_agentops"


class OtelMissing(RuntimeError):
    """``--agent-otel`` without OpenTelemetry installed."""


def _otel_trace() -> Any:
    """``opentelemetry.trace``, imported by name: the package is an optional extra (and so are its types)."""
    from importlib import import_module

    return import_module("opentelemetry.trace")


def check_available() -> None:
    try:
        _otel_trace()
    except ImportError as exc:
        raise OtelMissing(
            "--agent-otel / agentops_otel needs OpenTelemetry, which is not installed "
            f"({exc}); install it with: pip install 'pytest-agentops[otel]' (or opentelemetry-sdk)"
        ) from None


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


def _provider(call_provider: str) -> str:
    """``openai.chat`` -> ``openai`` (the GenAI ``gen_ai.provider.name`` value)."""
    return call_provider.split(".", 1)[0]


def _request_model(event: Event) -> str | None:
    body = event.request_body
    if isinstance(body, dict) and isinstance(body.get("model"), str):
        return str(body["model"])
    return event.model_call.model if event.model_call is not None else None


def export(
    run: Run,
    *,
    nodeid: str,
    contract: str | None,
    outcome: str,
    ended_at: float,
    figures: Mapping[str, Any] | None = None,
) -> None:
    """Emit the spans of ``run`` to the global tracer provider; the run span carries the test's
    ``figures`` (``readers.figures``: the same numbers as the scorecard and the reports)."""
    from pytest_agentops._version import __version__

    trace = _otel_trace()
    Status, StatusCode = trace.Status, trace.StatusCode

    tracer = trace.get_tracer(INSTRUMENTATION, __version__)
    agent = contract or nodeid
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": agent,
        "test.case.name": nodeid,
        "test.case.result.status": "pass" if outcome in ("passed", "xpassed") else "fail",
        "agentops.trace_id": run.trace_id,
        "agentops.outcome": outcome,
    }
    if run.escalations:
        attributes["agentops.escalated"] = True
    if figures is not None:
        attributes.update(figure_attributes(figures))
    end = max([ended_at, *(e.started_at + e.duration_s for e in run.events)])
    root = tracer.start_span(f"invoke_agent {agent}", start_time=_ns(run.started_at), attributes=attributes)
    if outcome == "failed":
        root.set_status(Status(StatusCode.ERROR, "test failed"))
    context = trace.set_span_in_context(root)
    for event in run.events:
        name, attrs = _redacted(*_span_of(event))
        span = tracer.start_span(name, context=context, start_time=_ns(event.started_at), attributes=attrs)
        failed = event.denied or (event.status or 0) >= 400 or event.backend == "miss"
        if failed:
            span.set_attribute("error.type", event.rule or str(event.status or "error"))
            span.set_status(
                Status(StatusCode.ERROR, (event.error or "").splitlines()[0][:200] if event.error else None)
            )
        span.end(end_time=_ns(event.started_at + event.duration_s))
    root.end(end_time=_ns(end))


def figure_attributes(figs: Mapping[str, Any]) -> dict[str, Any]:
    """The run span's totals, read from the test's figures; an unknown figure is left out, never 0."""
    tokens = figs["tokens"]
    found = {
        "agentops.model_calls": figs["model_calls"],
        "agentops.tool_calls": figs["tool_calls"],
        "agentops.denials": figs["denials"],
        "agentops.tool_errors": figs["tool_errors"],
        "gen_ai.usage.input_tokens": tokens.get("input"),
        "gen_ai.usage.output_tokens": tokens.get("output"),
        "agentops.tokens": tokens.get("total"),
        "agentops.cost_usd": figs["cost_usd"],
    }
    return {key: value for key, value in found.items() if value is not None}


def _redacted(name: str, attrs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Span names and string attributes pass the session's redactor, like every other sink."""
    from pytest_agentops.cassette.redact import active

    redactor = active()
    return redactor.text(name), {k: redactor.text(v) if isinstance(v, str) else v for k, v in attrs.items()}


def _span_of(event: Event) -> tuple[str, dict[str, Any]]:
    attrs: dict[str, Any] = {
        "http.request.method": event.method,
        "agentops.seq": event.seq,
        "agentops.backend": event.backend,
    }
    if event.status is not None:
        attrs["http.response.status_code"] = event.status
    if event.denied and event.rule:
        attrs["agentops.denied_by"] = event.rule
    call = event.model_call
    if event.kind == "model":
        model = _request_model(event)
        attrs["gen_ai.operation.name"] = "chat"
        if call is not None:
            attrs["gen_ai.provider.name"] = _provider(call.provider)
            attrs["gen_ai.usage.input_tokens"] = call.usage.input_tokens
            attrs["gen_ai.usage.output_tokens"] = call.usage.output_tokens
            if call.model:
                attrs["gen_ai.response.model"] = call.model
            if call.stop_reason:
                attrs["gen_ai.response.finish_reasons"] = [call.stop_reason]
        if model:
            attrs["gen_ai.request.model"] = model
        return (f"chat {model}" if model else "chat"), attrs
    tool = event.tool or f"{event.method} {event.url.split('?', 1)[0]}"
    attrs["gen_ai.operation.name"] = "execute_tool"
    attrs["gen_ai.tool.name"] = tool
    if event.access is not None:
        attrs["agentops.access"] = event.access
    if event.requested_by is not None and event.requested_by[1] is not None:
        attrs["gen_ai.tool.call.id"] = event.requested_by[1]
    return f"execute_tool {tool}", attrs
