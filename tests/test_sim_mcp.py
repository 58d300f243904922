"""The simulators as MCP servers, driven by the official ``mcp`` 2.x client.

In-process (httpx2 through the tap to the simulator's base URL), on an ``agent_sims`` loopback
port, and over stdio (``agentops sim serve NAME --mcp --stdio``). Each tool answers the same JSON
as the HTTP API, and state, ledger, idempotency, tokens and faults are the HTTP API's own.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from simulators.core import mcp as sim_mcp

T = TypeVar("T")
MODES = ["legacy", "auto"]  # the initialize handshake, and the 2026-07-28 envelope (server/discover)


@contextlib.asynccontextmanager
async def connect(url: str, headers: dict[str, str], mode: str = "auto") -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


def run(fn: Callable[[], Awaitable[T]]) -> T:
    return anyio.run(fn)


def body(result: Any) -> Any:
    """The JSON text of a tool result, parsed (what the model reads)."""
    [content] = result.content
    return json.loads(content.text)


async def all_tools(client: Client) -> list[Any]:
    page = await client.list_tools()
    found = list(page.tools)
    while page.next_cursor:
        page = await client.list_tools(cursor=page.next_cursor)
        found.extend(page.tools)
    return found


def test_tools_list_pages_through_every_route_with_schemas_and_hints(
    billing: Any, agent_run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> tuple[list[Any], list[Any], int]:
        async with connect(billing.base_url + "/mcp", billing.auth_headers()) as client:
            whole = (await client.list_tools()).tools
            monkeypatch.setattr(sim_mcp, "PAGE_SIZE", 25)
            first = await client.list_tools()
            return whole, await all_tools(client), len(first.tools)

    whole, tools, first_page = run(scenario)

    assert len(whole) == len(billing.routes) > first_page == 25  # one page by default; a cursor when smaller
    assert [t.name for t in whole] == [t.name for t in tools]
    assert [t.name for t in tools] == [r.tool for r in billing.routes]
    by_name = {t.name: t for t in tools}
    refund = by_name["billing.refunds.create"]
    assert {"payment_intent", "amount", "idempotency_key"} <= set(refund.input_schema["properties"])
    assert refund.annotations.read_only_hint is False and refund.annotations.destructive_hint is False
    retrieve = by_name["billing.customers.retrieve"]
    assert retrieve.input_schema["required"] == ["customer"]  # the path parameter is an argument
    assert retrieve.annotations.read_only_hint is True
    assert by_name["billing.customers.delete"].annotations.destructive_hint is True
    # every message went through the tap to the mounted simulator
    assert agent_run.events and {(e.backend, e.method, e.url) for e in agent_run.events} == {
        ("simulator", "POST", billing.base_url + "/mcp")
    }


@pytest.mark.parametrize("mode", MODES)
def test_a_read_and_a_write_answer_the_http_json_and_land_in_the_ledger(billing: Any, mode: str) -> None:
    async def scenario() -> tuple[Any, Any, str]:
        async with connect(billing.base_url + "/mcp", billing.auth_headers(), mode) as client:
            created = await client.call_tool("billing.customers.create", {"email": "ana@shop.test", "name": "Ana"})
            ident = created.structured_content["id"]
            read = await client.call_tool("billing.customers.retrieve", {"customer": ident})
            return created, read, client.protocol_version

    created, read, version = run(scenario)

    assert version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
    assert created.is_error is False and read.is_error is False
    ident = created.structured_content["id"]
    with billing.client() as http:
        over_http = http.get(f"/v1/customers/{ident}").json()
    assert body(read) == read.structured_content == over_http  # same JSON as the HTTP API
    assert body(created) == over_http
    [write] = billing.ledger.writes()
    assert (write.tool, write.method, write.outcome, write.status) == (
        "billing.customers.create",
        "POST",
        "applied",
        200,
    )
    billing.assert_wrote("customers", email="ana@shop.test", name="Ana")


def test_an_idempotency_key_replays_the_first_answer_and_writes_once(billing: Any) -> None:
    customer = billing.create_customer(email="ana@shop.test")
    payment = billing.create_payment(4900, customer=customer.id)

    async def scenario() -> list[Any]:
        async with connect(billing.base_url + "/mcp", billing.auth_headers()) as client:
            args = {"payment_intent": payment.id, "amount": 1000, "idempotency_key": "refund-ana-1"}
            return [await client.call_tool("billing.refunds.create", args) for _ in range(2)]

    first, retry = run(scenario)

    assert first.structured_content == retry.structured_content
    assert first.structured_content["amount"] == 1000 and first.structured_content["object"] == "refund"
    assert retry.meta["idempotent_replayed"] is True and "idempotent_replayed" not in first.meta
    assert [(e.tool, e.outcome, e.idempotency_key) for e in billing.ledger] == [
        ("billing.refunds.create", "applied", "refund-ana-1"),
        ("billing.refunds.create", "replayed", "refund-ana-1"),
    ]
    billing.assert_no_duplicate_side_effects()


def test_the_idempotency_key_header_of_the_mcp_request_applies_too(billing: Any) -> None:
    payment = billing.create_payment(4900, customer=billing.create_customer(email="b@shop.test").id)

    async def scenario() -> list[Any]:
        headers = {**billing.auth_headers(), "Idempotency-Key": "hdr-1"}
        async with connect(billing.base_url + "/mcp", headers) as client:
            return [await client.call_tool("billing.refunds.create", {"payment_intent": payment.id}) for _ in "ab"]

    first, retry = run(scenario)
    assert first.structured_content["id"] == retry.structured_content["id"]
    assert [e.outcome for e in billing.ledger] == ["applied", "replayed"]


def test_tokens_and_tenants_are_enforced_as_tool_errors(billing: Any) -> None:
    ana = billing.create_customer(email="ana@shop.test")
    read_only = billing.issue_token(scopes=["read"])
    other_tenant = billing.issue_token("acme")

    async def call(headers: dict[str, str], tool: str, args: dict[str, Any]) -> Any:
        async with connect(billing.base_url + "/mcp", headers) as client:
            return await client.call_tool(tool, args)

    async def scenario() -> list[Any]:
        return [
            await call(billing.auth_headers(read_only), "billing.customers.create", {"email": "x@shop.test"}),
            await call(billing.auth_headers(other_tenant), "billing.customers.retrieve", {"customer": ana.id}),
            await call({}, "billing.customers.list", {}),
            await call(billing.auth_headers(read_only), "billing.customers.retrieve", {"customer": ana.id}),
        ]

    no_scope, wrong_tenant, anonymous, allowed = run(scenario)

    assert no_scope.is_error and no_scope.meta["status"] == 403
    assert "does not have the 'write' scope" in no_scope.structured_content["error"]["message"]
    assert wrong_tenant.is_error and wrong_tenant.structured_content["error"]["code"] == "resource_missing"
    assert anonymous.is_error and anonymous.meta["status"] == 401
    assert allowed.is_error is False and allowed.structured_content["id"] == ana.id
    billing.assert_no_writes()
    with pytest.raises(AssertionError, match="unauthorized attempt"):
        billing.assert_no_unauthorized_attempts()  # the refused write is in the ledger, as over HTTP


def test_injected_faults_are_tool_errors_and_the_session_goes_on(billing: Any) -> None:
    payment = billing.create_payment(4900, customer=billing.create_customer(email="c@shop.test").id)
    billing.faults.add("billing.refunds.create", "503", times=1)
    billing.faults.add("billing.customers.list", "drop", times=1)

    async def scenario() -> list[Any]:
        async with connect(billing.base_url + "/mcp", billing.auth_headers()) as client:
            args = {"payment_intent": payment.id}
            return [
                await client.call_tool("billing.refunds.create", args),
                await client.call_tool("billing.customers.list", {}),
                await client.call_tool("billing.refunds.create", args),
            ]

    unavailable, dropped, retried = run(scenario)

    assert unavailable.is_error and unavailable.meta["status"] == 503
    assert unavailable.structured_content["error"]["type"] == "api_error"
    assert dropped.is_error and "injected fault 'drop'" in dropped.content[0].text
    assert retried.is_error is False and retried.structured_content["object"] == "refund"
    assert [(e.outcome, e.fault) for e in billing.ledger] == [("fault", "503"), ("applied", None)]


def test_protocol_errors_are_json_rpc_errors(billing: Any) -> None:
    async def scenario() -> MCPError:
        async with connect(billing.base_url + "/mcp", billing.auth_headers()) as client:
            with pytest.raises(MCPError) as caught:
                await client.call_tool("billing.nothing.here", {})
            assert (await client.list_tools()).tools  # still connected
            return caught.value

    unknown = run(scenario)
    assert (
        unknown.error.code == sim_mcp.INVALID_PARAMS and "Unknown tool: billing.nothing.here" in unknown.error.message
    )

    with httpx.Client(base_url=billing.base_url) as http:
        garbled = http.post("/mcp", content=b"{not json", headers={"content-type": "application/json"})
        stream = http.get("/mcp")
        note = http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        refused = http.post("/mcp", json=[{"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"jsonrpc": "2.0", "id": 2}])
    # Through the tap a batch with a malformed member is refused whole, naming the member; the
    # simulator itself answers member by member, as JSON-RPC asks.
    members = [{"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"jsonrpc": "2.0", "id": 2}]
    batch = billing.handle("POST", f"{billing.base_url}/mcp", billing.auth_headers(), json.dumps(members).encode())
    assert garbled.status_code == 400 and garbled.json()["error"]["code"] == sim_mcp.PARSE_ERROR
    assert stream.status_code == 405 and stream.headers["allow"] == "POST"
    assert note.status_code == 202 and note.content == b""
    assert refused.status_code == 400 and "message[1] names no method" in refused.json()["error"]["message"]
    assert [r.get("result", r.get("error", {}).get("code")) for r in batch.json()] == [{}, sim_mcp.INVALID_REQUEST]


def test_a_simulator_on_an_agent_sims_port_serves_mcp(agent_sims: Any, crm: Any) -> None:
    ids = crm.seed_demo()
    served = agent_sims.crm
    ada = ids["contacts"][0]
    note = {"properties": {"hs_note_body": "Renewal call prep", "hs_timestamp": "2025-01-02T00:00:00Z"}}

    async def scenario() -> tuple[Any, Any]:
        async with connect(served.base_url + "/mcp", served.auth_headers(), "legacy") as client:
            found = await client.call_tool("crm.contacts.search", {"query": "ada@example.com"})
            created = await client.call_tool("crm.notes.create", note)
            return found, created

    found, created = run(scenario)

    assert served.base_url.startswith("http://127.0.0.1:")
    assert [c["id"] for c in found.structured_content["results"]] == [ada]
    with httpx.Client(base_url=served.base_url, headers=served.auth_headers()) as http:
        search = http.post("/crm/v3/objects/contacts/search", json={"query": "ada@example.com"}).json()
        stored = http.get(f"/crm/v3/objects/notes/{created.structured_content['id']}?properties=hs_note_body").json()
    assert found.structured_content == search
    assert stored["properties"]["hs_note_body"] == "Renewal call prep"
    assert set(created.structured_content) == set(stored)  # the same object shape as the HTTP API's
    [write] = crm.ledger.writes()
    assert write.tool == "crm.notes.create" and write.outcome == "applied"


PORT_AFTER_CLOSE = """
from pytest_agentops.backends.sims import mcp_simulator

