"""``agentops report TRACE_DIR -o report.html``: the page made from the traces of a real inner pytest
run (content, escaping, filtering and expansion in a real browser), and bad input."""

from __future__ import annotations

import html
import json
import os
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from pytest_agentops import cli
from pytest_agentops.readers.tracefile import write_trace
from pytest_agentops.trace.run import ModelCall, Run, ToolCallRequest, Usage

ATTACK = "</script><script>alert(1)</script>"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip

INNER_INI = """
[pytest]
addopts = -p no:hypothesispytest -p no:benchmark -p no:recording -p no:cacheprovider
    -p no:schemathesis -p no:langsmith_plugin -p no:anyio
"""

# An agent loop on the official openai SDK against the fake model and the billing simulator.
INNER_TESTS = f"""
import json

import openai
import pytest

ATTACK = {ATTACK!r}
TOOLS = [{{"type": "function", "function": {{"name": n, "parameters": {{"type": "object"}}}}}}
         for n in ("billing_customers_create", "billing_refunds_create")]


def run_agent(fake_llm, billing, prompt, max_steps=6):
    client = openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="x")
    messages = [{{"role": "user", "content": prompt}}]
    with billing.client() as http:
        for _ in range(max_steps):
            reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
            message = reply.choices[0].message
            if not message.tool_calls:
                return message.content
            messages.append(message.model_dump(exclude_none=True))
            for call in message.tool_calls:
                resource = call.function.name.split("_")[1]
                answer = http.post(f"/v1/{{resource}}", data=json.loads(call.function.arguments))
                messages.append({{"role": "tool", "tool_call_id": call.id, "content": answer.text}})
    return None


@pytest.mark.agent_budget(max_tool_calls=4, max_tokens=5000)
def test_signs_up(fake_llm, billing, agent_run):
    fake_llm.script([fake_llm.tool_call("billing_customers_create", email="ana@shop.test", description=ATTACK),
                     "Welcome Ana!"])
    assert run_agent(fake_llm, billing, "Sign up ana@shop.test " + ATTACK) == "Welcome Ana!"
    agent_run.escalate("reason " + ATTACK)


@pytest.mark.agent("triage")
@pytest.mark.agent_policy(deny=["billing.refunds.*"])
def test_refund_denied(fake_llm, billing, agent_run):
    fake_llm.script([fake_llm.tool_call("billing_refunds_create", charge="ch_1"), "A colleague will handle it."])
    run_agent(fake_llm, billing, "Refund my last charge")
    assert len(agent_run.denials) == 1


def test_wrong_answer(fake_llm, billing):
    fake_llm.script([fake_llm.tool_call("billing_customers_create", email="bo@shop.test"), "Hello Bo"])
    assert run_agent(fake_llm, billing, "Sign up bo@shop.test") == "Welcome Bo!"


@pytest.mark.agent_budget(max_tool_calls=2)
def test_loops(fake_llm, billing):
    fake_llm.script([fake_llm.tool_call("billing_customers_create", email="cy@shop.test")], loop=True)
    run_agent(fake_llm, billing, "Sign me up", max_steps=4)


@pytest.mark.parametrize("name", [ATTACK])
def test_named(fake_llm, name):
    fake_llm.script(["ok"])
    openai.OpenAI(base_url=fake_llm.openai_base_url, api_key="x").chat.completions.create(
        model="gpt-4o-mini", messages=[{{"role": "user", "content": name}}])


@pytest.mark.skip(reason="not today")
@pytest.mark.agent("triage")
def test_skipped():
    pass
"""

PYPROJECT = """
[tool.agentops.agents.triage]
budgets = { max_tool_calls = 10 }
"""

PASSED = ("test_signs_up", "test_refund_denied", "test_named")
FAILED = ("test_wrong_answer", "test_loops")


