"""HubSpot conformance for the crm tests: every answer checked against HubSpot's official specs.

HubSpot publishes one document per API (each object type, associations v4, owners, pipelines,
properties); :func:`hubspot_checker` checks a request against the one that has its operation.
``null`` is allowed anywhere (``null_anywhere=True``): HubSpot answers ``null`` for unset
properties that its specs type as strings. The Deals document spells its paths with the object
type id (``/crm/v3/objects/0-3``) where the simulator (and the SDK) use ``deals``; the checker
reads one as the other.

A crm test module opts in with ``from conformance.hubspot import hubspot_conformance  # noqa:
F401`` (an autouse fixture validating every answer when the test ends).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from simulators.crm import CrmSimulator

from .openapi_check import SpecChecker, SpecSet
from .recorder import Recorder

SPECS = Path(__file__).parent / "specs"
DOCUMENTS = (
    *("contacts", "companies", "deals", "notes", "tickets"),
    *("associations_v4", "owners", "pipelines", "properties"),
)
ALIASES = ((r"^/crm/v3/objects/deals(?=/|$)", "/crm/v3/objects/0-3"),)


@cache
def hubspot_checker() -> SpecSet:
    checkers = [
        SpecChecker.from_file(SPECS / f"hubspot_{name}_trimmed.json", null_anywhere=True, aliases=ALIASES)
        for name in DOCUMENTS
    ]
    return SpecSet(checkers, name="HubSpot CRM specs")


@pytest.fixture(autouse=True)
def hubspot_conformance(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    recorder = Recorder(hubspot_checker())
    recorder.install(monkeypatch, CrmSimulator)
    yield recorder
    recorder.assert_conform()
