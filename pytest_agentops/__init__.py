"""pytest-agentops: test LLM agent workflows like ordinary code.

Public names are imported on first use, so loading the pytest plugin stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_agentops import _moved
from pytest_agentops._version import __version__

_moved.install()

if TYPE_CHECKING:
    from pytest_agentops.backends.model import FakeModel
    from pytest_agentops.cassette.errors import CassetteError, CassetteFormatError
    from pytest_agentops.cassette.format import Cassette
    from pytest_agentops.cassette.redact import Redactor
    from pytest_agentops.mcp.servers import register_mcp_server
    from pytest_agentops.policy.budget import Budget
    from pytest_agentops.policy.contracts import AgentContract, ContractError
    from pytest_agentops.policy.engine import Policy
    from pytest_agentops.policy.tools import Denial, ToolArgumentsInvalid, ToolDenied, ToolSpec, register_tool, tool
    from pytest_agentops.policy.tools import registry as tool_registry
    from pytest_agentops.readers.assertions import AgentRun
    from pytest_agentops.trace.prices import Price, PriceTable
    from pytest_agentops.trace.run import Event, ModelCall, Run, ToolCallRequest, Usage

__all__ = [
    "AgentContract",
    "AgentRun",
    "Budget",
    "Cassette",
    "CassetteError",
    "CassetteFormatError",
    "ContractError",
    "Denial",
    "Event",
    "FakeModel",
    "ModelCall",
    "Policy",
    "Price",
    "PriceTable",
    "Redactor",
    "Run",
    "ToolArgumentsInvalid",
    "ToolCallRequest",
    "ToolDenied",
    "ToolSpec",
    "Usage",
    "__version__",
    "register_mcp_server",
    "register_tool",
    "tool",
    "tool_registry",
]

_LAZY = {
    "AgentContract": "policy.contracts",
    "AgentRun": "readers.assertions",  # the agent_run fixture's type, for type hints
    "Budget": "policy.budget",
    "ContractError": "policy.contracts",
    "Denial": "policy.tools",
    "Policy": "policy.engine",
    "Price": "trace.prices",
    "PriceTable": "trace.prices",
    "ToolArgumentsInvalid": "policy.tools",
    "ToolDenied": "policy.tools",
    "ToolSpec": "policy.tools",
    "register_mcp_server": "mcp.servers",
    "register_tool": "policy.tools",
    "tool": "policy.tools",
    "tool_registry": "policy.tools",
    "Cassette": "cassette.format",
    "CassetteError": "cassette.errors",
    "CassetteFormatError": "cassette.errors",
    "Redactor": "cassette.redact",
    "Event": "trace.run",
    "FakeModel": "backends.model",
    "ModelCall": "trace.run",
    "Run": "trace.run",
    "ToolCallRequest": "trace.run",
    "Usage": "trace.run",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_agentops' has no attribute {name!r}")
    from importlib import import_module

    attr = "registry" if name == "tool_registry" else name
    return getattr(import_module(f"{__name__}.{module}"), attr)
