"""The simulator fixtures: fresh per test, served through the tap, and on loopback for subprocesses."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
from typing import Any

import httpx
import pytest
import requests
import stripe
from json_upstream import json_upstream


def test_stripe_sdk_reaches_the_billing_fixture_in_process(billing: Any, agent_run: Any) -> None:
    client = stripe.StripeClient(billing.api_key, base_addresses={"api": billing.base_url})
    customer = client.v1.customers.create(params={"email": "ana@shop.test", "description": "vip"})
    intent = client.v1.payment_intents.create(
        params={
            "amount": 500,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    refund = client.v1.refunds.create(params={"payment_intent": intent.id})

    assert refund.status == "succeeded"
    billing.assert_wrote("refunds", amount=500)
    billing.assert_no_duplicate_side_effects()
    assert [(e.backend, e.method, e.url.rsplit("/", 1)[-1]) for e in agent_run.events] == [
        ("simulator", "POST", "customers"),
        ("simulator", "POST", "payment_intents"),
        ("simulator", "POST", "refunds"),
    ]


def test_each_test_gets_a_fresh_simulator(billing: Any) -> None:
    billing.assert_no_writes()
    assert billing.all("customers") == []


def test_fixture_client_goes_through_the_tap(billing: Any, agent_run: Any) -> None:
    with billing.client() as client:
        response = client.post("/v1/customers", data={"email": "x@shop.test"})
    assert response.status_code == 200, response.text
    assert agent_run.events[-1].backend == "simulator"
    billing.assert_wrote("customers", email="x@shop.test")


async def _async_create(billing: Any) -> httpx.Response:
    async with billing.async_client() as client:
        return await client.post("/v1/customers", data={"email": "async@shop.test"})


def test_async_client_goes_through_the_tap(billing: Any, agent_run: Any) -> None:
    import asyncio

    response = asyncio.run(_async_create(billing))
    assert response.status_code == 200
    assert agent_run.events[-1].backend == "simulator"


def _tls_of(client: Any) -> ssl.SSLContext:
    context: ssl.SSLContext = client._transport._pool._ssl_context  # httpcore's connection pool
    return context


def test_fixture_clients_share_one_verified_tls_context_unless_told_otherwise(billing: Any) -> None:
    with billing.client() as first, billing.client("sk_test_other") as second:
        assert _tls_of(first) is _tls_of(second)
        assert _tls_of(first).verify_mode == ssl.CERT_REQUIRED and _tls_of(first).check_hostname
    asynchronous = billing.async_client()
    assert _tls_of(asynchronous) is _tls_of(first)
    with billing.client(verify=False) as unverified, billing.client(trust_env=False) as own:
        assert _tls_of(unverified).verify_mode == ssl.CERT_NONE
        assert _tls_of(own) is not _tls_of(first)


def test_dropped_connection_fault_is_each_clients_own_error(billing: Any) -> None:
    billing.faults.add("billing.customers.create", kind="drop", times=2)
    headers = {"Authorization": f"Bearer {billing.api_key}"}
    with billing.client() as client, pytest.raises(httpx.TransportError):
        client.post("/v1/customers", data={"email": "x@shop.test"})
    with pytest.raises(requests.ConnectionError):
        requests.post(billing.base_url + "/v1/customers", data={"email": "x"}, headers=headers, timeout=5)
    ok = requests.post(billing.base_url + "/v1/customers", data={"email": "x"}, headers=headers, timeout=5)
    assert ok.status_code == 200


def test_a_write_committed_then_dropped_is_in_the_trace(billing: Any, agent_run: Any) -> None:
    """The client saw no answer, but the write happened: the trace, budgets and writes must count it."""
    billing.faults.add("billing.customers.create", kind="commit_then_drop", times=1)
    with billing.client() as client:
        with pytest.raises(httpx.TransportError):
            client.post("/v1/customers", data={"email": "x@shop.test"}, headers={"Idempotency-Key": "k1"})
        retried = client.post("/v1/customers", data={"email": "x@shop.test"}, headers={"Idempotency-Key": "k1"})
    assert retried.status_code == 200 and len(billing.all("customers")) == 1
    first, second = agent_run.writes
    assert (first.tool, first.status, second.status) == ("billing.customers.create", None, 200)
    assert first.error is not None and "dropped the connection" in first.error
    assert first.arguments == {"email": "x@shop.test"}
    agent_run.assert_tool_calls(max=2, min=2)


def test_timeout_fault_is_a_read_timeout(billing: Any) -> None:
    billing.faults.add("billing.customers.list", kind="timeout", times=1)
    with billing.client() as client, pytest.raises(httpx.ReadTimeout):
        client.get("/v1/customers")


def test_agent_sims_serve_the_same_instance_on_loopback_to_a_subprocess(agent_sims: Any, billing: Any) -> None:
    url = agent_sims.billing.base_url
    assert url.startswith("http://127.0.0.1:")
    code = (
        "import json, sys, urllib.request\n"
        "req = urllib.request.Request(sys.argv[1] + '/v1/customers', data=b'email=sub%40shop.test',"
        " headers={'Authorization': 'Bearer ' + sys.argv[2]})\n"
        "print(json.load(urllib.request.urlopen(req))['id'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, url, billing.api_key], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert out.startswith("cus_")
    billing.assert_wrote("customers", email="sub@shop.test")
    env = agent_sims.env()
    assert env["AGENTOPS_BILLING_URL"] == url and env["AGENTOPS_BILLING_API_KEY"] == billing.api_key


def test_staging_records_simulator_traffic_under_its_own_url(pytester: pytest.Pytester) -> None:
    """--agent-staging billing=URL: record from a real service, replay from the cassette, no simulator."""
    hits: list[str] = []
    answer = {"object": "list", "data": [{"id": "cus_staging1"}], "has_more": False}
    pytester.makepyfile(
        """
        def test_list(billing, agent_run):
            with billing.client() as client:
                data = client.get("/v1/customers").json()["data"]
            assert [c["id"] for c in data] == ["cus_staging1"]
            print("BACKENDS", ",".join(e.backend for e in agent_run.events))
        """
    )
    with json_upstream(answer, hits) as base:
        recorded = pytester.runpytest_subprocess("-s", "--agent-record", f"--agent-staging=billing={base}")
    recorded.assert_outcomes(passed=1)
    recorded.stdout.fnmatch_lines(["*BACKENDS network"])
    assert hits == ["/v1/customers"]
    name = "test_staging_records_simulator_traffic_under_its_own_url"
    cassette = json.loads((pytester.path / "cassettes" / name / "test_list.json").read_text())
    assert cassette["interactions"][0]["request"]["url"] == "https://billing.sim.agentops.local/v1/customers"
    replayed = pytester.runpytest_subprocess("-s", "--agent-replay")
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(["*BACKENDS cassette"])


def test_simulator_calls_are_named_tools_in_the_trace(billing: Any, agent_run: Any) -> None:
    with billing.client() as client:
        client.post("/v1/customers", data={"email": "t@shop.test"})
        cid = billing.all("customers")[0].id
        client.get(f"/v1/customers/{cid}")
    assert [(e.tool, e.access) for e in agent_run.events] == [
        ("billing.customers.create", "write"),
        ("billing.customers.retrieve", "read"),
    ]
    agent_run.assert_called("billing.customers.create", email="t@shop.test")


def test_path_parameters_are_part_of_a_simulator_calls_arguments(ticketing: Any, agent_run: Any) -> None:
    """Which record a write touched is in the URL: the trace must say so, or "wrong record" is invisible."""
    client = ticketing.client()
    first = client.post("/api/v2/tickets.json", json={"ticket": {"subject": "a", "comment": {"body": "x"}}})
    client.post("/api/v2/tickets.json", json={"ticket": {"subject": "b", "comment": {"body": "y"}}})
    ticket_id = first.json()["ticket"]["id"]
    assert client.put(f"/api/v2/tickets/{ticket_id}.json", json={"ticket": {"status": "solved"}}).status_code == 200

    agent_run.assert_called("ticketing.tickets.update", ticket_id=str(ticket_id), ticket={"status": "solved"})
    with pytest.raises(AssertionError):
        agent_run.assert_called("ticketing.tickets.update", ticket_id=str(ticket_id + 1))


def test_a_denied_write_never_reaches_the_simulator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest, stripe

        @pytest.mark.agent_policy(allow=["billing.customers.list"])
        def test_denied(billing, agent_run):
            client = stripe.StripeClient(billing.api_key, base_addresses={"api": billing.base_url})
            with pytest.raises(stripe.PermissionError) as info:
                client.v1.customers.create(params={"email": "x@shop.test"})
            assert info.value.http_status == 403
            assert client.v1.customers.list().data == []
            billing.assert_no_writes()
            assert len(billing.ledger) == 0
            [denial] = agent_run.denials
            assert (denial.tool, denial.rule, denial.backend) == ("billing.customers.create", "allowlist", "policy")
            assert [e.backend for e in agent_run.events] == ["policy", "simulator"]

        def test_kill_switch(billing):
            with billing.client() as client:
                assert client.post("/v1/customers", data={"email": "y@shop.test"}).status_code == 403
            billing.assert_no_writes()
        """
    )
    pytester.runpytest_subprocess("--agent-replay", "-k", "test_denied").assert_outcomes(passed=1)
    pytester.runpytest_subprocess("--agent-replay", "--agent-no-writes", "-k", "kill_switch").assert_outcomes(passed=1)
    # Without the kill switch the same write goes through: the switch, not the simulator, refused it.
    pytester.runpytest_subprocess("--agent-replay", "-k", "kill_switch").assert_outcomes(failed=1)