def _render(*args: str) -> tuple[int, str, str]:
    """Run ``agentops report`` in-process: (exit code, stdout, stderr)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["report", *args])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def run_dir(pytester: pytest.Pytester) -> Path:
    """A real inner pytest session with trace files and a JSON report, in ``pytester.path``."""
    pytester.makeini(INNER_INI)
    pytester.makepyprojecttoml(PYPROJECT)
    pytester.makepyfile(test_agent=INNER_TESTS)
    result = pytester.runpytest_subprocess("--agent-trace-dir=traces", "--agent-report=report.json", timeout=120)
    result.assert_outcomes(passed=3, failed=2, skipped=1)
    return pytester.path


def _section(page: str, test: str) -> str:
    """The HTML of one test's ``<details>`` block."""
    match = re.search(
        r'<details class="test"[^>]*data-name="[^"]*::' + re.escape(test) + r'[^"]*".*?</details>\n', page, re.S
    )
    assert match is not None, f"no section for {test}"
    return match.group(0)


def test_report_from_a_real_run(run_dir: Path) -> None:
    code, out, err = _render(str(run_dir / "traces"), "-o", str(run_dir / "report.html"))
    assert (code, err) == (0, ""), err
    assert out.startswith("report: ") and "(5 test(s), 2 failed;" in out
    page = (run_dir / "report.html").read_text(encoding="utf-8")

    # Escaping: the planted markup (prompt, tool argument, escalation reason, test id) is text only.
    assert ATTACK not in page and "<script>alert" not in page
    assert page.count("<script") == 2 and page.count("</script>") == 2  # the JSON data and our own script
    assert html.escape(ATTACK) in _section(page, "test_signs_up")
    data = json.loads(re.search(r'<script type="application/json" id="agentops-data">(.*?)</script>', page, re.S)[1])  # type: ignore[index]
    named = [t for t in data["tests"] if t["nodeid"].startswith("test_agent.py::test_named")]
    assert named and ATTACK in named[0]["nodeid"]  # the JSON block round-trips exactly
    assert data["total"]["runs"] == 5 and data["total"]["failures"] == 2 and data["total"]["denials"] == 3

    # Nothing external: the only URLs in attributes are data: ones; no http(s) resource.
    assert set(re.findall(r'\s(?:src|href)="([^"]*)"', page)) == {"data:,"}
    csp = html.unescape(re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', page)[1])  # type: ignore[index]
    assert re.match(r"default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; ", csp), csp

    # Outcomes, server-side: failed ones first and open; each test in its filter group.
    order = [m[1] for m in re.finditer(r'data-name="test_agent\.py::(test_\w+)', page)]
    assert order[:2] == sorted(FAILED) and sorted(order) == sorted(PASSED + FAILED)
    assert "says “Hello Bo”" in _section(page, "test_wrong_answer")  # the model's answer, from its payload
    # Why it failed: the assertion's message (not the traceback), escaped, in the test's facts.
    assert re.search(
        r"<em>failed in call</em> <span class=\"bad-text failure\">AssertionError: assert &#x27;Hello Bo&#x27; =="
        r" &#x27;Welcome Bo!&#x27;",
        _section(page, "test_wrong_answer"),
    ), _section(page, "test_wrong_answer")[:3000]
    assert "failed in" not in _section(page, "test_signs_up")
    for test in FAILED:
        assert re.match(r'<details class="test" data-group="failed" [^>]* open>', _section(page, test))
    for test in PASSED:
        assert re.match(r'<details class="test" data-group="passed" [^>]*>', _section(page, test))
        assert " open>" not in _section(page, test).split("\n", 1)[0]

    # A model call step: model, tokens, cost, latency; its tool call: name, backend, status.
    signs_up = _section(page, "test_signs_up")
    assert "<b>gpt-4o-mini</b>" in signs_up and "asks for billing_customers_create" in signs_up
    assert re.search(
        r'<span class="num">\d+</span><span class="num">\$0\.0000\d+</span><span class="num">[\d.]+ ms</span>', signs_up
    )
    assert "<b>billing.customers.create</b>" in signs_up and 'b-simulator">simulator</span>' in signs_up
    assert "escalated" in signs_up and html.escape("reason " + ATTACK) in signs_up

    # A later model request shows what it adds: the conversation's new messages, not the whole resend.
    second = signs_up.split('class="note same">', 1)[1]
    assert second.startswith(
        "As in step #0: <code>model</code>, <code>tools</code>, the first 1 item(s) of the conversation. "
        'New in this request:</p><pre>{\n  "messages[1:]": ['
    )
    assert signs_up.count('class="note same"') == 1  # the first request is shown whole
    first_request = signs_up.split("<h5>request", 1)[1].split("</pre>", 1)[0]
    assert '"tools"' in first_request and "Sign up ana@shop.test" in first_request

    # Payloads come from traces/payloads/<sha256>.json, embedded pretty-printed and escaped.
    lines = [json.loads(line) for line in (run_dir / "traces/test_agent/test_signs_up.jsonl").read_text().splitlines()]
    digest = lines[2]["payloads"]["arguments"]
    stored = json.loads((run_dir / "traces/payloads" / f"{digest}.json").read_text())
    assert stored["description"] == ATTACK
    assert html.escape(json.dumps(stored, indent=2, ensure_ascii=False), quote=False) in signs_up

    # Budget meters: used vs limit, and the breach of the looping test.
    assert re.search(
        r'<span class="label">tool calls</span><span class="bar "[^>]*><i style="width:25\.0%"></i><em>1 / 4</em>',
        signs_up,
    )
    assert '<span class="label">tokens</span>' in signs_up and "/ 5,000</em>" in signs_up
    loops = _section(page, "test_loops")
    assert re.search(r'meter-row over"><span class="label">tool calls</span><span class="bar over"[^>]*>'
                     r'<i style="width:100\.0%"></i><em>4 / 2</em>', loops)  # fmt: skip
    assert "over budget" in loops and "max_tool_calls" in loops

    # The policy denial: rule and reason on the step.
    refund = _section(page, "test_refund_denied")
    assert 'class="step denied"' in refund and "denied by <code>denylist</code>" in refund
    assert "is on the deny list (billing.refunds.*)" in refund and 'b-policy">policy</span>' in refund

    # The scorecard: tiles and the per-contract table, as scorecard.build aggregates them.
    assert "<b>5</b><span>tests</span><small>3 passed · 0 skipped</small>" in page
    assert '<div class="tile bad"><b>2</b><span>failed</span>' in page
    assert "<h3>Denials by rule</h3>" in page and "<td>triage</td><td><code>denylist</code></td>" in page
    assert "<td>triage</td><td class=n>1</td><td class=n>100.0%</td>" in page  # contract row: runs, success
    assert "<td>(all)</td><td class=n>5</td><td class=n>40.0%</td><td class=n>20.0%</td><td class=n>40.0%" in page
    assert '<span class="contract">triage</span>' in refund


def test_scorecard_json_adds_tests_without_a_trace(run_dir: Path) -> None:
    # --agent-report knows the skipped test (it applies a contract, so it is an agent run; no trace): listed.
    code, _, err = _render("traces", "-o", "r.html", "--scorecard", "report.json")
    assert (code, err) == (0, ""), err
    page = (run_dir / "r.html").read_text(encoding="utf-8")
    skipped = _section(page, "test_skipped")
    assert 'data-group="skipped"' in skipped and "No trace file" in skipped
    assert "scorecard <code>report.json</code>" in page


# ---- bad input, partial traces --------------------------------------------------------------------


def _synthetic_trace(root: Path, test_id: str = "test_x.py::test_one") -> Path:
    """A small trace written by the library: a model call asking for a tool, and the tool call."""
    run = Run(test_id)
    run.record(kind="model", method="POST", url="https://api.openai.com/v1/chat/completions", backend="cassette",
               status=200, model_call=ModelCall("openai.chat", "gpt-4o-mini", Usage(20, 5),
                                                [ToolCallRequest("c1", "lookup", {"q": ATTACK})]),
               request_body={"messages": [{"role": "user", "content": ATTACK}]})  # fmt: skip
    run.record(kind="tool", method="GET", url="https://kb.test/search?q=x", backend="simulator", status=200,
               tool="kb.search", arguments={"q": ATTACK}, response_body={"hits": []})  # fmt: skip
    path = write_trace(root, run, {"outcome": "passed", "result": "success", "duration_s": 0.01, "contract": None,
                                   "escalations": []})  # fmt: skip
    assert path is not None
    return path


def test_missing_and_empty_trace_dir(tmp_path: Path) -> None:
    code, out, err = _render(str(tmp_path / "nope"))
    assert (code, out) == (2, "") and err == f"agentops: error: {tmp_path / 'nope'}: no such directory\n"
    (tmp_path / "empty" / "payloads").mkdir(parents=True)
    code, _, err = _render(str(tmp_path / "empty"))
    assert code == 2 and err.count("\n") == 1 and "no trace files (*.jsonl)" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"type": "event", "seq": 2,', r"x\.jsonl:3: not valid JSON \("),
        ('["not", "an", "object"]', r"x\.jsonl:3: expected an event or the footer"),
    ],
)
def test_corrupt_line_names_file_and_line(tmp_path: Path, line: str, expected: str) -> None:
    path = _synthetic_trace(tmp_path / "traces", "x.py::x")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(2, line)  # the third line
    bad = path.with_name("x.jsonl")
    path.unlink()
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = _render(str(tmp_path / "traces"), "-o", str(tmp_path / "r.html"))
    assert (code, out) == (2, "") and err.count("\n") == 1 and "Traceback" not in err
    assert re.search(expected, err), err
    assert not (tmp_path / "r.html").exists()


