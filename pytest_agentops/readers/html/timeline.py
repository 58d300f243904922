"""One test's section of the HTML report: its metadata, budget meters and the timeline of steps,
each step with its payloads (a model request shown as the change from the previous one)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pytest_agentops.readers import formats as fmt
from pytest_agentops.readers import scorecard
from pytest_agentops.readers.html.inputs import GROUPS, Entry, Payloads, Trace
from pytest_agentops.readers.html.markup import amount, as_dict, as_list, as_number, as_text, bar, esc, pre, pretty

# Budget limit (footer ``budget.limits``) -> (its ``budget.used`` key, label).
_METERS = {
    "max_tool_calls": ("tool_calls", "tool calls"),
    "max_tokens_total": ("tokens", "tokens"),
    "max_cost_usd": ("cost_usd", "cost"),
    "timeout_seconds": ("seconds", "seconds"),
    "max_repeated_calls": ("repeated_calls", "repeated calls"),
    "max_simulated_seconds": ("simulated_seconds", "simulated seconds"),
}


# ---- the tests section --------------------------------------------------------------------------


def render_tests(entries: Sequence[Entry], payloads: Payloads) -> str:
    counts = {group: sum(1 for e in entries if e.group == group) for group in GROUPS}
    buttons = [("all", len(entries)), *((g, counts[g]) for g in ("passed", "failed", "skipped"))]
    out = ['<section id="tests" class="card">\n<h2>Tests</h2>\n']
    out.append('<div id="controls" class="controls" hidden>')
    for name, n in buttons:
        pressed = "true" if name == "all" else "false"
        out.append(f'<button type="button" class="filter f-{name}" data-filter="{name}" aria-pressed="{pressed}">'
                   f"{name} <span>{n:,}</span></button>")  # fmt: skip
    out.append(
        '<input id="search" type="search" placeholder="search test names  ( / )" aria-label="search test names">'
        '<button type="button" id="expand">expand all</button><button type="button" id="collapse">collapse all</button>'
        '<span id="shown" class="muted"></span></div>\n'
    )
    out.extend(render_test(entry, payloads) for entry in entries)
    out.append("</section>\n")
    return "".join(out)


def render_test(entry: Entry, payloads: Payloads) -> str:
    """One test: a summary line, then (open for failures) its budget meters and its timeline."""
    figs, trace = entry.figs, entry.trace
    incomplete = trace is not None and not trace.complete
    outcome = entry.outcome
    badges = [f'<span class="badge {esc(outcome)}">{esc(outcome)}</span>']
    if incomplete and outcome != "incomplete":
        badges.append('<span class="badge incomplete">incomplete</span>')
    if figs.get("escalations"):
        badges.append('<span class="badge escalated">escalated</span>')
    if as_list(figs.get("budget_breaches")):
        badges.append('<span class="badge failed">over budget</span>')
    tokens = as_dict(figs.get("tokens")).get("total")
    stats = [
        f"{fmt.count(figs.get('model_calls'))} model",
        f"{fmt.count(figs.get('tool_calls'))} tool",
        f"{fmt.count(tokens)} tok",
        fmt.usd(figs.get("cost_usd"), as_list(figs.get("unpriced_models"))),
        fmt.seconds(figs.get("duration_s")),
    ]
    if figs.get("denials"):
        stats.insert(2, f"{fmt.count(figs.get('denials'))} denied")
    stat_text = " · ".join(stats)
    top = max((used / limit if limit else 0.0 for _, _, used, limit in meters(trace)), default=None)
    budget = "" if top is None else bar(top, f"budget {top * 100:.0f}%", small=True)
    contract = as_text(figs.get("contract"))
    is_open = " open" if entry.group == "failed" or incomplete else ""
    out = [
        f'<details class="test" data-group="{entry.group}" data-name="{esc(entry.nodeid.lower())}"{is_open}>',
        f'<summary><span class="badges">{"".join(badges)}</span><span class="name">{esc(entry.nodeid)}</span>',
        f'<span class="contract">{esc(contract)}</span>' if contract and contract != scorecard.NO_CONTRACT else "",
        f'<span class="stats" title="{esc(stat_text)}">{esc(stat_text)}</span>{budget}</summary>\n<div class="body">',
    ]
    out.append(_test_meta(entry))
    if trace is None:
        out.append('<p class="note">No trace file: the test made no call that reached a trace (e.g. it was skipped '
                   "before its setup).</p>")  # fmt: skip
    else:
        out.append(_meters_html(trace, as_list(figs.get("budget_breaches"))))
        out.append(_timeline(trace, payloads))
        if incomplete:
            out.append('<p class="warn">Incomplete trace: the file has no footer line (the test process died '
                       "before the test finished, or the file was cut). The figures above are recounted from "
                       "its events.</p>")  # fmt: skip
    out.append("</div></details>\n")
    return "".join(out)


def _test_meta(entry: Entry) -> str:
    figs, trace = entry.figs, entry.trace
    items: list[tuple[str, str]] = []
    if figs.get("trace_id"):
        items.append(("trace id", f"<code>{esc(as_text(figs.get('trace_id')))}</code>"))
    if trace is not None:
        items.append(("trace file", f"<code>{esc(trace.file)}</code>"))
        if trace.header.get("started_at"):
            items.append(("started", esc(as_text(trace.header.get("started_at")))))
        logging = as_dict(trace.header.get("logging"))
        if logging:
            items.append(("logging", esc(_logging_text(logging))))
    if figs.get("attempt") is not None:
        items.append(
            ("attempt", esc(f"{as_text(figs.get('attempt'))}/{as_text(figs.get('k'))} of {as_text(figs.get('task'))}"))
        )
    for reason in as_list(figs.get("escalations")):
        items.append(("escalated", esc(as_text(reason)) or "(no reason)"))
    failure = as_dict(trace.header.get("failure")) if trace is not None else {}
    if failure:
        when = as_text(failure.get("when"))
        items.append(
            (
                f"failed in {when}" if when else "failed",
                f'<span class="bad-text failure">{esc(as_text(failure.get("message")))}</span>',
            )
        )
    if trace is not None and trace.footer is not None:
        for breach in as_list(trace.footer.get("breaches")):
            items.append(("budget", f'<span class="bad-text">{esc(as_text(as_dict(breach).get("message")))}</span>'))
    if not items:
        return ""
    return '<p class="facts">' + "".join(f"<span><em>{k}</em> {v}</span>" for k, v in items) + "</p>"


def _logging_text(logging: Mapping[str, Any]) -> str:
    """The contract's ``logging`` settings in words: what this trace may hold."""
    words = {
        "store_prompt": ("prompts kept", "prompts not kept"),
        "store_tool_io": ("tool I/O kept", "tool I/O not kept"),
        "pii_redaction": ("PII masked", "PII not masked"),
    }
    parts = [words[k][0 if v else 1] if k in words else f"{k} = {as_text(v)}" for k, v in logging.items()]
    return " · ".join(parts)


