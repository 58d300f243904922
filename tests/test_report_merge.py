"""``agentops report merge``: shard reports and trace folders merged into what one unsharded run
reports; the baseline gate and ``agentops report`` on the merged result; bad inputs named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_agentops.cli import main
from pytest_agentops.readers import scorecard

if TYPE_CHECKING:
    from conftest import Project

PYPROJECT = """
[tool.agentops.agents.triage]
budgets = { max_tool_calls = 10 }

[tool.agentops.agents.triage.safety]
allowlisted_tools = ["billing.customers.*"]
"""

CONFTEST = """
import openai
import pytest


@pytest.fixture
def ask(fake_llm):
    client = openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="sk-fake")

    def call(text="hi"):
        return client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])

    return call
"""

SHARD_A = """
import pytest

pytestmark = pytest.mark.agent("triage")


def test_lookup(ask, billing):
    ask()
    with billing.client() as c:
        c.get("/v1/customers")
        c.post("/v1/customers", data={"email": "a@shop.test"})


def test_escalates(ask, billing, agent_run):
    ask()
    with billing.client() as c:
        assert c.get("/v1/customers/cus_nope").status_code == 404
    agent_run.escalate("refund over the limit")


@pytest.mark.agent_pass_k(3)
def test_flaky(ask, request):
    ask()
    assert not request.node.name.endswith("attempt-2]")
"""

SHARD_B = """
import pytest


@pytest.mark.agent("triage")
def test_denied(ask, billing):
    ask("refund me")
    with billing.client() as c:
        assert c.post("/v1/refunds", data={"charge": "ch_1"}).status_code == 403


@pytest.mark.agent("triage")
def test_fails(ask, billing):
    ask()
    assert False, "the agent did not finish"


def test_plain(billing):
    with billing.client() as c:
        c.get("/v1/customers")
