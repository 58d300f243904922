"""Budgets: each kind breaching and not breaching, in real inner pytest sessions (and price tables in-process)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from upstream import CHAT_USAGE, Upstream

from pytest_agentops.trace.prices import DEFAULT, Price, PriceError, PriceTable, parse_ini_line, parse_table, run_usage
from pytest_agentops.trace.run import ModelCall, Run, Usage

if TYPE_CHECKING:
    from conftest import Project

INNER_INI = """
[pytest]
addopts = -p no:hypothesispytest -p no:benchmark -p no:recording -p no:cacheprovider
"""

CHAT_TOKENS = CHAT_USAGE["prompt"] + CHAT_USAGE["completion"]  # 26 per chat call

BUDGET_TESTS = """
import time

import httpx
import pytest

from pytest_agentops import Budget, ToolDenied, register_tool, tool

UP = UPSTREAM
register_tool("kb_search", method="GET", url=UP + "/echo/kb*")


def ask(oai, model="gpt-4o-mini", **kw):
    return oai.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], **kw)


@tool(kind="read")
def lookup(key: str) -> str:
    return key


# ---- max_tool_calls
@pytest.mark.agent_budget(max_tool_calls=2)
def test_tool_calls_within(agent_run):
    httpx.get(UP + "/echo/kb/1")
    assert agent_run.budget.remaining.tool_calls == 1
    lookup("a")
    assert agent_run.budget.remaining.tool_calls == 0
    agent_run.assert_within_budget()


@pytest.mark.agent_budget(max_tool_calls=2)
def test_tool_calls_breach(agent_run):
    httpx.get(UP + "/echo/kb/2")
    httpx.get(UP + "/echo/kb/3")
    response = httpx.get(UP + "/echo/kb/4-never-sent")
    assert response.status_code == 403 and response.json()["error"]["rule"] == "budget.max_tool_calls"


@pytest.mark.agent_budget(max_tool_calls=3)
def test_graceful_exit_reads_the_remaining_budget(agent_run):
    pages = 0
    while agent_run.budget.remaining.tool_calls > 0:
        httpx.get(UP + f"/echo/kb/page{pages}")
        pages += 1
    assert pages == 3 and not agent_run.budget.exceeded


# ---- max_tokens (streaming included)
@pytest.mark.agent_budget(max_tokens=30)
def test_tokens_within(oai, agent_run):
    ask(oai)
    assert agent_run.usage.total_tokens == TOKENS
    assert agent_run.budget.remaining.tokens == 30 - TOKENS


@pytest.mark.agent_budget(max_tokens=40)
def test_tokens_breach_streamed(oai, agent_run):
    ask(oai)
    for _ in ask(oai, stream=True, stream_options={"include_usage": True}):
        pass
    assert agent_run.model_calls[1].streamed and agent_run.usage.total_tokens == 2 * TOKENS


@pytest.mark.agent_budget(max_tokens=TOKENS)
def test_tokens_used_up_denies_the_next_model_call(oai, agent_run):
    ask(oai)
    with pytest.raises(Exception, match="budget.max_tokens_total"):
        ask(oai)


# ---- max_cost_usd
@pytest.mark.agent_budget(max_cost_usd=0.00001)
def test_cost_within(oai, agent_run):
    ask(oai)
    assert agent_run.usage.cost_usd == pytest.approx(COST)
    assert agent_run.budget.remaining.cost_usd == pytest.approx(0.00001 - COST)


@pytest.mark.agent_budget(max_cost_usd=0.00001)
def test_cost_breach(oai, agent_run):
    ask(oai)
    ask(oai, model="gpt-4o")


@pytest.mark.agent_budget(max_cost_usd=1.0)
def test_cost_unknown_model_is_not_zero(oai, agent_run):
    ask(oai, model="mystery-model")
    assert agent_run.usage.cost_usd is None and agent_run.usage.unpriced_models == ("mystery-model-2024-07-18",)


def test_priced_by_the_project_table(oai, agent_run):
    ask(oai, model="house-model")
    assert agent_run.usage.cost_usd == pytest.approx(TOKENS * 2 / 1e6)


# ---- timeout_seconds
@pytest.mark.agent_budget(max_seconds=5)
def test_time_within(agent_run):
    httpx.get(UP + "/echo/kb/fast")


