"""An in-process (``pytester.runpytest_inprocess``) session of the plugin leaves the outer process
as it found it: pytester drops the modules the inner session first imported from ``sys.modules``,
and the attributes naming them on packages the outer session already held must go too (and
again when the ``pytester`` fixture puts back what the test body imported), or a
later ``from package import submodule`` gets the dropped copy (two copies of a simulator's
classes: its route's ``Reply`` is not the pipeline's, and the answer is the wrapper's fields).
"""

from __future__ import annotations

import pytest

NOTE_CALL = """
import json
import sys

def create_note(sim):
    headers = {**sim.auth_headers(), "content-type": "application/json"}
    body = json.dumps({"properties": {"hs_note_body": "call", "hs_timestamp": "2025-01-02T00:00:00Z"}})
    reply = sim.handle("POST", sim.base_url + "/crm/v3/objects/notes", headers, body.encode())
    return reply.status, json.loads(reply.body)
"""

INNER = """
def test_inner(crm):
    from simulators.core import Reply, Simulator  # the package's lazy exports, read in here first

    assert (Simulator.__module__, Reply.__module__) == ("simulators.core.simulator", "simulators.core.context")
    assert create_note(crm)[0] == 201
"""

IN_AN_INNER_SESSION = """
def test_an_inner_session_loads_the_simulator_first(pytester):
    assert "simulators.core.pipeline" not in sys.modules  # else the inner session imports nothing new
    pytester.makepyfile(test_inner=INNER)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
"""

IN_A_PYTESTER_TEST = """
def test_a_pytester_test_loads_the_simulator_itself(pytester):
    from simulators import simulator_class

    assert "simulators.core.pipeline" not in sys.modules
    assert create_note(simulator_class("crm")())[0] == 201  # dropped when the pytester fixture ends
"""

AFTERWARDS = """
def test_the_outer_session_then_gets_the_same_answer(crm):
    status, body = create_note(crm)
    assert (status, sorted(body)) == (201, ["archived", "createdAt", "id", "properties", "updatedAt"])


def test_its_package_exports_are_the_loaded_modules_own():
    import simulators.core

    assert simulators.core.pipeline is sys.modules["simulators.core.pipeline"]
    assert simulators.core.Reply is sys.modules["simulators.core.context"].Reply
    assert simulators.core.Simulator is sys.modules["simulators.core.simulator"].Simulator
"""


@pytest.mark.parametrize("first", [IN_AN_INNER_SESSION, IN_A_PYTESTER_TEST], ids=["inner-session", "pytester-test"])
def test_a_simulator_first_loaded_under_pytester_works_in_the_outer_session(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    monkeypatch.setenv("AGENTOPS_TEST_FORK", "0")  # a cold process: no simulator loaded yet
    pytester.makepyfile(test_outer=NOTE_CALL + f"INNER = {NOTE_CALL + INNER!r}\n" + first + AFTERWARDS)
    result = pytester.runpytest_subprocess("-p", "pytester", "-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=3)
