"""Which traffic the plugin governs without any flag, and how to widen it or turn the plugin off.

Default (``agentops_scope = auto``): a test that uses an agent* marker, an agentops fixture or
already has a cassette has every request governed; in any other test only model APIs, simulators,
the fake model and registered HTTP tools are, and the rest behaves as if the plugin were not
installed. ``agentops_scope = all`` governs every request of every test.
"""

from __future__ import annotations

import os
import sys

import forkrun
import pytest
from conftest import INNER_INI, Project
from upstream import Upstream

# Loopback requests no cassette owns would reach the upstream (agentops_loopback_passthrough): turn
# that off, so a governed request without a cassette shows up as a miss.
DEFAULT_INI = INNER_INI.replace("agentops_scope = all\n", "agentops_loopback_passthrough = false\n")

SCOPE_TESTS = """
import os

import httpx
import pytest

UPSTREAM = os.environ["AGENTOPS_TEST_UPSTREAM"]


def test_plain_traffic_is_left_alone():
    assert httpx.get(UPSTREAM + "/echo/plain").json()["path"] == "/echo/plain"


def test_model_traffic_is_governed_anywhere(oai):
    oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])


@pytest.mark.agent_cassette
def test_marked_tests_are_governed():
    httpx.get(UPSTREAM + "/echo/marked")


def test_fixture_users_are_governed(agent_run):
    httpx.get(UPSTREAM + "/echo/fixture")


def test_registered_tools_are_governed():
    from pytest_agentops import register_tool

    register_tool("weather.get", method="GET", url=UPSTREAM + "/echo/weather", kind="read")
    httpx.get(UPSTREAM + "/echo/weather")
"""

GOVERNED = ("test_model_traffic", "test_marked_tests", "test_fixture_users", "test_registered_tools")


@pytest.fixture
def scoped(project: Project) -> Project:
    project.pytester.makeini(DEFAULT_INI)
    project.pytester.makepyfile(test_scope=SCOPE_TESTS)
    return project


def test_default_scope_governs_agent_traffic_only(scoped: Project, upstream: Upstream) -> None:
    result = scoped.run("-rA")
    result.assert_outcomes(passed=1, failed=4)
    out = result.stdout.str()
    assert "PASSED test_scope.py::test_plain_traffic_is_left_alone" in out
    for name in GOVERNED:
        assert f"FAILED test_scope.py::{name}" in out  # no cassette: a loud miss, never the upstream
    # Line starts only: with CI set, pytest prints the short summary untruncated, repeating the text.
    miss = "pytest-agentops: 1 request(s) had no recorded answer"
    misses = [line for line in out.splitlines() if line.startswith(miss)]
    assert len(misses) == 4
    assert upstream.count == 1  # only the plain test reached it


def test_recording_writes_cassettes_only_for_governed_tests(scoped: Project, upstream: Upstream) -> None:
    scoped.run("--agent-record").assert_outcomes(passed=5)
    recorded = sorted(p.stem for p in (scoped.path / "cassettes" / "test_scope").glob("*.json"))
    assert recorded == sorted(n for test in GOVERNED for n in [_full(test)])
    upstream.stop()
    # The governed tests replay offline; the plain one needs its server, as it would without the plugin.
    result = scoped.run("--agent-replay", "-rA")
    result.assert_outcomes(passed=4, failed=1)
    assert "FAILED test_scope.py::test_plain_traffic_is_left_alone" in result.stdout.str()


def test_an_existing_cassette_puts_a_plain_test_in_scope(scoped: Project, upstream: Upstream) -> None:
    scoped.run("--agent-record", "-o", "agentops_scope=all").assert_outcomes(passed=5)
    upstream.stop()
    # Its cassette exists now, so the plain test is governed and replays without its server.
    scoped.run("--agent-replay").assert_outcomes(passed=5)


def test_scope_all_governs_every_test(scoped: Project, upstream: Upstream) -> None:
    result = scoped.run("-o", "agentops_scope=all", "-rA")
    result.assert_outcomes(failed=5)
    assert upstream.count == 0


def test_a_bad_scope_is_a_usage_error(scoped: Project) -> None:
    result = scoped.run("-o", "agentops_scope=some")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*agentops_scope: 'some' is not one of: auto, all*"])


def _full(prefix: str) -> str:
    return next(line.split("def ", 1)[1].split("(")[0] for line in SCOPE_TESTS.splitlines() if f"def {prefix}" in line)


# ---- turning it off ----------------------------------------------------------------------------------

USES_AGENT_RUN = """
def test_uses_agent_run(agent_run):
    assert agent_run is not None
"""

