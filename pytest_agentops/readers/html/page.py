"""``agentops report TRACE_DIR -o report.html``: one self-contained HTML file from the trace files.

The page is rendered here, on the server side, so it reads with JavaScript off: the scorecard, then
one ``<details>`` per test holding its budget meters and its timeline of steps, each step a
``<details>`` with its payloads. The small inline script only adds the outcome filter, the search and
expand/collapse. Nothing is fetched: CSS and JS are inline, and a Content-Security-Policy forbids
every request and every script but ours (by hash), so a payload that got past the escaping still
could not run.

Figures come from the traces the way the scorecard reads them: each trace becomes the per-test
figures dict of ``scorecard.figures``, and ``scorecard.build`` aggregates them (or the JSON
``--agent-report`` of the same session is used as is, with ``--scorecard``).

Every string is HTML-escaped; the JSON embedded in ``<script type="application/json">`` has ``<``,
``>`` and ``&`` as ``\\u003c``-style escapes, so neither ``</script>`` nor ``<!--`` can end it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_agentops.readers.html.inputs import (
    Entry,
    Payloads,
    ReportInputError,
    Source,
    Trace,
    build_entries,
    figures_of,
    load_scorecard,
    load_traces,
    read_trace,
)
from pytest_agentops.readers.html.markup import MAX_PAYLOAD_CHARS, as_text, asset, esc
from pytest_agentops.readers.html.summary import render_scorecard
from pytest_agentops.readers.html.timeline import render_step, render_test, render_tests, request_delta

# The page is assembled here from one module per job (inputs, summary, timeline, markup); the names
# other code and tests import from ``page`` stay importable from it.
__all__ = [
    "MAX_PAYLOAD_CHARS",
    "Entry",
    "Payloads",
    "ReportInputError",
    "Source",
    "Trace",
    "Written",
    "build_entries",
    "figures_of",
    "json_script",
    "load_scorecard",
    "load_traces",
    "read_trace",
    "render",
    "render_scorecard",
    "render_step",
    "render_test",
    "request_delta",
    "write_report",
]

# ---- the page -----------------------------------------------------------------------------------


def render(entries: Sequence[Entry], report: Mapping[str, Any], payloads: Payloads, source: Source) -> str:
    """The whole HTML document."""
    css, js = asset("report.css"), asset("report.js")
    script_hash = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    csp = (
        f"default-src 'none'; script-src 'sha256-{script_hash}'; style-src 'unsafe-inline'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    starts = sorted(filter(None, (as_text(e.trace.header.get("started_at")) for e in entries if e.trace is not None)))
    subtitle = [f"{len(entries):,} test(s) from <code>{esc(source.trace_dir)}</code>"]
    if source.scorecard:
        subtitle.append(f"scorecard <code>{esc(source.scorecard)}</code>")
    if starts:
        subtitle.append(f"run started {esc(starts[0])}")
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">\n',
        '<meta name="generator" content="pytest-agentops">\n',
        f"<title>{esc(source.title)}</title>\n",
        '<link rel="icon" href="data:,">\n',
        f"<style>\n{css}</style>\n</head>\n<body>\n",
        f'<header class="top"><h1>{esc(source.title)}</h1><p class="sub">{" · ".join(subtitle)}</p></header>\n',
        "<main>\n",
        render_scorecard(entries, report),
        render_tests(entries, payloads),
        "</main>\n",
        json_script("agentops-data", _page_data(report)),
        f"<script>{js}</script>\n</body>\n</html>\n",
    ]
    return "".join(parts)


def json_script(element_id: str, value: Any) -> str:
    """``value`` as a ``<script type="application/json">`` block no string inside can break out of."""
    text = json.dumps(_strict_json(value), ensure_ascii=False, separators=(",", ":"), default=str)
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f'<script type="application/json" id="{esc(element_id)}">{text}</script>\n'


def _strict_json(value: Any) -> Any:
    """``value`` with NaN and infinities as null: ``JSON.parse`` (and other strict readers) refuse them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _strict_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_strict_json(item) for item in value]
    return value


def _page_data(report: Mapping[str, Any]) -> dict[str, Any]:
    """What the page embeds for machines: the scorecard as ``--agent-report`` writes it."""
    return {key: report[key] for key in ("format", "version", "plugin_version", "agents", "total", "pass_k", "tests")
            if key in report}  # fmt: skip


# ---- writing ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Written:
    """What ``write_report`` produced, for the command's one-line summary."""

    path: Path
    tests: int
    failed: int
    incomplete: int
    size: int


def write_report(
    trace_dir: Path, output: Path, *, scorecard_path: Path | None = None, title: str | None = None
) -> Written:
    """Read ``trace_dir`` (and the JSON scorecard), render the page and write it atomically."""
    from pytest_agentops.trace.files import write_atomic

    traces = load_traces(trace_dir)
    card = load_scorecard(scorecard_path) if scorecard_path is not None else None
    entries, report = build_entries(traces, card)
    source = Source(str(trace_dir), str(scorecard_path) if scorecard_path else None, title or "pytest-agentops report")
    data = render(entries, report, Payloads(trace_dir), source).encode("utf-8")
    try:
        write_atomic(output, data)
    except OSError as exc:
        raise ReportInputError(f"{output}: cannot write: {exc.strerror or exc}") from None
    return Written(
        output,
        len(entries),
        sum(1 for e in entries if e.group == "failed"),
        sum(1 for e in entries if e.trace is not None and not e.trace.complete),
        len(data),
    )
