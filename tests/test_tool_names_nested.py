"""A session run inside this one (pytester in-process) declares only its own framework tool names."""

from __future__ import annotations

import pytest

from pytest_agentops.tap.frameworks import declare_tool
from pytest_agentops.tap.frameworks.gate import names


def test_an_inner_session_sees_its_own_names_and_the_outer_ones_come_back(pytester: pytest.Pytester) -> None:
    before = names.swap({})
    declare_tool("outer_only_tool", kind="write")
    try:
        _run_inner(pytester)
        assert "outer_only_tool" in names.known() and "inner_tool" not in names.known()
    finally:
        names.swap(before)


def _run_inner(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nagentops_tool_names = inner_tool = read\n")
    pytester.makepyfile(
        test_inner="""
from pytest_agentops.tap.frameworks.gate import names

def test_names():
    assert names.known() == {"inner_tool"}
"""
    )
    pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider").assert_outcomes(passed=1)