def meters(trace: Trace | None) -> Iterator[tuple[str, str, float, float]]:
    """(limit key, label, used, limit) for each budget limit of the trace's footer."""
    if trace is None or trace.footer is None:
        return
    budget = as_dict(trace.footer.get("budget"))
    used = as_dict(budget.get("used"))
    for key, limit in as_dict(budget.get("limits")).items():
        number = fmt.real(limit)
        if number is None:
            continue
        used_key, label = _METERS.get(key, (key.removeprefix("max_"), key.removeprefix("max_").replace("_", " ")))
        yield key, label, as_number(used.get(used_key)), number


def _meters_html(trace: Trace, breaches: Sequence[Any]) -> str:
    rows = []
    for key, label, used, limit in meters(trace):
        fraction = used / limit if limit else (1.0 if used else 0.0)
        text = f"{amount(key, used)} / {amount(key, limit)}"
        over = " over" if key in breaches or fraction > 1 else ""
        rows.append(f'<span class="meter-row{over}"><span class="label">{esc(label)}</span>'
                    f"{bar(fraction, text)}</span>")  # fmt: skip
    if not rows:
        return ""
    return '<div class="meters"><h4>Budget</h4>' + "".join(rows) + "</div>"


def _timeline(trace: Trace, payloads: Payloads) -> str:
    events = trace.events
    if not events:
        return '<p class="note">No calls were recorded.</p>'
    span = max((as_number(e.get("offset_ms")) + as_number(e.get("duration_ms")) for e in events), default=0.0) or 1.0
    out = [
        f'<div class="timeline" role="list" aria-label="steps"><div class="step-head"><span>#</span><span>at</span>'
        "<span>kind</span><span>step</span><span>backend</span><span>status</span><span>tokens</span>"
        f"<span>cost</span><span>time</span><span>0 - {esc(fmt.ms(span))}</span></div>"
    ]
    previous: _Previous = {}
    out.extend(render_step(event, span, payloads, previous) for event in events)
    out.append("</div>")
    return "".join(out)