NESTED = """
pytest_plugins = ["pytester"]


def test_inner_session(pytester):
    pytester.makepyfile(test_inner="def test_x(agent_run):\\n    pass\\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)  # the plugin is off there too
    assert "pytest-agentops is turned off" in result.stdout.str()
"""


def test_agentops_disable_turns_it_off_in_the_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_uses=USES_AGENT_RUN)
    env = {**os.environ, "AGENTOPS_DISABLE": "1"}
    proc = forkrun.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(pytester.path / "test_uses.py")],
        cwd=pytester.path,
        env=env,
        timeout=120,
    )
    assert "pytest-agentops is turned off (AGENTOPS_DISABLE=1 or -p no:agentops): no agent_run fixture" in proc.stdout
    assert "agentops:" not in proc.stdout and "scorecard" not in proc.stdout  # no header line, no scorecard


def test_no_agentops_reaches_pytester_sessions_inside(pytester: pytest.Pytester) -> None:
    """pytester clears PYTEST_ADDOPTS, but an outer ``-p no:agentops`` still turns the inner plugin off."""
    pytester.makepyfile(test_nested=NESTED)
    proc = forkrun.run(
        [sys.executable, "-m", "pytest", "-p", "no:agentops", "-p", "no:cacheprovider", "test_nested.py"],
        cwd=pytester.path,
        env=dict(os.environ),
        timeout=120,
    )
    assert " 1 passed" in proc.stdout, proc.stdout[-3000:]


MOCKED_TESTS = """
import httpx
import respx

CLIENT = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True})))


def test_mocked_only():
    assert CLIENT.get("https://svc.example.com/items/1").json() == {"ok": True}
    with respx.mock(base_url="https://api.example.com") as router:
        router.get("/users/1").respond(200, json={"id": 1})
        assert httpx.get("https://api.example.com/users/1").json() == {"id": 1}


def test_mocked_model_call():
    with respx.mock(base_url="https://api.openai.com") as router:
        router.post("/v1/chat/completions").respond(200, json={"id": "chatcmpl-1"})
        assert httpx.post("https://api.openai.com/v1/chat/completions", json={}).json()["id"] == "chatcmpl-1"
"""


OPENED = """
from pytest_agentops.plugin import RUN


def pytest_runtest_teardown(item):
    if RUN in item.stash:
        with open("opened.txt", "a") as out:
            out.write(item.nodeid + "\\n")
"""


def test_a_plain_test_whose_requests_it_does_not_govern_leaves_no_run(project: Project) -> None:
    """As if the plugin were absent: no run, no trace, nothing in the report (its tap never opens)."""
    import json

    project.pytester.makeini(DEFAULT_INI)
    project.pytester.makepyfile(test_mocked=MOCKED_TESTS)
    project.pytester.makeconftest(OPENED)
    project.run("--agent-report", "report.json", "--agent-trace-dir", "traces").assert_outcomes(passed=2)
    report = json.loads((project.path / "report.json").read_text())
    tests = json.dumps(report)
    assert "test_mocked_model_call" in tests  # a model host is governed in any test: a run, a mock event
    assert "test_mocked_only" not in tests
    traces = sorted(path.name for path in (project.path / "traces").rglob("*.jsonl"))
    assert len(traces) == 1 and "test_mocked_model_call" in traces[0], traces
    opened = (project.path / "opened.txt").read_text().split()
    assert opened == ["test_mocked.py::test_mocked_model_call"]  # never built for the other one


KEPT = """
import json

from pytest_agentops.plugin import OPENER, RUN, SIMS, TAP


def pytest_sessionfinish(session):
    kept = [item.nodeid for item in session.items for key in (OPENER, RUN, SIMS, TAP) if key in item.stash]
    with open("kept.json", "w") as out:
        json.dump(kept, out)
"""


def test_a_test_lets_go_of_its_run_and_tap_once_its_reports_are_made(project: Project) -> None:
    """pytest keeps every item until the session ends: a test's stash must not keep its run, tap and
    cassette alive with it (a replayed suite's memory grew with it, and so did every full collection)."""
    import json

    project.pytester.makeini(DEFAULT_INI)
    project.pytester.makepyfile(test_mocked=MOCKED_TESTS)
    project.pytester.makeconftest(KEPT)
    project.run("--agent-report", "report.json", "--agent-trace-dir", "traces").assert_outcomes(passed=2)
    assert json.loads((project.path / "kept.json").read_text()) == []
    report = json.loads((project.path / "report.json").read_text())
    assert "test_mocked_model_call" in json.dumps(report)  # the figures were taken before it let go
    assert len(list((project.path / "traces").rglob("*.jsonl"))) == 1
