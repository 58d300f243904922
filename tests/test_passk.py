"""pass^k (@pytest.mark.agent_pass_k): k attempts per task, each its own run, trace and cassette."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from upstream import Upstream

from pytest_agentops.readers.passk import pass_hat, summarize, task_of

if TYPE_CHECKING:
    from conftest import Project

FAST_INI = """
[pytest]
addopts = -p no:hypothesispytest -p no:benchmark -p no:recording -p no:cacheprovider
          -p no:schemathesis -p no:langsmith_plugin -p no:anyio -p no:xdist
"""

PASSK_TESTS = """
import itertools

import pytest

ATTEMPTS = itertools.count(1)  # how many times the flaky task has run in this process


@pytest.mark.agent_pass_k(3)
def test_flaky(billing, agent_run):
    attempt = next(ATTEMPTS)
    assert agent_run.attempt == attempt
    with billing.client() as c:
        c.get("/v1/customers")
    assert attempt != 2, "fails on its second attempt"


@pytest.mark.agent_pass_k(3)
def test_steady(billing, agent_attempt):
    with billing.client() as c:
        c.get("/v1/customers")


@pytest.mark.agent_pass_k(3)
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_param(billing, lang, agent_attempt):
    with billing.client() as c:
        c.get("/v1/customers")
    assert not (lang == "fr" and agent_attempt == 3)


@pytest.mark.agent_pass_k(k=2)
def test_model(oai, agent_run):
    oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"try {agent_run.attempt}"}])
"""


def test_pass_k(project: Project, upstream: Upstream) -> None:
    project.pytester.makeini(FAST_INI)
    project.pytester.makepyfile(test_pk=PASSK_TESTS)
    result = project.run("--agent-record", "--agent-report=r.json", "--agent-trace-dir=t", "-v")
    result.assert_outcomes(passed=12, failed=2)
    result.stdout.fnmatch_lines(
        [
            "test_pk.py::test_flaky[[]attempt-1[]] PASSED*",
            "test_pk.py::test_flaky[[]attempt-2[]] FAILED*",
            "test_pk.py::test_flaky[[]attempt-3[]] PASSED*",
        ]
    )
    result.stdout.re_match_lines(
        [
            r"pass\^k \(k=2, 1 task\(s\)\): pass\^2 = 1\.000, pass@1 = 1\.000",
            r"  2/2  test_pk\.py::test_model",
            r"pass\^k \(k=3, 4 task\(s\)\): pass\^3 = 0\.500, pass@1 = 0\.833",
            r"  2/3  test_pk\.py::test_flaky",
            r"  3/3  test_pk\.py::test_param\[en\]",
            r"  2/3  test_pk\.py::test_param\[fr\]",
            r"  3/3  test_pk\.py::test_steady",
        ]
    )
    report = json.loads((project.path / "r.json").read_text())
    k3 = report["pass_k"][1]
    assert (k3["k"], k3["tasks"], k3["pass_hat_k"], k3["pass_at_1"]) == (3, 4, 0.5, 0.833333)
    assert k3["per_task"]["test_pk.py::test_flaky"] == {"attempts": 3, "successes": 2}
    flaky = [t for t in report["tests"] if t.get("task") == "test_pk.py::test_flaky"]
    assert [(t["attempt"], t["k"], t["outcome"]) for t in flaky] == [
        (1, 3, "passed"),
        (2, 3, "failed"),
        (3, 3, "passed"),
    ]
    assert len({t["trace_id"] for t in flaky}) == 3  # each attempt is its own run ...
    traces = sorted(p.name for p in (project.path / "t" / "test_pk").glob("test_flaky*.jsonl"))
    assert traces == ["test_flaky[attempt-1].jsonl", "test_flaky[attempt-2].jsonl", "test_flaky[attempt-3].jsonl"]
    # ... with its own cassette, so a replay serves each attempt what it recorded.
    cassettes = sorted(p.name for p in (project.path / "cassettes" / "test_pk").glob("*.json"))
    assert cassettes == ["test_model[attempt-1].json", "test_model[attempt-2].json"]
    upstream.stop()
    result = project.run("-k", "test_model")
    result.assert_outcomes(passed=2, deselected=12)


def test_bad_k_is_an_error(project: Project) -> None:
    project.pytester.makeini(FAST_INI)
    project.pytester.makepyfile(test_bad="import pytest\n\n@pytest.mark.agent_pass_k(0)\ndef test_x():\n    pass\n")
    result = project.run()
    assert result.ret != 0
    assert "@pytest.mark.agent_pass_k takes one integer k >= 1" in result.stdout.str() + result.stderr.str()


def test_pass_hat_and_task_ids() -> None:
    assert task_of("t.py::test_x[attempt-2]") == "t.py::test_x"
    assert task_of("t.py::test_x[en-attempt-12]") == "t.py::test_x[en]"
    assert task_of("t.py::test_x[attempt-1-en]") == "t.py::test_x[en]"
    assert task_of("t.py::test_x[en]") == "t.py::test_x[en]"
    assert pass_hat(3, 3, 3) == 1.0 and pass_hat(3, 2, 3) == 0.0
    assert pass_hat(4, 3, 2) == pytest.approx(3 / 6)  # tau-bench: C(3,2)/C(4,2)
    tests = [
        {"task": "a", "attempt": i, "k": 2, "outcome": o} for i, o in enumerate(["passed", "failed", "passed"], 1)
    ] + [{"task": "b", "attempt": 1, "k": 2, "outcome": "passed"}]
    (group,) = summarize(tests)
    assert group["tasks"] == 1 and group["incomplete"] == ["b"]
    assert group["pass_hat_k"] == pytest.approx(1 / 3) and group["pass_at_1"] == pytest.approx((2 / 3 + 1) / 2)
