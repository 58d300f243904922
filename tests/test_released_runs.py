"""What a finished test leaves behind: nothing that only a garbage collection can free.

The plugin lets go of a test's run, tap and guard once its reports are made (``tapping.release``).
The guard points back at its run, so without breaking that pair each test's trace (run, guard,
events, model calls) waited for the collector, and a replayed suite of 2,000 tests made ~170 extra
collections. ``closest_mark`` is the marker lookup the per-test code uses instead of pytest's.
"""

from __future__ import annotations

import pytest

from pytest_agentops.tap.items import closest_mark

CONFTEST = """
import gc
import weakref

import pytest

RUNS = []


@pytest.fixture(autouse=True)
def _remember(agent_run):
    RUNS.append(weakref.ref(agent_run))


def pytest_sessionstart(session):
    gc.disable()  # only reference counting frees anything during the run


def pytest_sessionfinish(session):
    gc.enable()
"""

TESTS = """
import conftest
from pytest_agentops import tool


@tool(kind="read")
def lookup(order: int) -> str:
    return "shipped"


def test_a_first(agent_run):
    assert lookup(1) == "shipped"
    assert agent_run.guard is not None


def test_b_then(agent_run):
    assert len(conftest.RUNS) == 2
    assert conftest.RUNS[0]() is None, "the first test's run is still alive"
"""


def test_a_finished_tests_run_is_freed_without_a_garbage_collection(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_runs=TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2)


MARKED = """
import pytest

pytestmark = [pytest.mark.agent_cassette("module"), pytest.mark.agent("mod")]


@pytest.mark.agent_cassette("class")
class TestGroup:
    @pytest.mark.agent_cassette("method")
    @pytest.mark.agent_cassette("method-outer")
    def test_method(self):
        pass

    def test_plain(self):
        pass


def test_function():
    pass
"""


@pytest.mark.parametrize("name", ["agent_cassette", "agent", "agent_escalation"])
def test_closest_mark_is_the_marker_pytest_calls_closest(pytester: pytest.Pytester, name: str) -> None:
    items = pytester.getitems(MARKED)
    assert len(items) == 3
    for item in items:
        found, expected = closest_mark(item, name), item.get_closest_marker(name)
        assert (found is None) == (expected is None), item.nodeid
        if expected is not None:
            assert found is not None and found.args == expected.args, item.nodeid
