"""The conformance checker itself: it must fail on a wrong answer, or its passes mean nothing."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from conformance.openapi_check import SpecChecker
from conformance.trim import trim

SPECS = Path(__file__).parent / "conformance" / "specs"


@pytest.fixture(scope="module")
def stripe() -> SpecChecker:
    return SpecChecker.from_file(SPECS / "stripe_spec3_trimmed.json")


@pytest.fixture(scope="module")
def fixtures() -> dict[str, Any]:
    resources: dict[str, Any] = json.loads((SPECS / "stripe_fixtures3_trimmed.json").read_text())["resources"]
    return resources


def test_official_example_objects_conform(stripe: SpecChecker, fixtures: dict[str, Any]) -> None:
    assert stripe.violations("GET", "/v1/charges/ch_1", 200, fixtures["charge"]) == []
    assert stripe.violations("GET", "/v1/refunds/re_1", 200, fixtures["refund"]) == []


def test_a_removed_required_field_is_reported(stripe: SpecChecker, fixtures: dict[str, Any]) -> None:
    charge = copy.deepcopy(fixtures["charge"])
    del charge["amount_refunded"]
    charge["outcome"] = None if charge.get("outcome") is None else charge["outcome"]
    found = stripe.violations("GET", "/v1/charges/ch_1", 200, charge)
    assert found == ["GetChargesCharge 200 (body): 'amount_refunded' is a required property"]
    with pytest.raises(AssertionError, match="amount_refunded"):
        stripe.check("GET", "/v1/charges/ch_1", 200, charge)


def test_null_only_where_the_spec_marks_it_nullable(stripe: SpecChecker, fixtures: dict[str, Any]) -> None:
    charge = copy.deepcopy(fixtures["charge"])
    charge["customer"] = None  # anyOf [string, customer] with nullable: true beside it
    assert stripe.violations("GET", "/v1/charges/ch_1", 200, charge) == []
    charge["amount"] = None
    assert stripe.violations("GET", "/v1/charges/ch_1", 200, charge) == [
        "GetChargesCharge 200 .amount: None is not nullable (type 'integer')"
    ]
    lenient = SpecChecker(stripe.document, null_anywhere=True)
    assert lenient.violations("GET", "/v1/charges/ch_1", 200, charge) == []
    charge["amount"] = "12"
    assert lenient.violations("GET", "/v1/charges/ch_1", 200, charge) == [
        "GetChargesCharge 200 .amount: '12' is not of type 'integer'"
    ]


def test_literal_segments_win_and_errors_use_the_default_response(stripe: SpecChecker) -> None:
    assert stripe.operation("GET", "/v1/customers/search").operation_id == "GetCustomersSearch"
    assert stripe.operation("GET", "/v1/customers/cus_1?expand[]=x").operation_id == "GetCustomersCustomer"
    error = {"error": {"type": "invalid_request_error", "message": "No such customer: 'x'", "param": "id"}}
    assert stripe.violations("GET", "/v1/customers/x", 404, error) == []
    assert stripe.violations("GET", "/v1/customers/x", 404, {"error": {"message": "x"}}) == [
        "GetCustomersCustomer 404 .error: 'type' is a required property"
    ]


def test_unknown_operations_and_statuses_are_named(stripe: SpecChecker) -> None:
    with pytest.raises(KeyError, match="no operation for GET /v1/nothing"):
        stripe.operation("GET", "/v1/nothing")
    with pytest.raises(KeyError, match="no operation for PATCH /v1/customers/cus_1"):
        stripe.violations("PATCH", "/v1/customers/cus_1", 200, {})


def test_trim_keeps_referenced_components_and_notes_the_source() -> None:
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {"get": {"description": "long prose", "responses": {"200": {"$ref": "#/components/responses/A"}}}},
            "/b": {"get": {"responses": {}}},
        },
        "components": {
            "responses": {"A": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/a"}}}}},
            "schemas": {
                "a": {"properties": {"b": {"$ref": "#/components/schemas/b"}}},
                "b": {"type": "string", "description": "prose"},
                "unused": {"type": "string"},
            },
        },
    }
    out = trim(doc, ["GET /a"], vendored={"source": "https://example.invalid/spec.json", "licence": "MIT"})
    assert list(out["paths"]) == ["/a"]
    assert out["components"] == {
        "responses": {"A": doc["components"]["responses"]["A"]},
        "schemas": {"a": doc["components"]["schemas"]["a"], "b": {"type": "string"}},
    }
    assert out["info"]["x-vendored"] == {
        "source": "https://example.invalid/spec.json",
        "licence": "MIT",
        "operations": ["GET /a"],
    }
    assert "description" not in out["paths"]["/a"]["get"]
    with pytest.raises(KeyError, match="no operation POST /a"):
        trim(doc, ["POST /a"])


def test_hubspot_documents_as_one_set_with_shared_error_responses_and_aliases() -> None:
    from conformance.hubspot import hubspot_checker

    hubspot = hubspot_checker()
    assert hubspot.operation("GET", "/crm/v3/owners/7").operation_id == "get-/crm/v3/owners/{ownerId}_getById"
    assert hubspot.operation("GET", "/crm/v3/objects/deals/3").template == "/crm/v3/objects/0-3/{dealId}"
    error = {
        "status": "error",
        "message": "resource not found",
        "correlationId": str(uuid.uuid4()),
        "category": "OBJECT_NOT_FOUND",
    }
    assert hubspot.violations("GET", "/crm/v3/owners/7", 404, error) == []  # the shared `Error` response, */*
    assert hubspot.violations("GET", "/crm/v3/owners/7", 404, {"message": "x"}) == [
        "get-/crm/v3/owners/{ownerId}_getById 404 (body): 'category' is a required property",
        "get-/crm/v3/owners/{ownerId}_getById 404 (body): 'correlationId' is a required property",
    ]
    with pytest.raises(KeyError, match="HubSpot CRM specs: no operation for GET /crm/v3/nothing"):
        hubspot.operation("GET", "/crm/v3/nothing")


def test_zendesk_paths_end_in_json_and_undocumented_statuses_are_named() -> None:
    from conformance.zendesk import zendesk_checker

    zendesk = zendesk_checker()
    assert zendesk.operation("GET", "/api/v2/tickets/show_many.json").operation_id == "TicketsShowMany"
    assert zendesk.operation("GET", "/api/v2/tickets/12.json").operation_id == "ShowTicket"
    with pytest.raises(KeyError, match="ShowTicket documents no response 404"):
        zendesk.violations("GET", "/api/v2/tickets/12.json", 404, {"error": "RecordNotFound"})


def test_ops_blocks_and_examples_of_the_trimmer() -> None:
    from conformance.trim import ops_of, trim_examples

    text = "# comment\n## a.json\nGET /a\n## b.json\nGET /b\nPOST /b\n"
    assert ops_of(text, "b.json") == ["GET /b", "POST /b"] and ops_of(text) == ["GET /a", "GET /b", "POST /b"]
    with pytest.raises(KeyError, match=r"no block '## c\.json'"):
        ops_of(text, "c.json")
    doc = {"components": {"examples": {"X": {"value": {"id": 1}}, "Y": {"value": 2}}}}
    assert trim_examples(doc, ["X"], vendored={"source": "s"}) == {
        "x-vendored": {"source": "s"},
        "examples": {"X": {"id": 1}},
    }
    with pytest.raises(KeyError, match="no example Z"):
        trim_examples(doc, ["Z"], vendored={})
