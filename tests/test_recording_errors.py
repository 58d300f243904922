"""Recording never poisons a cassette: upstream 5xx answers and connection errors are not saved.

Inner pytest sessions with the real openai SDK against the loopback upstream (``tests/upstream.py``),
which answers a chosen error status on demand.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from upstream import Upstream

if TYPE_CHECKING:
    from conftest import Project

AGENT = """
import openai
import pytest

KEY = "sk-test-inner00000000000000000000"


def ask(upstream_url, retries=1):
    client = openai.OpenAI(base_url=upstream_url + "/v1", api_key=KEY, max_retries=retries)
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    return reply.choices[0].message.content


def test_ask(upstream_url, agent_run):
    assert ask(upstream_url).startswith("answer #")


def test_swallows(upstream_url, agent_run):
    try:
        ask(upstream_url, retries=0)
    except openai.APIStatusError:
        pass  # an agent that handles the error: the recording must still not keep the 5xx


@pytest.mark.agent_cassette(record_errors=True)
def test_error_handling(upstream_url, agent_run):
    with pytest.raises(openai.InternalServerError):
        ask(upstream_url, retries=0)
"""

CASSETTE = "cassettes/test_agent/{}.json"


def _statuses(project: Project, test: str) -> list[int]:
    path = project.path / CASSETTE.format(test)
    if not path.exists():
        return []
    return [i["response"]["status"] for i in json.loads(path.read_text(encoding="utf-8"))["interactions"]]


def test_a_500_is_never_saved_and_a_healthy_rerecord_then_replays(project: Project, upstream: Upstream) -> None:
    project.pytester.makepyfile(test_agent=AGENT)
    upstream.fail_status = 500
    broken = project.run("--agent-record", "-k", "test_ask or test_swallows")
    out = broken.stdout.str()
    broken.assert_outcomes(failed=2)
    assert "upstream answered 500 Internal Server Error while recording POST " in out
    assert "/v1/chat/completions: nothing saved (2 times: the client retried)" in out
    assert "(the code under test then raised InternalServerError" in out  # the SDK's error, named after ours
    assert _statuses(project, "test_ask") == [] and _statuses(project, "test_swallows") == []

    upstream.fail_status = None
    healthy = project.run("--agent-record", "-k", "test_ask or test_swallows")
    healthy.assert_outcomes(passed=2)
    assert _statuses(project, "test_ask") == [200] and _statuses(project, "test_swallows") == [200]

    upstream.stop()
    replay = project.run("--agent-replay", "-k", "test_ask or test_swallows")
    replay.assert_outcomes(passed=2)


def test_record_errors_opt_in_saves_them_and_record_new_fetches_them_again(
    project: Project, upstream: Upstream
) -> None:
    project.pytester.makepyfile(test_agent=AGENT)
    upstream.fail_status = 501
    kept = project.run("--agent-record", "-k", "test_error_handling")
    kept.assert_outcomes(passed=1)
    assert _statuses(project, "test_error_handling") == [501]  # the marker asked for it
    assert project.run("-k", "test_error_handling").ret == 0  # and it replays

    # Saved with the option (or by an older version): record (new) fetches the error again, warning.
    flagged = project.run("--agent-record", "--agent-record-errors", "-k", "test_ask")
    flagged.assert_outcomes(failed=1)  # the agent itself fails on the 501s; they are saved on purpose
    assert _statuses(project, "test_ask") == [501, 501]
    upstream.fail_status = None
    again = project.run("--agent-record", "-k", "test_ask")
    again.assert_outcomes(passed=1)
    warning = "*AgentopsWarning: cassette *test_ask.json held a 501 answer for POST *fetching it again"
    again.stdout.fnmatch_lines([warning])
    assert _statuses(project, "test_ask") == [200]


def test_an_unreachable_staging_url_fails_the_test_naming_it(project: Project, upstream: Upstream) -> None:
    project.pytester.makepyfile(
        test_agent="""
import openai

def test_staged(agent_run):
    client = openai.OpenAI(api_key="sk-test-inner00000000000000000000", max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
"""
    )
    port = upstream.port
    upstream.stop()  # the port is closed now: a connect is refused
    result = project.run("--agent-record", f"--agent-staging=openai=http://127.0.0.1:{port}/v1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*upstream http://127.0.0.1:{port}/v1 unreachable (ConnectionRefusedError: *) while recording "
            "POST https://api.openai.com/v1/chat/completions: nothing saved",
        ]
    )
    assert not (project.path / CASSETTE.format("test_staged")).exists()


@pytest.mark.parametrize("base", ["", "/v1", "/v1/"])
def test_staging_url_with_or_without_the_sdks_v1(project: Project, upstream: Upstream, base: str) -> None:
    """``--agent-staging openai=http://host/v1`` (the SDK's base URL) must not send ``/v1/v1/...``."""
    project.pytester.makepyfile(
        test_agent="""
import anthropic
import openai

def test_both(agent_run):
    oai = openai.OpenAI(api_key="sk-test-inner00000000000000000000", max_retries=0)
    oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    claude = anthropic.Anthropic(api_key="sk-ant-test-inner00000000000000", max_retries=0)
    claude.messages.create(model="claude-sonnet-4-0", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
"""
    )
    url = upstream.url + base
    result = project.run("--agent-record", f"--agent-staging=openai={url}", f"--agent-staging=anthropic={url}")
    result.assert_outcomes(passed=1)
    assert upstream.paths() == ["/v1/chat/completions", "/v1/messages"]
    recorded = json.loads((project.path / CASSETTE.format("test_both")).read_text(encoding="utf-8"))
    urls = [i["request"]["url"] for i in recorded["interactions"]]
    assert urls == ["https://api.openai.com/v1/chat/completions", "https://api.anthropic.com/v1/messages"]