@pytest.mark.agent_budget(timeout_seconds=0.2)
def test_time_breach(agent_run):
    time.sleep(0.3)
    response = httpx.get(UP + "/echo/kb/too-late")
    assert response.json()["error"]["rule"] == "budget.timeout_seconds"


# ---- max_repeated_calls (loop detection)
@pytest.mark.agent_budget(max_repeated_calls=2)
def test_repeats_within(agent_run):
    for q in ("a", "b", "a", "b", "c"):
        httpx.get(UP + f"/echo/kb/search?q={q}")
    assert agent_run.budget.used.repeated_calls == 2


@pytest.mark.agent_budget(max_repeated_calls=2)
def test_repeats_breach(agent_run):
    for _ in range(2):
        httpx.get(UP + "/echo/kb/search?q=loop")
    assert httpx.get(UP + "/echo/kb/search?q=loop").status_code == 403
    with pytest.raises(ToolDenied):
        for _ in range(3):
            lookup(key="same")


@pytest.mark.agent("tight")
def test_contract_budget(agent_run):
    httpx.get(UP + "/echo/kb/c1")
    httpx.get(UP + "/echo/kb/c2")


@pytest.mark.agent("tight")
@pytest.mark.agent_budget(max_tool_calls=5)
def test_marker_overrides_contract_budget(agent_run):
    httpx.get(UP + "/echo/kb/c3")
    httpx.get(UP + "/echo/kb/c4")
    assert agent_run.budget.budget == Budget(max_tool_calls=5, timeout_seconds=30)
"""

BUDGET_PYPROJECT = """
[tool.agentops.agents.tight]
budgets = { max_tool_calls = 1, timeout_seconds = 30 }

