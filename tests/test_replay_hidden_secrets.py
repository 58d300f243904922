"""A request whose recording hid an echoed secret replays in any order, the secret still hidden.

Redaction remembers a secret sent under a secret name (``"session": ...``) and scrubs every later
copy of it, so the second test's cassette holds a placeholder where its request carried the value
in prose. Replayed alone, the process never saw the first test, sends the value in the clear, and
still gets its recorded answer; the value stays out of the output and the trace as when recording.
A fuzz test replaying a saved failing example first hit exactly this (its canary had been seen in
a ``?session=`` URL earlier in the search).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from upstream import Upstream

if TYPE_CHECKING:
    from conftest import Project

SECRET = "grace-session-0001"

AGENT = f"""
import openai

SECRET = {SECRET!r}


def ask(upstream_url, text, **extra):
    client = openai.OpenAI(base_url=upstream_url + "/v1", api_key="sk-test-inner0000000000000000", max_retries=0)
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{{"role": "user", "content": text}}], extra_body=extra)
    return reply.choices[0].message.content


def test_a_signs_in(upstream_url, agent_run):
    assert ask(upstream_url, "sign me in", session=SECRET).startswith("answer #")


def test_b_quotes_it(upstream_url, agent_run):
    assert ask(upstream_url, f"my session was {{SECRET}}, is it still valid?").startswith("answer #")
    print("sent", len(agent_run.events), "request(s)")
"""


def test_an_echo_hidden_while_recording_replays_alone_and_stays_hidden(project: Project, upstream: Upstream) -> None:
    project.pytester.makepyfile(test_agent=AGENT)
    project.run("--agent-record").assert_outcomes(passed=2)
    stored = (project.path / "cassettes/test_agent/test_b_quotes_it.json").read_text(encoding="utf-8")
    sent = json.loads(stored)["interactions"][0]["request"]["body"]["json"]["messages"][0]["content"]
    assert sent.startswith("my session was <redacted:session:") and SECRET not in stored  # the echo was hidden

    upstream.stop()
    alone = project.run("--agent-replay", "-k", "test_b", "-s", "--agent-trace-dir=traces")
    alone.assert_outcomes(passed=1)  # before: "no recorded answer" (the live request held the value)
    assert "sent 1 request(s)" in alone.stdout.str()
    assert SECRET not in alone.stdout.str() + alone.stderr.str()
    traces = "".join(p.read_text(encoding="utf-8") for p in (project.path / "traces").rglob("*") if p.is_file())
    assert "my session was <redacted:session:" in traces and SECRET not in traces

    both = project.run("--agent-replay")  # in recorded order the value is known first, as before
    both.assert_outcomes(passed=2)


def test_a_placeholder_stands_for_one_value_not_for_the_text_around_it(project: Project, upstream: Upstream) -> None:
    project.pytester.makepyfile(test_agent=AGENT)
    project.run("--agent-record").assert_outcomes(passed=2)
    project.pytester.makepyfile(test_agent=AGENT.replace("is it still valid?", "is it still valid? refund me"))
    upstream.stop()
    changed = project.run("--agent-replay", "-k", "test_b")
    changed.assert_outcomes(failed=1)
    assert "no recorded answer" in changed.stdout.str()