URLS = []

def test_served(agent_sims):
    URLS.append(agent_sims.crm.base_url + "/mcp")
    assert mcp_simulator(URLS[0]) == "crm"

def test_after_its_test(agent_sims):
    assert mcp_simulator(URLS[0]) is None  # the port closed: another server may listen there next
"""


def test_a_simulators_closed_port_is_no_longer_named_as_the_simulator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=PORT_AFTER_CLOSE)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:randomly").assert_outcomes(passed=2)


def test_sim_serve_mcp_stdio_serves_the_official_stdio_client(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"tokens": [{"scopes": ["read"], "value": "ticketing-read-only"}]}))
    command = [sys.executable, "-m", "pytest_agentops.cli", "sim", "serve", "ticketing", "--mcp", "--stdio"]

    def session(*extra: str) -> Client:
        return Client(StdioServerParameters(command=command[0], args=[*command[1:], "--seed", str(seed), *extra]))

    async def scenario() -> tuple[list[Any], Any, Any, Any]:
        async with session() as client:
            tools = await all_tools(client)
            ticket = {"ticket": {"subject": "Refund please", "comment": {"body": "I was charged twice"}}}
            created = await client.call_tool("ticketing.tickets.create", ticket)
            ident = created.structured_content["ticket"]["id"]
            read = await client.call_tool("ticketing.tickets.retrieve", {"ticket_id": ident})
        async with session("--token", "ticketing-read-only") as client:
            refused = await client.call_tool("ticketing.tickets.create", ticket)
        return tools, created, read, refused

    tools, created, read, refused = run(scenario)

    assert "ticketing.tickets.create" in {t.name for t in tools}
    assert created.is_error is False and read.is_error is False
    assert read.structured_content["ticket"]["subject"] == "Refund please"  # the write is the state read back
    assert refused.is_error and refused.meta["status"] == 403


def test_sim_serve_mcp_prints_the_endpoint_an_mcp_client_reaches() -> None:
    command = [sys.executable, "-m", "pytest_agentops.cli", "sim", "serve", "billing", "--mcp", "--demo"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            assert proc.stdout is not None
            banner, endpoint = proc.stdout.readline(), proc.stdout.readline()
            key = banner.rsplit("API key: ", 1)[1].rstrip(")\n")
            url = endpoint.split("MCP (streamable HTTP): ", 1)[1].strip()
            assert url.startswith("http://127.0.0.1:") and url.endswith("/mcp")

            async def scenario() -> Any:
                async with connect(url, {"Authorization": f"Bearer {key}"}) as client:
                    return await client.call_tool("billing.customers.list", {"email": "ada@example.com"})

            found = run(scenario)
            assert [c["email"] for c in found.structured_content["data"]] == ["ada@example.com"]  # the demo data
        finally:
            proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_sim_serve_stdio_needs_mcp(capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_agentops.cli import main

    assert main(["sim", "serve", "crm", "--stdio"]) == 2
    assert "--stdio serves MCP only" in capsys.readouterr().err


def _call(sim: Any, tool: str, arguments: Any) -> dict[str, Any]:
    message = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    response = sim.handle("POST", f"{sim.base_url}/mcp", sim.auth_headers(), json.dumps(message).encode())
    assert response.status == 200, response.body
    reply: dict[str, Any] = response.json()
    assert reply["id"] == 7
    return reply


def test_query_arguments_keep_their_nesting_and_path_arguments_are_required() -> None:
    from simulators import simulator_class

    sim = simulator_class("billing")()
    old = sim.create_customer(email="old@shop.test")
    sim.clock.advance(3600)
    new = sim.create_customer(email="new@shop.test")
    since = {"created": {"gte": new.created}, "limit": 5}

    listed = _call(sim, "billing.customers.list", since)["result"]
    over_http = sim.handle("GET", f"{sim.base_url}/v1/customers?created[gte]={new.created}&limit=5", sim.auth_headers())
    assert listed["structuredContent"] == over_http.json()
    assert [c["id"] for c in listed["structuredContent"]["data"]] == [new.id] != [old.id]

    missing = _call(sim, "billing.customers.retrieve", {})["result"]
    assert missing["isError"] is True
    assert "missing required argument 'customer'" in missing["content"][0]["text"]
    assert _call(sim, "billing.customers.retrieve", [1])["error"]["code"] == sim_mcp.INVALID_PARAMS


def test_a_body_delete_sends_its_arguments_in_the_body() -> None:
    from simulators import simulator_class

    sim = simulator_class("ticketing")()
    ticket = sim.create_ticket(subject="Tags", comment={"body": "x"}, tags=["vip", "refund"])
    result = _call(sim, "ticketing.tags.delete", {"ticket_id": ticket.id, "tags": ["vip"]})["result"]
    assert result["isError"] is False, result
    assert sim.get("tickets", ticket.id).tags == ["refund"]


def test_the_tap_can_tell_a_simulators_mcp_endpoint(billing: Any, agent_sims: Any) -> None:
    from pytest_agentops.backends.sims import mcp_simulator

    assert mcp_simulator(billing.base_url + "/mcp") == "billing"
    assert mcp_simulator(agent_sims.crm.base_url + "/mcp/") == "crm"
    assert mcp_simulator(billing.base_url + "/v1/customers") is None
    assert mcp_simulator("https://weather.example/mcp") is None


def test_dashed_names_suit_model_apis_that_allow_no_dots(billing: Any) -> None:
    payment = billing.create_payment(4900, customer=billing.create_customer(email="d@shop.test").id)

    async def scenario() -> tuple[list[Any], Any]:
        async with connect(billing.base_url + "/mcp?names=dashed", billing.auth_headers()) as client:
            listed = await all_tools(client)
            return listed, await client.call_tool("billing-refunds-create", {"payment_intent": payment.id})

    listed, refund = run(scenario)

    openai_function_name = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # OpenAI's (and Anthropic's) function names
    assert all(openai_function_name.match(t.name) for t in listed)
    assert "billing-payment_intents-create" in {t.name for t in listed}
    assert refund.is_error is False
    [write] = billing.ledger.writes()
    assert write.tool == "billing.refunds.create"  # the simulator's name: one policy name for both forms
    with httpx.Client(base_url=billing.base_url) as http:
        bad = http.post("/mcp?names=camel", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert bad.status_code == 400 and "names=camel: expected dotted or dashed" in bad.json()["error"]["message"]
