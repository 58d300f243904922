"""Small HTML pieces the report's sections share: escaping, tables, bars, pretty JSON, reading
JSON values defensively."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any

from pytest_agentops.readers import formats as fmt

MAX_PAYLOAD_CHARS = 200_000  # a payload longer than this (pretty-printed) is cut in the page


# ---- small helpers ------------------------------------------------------------------------------


def asset(name: str) -> str:
    return resources.files(__package__ or "pytest_agentops").joinpath("assets", name).read_text(encoding="utf-8")


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def pre(text: str) -> str:
    """Text content (not an attribute): ``<``, ``>`` and ``&`` escaped; quotes stay, JSON is full of them."""
    shown = html.escape(text[:MAX_PAYLOAD_CHARS], quote=False)
    if len(text) > MAX_PAYLOAD_CHARS:
        cut = len(text) - MAX_PAYLOAD_CHARS
        return f'<pre>{shown}</pre><p class="note">… {cut:,} more characters not shown</p>'
    return f"<pre>{shown}</pre>"


def pretty(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def html_table(head: Iterable[str], rows: Iterable[Sequence[str]], *, numeric_from: int) -> str:
    """A table from already-escaped cells (``head`` is escaped here)."""
    ths = "".join(f"<th{' class=n' if i >= numeric_from else ''}>{esc(h)}</th>" for i, h in enumerate(head))
    trs = "".join(
        "<tr>" + "".join(f"<td{' class=n' if i >= numeric_from else ''}>{c}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<div class="scroll"><table><thead><tr>{ths}</tr></thead><tbody>{trs}</tbody></table></div>'


def bar(fraction: float, label: str, *, small: bool = False) -> str:
    tone = "over" if fraction > 1 else "high" if fraction >= 0.8 else ""
    width = min(max(fraction, 0.0), 1.0) * 100
    return (f'<span class="bar {tone}{" small" if small else ""}" title="{esc(label)}">'
            f'<i style="width:{width:.1f}%"></i><em>{esc(label)}</em></span>')  # fmt: skip


def as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def as_number(value: Any) -> float:
    return fmt.real(value) or 0.0


def as_int(value: Any) -> int:
    return int(fmt.real(value) or 0)


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def per_line(value: Any, what: str, *, digits: int = 1, pct: bool = False, usd: bool = False) -> str:
    """A tile's second line (``2,708 per task``), empty when there is no figure."""
    number = fmt.real(value)
    if number is None:
        return ""
    shown = fmt.pct(number) if pct else fmt.usd(number) if usd else fmt.num(number, digits)
    if not pct and not usd and number >= 1000:
        shown = f"{number:,.0f}"
    return f"{shown} {what}"


def amount(key: str, value: float) -> str:
    if key == "max_cost_usd":
        return fmt.usd(value)
    if key in ("timeout_seconds", "max_simulated_seconds"):
        return f"{value:.2f} s"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