# The last model request shown in a test, by provider: (its seq, its JSON value).
_Previous = dict[str, tuple[str, dict[str, Any]]]
_CONVERSATION_KEYS = ("messages", "input", "contents")  # chat/Anthropic, Responses, and the like


def request_delta(value: dict[str, Any], before: dict[str, Any]) -> tuple[dict[str, Any], list[str], int]:
    """What a model request adds to the previous one of its test: (new part, keys left out, messages kept).

    Each call of a conversation resends the system prompt, the tools and every earlier message, so
    showing them again makes the page grow with the square of the conversation. Keys equal to the
    previous request's are left out (and named); a conversation list that extends the previous one
    shows its new items only, as ``messages[N:]``.
    """
    shown: dict[str, Any] = {}
    same: list[str] = []
    kept = 0
    for key, item in value.items():
        earlier = before.get(key)
        if key in before and earlier == item:
            same.append(key)
        elif (
            key in _CONVERSATION_KEYS
            and isinstance(item, list)
            and isinstance(earlier, list)
            and 0 < len(earlier) <= len(item)
            and item[: len(earlier)] == earlier
        ):
            kept = len(earlier)
            shown[f"{key}[{kept}:]"] = item[kept:]
        else:
            shown[key] = item
    return shown, same, kept


def render_step(event: Mapping[str, Any], span: float, payloads: Payloads, previous: _Previous | None = None) -> str:
    """One event: a summary row (with its place on the test's time axis) and its details."""
    kind = as_text(event.get("kind")) or "event"
    backend = as_text(event.get("backend"))
    status = event.get("status")
    tone = "denied" if backend == "policy" else "miss" if backend == "miss" else "error" if _is_error(event) else ""
    offset, duration = as_number(event.get("offset_ms")), as_number(event.get("duration_ms"))
    tokens = as_dict(event.get("tokens")).get("total") if kind == "model" else None
    cost = fmt.usd(event.get("cost_usd"), ["?"]) if kind == "model" else ""
    left = min(max(offset / span, 0.0), 1.0) * 100
    width = max(min(duration / span * 100, 100 - left), 0.6)
    name = as_text(event.get("name")) or as_text(event.get("tool")) or as_text(event.get("model")) or "?"
    note = _note(event, payloads)
    row = (
        f'<summary class="row"><span class="seq">{esc(as_text(event.get("seq")))}</span>'
        f'<span class="at">{esc(fmt.ms(offset))}</span><span class="kind k-{esc(kind)}">{esc(kind)}</span>'
        f'<span class="what"><b>{esc(name)}</b>{note}</span>'
        f'<span class="backend b-{esc(backend)}">{esc(backend)}</span>'
        f'<span class="status">{esc(as_text(status))}</span>'
        f'<span class="num">{_tokens(event, tokens)}</span>'
        f'<span class="num">{esc(cost)}</span><span class="num">{esc(fmt.ms(duration))}</span>'
        f'<span class="gantt"><i style="left:{left:.2f}%;width:{width:.2f}%"></i></span></summary>'
    )
    detail = _step_detail(event, payloads, {} if previous is None else previous)
    return f'<details class="step {tone}" role="listitem">{row}<div class="detail">{detail}</div></details>'


def _is_error(event: Mapping[str, Any]) -> bool:
    status = event.get("status")
    return isinstance(status, int) and status >= 400


