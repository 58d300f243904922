"""The mistakes a newcomer makes fail loudly, and the errors read in one line (issue 17, items 1 and 7)."""

from __future__ import annotations

import json

import pytest
from conftest import INNER_INI


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INNER_INI)
    return pytester


def test_a_misspelt_agent_marker_is_a_collection_error_naming_the_real_one(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_refund="""
import pytest

@pytest.mark.agent_polcy(allow=["billing.customers.*"])
def test_refund():
    pass

def test_fine():
    pass
"""
    )
    result = inner.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting test_refund.py*",
            "test_refund.py::test_refund: unknown marker @pytest.mark.agent_polcy; "
            "did you mean @pytest.mark.agent_policy? (pytest-agentops markers: agent, *",
            "*1 error during collection*",
        ]
    )


def test_markers_on_a_class_or_a_param_are_checked_and_registered_ones_pass(inner: pytest.Pytester) -> None:
    inner.makeini(INNER_INI + "markers =\n    agentic: the project's own marker\n")
    inner.makepyfile(
        test_cls="""
import pytest

@pytest.mark.agentic
def test_own_marker():
    pass

@pytest.mark.agent_budgt(max_tool_calls=1)
class TestX:
    def test_y(self):
        pass

@pytest.mark.parametrize("x", [pytest.param(1, marks=pytest.mark.agent_casette("c"))])
def test_p(x):
    pass
"""
    )
    result = inner.runpytest()
    out = result.stdout.str()
    assert "test_cls.py::TestX: unknown marker @pytest.mark.agent_budgt; did you mean @pytest.mark.agent_budget?" in out
    assert (
        "test_cls.py::test_p[1]: unknown marker @pytest.mark.agent_casette; did you mean @pytest.mark.agent_cassette?"
        in out
    )
    assert "unknown marker @pytest.mark.agentic" not in out  # registered by the project: not a typo


def test_an_unknown_agentops_ini_key_is_a_usage_error(inner: pytest.Pytester) -> None:
    inner.makeini(INNER_INI + "agentops_replya = true\n")
    inner.makepyfile("def test_nothing():\n    pass\n")
    result = inner.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown ini option 'agentops_replya'" in result.stderr.str()
    assert "did you mean 'agentops_replay'?" in result.stderr.str()
    inner.makeini(INNER_INI)
    given = inner.runpytest("-o", "agentops_recrod=new")
    assert given.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown ini option 'agentops_recrod' (given with -o); did you mean 'agentops_record'?" in given.stderr.str()


def test_staging_on_the_command_line_without_recording_warns_and_the_header_says_it(inner: pytest.Pytester) -> None:
    inner.makepyfile("def test_nothing():\n    pass\n")
    result = inner.runpytest("--agent-staging=openai=http://127.0.0.1:9/v1", "-W", "default")
    result.stdout.fnmatch_lines(
        [
            "agentops: replay, cassettes in *cassettes, staging openai=http://127.0.0.1:9/v1 (unused: not recording), "
            "policy from markers only (no agent contracts)",
            "*AgentopsWarning: --agent-staging only applies while recording (--agent-record)*",
        ]
    )
    inner.makeini(INNER_INI + "agentops_staging = openai=http://127.0.0.1:9/v1\n")  # the ini form is permanent
    quiet = inner.runpytest("-W", "default")
    assert "AgentopsWarning" not in quiet.stdout.str()


def test_the_header_names_the_contract_file(inner: pytest.Pytester) -> None:
    inner.makepyprojecttoml(
        """
[tool.agentops.agents.triage]
budgets = { max_tool_calls = 3 }
"""
    )
    inner.makepyfile("def test_nothing():\n    pass\n")
    result = inner.runpytest("--agent-record")
    result.stdout.fnmatch_lines(
        ["agentops: record (new), cassettes in *, policy from pyproject.toml (contracts: triage)"]
    )


def test_a_corrupt_cassette_is_one_line_with_file_position_and_fix(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_bad="def test_corrupt(agent_run):\n    pass\n")
    folder = inner.path / "cassettes" / "test_bad"
    folder.mkdir(parents=True)
    (folder / "test_corrupt.json").write_text('{"version": 1, "meta": {}, "interactions": [\n  {"kind": ')
    result = inner.runpytest()
    result.assert_outcomes(errors=1)
    out = result.stdout.str()
    errors = out.split("ERROR at setup of test_corrupt")[1].split("short test summary")[0].strip("_ \n").splitlines()
    errors = [line for line in errors if not line.startswith("=")]
    assert errors == [
        f"cassette {folder / 'test_corrupt.json'}: not valid JSON at line 2 column 12: Expecting value; fix the "
        "file by hand, or re-record it: pytest --agent-record=all test_bad.py::test_corrupt"
    ], errors
    assert "Traceback" not in out and "direct cause" not in out


