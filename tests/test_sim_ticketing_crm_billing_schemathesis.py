"""Schemathesis against the OpenAPI documents of all three simulators (billing, ticketing, crm),
each served on the loopback server: for every operation, generated requests must never get a
5xx and every answer must match the documented schema (success model or the service's error
object). Path parameters are sometimes swapped for ids that exist, so success paths are reached
too, not only 404s.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from simulators import simulator_class
from simulators.core.server import SimServer

EXAMPLES = 8

#: values that name existing objects, per simulator (after ``seed_demo``)
KNOWN: dict[str, list[str]] = {
    "ticketing": ["1", "2", "3", "4", "5"],
    "crm": ["contacts", "companies", "deals", "notes", "1", "2", "3", "279", "202", "contact_to_company"],
}


def _fuzz(op: Any, base_url: str, headers: dict[str, str], known: list[str], statuses: dict[str, set[int]]) -> Any:
    @given(case=op.as_strategy(), data=st.data())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    def run(case: Any, data: st.DataObject) -> None:
        if case.path_parameters and data.draw(st.booleans()):
            for param in list(case.path_parameters):
                case.path_parameters[param] = data.draw(st.sampled_from(known))
        response = case.call(base_url=base_url, headers=headers)
        statuses.setdefault(op.label, set()).add(response.status_code)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    return run


@pytest.mark.parametrize("name", ["billing", "ticketing", "crm"])
def test_schemathesis_no_5xx_and_answers_match_the_schema(name: str) -> None:
    sim = simulator_class(name)()
    demo = sim.seed_demo()  # type: ignore[attr-defined]
    known = KNOWN.get(name) or [i for ids in demo.values() for i in ids if isinstance(i, str)]
    schema = schemathesis.openapi.from_dict(sim.openapi())
    headers = sim.auth_headers()
    failures: dict[str, str] = {}
    statuses: dict[str, set[int]] = {}
    with SimServer(sim) as server:
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) == len(type(sim).routes) + 1  # + /openapi.json
        for op in operations:
            try:
                _fuzz(op, server.base_url, headers, known, statuses)()
            except Exception as exc:
                failures[op.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    assert sim.internal_errors == []
    reached = sum(any(200 <= s < 300 for s in codes) for codes in statuses.values())
    assert reached >= len(operations) // 3, statuses  # the fuzz reaches success paths, not only errors
