"""Stripe conformance for the billing tests: every answer checked strictly against the official spec.

A billing test module opts in with ``from conformance.stripe import stripe_conformance  # noqa: F401``
(an autouse fixture): when the test ends, every success and error answer any ``BillingSimulator``
gave during it must validate against its operation and status, or the test fails listing them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from simulators.billing import BillingSimulator

from .openapi_check import SpecChecker
from .recorder import Recorder

SPECS = Path(__file__).parent / "specs"
SPEC_FILE = SPECS / "stripe_spec3_trimmed.json"
FIXTURES_FILE = SPECS / "stripe_fixtures3_trimmed.json"


@cache
def stripe_checker() -> SpecChecker:
    return SpecChecker.from_file(SPEC_FILE)


@cache
def stripe_fixtures() -> dict[str, Any]:
    resources: dict[str, Any] = json.loads(FIXTURES_FILE.read_text(encoding="utf-8"))["resources"]
    return resources


@pytest.fixture(autouse=True)
def stripe_conformance(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    recorder = Recorder(stripe_checker())
    recorder.install(monkeypatch, BillingSimulator)
    yield recorder
    recorder.assert_conform()
