"""How every reader writes a figure (terminal scorecard, baseline messages, the HTML page), so the
same number reads the same everywhere. ``None`` (unknown, or nothing to divide by) is ``-``; a cost
that is unknown because a model has no price is ``unknown``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def real(value: Any) -> float | None:
    """A JSON number as a finite float; None for anything else (NaN, infinities, huge ints, text, bools)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def pct(value: Any) -> str:
    """A ratio as a percentage: ``0.25`` -> ``25.0%``."""
    number = real(value)
    return "-" if number is None else f"{number * 100:.1f}%"


def usd(value: Any, unpriced: Sequence[Any] = ()) -> str:
    """Money: six decimals under a dollar (token costs are tiny), cents with separators above."""
    number = real(value)
    if number is None:
        return "unknown" if unpriced else "-"
    return f"${number:.6f}" if number < 1 else f"${number:,.2f}"


def num(value: Any, digits: int = 1, *, trim: bool = False) -> str:
    """A figure that may be fractional: ``3`` stays ``3``, ``2.333`` is ``2.3``; ``trim`` drops
    trailing zeros (``2.50`` -> ``2.5``)."""
    number = real(value)
    if number is None:
        return "-"
    if number == int(number):
        return str(int(number))
    shown = f"{number:.{digits}f}"
    return shown.rstrip("0").rstrip(".") if trim else shown


def count(value: Any) -> str:
    """A whole number with thousands separators (tokens, calls)."""
    number = real(value)
    return "-" if number is None else f"{int(number):,}"


def ms(value: Any) -> str:
    """A duration given in milliseconds: ``12.3 ms`` or ``1.20 s``."""
    millis = real(value) or 0.0
    return f"{millis / 1000:.2f} s" if millis >= 1000 else f"{millis:.1f} ms"


def seconds(value: Any) -> str:
    """A duration given in seconds, written like ``ms``."""
    return ms((real(value) or 0.0) * 1000)


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """Aligned terminal columns: the first ``left`` columns left-aligned, the figures right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt(row: Sequence[str]) -> str:
        cells = [c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        return "  ".join(cells).rstrip()

    return [fmt(header), *(fmt(r) for r in rows)]
