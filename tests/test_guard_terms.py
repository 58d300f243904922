"""A test's guard is built from its closest agent/agent_budget/agent_policy markers and its folder;
what they merge to is kept for the next test with the same ones (``gating._terms``). Neighbouring
tests must still each get their own terms: a marker never leaks to the next test, and a module's
or class's marker applies to each of its tests."""

from __future__ import annotations

import pytest

TESTS = """
import pytest
from pytest_agentops import ToolDenied, tool


@tool(kind="write")
def close_ticket(ticket: int) -> str:
    return "closed"


def closes():
    try:
        close_ticket(1)
    except ToolDenied:
        return False
    return True


def test_a_unmarked(agent_run):
    assert closes()


@pytest.mark.agent_policy(deny=["close_ticket"])
def test_b_denied(agent_run):
    assert not closes()


def test_c_unmarked_after_a_marked_one(agent_run):
    assert closes()


@pytest.mark.agent_policy(read_only=True)
class TestReadOnly:
    def test_f(self, agent_run):
        assert not closes()

    @pytest.mark.agent_budget(max_tool_calls=7)
    def test_g_class_policy_and_own_budget(self, agent_run):
        assert not closes()
        assert agent_run.denials[0].rule == "read_only"
        assert agent_run.budget.budget.max_tool_calls == 7


def test_h_unmarked_last(agent_run):
    assert closes()
    assert agent_run.budget.budget.max_tool_calls is None
"""


def test_each_test_gets_its_own_markers_terms(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_terms=TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=6)
