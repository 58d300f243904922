"""The coverage tables in the docs are generated from the route declarations and must be current."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators import SIMULATORS, simulator_class
from simulators.core.coverage import coverage_table, embed, embedded, main

PAGE = Path(__file__).parent.parent / "docs" / "simulators.md"


def test_embedded_coverage_tables_are_current() -> None:
    text = PAGE.read_text(encoding="utf-8")
    embedded_names = [name for name in sorted(SIMULATORS) if embedded(text, name) is not None]
    assert embedded_names == ["billing", "crm", "ticketing"]
    for name in embedded_names:
        assert embedded(text, name) == coverage_table(simulator_class(name)), (
            f"regenerate: python -m simulators.core.coverage {name} --write docs/simulators.md"
        )


def test_the_table_has_one_row_per_route_with_its_parameters() -> None:
    cls = simulator_class("billing")
    table = coverage_table(cls)
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) == len(cls.routes)
    assert "| `GET /v1/customers/search` | `billing.customers.search` | `query`, `limit`, `page` |" in rows
    assert cls.api_version in table.splitlines()[0]


def test_embed_fills_markers_and_refuses_a_page_without_them(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# x\n<!-- coverage:billing -->\nstale\n<!-- /coverage:billing -->\nafter\n")
    assert main(["billing", "--write", str(page)]) == 0
    text = page.read_text()
    assert embedded(text, "billing") == coverage_table(simulator_class("billing")) and text.endswith("after\n")
    with pytest.raises(ValueError, match="no <!-- coverage:crm --> "):
        embed(text, "crm", "table")


@pytest.mark.parametrize(
    ("name", "row", "spec"),
    [
        ("ticketing", "| `GET /api/v2/tickets/{ticket_id}/macros/{macro_id}/apply.json` | `ticketing.macros.apply` |",
         "Zendesk's Support API OpenAPI document"),
        ("crm", "| `GET /crm/v3/pipelines/{objectType}/{pipelineId}/stages` | `crm.pipelines.stages` |  |",
         "HubSpot's public API specs"),
    ],
)  # fmt: skip
def test_ticketing_and_crm_tables_name_their_routes_and_spec(name: str, row: str, spec: str) -> None:
    table = coverage_table(simulator_class(name))
    assert any(line.startswith(row) for line in table.splitlines()), row
    assert f"Validated against: {spec}" in table.splitlines()[0]