[tool.agentops.prices]
house-model = { input = 2, output = 2 }
"""

EXPECTED = {
    "test_tool_calls_within": "PASSED",
    "test_tool_calls_breach": "FAILED",
    "test_graceful_exit_reads_the_remaining_budget": "PASSED",
    "test_tokens_within": "PASSED",
    "test_tokens_breach_streamed": "FAILED",
    "test_tokens_used_up_denies_the_next_model_call": "FAILED",
    "test_cost_within": "PASSED",
    "test_cost_breach": "FAILED",
    "test_cost_unknown_model_is_not_zero": "FAILED",
    "test_priced_by_the_project_table": "PASSED",
    "test_time_within": "PASSED",
    "test_time_breach": "FAILED",
    "test_repeats_within": "PASSED",
    "test_repeats_breach": "FAILED",
    "test_contract_budget": "FAILED",
    "test_marker_overrides_contract_budget": "PASSED",
}


def _sections(output: str) -> dict[str, str]:
    """The failure section of each failed inner test, by test name."""
    parts = re.split(r"\n_{3,} (test_\w+) _{3,}\n", output)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_each_budget_kind_breaching_and_not(project: Project, upstream: Upstream) -> None:
    cost = DEFAULT.cost(ModelCall("openai.chat", "gpt-4o-mini", Usage(CHAT_USAGE["prompt"], CHAT_USAGE["completion"])))
    assert cost is not None
    tests = (
        BUDGET_TESTS.replace("UPSTREAM", repr(upstream.url), 1)
        .replace("TOKENS", str(CHAT_TOKENS))
        .replace("COST", repr(cost))
    )
    assert tests.count("\ndef test_") == len(EXPECTED)
    project.pytester.makeini(INNER_INI)
    project.pytester.makepyprojecttoml(BUDGET_PYPROJECT)
    project.pytester.makepyfile(test_agent=tests)
    result = project.run("-v")
    out = result.stdout.str()
    for name, outcome in EXPECTED.items():
        assert re.search(rf"::{name} {outcome}", out), f"{name} should have {outcome}\n{out}"
    failures = _sections(out)
    expect = {
        "test_tool_calls_breach": "max_tool_calls=2: the agent made 3 tool calls",
        "test_tokens_breach_streamed": f"max_tokens_total=40: the model calls used {2 * CHAT_TOKENS} tokens",
        "test_tokens_used_up_denies_the_next_model_call": "budget.max_tokens_total denied the model call",
        "test_cost_breach": "max_cost_usd=1e-05: the model calls cost $",
        "test_cost_unknown_model_is_not_zero": "the cost is unknown, no price for model(s) mystery-model-2024-07-18",
        "test_time_breach": "timeout_seconds=0.2: the run took",
        "test_repeats_breach": "max_repeated_calls=2: the same call was made 3 times (a loop?): kb_search",
        "test_contract_budget": "max_tool_calls=1: the agent made 2 tool calls",
    }
    for name, text in expect.items():
        assert text in failures[name], failures[name]
    # A breach shows the compact step table.
    section = failures["test_tool_calls_breach"]
    assert re.search(r"seq\s+kind\s+tool/model\s+backend\s+status\s+tokens\s+ms", section), section
    assert re.search(r"2\s+tool\s+kb_search\s+policy\s+403\s+-\s+\d+\s+denied: budget.max_tool_calls", section)
    assert "budget: tool calls 3/2" in section
    # The calls a budget denied never reached the server.
    paths = upstream.paths()
    assert "/echo/kb/4-never-sent" not in paths and "/echo/kb/too-late" not in paths
    assert paths.count("/echo/kb/search?q=loop") == 2
    assert [r["body"]["model"] for r in upstream.requests if r["path"] == "/v1/chat/completions"].count(
        "gpt-4o-mini"
    ) == 6  # the denied 2nd call of test_tokens_used_up_... is not among them


# ---- prices, in-process ----------------------------------------------------------------------------


def test_price_lookup_and_snapshots() -> None:
    table = PriceTable()
    assert table.lookup("gpt-4o") is table.lookup("gpt-4o-2024-08-06")
    assert table.lookup("gpt-4o-mini-2024-07-18") == table.prices["gpt-4o-mini"]  # longest key wins
    assert table.lookup("claude-sonnet-4-20250514") == table.prices["claude-sonnet-4"]
    assert table.lookup("claude-sonnet-4-5-20250929") == table.prices["claude-sonnet-4-5"]
    assert table.lookup("gpt-4o-turbo-imaginary") is None  # not a dated snapshot
    assert table.lookup("mystery") is None and table.lookup(None) is None


def test_cached_input_is_priced_separately() -> None:
    price = Price(input=10.0, output=20.0, cached_input=1.0, cache_write=12.5)
    plain = ModelCall("x", "m", Usage(input_tokens=1000, output_tokens=100))
    cached = ModelCall("x", "m", Usage(input_tokens=1000, output_tokens=100, cached_input_tokens=800))
    written = ModelCall("x", "m", Usage(input_tokens=1000, output_tokens=100, cache_creation_input_tokens=1000))
    assert price.cost(plain) == pytest.approx((1000 * 10 + 100 * 20) / 1e6)
    assert price.cost(cached) == pytest.approx((200 * 10 + 800 * 1 + 100 * 20) / 1e6)
    assert price.cost(written) == pytest.approx((1000 * 12.5 + 100 * 20) / 1e6)


def test_run_usage_reports_unpriced_models() -> None:
    run = Run()
    url = "https://api.openai.com/v1/chat/completions"
    for model in ("gpt-4o", "house", "house"):
        call = ModelCall("openai.chat", model, Usage(100, 10))
        run.record(kind="model", method="POST", url=url, backend="cassette", model_call=call)
    usage = run_usage(run)
    assert usage.total_tokens == 330 and usage.cost_usd is None and usage.unpriced_models == ("house",)
    priced = run_usage(run, DEFAULT.with_overrides({"house": Price(1.0, 1.0)}))
    assert priced.cost_usd == pytest.approx((100 * 2.5 + 10 * 10) / 1e6 + 2 * 110 / 1e6)


def test_price_config_errors_name_the_key() -> None:
    assert parse_ini_line("m = input:1 output:2 cached_input:0.5") == ("m", Price(1.0, 2.0, 0.5))
    with pytest.raises(PriceError, match=r"agentops_prices: m.output: 'x' is not a number"):
        parse_ini_line("m = input:1 output:x")
    with pytest.raises(PriceError, match=r"pyproject.toml: \[tool.agentops.prices\] m.cached: unknown key"):
        parse_table({"m": {"input": 1, "output": 1, "cached": 1}}, "pyproject.toml: [tool.agentops.prices]")
    with pytest.raises(PriceError, match=r"m.output: missing"):
        parse_table({"m": {"input": 1}}, "f")
    with pytest.raises(PriceError, match=r"m.input: must be a number >= 0"):
        parse_table({"m": {"input": -1, "output": 1}}, "f")


PRICE_HOOK_TESTS = """
def test_hook_and_ini_prices(oai, agent_run):
    for model in ("hook-model", "ini-model"):
        oai.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    assert agent_run.usage.cost_usd == __COST__