"""


@pytest.fixture
def sharded(project: Project) -> Project:
    project.pytester.makepyprojecttoml(PYPROJECT)
    project.pytester.makeconftest(CONFTEST)
    project.pytester.makepyfile(test_a=SHARD_A, test_b=SHARD_B)
    return project


def _timeless(value: Any) -> Any:
    """Without what differs between two runs of the same tests: timings and trace ids."""
    if isinstance(value, dict):
        drop = ("duration_s", "trace_id", "p50", "p95")
        out = {k: _timeless(v) for k, v in value.items() if k not in drop}
        if "latency_ms" in value and isinstance(value["latency_ms"], dict):  # per-test values: keep the counts
            out["latency_ms"] = {
                step: len(v) if isinstance(v, list) else v.get("count") for step, v in value["latency_ms"].items()
            }
        return out
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def _figures(report: dict[str, Any]) -> dict[str, Any]:
    return _timeless({key: report[key] for key in ("agents", "total", "pass_k", "tests")})


def _merge(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["report", "merge", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_two_shards_merge_to_the_unsharded_report(
    sharded: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = sharded.path
    inprocess = sharded.pytester.runpytest_inprocess  # quicker; the xdist shard needs its own processes
    full = inprocess("--agent-report=full/report.json", "--agent-trace-dir=full/traces")
    full.assert_outcomes(passed=6, failed=2)
    inprocess("test_a.py", "--agent-report=shard-1/report.json", "--agent-trace-dir=shard-1/traces")
    second = sharded.run("-n", "2", "test_b.py", "--agent-report=shard-2/report.json", "--agent-trace-dir=shard-2/t")
    second.assert_outcomes(passed=2, failed=1)  # xdist inside a shard: one report from its controller
    assert json.loads((root / "shard-2/report.json").read_text())["trace_dir"] == "t"

    monkeypatch.chdir(root)
    code, out, _ = _merge("shard-1/report.json", "shard-2/report.json", "-o", "ci/merged.json", capsys=capsys)
    assert code == 0
    assert "merged 2 report(s), 8 test(s) -> ci/merged.json; traces: 8 file(s) in ci/traces" in out
    assert "pass^k (k=3, 1 task(s)): pass^3 = 0.000, pass@1 = 0.667" in out
    merged = json.loads((root / "ci/merged.json").read_text())
    unsharded = json.loads((root / "full/report.json").read_text())
    assert _figures(merged) == _figures(unsharded)
    assert merged["agents"]["triage"]["runs"] == 7 and merged["agents"]["triage"]["denials"] == 1
    assert [s["tests"] for s in merged["merged_from"]] == [5, 3]
    assert merged["trace_dir"] == "traces"

    def files(folder: Path) -> set[str]:
        return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}

    assert files(root / "ci/traces") == files(root / "full/traces")

    # The merged report is a report: agentops report renders it, --agent-baseline gates against it.
    assert main(["report", "ci/merged.json", "-o", "ci/report.html"]) == 0
    assert "report: ci/report.html (8 test(s), 2 failed" in capsys.readouterr().out
    gated = inprocess("--agent-baseline=ci/merged.json")
    gated.stdout.fnmatch_lines(["agentops baseline: no regressions against ci/merged.json"])


def _test(nodeid: str, outcome: str, tool_calls: int = 1, **extra: Any) -> dict[str, Any]:
    figs = scorecard.figures(None, nodeid=nodeid, outcome=outcome, duration_s=0.1, contract="triage")
    figs.update(tool_calls=tool_calls, model_calls=1, latency_ms={"model": [1.0]}, **extra)
    return figs


def _write(path: Path, tests: list[dict[str, Any]], **extra: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**scorecard.build(tests), **extra}), encoding="utf-8")
    return path


def test_the_gate_on_a_merged_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = _write(tmp_path / "baseline.json", [_test("t.py::a", "passed"), _test("t.py::b", "passed")])
    one = _write(tmp_path / "s1.json", [_test("t.py::a", "passed")])
    two = _write(tmp_path / "s2.json", [_test("t.py::b", "failed")])
    out_path = tmp_path / "m.json"

    code, out, _ = _merge(str(one), str(two), "-o", str(out_path), "--baseline", str(baseline), capsys=capsys)
    assert code == 1
    assert "REGRESSION triage: success rate dropped from 100.0% to 50.0%" in out
    assert f"agentops baseline: 1 regression(s) against {baseline}" in out
    written = json.loads(out_path.read_text())
    assert [r["key"] for r in written["baseline"]["regressions"]] == ["success_rate_drop"]

    loose = ("--tolerance", "success_rate_drop = 60%", "-q")
    code, out, _ = _merge(str(one), str(two), "-o", str(out_path), "--baseline", str(baseline), *loose, capsys=capsys)
    assert code == 0 and "agentops baseline: no regressions" in out
    assert "latency by step" not in out  # -q: no scorecard


def test_bad_inputs_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = _write(tmp_path / "s1.json", [_test("t.py::a", "passed")])
    again = _write(tmp_path / "s2.json", [_test("t.py::a", "failed")])
    code, _, err = _merge(str(one), str(again), "-o", str(tmp_path / "m.json"), capsys=capsys)
    assert code == 2
    assert f"test 't.py::a' is in both {one} and {again}; shards must not overlap" in err

    (tmp_path / "junit.json").write_text('{"tests": []}')
    code, _, err = _merge(str(one), str(tmp_path / "junit.json"), capsys=capsys)
    assert code == 2 and f"{tmp_path / 'junit.json'} is not a pytest-agentops report" in err
    assert "agentops report merge:" in err

    code, _, err = _merge(str(tmp_path / "nope.json"), capsys=capsys)
    assert code == 2 and "nope.json: no such file or directory" in err
    code, _, err = _merge(str(tmp_path), capsys=capsys)
    assert code == 2 and "no report file among the inputs" in err
    assert not (tmp_path / "m.json").exists()


def test_a_trace_two_shards_wrote_differently_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for shard, body in (("s1", '{"a": 1}\n'), ("s2", '{"a": 2}\n')):
        (tmp_path / shard / "traces" / "t").mkdir(parents=True)
        (tmp_path / shard / "traces" / "t" / "x.jsonl").write_text(body)
        (tmp_path / shard / "traces" / "payloads").mkdir()
        (tmp_path / shard / "traces" / "payloads" / "abc.json").write_text("{}")
        _write(tmp_path / shard / "report.json", [_test(f"{shard}.py::a", "passed")], trace_dir="traces")
    inputs = [str(tmp_path / "s1" / "report.json"), str(tmp_path / "s2" / "report.json")]
    code, _, err = _merge(*inputs, "-o", str(tmp_path / "m.json"), capsys=capsys)
    assert code == 2
    assert "trace file t/x.jsonl differs between" in err and "s2" in err

    (tmp_path / "s2" / "traces" / "t" / "x.jsonl").rename(tmp_path / "s2" / "traces" / "t" / "y.jsonl")
    target = tmp_path / "out-traces"
    code, out, _ = _merge(*inputs, "-o", str(tmp_path / "m.json"), "--trace-dir", str(target), capsys=capsys)
    assert code == 0 and "traces: 2 file(s)" in out
    assert sorted(p.name for p in target.rglob("*") if p.is_file()) == ["abc.json", "x.jsonl", "y.jsonl"]


def test_a_report_whose_traces_were_not_downloaded_is_merged_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = _write(tmp_path / "s1" / "report.json", [_test("t.py::a", "passed")], trace_dir="traces")
    code, out, err = _merge(str(one), "-o", str(tmp_path / "m.json"), capsys=capsys)
    assert code == 0 and "merged 1 report(s), 1 test(s)" in out and "traces:" not in out
    assert f"agentops: warning: {one}: its trace folder {tmp_path / 's1' / 'traces'} is not there" in err
    assert "trace_dir" not in json.loads((tmp_path / "m.json").read_text())


def test_report_of_a_report_without_traces_says_what_to_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path / "r.json", [_test("t.py::a", "passed")])
    assert main(["report", str(path)]) == 2
    assert "does not say where its traces are (no 'trace_dir'); pass the trace folder" in capsys.readouterr().err


def test_shard_example_databases_merge_by_copying(tmp_path: Path) -> None:
    """What the sharded CI recipe does with each shard's .hypothesis/examples (docs/ci-recipes.md)."""
    import shutil

    from hypothesis.database import DirectoryBasedExampleDatabase

    for shard, value in (("1", b"found in shard 1"), ("2", b"found in shard 2")):
        db = DirectoryBasedExampleDatabase(tmp_path / shard / "examples")
        db.save(b"test_refunds", value)
        db.save(b"test_refunds", b"found in both")
    for shard in ("1", "2"):  # cp -r shards/*/.hypothesis/examples/. examples/
        shutil.copytree(tmp_path / shard / "examples", tmp_path / "examples", dirs_exist_ok=True)
    merged = DirectoryBasedExampleDatabase(tmp_path / "examples")
    assert sorted(merged.fetch(b"test_refunds")) == [b"found in both", b"found in shard 1", b"found in shard 2"]


def test_pass_k_attempts_split_across_shards_merge_into_one_task(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def attempt(n: int, outcome: str) -> dict[str, Any]:
        return _test(f"t.py::test_greets[attempt-{n}]", outcome, task="t.py::test_greets", attempt=n, k=3)

    alone = [_write(tmp_path / "s1.json", [attempt(1, "passed"), attempt(3, "passed")])]
    alone.append(_write(tmp_path / "s2.json", [attempt(2, "failed")]))
    assert json.loads(alone[0].read_text())["pass_k"][0]["incomplete"] == ["t.py::test_greets"]  # 2 of 3 attempts
    code, out, _ = _merge(*map(str, alone), "-o", str(tmp_path / "m.json"), capsys=capsys)
    assert code == 0
    (group,) = json.loads((tmp_path / "m.json").read_text())["pass_k"]
    assert (group["tasks"], group["incomplete"], group["pass_hat_k"]) == (1, [], 0.0)
    assert group["per_task"] == {"t.py::test_greets": {"attempts": 3, "successes": 2}}
    assert "pass^k (k=3, 1 task(s)): pass^3 = 0.000, pass@1 = 0.667" in out
