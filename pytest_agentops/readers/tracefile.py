"""Trace files: one JSONL file per test (header, one line per event, footer), and its payloads.

``--agent-trace-dir=DIR`` writes ``DIR/<test module path without .py>/<test name>.jsonl``. What the
lines may hold follows the contract's ``logging`` settings:

- ``store_prompt = false``: a model call's request (messages, system prompt, tools) and its answer
  (text, the arguments of the tool calls it asked for) are not written;
- ``store_tool_io = false``: a tool call's arguments and response are not written (nor its URL's
  query string);
- ``pii_redaction = true``: e-mail addresses, phone numbers, card numbers, IBANs and US SSNs are
  masked in everything written (the detectors of ``agentops cassettes audit``).

Secrets are redacted as in cassettes. Data (arguments, request and response bodies) goes to
content-addressed files ``DIR/payloads/<sha256>.json`` that the event lines reference by hash
(``"payloads": {"arguments": "<sha256>"}``), so a trace can be shared without the data; with
``agentops_trace_payloads = inline`` it is written in the event line instead.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_agentops.readers.pii import mask_pii as mask_pii  # re-exported: the old home
from pytest_agentops.readers.pii import mask_pii_text as mask_pii_text
from pytest_agentops.trace.files import write_atomic as write_atomic  # re-exported: the old home

if TYPE_CHECKING:
    from pytest_agentops.cassette.redact import Redactor
    from pytest_agentops.tap.routing import LiveRequest
    from pytest_agentops.trace.prices import PriceTable
    from pytest_agentops.trace.run import Event, ModelCall, Run, RunUsage

FORMAT = "pytest-agentops-trace"
VERSION = 1
MAX_TEXT = 256 * 1024  # a response body larger than this is stored as its size and hash
_UNSAFE = re.compile(r"[^A-Za-z0-9._\-\[\]=,+@]")
_MAX_NAME = 150


# ---- capture (called by the tap when ``run.capture_io`` is set) -------------------------------------


def capture(
    live: LiveRequest,
    headers: Mapping[str, str],
    raw: bytes,
    model_call: ModelCall | None,
    redactor: Redactor,
) -> dict[str, Any]:
    """``request_body``/``response_body`` for the event of ``live``: parsed, secrets redacted."""
    from pytest_agentops.cassette.matching import body_value

    try:
        redactor.headers_dict({k: [v] for k, v in live.headers.items()})  # learn header secrets (echoes)
        request = redactor.request(body_value(live.body, live.headers.get("content-type", "")))
        if isinstance(request, dict) and "__form__" in request:
            request = _form_dict(request["__form__"])
        if model_call is not None:
            response: Any = {
                "text": redactor.text(model_call.text),
                "tool_calls": [
                    {"id": t.id, "name": t.name, "arguments": redactor.value(t.arguments)}
                    for t in model_call.tool_calls
                ],
                "stop_reason": model_call.stop_reason,
            }
        else:
            response = redactor.value(_response_value(_binary_scanned(redactor, raw), headers))
    except Exception:  # a trace must never break the test it describes
        return {}
    return {"request_body": request, "response_body": response}


def _binary_scanned(redactor: Redactor, raw: bytes) -> bytes:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return redactor.raw(raw)
    return raw


def _form_dict(pairs: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            previous = out[name]
            out[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[name] = value
    return out


def _response_value(raw: bytes, headers: Mapping[str, str]) -> Any:
    from pytest_agentops.cassette import body as bodies

    if not raw:
        return None
    encoding = headers.get("content-encoding", "")
    if encoding:
        raw = bodies.decompress(raw, encoding) or raw
    if len(raw) > MAX_TEXT:
        return {"__bytes__": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"__bytes__": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    if text.lstrip()[:1] in "{[" or "json" in headers.get("content-type", "").lower():
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


# ---- file names -----------------------------------------------------------------------------------


def relative_path(nodeid: str) -> Path:
    """``<module path without .py>/<test name>.jsonl`` for ``nodeid``; safe on every filesystem.

    The test name is class-qualified (``TestX.test_y``) and keeps its parameters (``test_y[a-1]``);
    characters a filesystem may refuse become ``_``, and then a short hash of the node id is added so
    two tests never share a file.
    """
    module, sep, name = nodeid.partition("::")
    if not sep:
        module, name = "", nodeid
    base, bracket, params = name.partition("[")
    name = base.replace("::", ".") + bracket + params
    safe = _UNSAFE.sub("_", name)
    if safe != name or len(safe) > _MAX_NAME or safe in ("", ".", ".."):
        digest = hashlib.sha256(nodeid.encode("utf-8")).hexdigest()[:10]
        safe = f"{safe[:_MAX_NAME]}-{digest}"
    parts = [_UNSAFE.sub("_", p) or "_" for p in Path(module).with_suffix("").parts if p not in ("", ".", "..", "/")]
    return Path(*parts, safe + ".jsonl") if parts else Path(safe + ".jsonl")


class PayloadStore:
    """``DIR/payloads/<sha256>.json``: each distinct payload once, named by the hash of its JSON."""

    def __init__(self, root: Path) -> None:
        self.root = root / "payloads"

    def put(self, value: Any) -> str:
        data = dumps(value).encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        path = self.root / f"{digest}.json"
        if not path.exists():
            write_atomic(path, data)
        return digest


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"__bytes__": len(value), "sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return repr(value)


# ---- writing a trace ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoggingRules:
    """The contract's ``logging`` settings, as trace writers apply them."""

    store_prompt: bool = True
    store_tool_io: bool = True
    pii_redaction: bool = False

    @classmethod
    def of(cls, contract: Any) -> LoggingRules:
        logging = getattr(contract, "logging", None)
        if logging is None:
            return cls()
        return cls(bool(logging.store_prompt), bool(logging.store_tool_io), bool(logging.pii_redaction))

    def to_dict(self) -> dict[str, bool]:
        return {
            "store_prompt": self.store_prompt,
            "store_tool_io": self.store_tool_io,
            "pii_redaction": self.pii_redaction,
        }


