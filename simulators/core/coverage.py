"""The coverage table of a simulator, generated from its route declarations.

Docs embed it between two markers, and a test checks the embedded copy is current, so the
table cannot drift from what the simulator serves:

    <!-- coverage:billing -->
    ...generated table...
    <!-- /coverage:billing -->

Regenerate with ``python -m simulators.core.coverage billing --write docs/simulators.md``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulators.core.routing import Route
    from simulators.core.simulator import Simulator

#: parameters every endpoint of a service takes, listed once above the table instead of per row
COMMON = ("expand",)


def _params(route: Route) -> str:
    if route.params is None:
        return ""
    names = [n for n in route.params.model_fields if n not in COMMON]
    return ", ".join(f"`{n}`" for n in names)


def coverage_table(cls: type[Simulator]) -> str:
    """A Markdown table: one row per operation (endpoint, tool, accepted parameters)."""
    lines = [
        f"{len(cls.routes)} operations. Validated against: {cls.validated_against or 'its own OpenAPI document'}.",
        "",
        "| endpoint | tool | parameters |",
        "| --- | --- | --- |",
    ]
    order = {spec.name: i for i, spec in enumerate(cls.resources)}
    by_resource = sorted(cls.routes, key=lambda r: order.get(r.resource, order.get(r.resource.split("_")[0] + "s", 99)))
    for route in by_resource:
        lines.append(f"| `{route.method} {route.path}` | `{route.tool}` | {_params(route)} |")
    return "\n".join(lines) + "\n"


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- coverage:{name} -->", f"<!-- /coverage:{name} -->"


def embedded(text: str, name: str) -> str | None:
    """The table embedded in ``text`` for simulator ``name`` (None if the markers are missing)."""
    start, end = _markers(name)
    m = re.search(re.escape(start) + r"\n(.*?)" + re.escape(end), text, re.S)
    return None if m is None else m.group(1)


def embed(text: str, name: str, table: str) -> str:
    start, end = _markers(name)
    if embedded(text, name) is None:
        raise ValueError(f"no {start} ... {end} markers to fill")
    pattern = re.escape(start) + r"\n.*?" + re.escape(end)
    return re.sub(pattern, lambda _: f"{start}\n{table}{end}", text, count=1, flags=re.S)


def main(argv: list[str] | None = None) -> int:
    from simulators import simulator_class

    parser = argparse.ArgumentParser(description="Print (or embed) a simulator's generated coverage table.")
    parser.add_argument("name", help="billing, ticketing or crm")
    parser.add_argument("--write", type=Path, help="fill the coverage markers of this Markdown file")
    args = parser.parse_args(argv)
    table = coverage_table(simulator_class(args.name))
    if args.write is None:
        print(table, end="")
        return 0
    args.write.write_text(embed(args.write.read_text(encoding="utf-8"), args.name, table), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
