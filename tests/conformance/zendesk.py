"""Zendesk conformance for the ticketing tests: every answer checked against the official spec.

A ticketing test module opts in with ``from conformance.zendesk import zendesk_conformance  # noqa:
F401`` (an autouse fixture): when the test ends, every success and error answer any
``TicketingSimulator`` gave during it must validate against its operation and status.

``null`` is allowed anywhere (``null_anywhere=True``): the real service sends it for unset
fields (``assignee_id``, ``due_at``, ``organization_id``...) its spec marks non-nullable. The
simulator's paths end in ``.json`` as zenpy's do; the spec spells them without.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from simulators.ticketing import TicketingSimulator

from .openapi_check import SpecChecker
from .recorder import Recorder

SPEC_FILE = Path(__file__).parent / "specs" / "zendesk_support_trimmed.json"
ALIASES = ((r"\.json$", ""),)


@cache
def zendesk_checker() -> SpecChecker:
    return SpecChecker.from_file(SPEC_FILE, null_anywhere=True, aliases=ALIASES)


@pytest.fixture(autouse=True)
def zendesk_conformance(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    recorder = Recorder(zendesk_checker())
    recorder.install(monkeypatch, TicketingSimulator)
    yield recorder
    recorder.assert_conform()
