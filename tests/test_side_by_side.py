"""pytest-recording and pytest-agentops in one suite: a module moves over while the rest stays.

A ``@pytest.mark.vcr`` test keeps pytest-recording's YAML cassette (recorded and replayed by it,
exactly as without us; our trace lists its requests as backend ``vcr``); an agentops test in the same
run keeps its JSON cassette. Both record against a real loopback upstream, then both replay with the
upstream stopped, in one run, under ``--agent-replay`` too.
"""

from __future__ import annotations

import json

import pytest
from conftest import Project
from upstream import Upstream

INI = """
[pytest]
addopts = -p no:hypothesispytest -p no:benchmark -p no:cacheprovider -p no:schemathesis -p no:anyio
"""

OLD_MODULE = """
import os

import httpx
import pytest
import requests

UPSTREAM = os.environ["AGENTOPS_TEST_UPSTREAM"]


@pytest.mark.vcr
def test_still_on_pytest_recording(agent_run):
    assert httpx.get(UPSTREAM + "/echo/old").json()["path"] == "/echo/old"
    assert requests.post(UPSTREAM + "/echo/old", json={"n": 1}).json()["body"] == {"n": 1}
    assert [e.backend for e in agent_run.events] == ["vcr", "vcr"]
"""

NEW_MODULE = """
import os

import httpx
import pytest

UPSTREAM = os.environ["AGENTOPS_TEST_UPSTREAM"]


@pytest.mark.agent_cassette
def test_moved_to_agentops(agent_run, backend):
    assert httpx.get(UPSTREAM + "/echo/new").json()["path"] == "/echo/new"
    assert [e.backend for e in agent_run.events] == [backend]
"""


@pytest.fixture
def suite(project: Project) -> Project:
    project.pytester.makeini(INI)
    project.pytester.makepyfile(test_old=OLD_MODULE, test_new=NEW_MODULE)
    return project


def test_both_plugins_record_then_replay_offline_in_one_run(suite: Project, upstream: Upstream) -> None:
    suite.run("--record-mode=once", "--agent-record").assert_outcomes(passed=2)
    served = upstream.count
    assert served == 3
    yaml = suite.path / "cassettes" / "test_old" / "test_still_on_pytest_recording.yaml"
    ours = suite.path / "cassettes" / "test_new" / "test_moved_to_agentops.json"
    assert yaml.is_file() and "/echo/old" in yaml.read_text()
    assert [i["request"]["url"].rsplit("/", 2)[-2:] for i in json.loads(ours.read_text())["interactions"]] == [
        ["echo", "new"]
    ]
    assert not (suite.path / "cassettes" / "test_old" / "test_still_on_pytest_recording.json").exists()
    upstream.stop()

    for mode in ([], ["--agent-replay"]):
        result = suite.run("--record-mode=none", *mode)
        result.assert_outcomes(passed=2)
    assert upstream.count == served


def test_a_vcr_test_is_pytest_recordings_even_for_model_hosts(suite: Project) -> None:
    """A request our scope governs anywhere else (a model API) is still pytest-recording's in a vcr test."""
    suite.pytester.makepyfile(
        test_old="""
import httpx
import pytest


@pytest.mark.vcr
def test_model_call_from_its_cassette(agent_run):
    reply = httpx.post("https://api.openai.com/v1/chat/completions", json={"model": "m", "messages": []})
    assert reply.json() == {"from": "vcr"}
    assert [(e.backend, e.kind) for e in agent_run.events] == [("vcr", "model")]
"""
    )
    folder = suite.path / "cassettes" / "test_old"
    folder.mkdir(parents=True)
    (folder / "test_model_call_from_its_cassette.yaml").write_text(
        "interactions:\n"
        "- request:\n"
        '    body: \'{"model": "m", "messages": []}\'\n'
        "    headers: {}\n"
        "    method: POST\n"
        "    uri: https://api.openai.com/v1/chat/completions\n"
        "  response:\n"
        '    body: {string: \'{"from": "vcr"}\'}\n'
        "    headers: {Content-Type: [application/json]}\n"
        "    status: {code: 200, message: OK}\n"
        "version: 1\n"
    )
    suite.run("--record-mode=none", "--agent-replay", "test_old.py").assert_outcomes(passed=1)


LATE_MODULE = """
import os
import sys

import pytest

UPSTREAM = os.environ["AGENTOPS_TEST_UPSTREAM"]
YAML = os.path.join(os.path.dirname(__file__), "cassettes", "vcrpy_late.yaml")


def test_requests_first_imported_under_a_vcrpy_cassette(agent_run):
    assert "urllib3" not in sys.modules  # so the interception started with urllib3's patches deferred
    import requests
    import vcr

    with vcr.use_cassette(YAML, record_mode=os.environ["VCR_MODE"]):
        assert requests.post(UPSTREAM + "/echo/late", json={"n": 2}).json()["body"] == {"n": 2}
    assert [e.backend for e in agent_run.events] == ["vcr"]


@pytest.mark.agent_cassette
def test_then_requests_through_agentops(agent_run, backend):
    import requests

    assert requests.get(UPSTREAM + "/echo/after").json()["path"] == "/echo/after"
    assert [e.backend for e in agent_run.events] == [backend]
"""


def test_requests_imported_late_stays_vcrpys_then_is_ours(
    project: Project, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """urllib3's patches start at its first connection (``tap.pools``): inside a vcrpy cassette they must not."""
    monkeypatch.setenv("AGENTOPS_TEST_FORK", "0")  # a cold interpreter, and only our plugin: nothing imports urllib3
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    project.pytester.makeini(INI)
    project.pytester.makepyfile(test_late=LATE_MODULE)
    plugin = ("-p", "pytest_agentops.plugin")
    monkeypatch.setenv("VCR_MODE", "once")
    project.run(*plugin, "--agent-record").assert_outcomes(passed=2)
    assert upstream.count == 2
    yaml = (project.path / "cassettes" / "vcrpy_late.yaml").read_text()
    ours = project.path / "cassettes" / "test_late" / "test_then_requests_through_agentops.json"
    assert "/echo/late" in yaml and "/echo/after" not in yaml
    assert [i["request"]["url"] for i in json.loads(ours.read_text())["interactions"]] == [upstream.url + "/echo/after"]
    upstream.stop()
    monkeypatch.setenv("VCR_MODE", "none")
    for mode in ([], ["--agent-replay"]):
        project.run(*plugin, *mode).assert_outcomes(passed=2)
    assert upstream.count == 2