def test_re_recording_all_overwrites_a_corrupt_cassette(tmp_path: object) -> None:
    """The fix the one-liner gives works: --agent-record=all does not need to read the broken file."""
    from pathlib import Path

    from pytest_agentops.cassette.errors import CassetteFormatError
    from pytest_agentops.cassette.format import Cassette

    target = Path(str(tmp_path)) / "test_corrupt.json"
    target.write_text("{ not json")
    interaction = {
        "kind": "tool",
        "request": {"method": "GET", "url": "http://127.0.0.1:9/x", "headers": {}, "body": None},
        "response": {"status": 200, "reason": "OK", "headers": {}, "body": {"json": {"ok": True}}},
    }
    cassette = Cassette(target)
    cassette.add(interaction)
    cassette.save(replace=True)
    assert json.loads(target.read_text())["interactions"] == [interaction]
    target.write_text("{ not json")
    again = Cassette(target)
    again.add(interaction)
    with pytest.raises(CassetteFormatError, match="not valid JSON"):
        again.save()  # merging (record new) still refuses to drop what it cannot read


def test_miss_diffs_show_the_whole_changed_value_or_a_unified_diff() -> None:
    from pytest_agentops.cassette.matching import diff_values

    old = "Classify the support ticket into refund, shipping or other, and explain why in one sentence. " * 2
    new = old.replace("explain why", "say why", 1)
    [line] = diff_values({"instructions": old}, {"instructions": new})
    assert line == f"instructions changed at char {old.index('explain')}: {old!r} -> {new!r}"  # whole, < 300

    long_old = "\n".join(f"Rule {n}: answer politely and cite the policy section {n}." for n in range(40))
    long_new = long_old.replace("Rule 17: answer politely", "Rule 17: answer briskly")
    [diff] = diff_values({"system": long_old}, {"system": long_new})
    assert diff.splitlines()[0].startswith("system changed at char ") and "(unified diff, recorded -> sent)" in diff
    assert "  -Rule 17: answer politely and cite the policy section 17." in diff.splitlines()
    assert "  +Rule 17: answer briskly and cite the policy section 17." in diff.splitlines()
    assert "Rule 30" not in diff  # only the hunk, with one line of context

    one_line = "x" * 1000 + "OLD" + "y" * 1000
    [window] = diff_values(one_line, one_line.replace("OLD", "NEW"))
    assert "changed at char 1000: ..." in window and "OLD" in window and "NEW" in window
    assert len(window) < 800


def test_audit_counts_unreadable_cassettes_instead_of_calling_them_clean(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    from pytest_agentops.cli import main

    folder = Path(str(tmp_path))
    (folder / "b.json").write_text(json.dumps({"version": 7, "meta": {}, "interactions": []}))
    assert main(["cassettes", "audit", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "audit: none of the 1 file(s) could be read (errors above); nothing audited"
    (folder / "a.json").write_text("{ broken")  # not JSON: still scanned for secrets, as text
    (folder / "c.json").write_text(json.dumps({"version": 1, "meta": {}, "interactions": []}))
    assert main(["cassettes", "audit", str(folder)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "audit: 2 file(s) clean; 1 file(s) unreadable (errors above), not audited"
    )


def test_an_allowlist_pattern_matching_no_tool_warns_at_collection_and_in_the_denial(inner: pytest.Pytester) -> None:
    inner.makepyprojecttoml(
        """
[tool.agentops.agents.refunds.safety]
allowlisted_tools = ["billing.refunds.*", "crm.contacts.serch"]
"""
    )
    inner.makepyfile(
        test_typo="""
import pytest

@pytest.mark.agent_policy(allow=["biling.customers.*", "billing.refunds.create", "mcp.weather.*"])
def test_marker(billing):
    with billing.client() as client:
        answer = client.post("/v1/customers", data={"email": "ana@example.com"})
    assert answer.status_code == 403
    print("DENIAL", answer.json())

@pytest.mark.agent("refunds")
def test_contract():
    pass
"""
    )
    result = inner.runpytest("-s", "-W", "default")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines_random(
        [
            "*AgentopsWarning: @pytest.mark.agent_policy (first used by test_typo.py::test_marker): pattern "
            "'biling.customers.*' matches no known tool; did you mean 'billing.customers.*'?",
            "*AgentopsWarning: contract 'refunds' (first used by test_typo.py::test_contract): pattern "
            "'crm.contacts.serch' matches no known tool; did you mean 'crm.contacts.search'?",
            "*DENIAL *not on the allowlist (biling.customers.*, billing.refunds.create, mcp.weather.*); pattern "
            "'biling.customers.*' matches no known tool; did you mean 'billing.customers.*'?*",
        ]
    )
    assert "pattern 'billing.refunds.create' matches" not in result.stdout.str()
    assert "pattern 'mcp.weather.*'" not in result.stdout.str()  # MCP tools are known only once a server is seen
