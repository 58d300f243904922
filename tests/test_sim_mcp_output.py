"""The simulators' MCP tools declare ``outputSchema`` (MCP 2025-06-18 on) and keep its promise.

Each descriptor is valid as the official SDK's ``Tool`` type; each schema is a JSON Schema object;
the ``structuredContent`` each tool returns validates against it, checked by the official client
(which refuses structured content that breaks a declared schema) and again with jsonschema.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx2
import jsonschema
import pytest

pytest.importorskip("mcp")

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import Tool

from simulators import SIMULATORS, simulator_class
from simulators.core import mcp as sim_mcp


@pytest.mark.parametrize("name", list(SIMULATORS))
def test_descriptors_are_spec_tools_with_object_output_schemas(name: str) -> None:
    cls = simulator_class(name)
    tools = sim_mcp.tools(cls)
    declared = [t for t in tools if "outputSchema" in t]
    assert len(declared) > len(tools) // 2  # most tools answer one JSON object
    for tool in tools:
        Tool.model_validate(tool)  # the SDK's own model of the spec's Tool
    for tool in declared:
        schema = tool["outputSchema"]
        assert schema["type"] == "object", tool["name"]
        jsonschema.validators.validator_for(schema).check_schema(schema)
    deletes = {r.tool for r in cls.routes if 204 in r.statuses}
    assert not deletes & {t["name"] for t in declared}  # no body, so no promise of one


@contextlib.asynccontextmanager
async def _connect(sim: Any) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers=sim.auth_headers()) as http,
        Client(streamable_http_client(sim.base_url + "/mcp", http_client=http)) as client,
    ):
        yield client


@pytest.mark.parametrize("fixture", list(SIMULATORS))
def test_structured_content_conforms_to_the_declared_schema(fixture: str, request: pytest.FixtureRequest) -> None:
    sim = request.getfixturevalue(fixture)
    sim.seed_demo()
    tools = {t["name"]: t for t in sim_mcp.tools(simulator_class(fixture)) if "outputSchema" in t}
    no_arguments = [name for name, t in tools.items() if not t["inputSchema"].get("required")]

    async def scenario() -> dict[str, Any]:
        async with _connect(sim) as client:
            await client.list_tools()  # the client learns each outputSchema, and then enforces it
            return {name: await client.call_tool(name, {}) for name in no_arguments}

    results = anyio.run(scenario)
    checked = 0
    for name, result in results.items():
        if result.is_error:  # a write needing fields the schema does not mark required, answered 400
            continue
        jsonschema.validate(result.structured_content, tools[name]["outputSchema"])
        checked += 1
    assert checked >= 3, {n: r.content for n, r in results.items()}
