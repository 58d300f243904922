"""Shared set-up of the MCP pytester tests: an inner project whose tests reach MCP servers.

``PREAMBLE`` opens an inner test module: the imports every MCP inner test uses, this directory as
``TESTS`` and on ``sys.path`` (for ``mcp_weather``), and ``PORT``/``URL``, the loopback address
``project`` picked.
``run`` runs the inner session in process, inside ``tool_registry.isolated()``: a ``register_tool``
at an inner module's top level lands in the process-wide registry and would otherwise reach the
outer tests that run after it in the same worker.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import INNER_INI
from mcp_weather import free_port

from pytest_agentops import tool_registry

TESTS = Path(__file__).parent

PREAMBLE = f"""
import asyncio
import contextlib
import json
import os
import sys

import pytest

TESTS = {str(TESTS)!r}  # this directory: the helper servers (mcp_weather.py, *_stdio.py)
sys.path.insert(0, TESTS)
from mcp_weather import serving, weather_server

PORT = int(os.environ["MCP_PORT"])
URL = f"http://127.0.0.1:{{PORT}}/mcp"
"""


def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, source: str, *, pyproject: str = "") -> None:
    """An inner project with ``test_inner.py`` = ``PREAMBLE`` + ``source`` and a free port in ``MCP_PORT``."""
    pytester.makeini(INNER_INI)
    if pyproject:
        pytester.makepyprojecttoml(pyproject)
    pytester.makepyfile(test_inner=PREAMBLE + source)
    monkeypatch.setenv("MCP_PORT", str(free_port()))


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The inner session, in process, its tool registrations undone afterwards."""
    with tool_registry.isolated():
        return pytester.runpytest_inprocess("-q", "-p", "no:randomly", *args)
