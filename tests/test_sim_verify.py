"""``agentops sim verify``: a recorded real-service scenario replayed on a simulator, drift reported.

The "recorded" cassettes here are built from what the real services answer: Stripe's official
example objects (``fixtures3.json``) as the answers, and for Zendesk a scenario whose ids are not
the simulator's (as a real account's never are), so the id rewriting is what makes it replay.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from conformance.stripe import stripe_fixtures

from pytest_agentops.backends.verify import IdMap, shape_diff, verify_cassette
from pytest_agentops.cli import main
from simulators.core.server import SimServer
from simulators.crm import CrmSimulator
from simulators.ticketing import TicketingSimulator


def _interaction(method: str, url: str, status: int, response: Any, *, form: Any = None, js: Any = None) -> Any:
    body = {"form": form} if form is not None else ({"json": js} if js is not None else None)
    ctype = "application/x-www-form-urlencoded" if form is not None else "application/json"
    return {
        "kind": "tool",
        "request": {"method": method, "url": url, "headers": {"content-type": ctype}, "body": body},
        "response": {"status": status, "headers": {"content-type": "application/json"}, "body": {"json": response}},
    }


def _write(path: Path, interactions: list[Any]) -> Path:
    path.write_text(json.dumps({"version": 1, "meta": {}, "interactions": interactions}), encoding="utf-8")
    return path


def _stripe_cassette(tmp_path: Path, customer: dict[str, Any]) -> Path:
    ident = customer["id"]
    model_call = _interaction("POST", "https://api.openai.com/v1/chat/completions", 200, {"choices": []}, js={})
    return _write(
        tmp_path / "stripe.json",
        [
            model_call,
            _interaction("POST", "https://api.stripe.com/v1/customers", 200, customer, form=[["email", "a@x.com"]]),
            _interaction("POST", f"https://api.stripe.com/v1/customers/{ident}", 200, customer,
                         form=[["metadata[tier]", "gold"]]),
            _interaction("GET", f"https://api.stripe.com/v1/customers/{ident}", 200, customer),
        ],
    )  # fmt: skip


def test_shape_diff_names_missing_extra_and_type() -> None:
    recorded = {"id": "x", "amount": 5, "nested": {"a": 1, "b": [{"c": "s"}]}, "gone": None, "new": True}
    ours = {"id": "y", "amount": 5.0, "nested": {"a": "1", "b": [{"c": 2}]}, "gone": "here", "mine": 1}
    assert sorted(shape_diff(recorded, ours)) == [
        ("extra", ".mine"),
        ("missing", ".new"),
        ("type", ".nested.a: the service sends number, the simulator string"),
        ("type", ".nested.b[0].c: the service sends string, the simulator number"),
    ]


def test_ids_are_learned_where_answers_agree_and_rewritten_in_path_query_and_body() -> None:
    ids = IdMap()
    ids.learn({"ticket": {"id": 5001, "requester_id": 77, "url": "u"}}, {"ticket": {"id": 1, "requester_id": 9}})
    assert ids.ids == {"5001": "1", "77": "9"}
    assert ids.url("https://acme.zendesk.com/api/v2/tickets/5001.json?ids=5001,8") == (
        "/api/v2/tickets/1.json?ids=1%2C8"
    )
    assert ids.body({"ticket": {"assignee_id": 77, "tags": ["5001x"]}}) == {
        "ticket": {"assignee_id": 9, "tags": ["5001x"]}
    }


def test_a_stripe_recording_replays_with_the_simulators_ids_and_reports_drift(tmp_path: Path) -> None:
    customer = copy.deepcopy(stripe_fixtures()["customer"])
    customer["a_field_from_the_future"] = {"enabled": True}
    customer["balance"] = "0"  # a string where the simulator sends a number
    report = verify_cassette("billing", _stripe_cassette(tmp_path, customer))
    assert report.skipped == 1  # the model call
    assert [(s.method, s.recorded_status, s.status) for s in report.steps] == [
        ("POST", 200, 200),
        ("POST", 200, 200),  # the update reached the customer the simulator created
        ("GET", 200, 200),
    ]
    step = report.steps[-1]
    assert ("missing", ".a_field_from_the_future") in step.differences
    assert ("type", ".balance: the service sends string, the simulator number") in step.differences
    assert report.drifted() == report.steps
    text = report.render()
    assert text.startswith("billing vs ") and "3 request(s) replayed, 3 differ, 1 not for this simulator" in text
    assert "missing in the simulator: .a_field_from_the_future" in text


def test_the_official_fixture_itself_has_no_missing_or_mistyped_customer_field(tmp_path: Path) -> None:
    report = verify_cassette("billing", _stripe_cassette(tmp_path, copy.deepcopy(stripe_fixtures()["customer"])))
    assert [d for s in report.steps for d in s.differences if d[0] != "extra"] == []


def _zendesk_recording(tmp_path: Path) -> Path:
    """A scenario run once, with the ids a real account would have given (+5000)."""
    sim = TicketingSimulator()
    api = sim.client()
    create = {"ticket": {"subject": "Refund", "comment": {"body": "Twice"}}}
    made = api.post("/api/v2/tickets.json", json=create)
    ident = made.json()["ticket"]["id"]
    updated = api.put(f"/api/v2/tickets/{ident}.json", json={"ticket": {"status": "open"}})
    listed = api.get(f"/api/v2/tickets/show_many.json?ids={ident}")

    def real(value: Any) -> Any:
        return json.loads(json.dumps(value).replace(f'"id": {ident},', f'"id": {ident + 5000},'))

    base = "https://acme.zendesk.com/api/v2/tickets"
    return _write(
        tmp_path / "zendesk.json",
        [
            _interaction("POST", f"{base}.json", 201, real(made.json()), js=create),
            _interaction("PUT", f"{base}/{ident + 5000}.json", 200, real(updated.json()),
                         js={"ticket": {"status": "open"}}),
            _interaction("GET", f"{base}/show_many.json?ids={ident + 5000}", 200, real(listed.json())),
        ],
    )  # fmt: skip


def test_the_command_exits_0_without_drift_and_1_with_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = _zendesk_recording(tmp_path)
    assert main(["sim", "verify", "ticketing", "--cassette", str(clean)]) == 0
    out = capsys.readouterr().out
    assert "ticketing vs " in out and "3 request(s) replayed, 0 differ" in out
    data = json.loads(clean.read_text())
    data["interactions"][1]["response"]["body"]["json"]["ticket"]["satisfaction_probability"] = 0.5
    data["interactions"][2]["response"]["status"] = 404
    drifted = _write(tmp_path / "drifted.json", data["interactions"])
    assert main(["sim", "verify", "ticketing", "--cassette", str(drifted)]) == 1
    out = capsys.readouterr().out
    assert "[1] PUT /api/v2/tickets/" in out and "missing in the simulator: .ticket.satisfaction_probability" in out
    assert "[2] GET /api/v2/tickets/show_many.json: status 404 (service) -> 200 (simulator)" in out


def test_bad_input_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "verify", "nope", "--cassette", "x.json"]) == 2
    assert "unknown simulator 'nope'" in capsys.readouterr().err
    assert main(["sim", "verify", "crm", "--cassette", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert "missing.json" in err and "no such file" in err
    cassette = _write(tmp_path / "c.json", [])
    (tmp_path / "seed.json").write_text('{"contacts": [{"id": 1, "bogus_property": "x"}]}')
    assert main(["sim", "verify", "crm", "--cassette", str(cassette), "--seed", str(tmp_path / "seed.json")]) == 2
    assert "seed.json: cannot seed crm" in capsys.readouterr().err


class _Staging(CrmSimulator):
    """A stand-in for a HubSpot staging account: its contacts carry a field the simulator lacks."""

    def encode(self, result: Any) -> bytes:
        return super().encode(result).replace(b'"archived":false', b'"archived":false,"hs_staging_only":true')


def test_against_a_staging_url_the_service_answers_now_are_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    base = "https://api.hubapi.com/crm/v3/objects/contacts"
    real = {"id": "5001", "properties": {"email": "ada@example.com"}, "createdAt": "2024-01-01T00:00:00Z",
            "updatedAt": "2024-01-01T00:00:00Z", "archived": False}  # fmt: skip
    cassette = _write(
        tmp_path / "hubspot.json",
        [
            _interaction("POST", base, 201, real, js={"properties": {"email": "ada@example.com"}}),
            _interaction("PATCH", f"{base}/5001", 200, real, js={"properties": {"firstname": "Ada"}}),
        ],
    )
    staging = _Staging()
    staging.seed({"contacts": [{"id": "1", "email": "first@example.com"}]})  # its ids are not the simulator's
    monkeypatch.setenv("HUBSPOT_STAGING_TOKEN", staging.api_key)
    with SimServer(staging) as server:
        url = server.base_url
        argv = ["sim", "verify", "crm", "--cassette", str(cassette), "--staging", url]
        assert main([*argv, "--staging-token-env", "HUBSPOT_STAGING_TOKEN"]) == 1
        out = capsys.readouterr().out
        assert main(argv) == 1  # no token: the service refuses, the statuses differ
        assert "status 401 (service) -> 201 (simulator)" in capsys.readouterr().out
    assert f"crm vs {url} (the requests of {cassette})" in out
    assert "2 request(s) replayed, 2 differ" in out
    assert "[1] PATCH /crm/v3/objects/contacts/5001: 200; missing in the simulator: .hs_staging_only" in out
    # each side got its own ids: the service patched its contact 2, not contact 1 it was seeded with
    assert staging.get("contacts", "2").properties["firstname"] == "Ada"
    assert "firstname" not in staging.get("contacts", "1").properties
    assert main(["sim", "verify", "crm", "--cassette", str(cassette), "--staging", "ftp://x"]) == 2
    assert main([*argv, "--staging-token-env", "AGENTOPS_NOT_SET_ANYWHERE"]) == 2
    assert "AGENTOPS_NOT_SET_ANYWHERE: that environment variable is not set" in capsys.readouterr().err