def test_not_a_trace_and_binary(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"type": "event"}\n', encoding="utf-8")
    code, _, err = _render(str(tmp_path))
    assert code == 2 and "a.jsonl:1: not a pytest-agentops trace" in err
    (tmp_path / "a.jsonl").write_bytes(b"\xff\xfe\x00")
    code, _, err = _render(str(tmp_path))
    assert code == 2 and "a.jsonl: not UTF-8 text" in err


def test_partial_trace_is_shown_incomplete(tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    _synthetic_trace(traces, "test_x.py::test_whole")
    cut = _synthetic_trace(traces, "test_x.py::test_crashed")
    cut.write_text("".join(cut.read_text(encoding="utf-8").splitlines(keepends=True)[:-1]), encoding="utf-8")
    code, out, err = _render(str(traces), "-o", str(tmp_path / "r.html"))
    assert (code, err) == (0, "") and "1 incomplete" in out
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    crashed = _section(page, "test_crashed")
    assert '<span class="badge incomplete">incomplete</span>' in crashed and " open>" in crashed.split("\n", 1)[0]
    assert "Incomplete trace: the file has no footer line" in crashed
    assert "25 tok" in crashed  # recounted from its events
    assert '<span class="badge incomplete">' not in _section(page, "test_whole")
    assert "<b>1</b><span>incomplete</span><small>no footer</small>" in page


def test_odd_field_types_do_not_crash(tmp_path: Path) -> None:
    """A hand-edited trace with wrong types renders (as text) instead of failing with a traceback."""
    lines: list[dict[str, Any]] = [
        {"type": "header", "format": "pytest-agentops-trace", "version": 1, "test": ["odd"], "outcome": 3,
         "logging": "x", "escalations": "no"},
        {"type": "event", "kind": "model", "tokens": "many", "offset_ms": "soon", "duration_ms": None,
         "payloads": {"request": "../../etc/passwd", "response": "0" * 64}, "cost_usd": float("nan"),
         "status": "ok", "tool_calls_requested": [{"name": float("inf")}], "started_at": 10**400},
        {"type": "footer", "usage": [], "budget": {"limits": {"max_tool_calls": "2", "max_tokens_total": 0},
                                                  "used": "x"}, "breaches": [1]},
    ]  # fmt: skip
    (tmp_path / "odd.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    code, _, err = _render(str(tmp_path), "-o", str(tmp_path / "r.html"))
    assert (code, err) == (0, ""), err
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "not a payload reference: ../../etc/passwd" in page and "is missing" in page


def test_embedded_json_cannot_be_closed() -> None:
    from pytest_agentops.readers.html.page import json_script

    value = {"a": ATTACK, "b": "<!-- x -->", "c": "</SCRIPT >", "d": "a\u2028b & c", "e": [1.5, None]}
    block = json_script("x", {**value, "e": [1.5, float("nan")]})
    body = block[len('<script type="application/json" id="x">') : -len("</script>\n")]
    assert "<" not in body and ">" not in body and "&" not in body and "\u2028" not in body
    assert json.loads(body, parse_constant=lambda name: pytest.fail(f"{name} is not JSON")) == value


def test_bad_scorecard_is_a_usage_error(tmp_path: Path) -> None:
    _synthetic_trace(tmp_path / "traces")
    (tmp_path / "card.json").write_text('{"format": "something-else"}', encoding="utf-8")
    code, _, err = _render(str(tmp_path / "traces"), "--scorecard", str(tmp_path / "card.json"))
    assert code == 2 and err.endswith("card.json: not a pytest-agentops report (the file --agent-report writes)\n")
    (tmp_path / "card.json").write_text("{", encoding="utf-8")
    code, _, err = _render(str(tmp_path / "traces"), "--scorecard", str(tmp_path / "card.json"))
    assert code == 2 and "card.json:1: not valid JSON" in err


# ---- in a real browser ------------------------------------------------------------------------------


def _png_size_and_colours(data: bytes) -> tuple[int, int, int]:
    """(width, height, distinct byte values of the decoded image data): a blank page has very few."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


@pytest.fixture
def browser() -> Any:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is not installed (apt-get install chromium); the browser check needs it"
        if os.environ.get("CI"):
            pytest.fail(reason + " and CI is set")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def test_report_in_a_browser(run_dir: Path, browser: Any, tmp_path: Path) -> None:
    code, _, err = _render("traces", "-o", "report.html")
    assert code == 0, err
    url = (run_dir / "report.html").resolve().as_uri()
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    problems: list[str] = []
    requests: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)

    clipped = page.evaluate(
        "() => [...document.querySelectorAll('#scorecard .scroll')]"
        ".filter(s => s.scrollWidth > s.clientWidth).map(s => s.parentElement.querySelector('h3').textContent)"
    )
    assert clipped == []  # no scorecard table is cut off at 1280 px (the latency table was)
    test = {name: page.locator(f'details.test[data-name^="test_agent.py::{name}"]') for name in PASSED + FAILED}
    assert all(test[name].is_visible() for name in test)
    assert page.locator("script").count() == 2 and page.evaluate("typeof window.alert") == "function"

    page.click("button[data-filter=failed]")
    assert all(test[name].is_visible() for name in FAILED)
    assert not any(test[name].is_visible() for name in PASSED)
    assert page.inner_text("#shown") == "2 of 5 test(s) shown"

    page.click("button[data-filter=all]")
    page.fill("#search", "REFUND")
    assert test["test_refund_denied"].is_visible() and not test["test_wrong_answer"].is_visible()
    page.fill("#search", "")

    # Expanding a step shows its payload: the planted markup appears as text.
    signs_up = test["test_signs_up"]
    signs_up.locator("summary").first.click()
    step = signs_up.locator("details.step").nth(1)  # the tool call
    payload = step.locator(".payload pre").first
    assert not payload.is_visible()
    step.locator("summary").click()
    assert payload.is_visible() and ATTACK in payload.inner_text()

    shot = page.screenshot()
    width, height, colours = _png_size_and_colours(shot)
    assert (width, height) == (1280, 800) and colours > 40, colours
    assert problems == []
    assert set(requests) == {url}, requests


def test_report_reads_with_javascript_off(run_dir: Path, browser: Any) -> None:
    code, _, err = _render("traces", "-o", "report.html")
    assert code == 0, err
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto((run_dir / "report.html").resolve().as_uri())
    assert not page.locator("#controls").is_visible()  # the filter needs JS: hidden, not broken
    assert page.locator("details.test").count() == 5
    failing = page.locator('details.test[data-name^="test_agent.py::test_wrong_answer"]')
    assert failing.locator("details.step").first.is_visible()  # open by default: its timeline reads
    assert "gpt-4o-mini" in failing.inner_text()
    context.close()