"""


def test_prices_from_hook_and_ini(project: Project, upstream: Upstream) -> None:
    conftest = project.path / "conftest.py"
    conftest.write_text(
        conftest.read_text(encoding="utf-8")
        + "\n\ndef pytest_agentops_prices(config):\n"
        + "    return {'hook-model': {'input': 1, 'output': 1}, 'ini-model': {'input': 100, 'output': 100}}\n",
        encoding="utf-8",
    )
    project.pytester.makeini(INNER_INI + "agentops_prices =\n    ini-model = input:3 output:3\n")
    cost = round(CHAT_TOKENS * 1 / 1e6 + CHAT_TOKENS * 3 / 1e6, 10)  # the ini line wins over the hook
    project.pytester.makepyfile(test_agent=PRICE_HOOK_TESTS.replace("__COST__", repr(cost)))
    project.run().assert_outcomes(passed=1)


def test_bad_ini_price_is_a_usage_error(project: Project) -> None:
    project.pytester.makeini(INNER_INI + "agentops_prices =\n    gpt-x = input:cheap\n")
    project.pytester.makepyfile(test_agent="def test_x():\n    pass\n")
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*agentops_prices: gpt-x.input: 'cheap' is not a number*"])


def test_the_running_tally_equals_a_recount_of_the_trace() -> None:
    """The check before each request counts only new events; it must agree with reading the whole trace."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from pytest_agentops.policy.budget import Tally, call_key

    step = st.one_of(
        st.tuples(st.just("tool"), st.sampled_from(["kb", "crm.get"]), st.integers(0, 2)),
        st.tuples(st.just("model"), st.sampled_from(["gpt-4o-mini", "my-unpriced-model"]), st.integers(0, 50)),
    )

    @settings(max_examples=200, deadline=None, database=None)
    @given(batches=st.lists(st.lists(step, max_size=5), max_size=6))
    def agree(batches: list[list[tuple[str, str, int]]]) -> None:
        run = Run("t")
        tally = Tally(DEFAULT, repeats=True)
        for batch in batches:
            for kind, name, n in batch:
                if kind == "tool":
                    run.record(kind="tool", method="GET", url=f"https://x/{name}", backend="simulator",
                               tool=name, arguments={"q": n})  # fmt: skip
                else:
                    call = ModelCall("openai.chat", name, Usage(input_tokens=n, output_tokens=n))
                    run.record(kind="model", method="POST", url="https://api.openai.com/v1/chat/completions",
                               backend="cassette", model_call=call)  # fmt: skip
            tally.update(run)
            # The recount, written out here (not with the library's own summing).
            tools = [e for e in run.events if e.kind == "tool"]
            calls = [e.model_call for e in run.events if e.model_call is not None]
            costs = [DEFAULT.cost(c) for c in calls if c.usage.total_tokens]
            assert tally.tool_calls == len(tools)
            assert tally.usage.total.total_tokens == sum(c.usage.total_tokens for c in calls)
            assert tally.usage.cost_usd == (None if None in costs else round(sum(c or 0.0 for c in costs), 10))
            assert tally.usage.result().total_tokens == run_usage(run, DEFAULT).total_tokens
            counts: dict[str, int] = {}
            for event in tools:
                counts[call_key(event)] = counts.get(call_key(event), 0) + 1
            assert tally.repeats == counts
            assert tally.most_repeated() == ((max(counts, key=counts.__getitem__), max(counts.values())) if counts
                                             else (None, 0))  # fmt: skip
        del run.events[:1]  # a list that shrank (never done by the library): counted again from scratch
        assert tally.update(run).tool_calls == sum(1 for e in run.events if e.kind == "tool")

    agree()
