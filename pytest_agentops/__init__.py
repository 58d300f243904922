"""pytest-agentops: test LLM agent workflows like ordinary code.

Public names are imported on first use, so loading the pytest plugin stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .cassette.errors import CassetteError, CassetteFormatError
    from .cassette.format import Cassette
    from .cassette.redact import Redactor
    from .trace import Event, ModelCall, Run, ToolCallRequest, Usage

__all__ = [
    "Cassette",
    "CassetteError",
    "CassetteFormatError",
    "Event",
    "ModelCall",
    "Redactor",
    "Run",
    "ToolCallRequest",
    "Usage",
    "__version__",
]

_LAZY = {
    "Cassette": "cassette.format",
    "CassetteError": "cassette.errors",
    "CassetteFormatError": "cassette.errors",
    "Redactor": "cassette.redact",
    "Event": "trace",
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

    return getattr(import_module(f"{__name__}.{module}"), name)