class TraceWriter:
    """Turns a finished run into trace lines, putting data where the settings say."""

    def __init__(
        self,
        rules: LoggingRules,
        *,
        redactor: Redactor | None = None,
        payloads: PayloadStore | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        self.rules = rules
        self.redactor = redactor
        self.payloads = payloads  # None: data is written inline
        if prices is None:
            from pytest_agentops.trace.prices import DEFAULT

            prices = DEFAULT
        self.prices: PriceTable = prices

    # ---- values -------------------------------------------------------------------------------

    def clean(self, value: Any, *, request: bool = False) -> Any:
        if self.redactor is not None:
            value = self.redactor.request(value) if request else self.redactor.value(value)
        return mask_pii(value) if self.rules.pii_redaction else value

    def text(self, value: str | None) -> str | None:
        if value is None:
            return None
        if self.redactor is not None:
            value = self.redactor.text(value)
        return mask_pii_text(value) if self.rules.pii_redaction else value

    def url(self, event: Event) -> str:
        url = event.url
        if event.kind == "tool" and not self.rules.store_tool_io:
            url = url.split("?", 1)[0]
        return self.text(url) or ""

    # ---- lines --------------------------------------------------------------------------------

    def event_line(self, event: Event, run_started: float) -> dict[str, Any]:
        line: dict[str, Any] = {
            "type": "event",
            "seq": event.seq,
            "kind": event.kind,
            "name": _name(event),
            "tool": event.tool,
            "model": None,
            "method": event.method,
            "url": self.url(event),
            "backend": event.backend,
            "status": event.status,
            "access": event.access,
            "started_at": round(event.started_at, 6),
            "offset_ms": round(max(event.started_at - run_started, 0.0) * 1000, 3),
            "duration_ms": round(event.duration_s * 1000, 3),
        }
        call = event.model_call
        if call is not None:
            line["model"] = call.model
            line["provider"] = call.provider
            line["streamed"] = call.streamed
            line["stop_reason"] = call.stop_reason
            line["tokens"] = _tokens(call)
            if call.usage_source != "reported":
                line["usage"] = call.usage_source  # "estimated", or "unknown" (tokens null)
            line["cost_usd"] = self.cost(call)
            line["tool_calls_requested"] = [{"id": t.id, "name": t.name} for t in call.tool_calls]
        if event.rule is not None:
            line["rule"] = event.rule
        if event.error is not None:
            line["error"] = self.text(event.error)
        if event.requested_by is not None:
            line["requested_by"] = {"seq": event.requested_by[0], "tool_call_id": event.requested_by[1]}
        if event.agent is not None:
            line["agent"] = event.agent
        data, omitted = self.data(event)
        if omitted:
            line["omitted"] = omitted
        if data:
            if self.payloads is None:
                line.update(data)
            else:
                line["payloads"] = {key: self.payloads.put(value) for key, value in data.items()}
        return line

    def cost(self, call: ModelCall) -> float | None:
        if not call.usage_known:
            return None
        if call.usage.total_tokens == 0:
            return 0.0
        cost = self.prices.cost(call)
        return None if cost is None else round(cost, 10)

    def data(self, event: Event) -> tuple[dict[str, Any], list[str]]:
        """(payloads this event may keep, names of those the logging settings kept out)."""
        found: dict[str, Any] = {}
        if event.kind == "model":
            if event.request_body is not None:
                found["request"] = event.request_body
            if event.response_body is not None:
                found["response"] = event.response_body
            allowed = self.rules.store_prompt
        else:
            arguments = event.arguments if event.arguments is not None else event.request_body
            if arguments is not None:
                found["arguments"] = arguments
            if event.response_body is not None:
                found["response"] = event.response_body
            allowed = self.rules.store_tool_io
        if not allowed:
            return {}, sorted(found)
        return {key: self.clean(value, request=key != "response") for key, value in found.items()}, []

    def lines(self, run: Run, meta: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Header, one line per event, footer."""
        header = {
            "type": "header",
            "format": FORMAT,
            "version": VERSION,
            "trace_id": run.trace_id,
            "test": run.test_id,
            **meta,
            "started_at": _iso(run.started_at),
            "logging": self.rules.to_dict(),
            "payload_storage": "inline" if self.payloads is None else "files",
        }
        if "escalations" in header:
            header["escalations"] = [self.text(r) for r in header["escalations"]]
        failure = header.get("failure")
        if isinstance(failure, Mapping):  # an error message may quote a secret or an email address
            header["failure"] = {**failure, "message": self.text(str(failure.get("message", "")))}
        events = [self.event_line(e, run.started_at) for e in run.events]
        lines = [header, *events, self.footer(run)]
        if self.redactor is not None:  # the last word: names, URLs and notes an echo could reach too
            lines = [self.redactor.value(line) for line in lines]
        return lines

    def footer(self, run: Run) -> dict[str, Any]:
        """Totals (from ``readers.figures``), usage and the budget's state when the run ended."""
        from pytest_agentops.policy.budget import status
        from pytest_agentops.readers.figures import counts, steps_of_events
        from pytest_agentops.trace.prices import run_usage

        found = counts(steps_of_events(run.events))
        state = status(run, None, self.prices)
        usage = run_usage(run, self.prices)
        budget = state.budget
        return {
            "type": "footer",
            "events": len(run.events),
            "model_calls": found["model_calls"],
            "tool_calls": found["tool_calls"],
            "denials": found["denials"],
            "tool_errors": found["tool_errors"],
            "usage": _run_usage(usage),
            "budget": {
                "limits": {k: v for k, v in budget.model_dump().items() if v is not None},
                "used": {
                    "tool_calls": state.used.tool_calls,
                    "tokens": None if state.used.unknown_usage else state.used.tokens,
                    "cost_usd": state.used.cost_usd,
                    "seconds": round(state.used.seconds, 3),
                    "repeated_calls": state.used.repeated_calls,
                    "simulated_seconds": round(state.used.simulated_seconds, 3),
                },
                "remaining": {
                    k: (round(v, 6) if isinstance(v, float) else v)
                    for k, v in (
                        ("tool_calls", state.remaining.tool_calls),
                        ("tokens", state.remaining.tokens),
                        ("cost_usd", state.remaining.cost_usd),
                        ("seconds", state.remaining.seconds),
                        ("repeated_calls", state.remaining.repeated_calls),
                        ("simulated_seconds", state.remaining.simulated_seconds),
                    )
                    if v is not None
                },
            },
            "breaches": [
                {"key": b.key, "limit": b.limit, "used": b.used, "message": self.text(b.message)}
                for b in state.breaches
            ],
        }


def _tokens(call: ModelCall) -> dict[str, int | None]:
    """A model call's token counts; all null when its answer carried no usage (unknown, not 0)."""
    usage, known = call.usage, call.usage_known
    return {
        "input": usage.input_tokens if known else None,
        "output": usage.output_tokens if known else None,
        "cached_input": usage.cached_input_tokens if known else None,
        "cache_creation_input": usage.cache_creation_input_tokens if known else None,
        "total": usage.total_tokens if known else None,
    }


def _run_usage(usage: RunUsage) -> dict[str, Any]:
    """The footer's totals: null token sums while any call's usage is unknown, with those calls named."""
    known = usage.tokens_known
    out: dict[str, Any] = {
        "input_tokens": usage.input_tokens if known else None,
        "output_tokens": usage.output_tokens if known else None,
        "cached_input_tokens": usage.cached_input_tokens if known else None,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens if known else None,
        "total_tokens": usage.total_tokens if known else None,
        "cost_usd": usage.cost_usd,
        "unpriced_models": list(usage.unpriced_models),
    }
    if not known:
        out["unknown_usage_calls"] = list(usage.unknown_calls)
    return out


def is_tool_error(event: Event) -> bool:
    """A tool call its backend answered with 4xx/5xx (a policy denial or a cassette miss is not one)."""
    from pytest_agentops.readers.figures import is_tool_error as tool_error

    return tool_error(event)


def _name(event: Event) -> str:
    from pytest_agentops.readers.assertions import _what

    return _what(event)


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}Z"


def write(path: Path, lines: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(line, ensure_ascii=False, default=_default) + "\n" for line in lines)
    write_atomic(path, text.encode("utf-8"))


def write_trace(
    root: Path,
    run: Run,
    meta: Mapping[str, Any],
    *,
    redactor: Redactor | None = None,
    inline: bool = False,
    on_error: Callable[[str], None] | None = None,
) -> Path | None:
    """Write ``run``'s trace under ``root``; the path written (None if it could not be)."""
    guard = run.guard
    writer = TraceWriter(
        LoggingRules.of(run.contract),
        redactor=redactor,
        payloads=None if inline else PayloadStore(root),
        prices=getattr(guard, "prices", None),
    )
    path = root / relative_path(run.test_id)
    try:
        write(path, writer.lines(run, meta))
    except OSError as exc:
        if on_error is not None:
            on_error(f"pytest-agentops: could not write the trace {path}: {exc}")
        return None
    return path


def read(path: Path) -> list[dict[str, Any]]:
    """The lines of a trace file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