def test_httpx2_and_aiohttp_reach_the_simulators_in_process(
    billing: Any, ticketing: Any, crm: Any, agent_run: Any
) -> None:
    import asyncio

    import aiohttp
    import httpx2

    with httpx2.Client(headers={"Authorization": f"Bearer {ticketing.api_key}"}) as client:
        made = client.post(
            ticketing.base_url + "/api/v2/tickets.json",
            json={"ticket": {"subject": "Refund", "comment": {"body": "charged twice"}}},
        )
    assert made.status_code == 201, made.text

    async def contact() -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {crm.api_key}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            payload = {"properties": {"email": "ana@shop.test", "firstname": "Ana"}}
            async with session.post(crm.base_url + "/crm/v3/objects/contacts", json=payload) as response:
                return response.status, await response.json()

    status, body = asyncio.run(contact())
    assert status == 201, body
    assert body["properties"]["email"] == "ana@shop.test"
    ticketing.assert_wrote("tickets", subject="Refund")
    crm.assert_wrote("contacts")
    assert [(e.backend, e.tool) for e in agent_run.events] == [
        ("simulator", "ticketing.tickets.create"),
        ("simulator", "crm.contacts.create"),
    ]


def test_a_write_the_simulator_refuses_is_unauthorized_even_without_attempts(billing: Any, agent_run: Any) -> None:
    """``attempts=False`` forgives writes the policy denied, never one a backend had to refuse."""
    reader = billing.issue_token(scopes=["read"])
    with billing.client() as c:
        refused = c.post("/v1/customers", data={"email": "x@shop.test"}, headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403 and agent_run.events[-1].backend == "simulator"
    with pytest.raises(AssertionError, match=r"(?s)1 unauthorized write attempt.*seq 0: .*HTTP 403"):
        agent_run.assert_no_unauthorized_writes(attempts=False)
    billing.assert_no_writes()
