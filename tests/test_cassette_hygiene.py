"""Cassette hygiene (issue 17, item 5): unused interactions reported and pruned, orphans listed, old ones flagged."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from upstream import Upstream

if TYPE_CHECKING:
    from conftest import Project

AGENT = """
def test_ask(oai, agent_run):
    oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "PROMPT"}])


def test_other(oai, agent_run):
    oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "other"}])
"""
ASK = "cassettes/test_agent/test_ask.json"


def _prompts(project: Project, relative: str) -> list[Any]:
    data = project.cassette(relative)
    return [i["request"]["body"]["json"]["messages"][0]["content"] for i in data["interactions"]]


def test_a_prompt_change_reports_the_stale_interaction_and_prune_removes_it(
    project: Project, upstream: Upstream
) -> None:
    project.pytester.makepyfile(test_agent=AGENT.replace("PROMPT", "first prompt"))
    project.run("--agent-record").assert_outcomes(passed=2)
    project.pytester.makepyfile(test_agent=AGENT.replace("PROMPT", "second prompt"))

    grown = project.run("--agent-record")
    grown.assert_outcomes(passed=2)
    assert _prompts(project, ASK) == ["first prompt", "second prompt"]  # record (new) keeps the old one
    grown.stdout.fnmatch_lines(
        [
            "agentops: 1 recorded interaction(s) in 1 cassette(s) were not used by any test:",
            "  cassettes/test_agent/test_ask.json: interactions[[]0[]] of 2",
            "  remove them with: pytest --agent-record=prune (or agentops cassettes prune)*",
        ]
    )

    pruned = project.run("--agent-record=prune")
    pruned.assert_outcomes(passed=2)
    pruned.stdout.fnmatch_lines(["agentops: removed 1 interaction(s) no test used, from 1 cassette(s):"])
    assert _prompts(project, ASK) == ["second prompt"]
    assert project.cassette(ASK)["meta"]["interaction_count"] == 1
    assert _prompts(project, "cassettes/test_agent/test_other.json") == ["other"]

    upstream.stop()
    again = project.run("--agent-replay")
    again.assert_outcomes(passed=2)
    assert "not used by any test" not in again.stdout.str()  # only record sessions report


def test_a_failed_test_never_has_its_cassette_pruned(project: Project, upstream: Upstream) -> None:
    project.pytester.makepyfile(test_agent=AGENT.replace("PROMPT", "first prompt"))
    project.run("--agent-record").assert_outcomes(passed=2)
    failing = AGENT.replace("PROMPT", "second prompt").replace(
        '"content": "second prompt"}])', '"content": "second prompt"}])\n    assert False, "the agent broke"'
    )
    project.pytester.makepyfile(test_agent=failing)
    result = project.run("--agent-record=prune")
    result.assert_outcomes(passed=1, failed=1)
    assert _prompts(project, ASK) == ["first prompt", "second prompt"]  # judged only when every user passed
    assert "removed" not in result.stdout.str()


def test_agentops_cassettes_prune_runs_the_prune_session(
    project: Project, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_agentops.cli import main

    project.pytester.makepyfile(test_agent=AGENT.replace("PROMPT", "first prompt"))
    project.run("--agent-record").assert_outcomes(passed=2)
    project.pytester.makepyfile(test_agent=AGENT.replace("PROMPT", "second prompt"))
    project.run("--agent-record").assert_outcomes(passed=2)
    monkeypatch.chdir(project.path)
    assert main(["cassettes", "prune", "--", "-q", "-k", "test_ask"]) == 0
    assert _prompts(project, ASK) == ["second prompt"]


def test_ls_orphans_lists_the_cassettes_no_collected_test_owns(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_agentops.cli import main

    project.pytester.makepyfile(
        test_agent="""
import pytest

def test_kept():
    pass

@pytest.mark.agent_cassette("shared/triage")
def test_named():
    pass
"""
    )
    empty = json.dumps({"version": 1, "meta": {}, "interactions": []})
    for relative in (
        "test_agent/test_kept.json",
        "test_agent/test_kept.failing.json",
        "shared/triage.json",
        "test_agent/test_renamed.json",
        "test_gone/test_x.json",
    ):
        path = project.path / "cassettes" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(empty)
    monkeypatch.chdir(project.path)
    assert main(["cassettes", "ls", "--orphans"]) == 1
    out, err = capsys.readouterr()
    root = project.path / "cassettes"
    assert out.splitlines() == [str(root / "test_agent/test_renamed.json"), str(root / "test_gone/test_x.json")]
    assert "2 orphan cassette(s) under" in err
    assert main(["cassettes", "ls", "--orphans", "cassettes", "--", "-k", "test_kept"]) == 1
    out, _ = capsys.readouterr()
    assert "cassettes/shared/triage.json" in out.splitlines()  # test_named was not collected this time


def test_old_cassettes_are_flagged_with_the_max_age_ini(project: Project) -> None:
    project.pytester.makeini(
        "[pytest]\naddopts = -p no:hypothesispytest -p no:benchmark -p no:recording -p no:cacheprovider\n"
        "agentops_scope = all\nagentops_cassette_max_age_days = 30\n"
    )
    project.pytester.makepyfile(
        test_agent="def test_old(agent_cassette):\n    pass\n\ndef test_new(agent_cassette):\n    pass\n"
    )
    folder = project.path / "cassettes" / "test_agent"
    folder.mkdir(parents=True)
    for name, when in (("test_old", "2020-01-02T03:04:05+00:00"), ("test_new", "2999-01-01T00:00:00+00:00")):
        (folder / f"{name}.json").write_text(
            json.dumps({"version": 1, "meta": {"recorded_at": when}, "interactions": []})
        )
    result = project.run()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "agentops: warning: 1 cassette(s) recorded more than 30 days ago (agentops_cassette_max_age_days):",
            "  cassettes/test_agent/test_old.json: recorded 2020-01-02T03:04:05+00:00 (* days ago)",
            "  re-record them with: pytest --agent-record=all",
        ]
    )
    assert "test_new.json" not in result.stdout.str()
