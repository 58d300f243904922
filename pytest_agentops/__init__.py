"""pytest-agentops: test LLM agent workflows like ordinary code.

Public names are imported on first use, so loading the pytest plugin stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .budget import Budget
    from .cassette.errors import CassetteError, CassetteFormatError
    from .cassette.format import Cassette
    from .cassette.redact import Redactor
    from .contracts import AgentContract, ContractError
    from .fakes import FakeModel
    from .policy import Policy
    from .prices import Price, PriceTable
    from .tools import Denial, ToolArgumentsInvalid, ToolDenied, ToolSpec, register_tool, tool
    from .tools import registry as tool_registry
    from .trace import Event, ModelCall, Run, ToolCallRequest, Usage

__all__ = [
    "AgentContract",
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
    "register_tool",
    "tool",
    "tool_registry",
]

_LAZY = {
    "AgentContract": "contracts",
    "Budget": "budget",
    "ContractError": "contracts",
    "Denial": "tools",
    "Policy": "policy",
    "Price": "prices",
    "PriceTable": "prices",
    "ToolArgumentsInvalid": "tools",
    "ToolDenied": "tools",
    "ToolSpec": "tools",
    "register_tool": "tools",
    "tool": "tools",
    "tool_registry": "tools",
    "Cassette": "cassette.format",
    "CassetteError": "cassette.errors",
    "CassetteFormatError": "cassette.errors",
    "Redactor": "cassette.redact",
    "Event": "trace",
    "FakeModel": "fakes",
    "ModelCall": "trace",
    "Run": "trace",
    "ToolCallRequest": "trace",
    "Usage": "trace",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_agentops' has no attribute {name!r}")
    from importlib import import_module

    attr = "registry" if name == "tool_registry" else name
    return getattr(import_module(f"{__name__}.{module}"), attr)