def _note(event: Mapping[str, Any], payloads: Payloads) -> str:
    """The short line under a step's name: denial, miss, error, what the model asked or said."""
    backend = event.get("backend")
    error = as_text(event.get("error"))
    if backend == "policy":
        return (f'<span class="note denied-text">denied by <code>{esc(as_text(event.get("rule")) or "?")}</code>'
                f"{': ' + esc(error) if error else ''}</span>")  # fmt: skip
    if backend == "miss":
        return f'<span class="note bad-text">cassette miss{": " + esc(error) if error else ""}</span>'
    if error:
        return f'<span class="note bad-text">{esc(error.splitlines()[0][:200])}</span>'
    asked = [as_text(as_dict(t).get("name")) for t in as_list(event.get("tool_calls_requested"))]
    if asked:
        return f'<span class="note">asks for {esc(", ".join(asked))}</span>'
    requested = as_dict(event.get("requested_by"))
    by = f" by {as_text(event.get('agent'))}" if isinstance(event.get("agent"), str) else ""
    if requested:
        return f'<span class="note">for model call #{esc(as_text(requested.get("seq")))}{esc(by)}</span>'
    said = _answer_text(event, payloads)
    if said:
        return f'<span class="note">says “{esc(said[:160])}”</span>'
    return ""


def _answer_text(event: Mapping[str, Any], payloads: Payloads) -> str:
    """What a model call answered (its response's ``text``), when the trace kept it."""
    if event.get("kind") != "model":
        return ""
    response = event.get("response")
    if response is None:
        response = payloads.value(as_dict(event.get("payloads")).get("response"))
    text = as_dict(response).get("text")
    return " ".join(text.split()) if isinstance(text, str) else ""


def _request_html(event: Mapping[str, Any], value: Any, previous: _Previous) -> str | None:
    """A model request as what it adds to the test's previous one (None: show it whole)."""
    if event.get("kind") != "model" or not isinstance(value, dict):
        return None
    provider = as_text(event.get("provider")) or as_text(event.get("url"))
    before = previous.get(provider)
    previous[provider] = (as_text(event.get("seq")), value)
    if before is None:
        return None
    shown, same, kept = request_delta(value, before[1])
    if not same and not kept:
        return None
    parts = [f"<code>{esc(k)}</code>" for k in same]
    if kept:
        parts.append(f"the first {kept} item(s) of the conversation")
    note = f'<p class="note same">As in step #{esc(before[0])}: {", ".join(parts)}. New in this request:</p>'
    return note + pre(pretty(shown))


def _step_detail(event: Mapping[str, Any], payloads: Payloads, previous: _Previous) -> str:
    facts: list[tuple[str, str]] = [("request", f"{as_text(event.get('method'))} {as_text(event.get('url'))}".strip())]
    for key, label in (("model", "model"), ("provider", "provider"), ("stop_reason", "stop reason"),
                       ("streamed", "streamed"), ("tool", "tool"), ("access", "access"), ("rule", "rule"),
                       ("error", "error")):  # fmt: skip
        if event.get(key) not in (None, "", False):
            facts.append((label, as_text(event.get(key))))
    tokens = as_dict(event.get("tokens"))
    if tokens:
        facts.append(("tokens", ", ".join(f"{k} {as_text(v)}" for k, v in tokens.items())))
    requested = as_dict(event.get("requested_by"))
    if requested:
        facts.append(
            ("requested by", f"model call #{as_text(requested.get('seq'))} ({as_text(requested.get('tool_call_id'))})")
        )
    out = ['<dl class="meta">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts) + "</dl>"]
    blocks = 0
    for name in ("arguments", "request", "response"):
        if name in event:
            inline = _request_html(event, event[name], previous) if name == "request" else None
            out.append(f'<div class="payload"><h5>{name}</h5>{inline or pre(pretty(event[name]))}</div>')
            blocks += 1
    for name, digest in as_dict(event.get("payloads")).items():
        body = _request_html(event, payloads.value(digest), previous) if name == "request" else None
        out.append(f'<div class="payload"><h5>{esc(as_text(name))} <span class="muted">payloads/'
                   f"{esc(as_text(digest)[:12])}…</span></h5>{body or payloads.html(digest)}</div>")  # fmt: skip
        blocks += 1
    omitted = [as_text(o) for o in as_list(event.get("omitted"))]
    if omitted:
        out.append(f'<p class="note">{esc(", ".join(omitted))}: not stored (the contract\'s logging settings).</p>')
    elif not blocks:
        out.append('<p class="note">No payload in the trace for this step.</p>')
    return "".join(out)


def _tokens(event: Mapping[str, Any], total: Any) -> str:
    """A model row's tokens: "unknown" when its answer carried no usage (never shown as 0)."""
    if event.get("usage") == "unknown":
        return "unknown"
    return fmt.count(total) if total is not None else ""
