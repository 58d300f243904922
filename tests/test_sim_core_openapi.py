"""The OpenAPI document and the tool descriptors derived from the route table."""

from __future__ import annotations

import json
import re

import pytest
from openapi_spec_validator import validate

from simulators.billing import BillingSimulator
from simulators.core.routing import TOOL_NAME


@pytest.fixture(scope="module")
def doc() -> dict[str, object]:
    sim = BillingSimulator()
    r = sim.handle("GET", sim.base_url + "/openapi.json", {})
    assert r.status == 200 and r.headers["Content-Type"] == "application/json"
    served: dict[str, object] = json.loads(r.body)
    return served


def test_served_document_is_valid_openapi_31(doc: dict[str, object]) -> None:
    assert doc["openapi"] == "3.1.0"
    validate(doc)


def test_every_route_appears_with_its_tool_name(doc: dict[str, object]) -> None:
    paths = doc["paths"]
    assert isinstance(paths, dict)
    for route in BillingSimulator.routes:
        op = paths[route.path][route.method.lower()]
        assert op["operationId"] == route.tool
        assert op["x-agentops-kind"] == route.kind
        if route.method == "POST":
            assert "application/x-www-form-urlencoded" in op["requestBody"]["content"]
            assert any(p["name"] == "Idempotency-Key" for p in op["parameters"])
    ops = sum(len(v) for k, v in paths.items() if k != "/openapi.json")
    assert ops == len(BillingSimulator.routes) >= 20


def test_error_codes_are_documented(doc: dict[str, object]) -> None:
    codes = doc["x-agentops-error-codes"]
    assert isinstance(codes, dict)
    for route in BillingSimulator.routes:
        for code in route.errors:
            assert code in codes, (route.tool, code)
    for code in ("idempotency_error", "idempotency_key_in_use", "card_declined", "amount_too_large"):
        assert code in codes
    assert codes["idempotency_key_in_use"]["status"] == 409


def test_tool_descriptors_as_data() -> None:
    tools = {t["tool"]: t for t in BillingSimulator.tools()}
    for name in (
        "billing.refunds.create",
        "billing.customers.retrieve",
        "billing.payment_intents.confirm",
        "billing.payment_intents.cancel",
        "billing.invoices.pay",
        "billing.charges.list",
    ):
        assert name in tools
    assert all(TOOL_NAME.match(n) for n in tools)
    refund = tools["billing.refunds.create"]
    assert refund["kind"] == "write" and refund["method"] == "POST" and refund["path"] == "/v1/refunds"
    assert refund["resource"] == "refunds" and refund["action"] == "create"
    assert "amount" in refund["input_schema"]["properties"]
    confirm = tools["billing.payment_intents.confirm"]
    assert confirm["input_schema"]["required"][0] == "intent"
    assert tools["billing.customers.retrieve"]["kind"] == "read"
    json.dumps(list(tools.values()))  # plain data, serializable as is


def test_route_for_maps_urls_to_tools() -> None:
    route = BillingSimulator.route_for("post", "https://api.stripe.com/v1/payment_intents/pi_123/confirm?x=1")
    assert route is not None and route.tool == "billing.payment_intents.confirm"
    assert BillingSimulator.route_for("GET", "/v1/nope") is None
    assert re.fullmatch(r"billing\.\w+\.\w+", BillingSimulator.route_for("GET", "/v1/charges").tool)  # type: ignore[union-attr]


def test_document_is_built_once() -> None:
    assert BillingSimulator.openapi_document() is BillingSimulator.openapi_document()
    a, b = BillingSimulator(base_url="https://a.example"), BillingSimulator()
    assert a.openapi()["servers"] == [{"url": "https://a.example"}]
    assert b.openapi()["servers"] == [{"url": b.base_url}]
