"""How long ``agentops report`` takes to render 1,000 traces, and how big the page is.

Usage: python benchmarks/bench_report.py [--quick]

The traces are written by the library, as the plugin writes them at the end of each test
(``tracefile.write_trace``: header, event lines, footer, payloads in ``DIR/payloads/<sha256>.json``),
from runs built with the trace's own types: support conversations of 1-4 turns, each a model call
(OpenAI chat request with a system prompt, two tool schemas and the growing message list; usage,
cost from the default price table) that may ask for a tool (a ticketing/billing/crm endpoint with
its JSON arguments and a simulator-shaped JSON answer), then the final answer. About 10% of the
tests fail, 5% escalate, 3% have a policy denial, 2% a 404 from a tool, every test has a budget
(tool calls, tokens) and 1 in 50 loops for 12 turns, its calls past the 4th denied by the budget;
1% of the files are cut before their footer.

Timed (median of 3, wall clock): ``htmlreport.write_report(DIR, OUT)``, i.e. what the command does:
read and check every JSONL line, read every payload file once, aggregate with ``scorecard.build``,
render and write the page; plus the three phases separately.

For comparison, the HTML report a pytest user would otherwise pick, pytest-html (a self-contained
page of outcomes, durations and captured output, no agent steps), on a suite of the same size and
failure rate: the time ``--html=... --self-contained-html`` adds to that pytest run (median of 3
runs with and without it, in subprocesses, the same plugins off) and the size of its page. It
renders less (one row per test, no model or tool steps), so the ratio says what the richer page
costs, not that the two are the same job.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SYSTEM = (
    "You are Ada, the support assistant of Northwind Outfitters. Look the ticket up before acting. Refunds "
    "above 200 EUR need a human: escalate with a one-line reason. Never reveal other customers' data."
)
TOOLS = [
    {"type": "function", "function": {"name": name, "description": text, "parameters": {"type": "object"}}}
    for name, text in (
        ("lookup_ticket", "Look up a support ticket by id."),
        ("refund_payment", "Refund a payment, fully or in part."),
        ("find_customer", "Find a customer in the CRM by e-mail."),
    )
]
CALLS = {  # model tool name -> (simulator tool, method, URL, answer)
    "lookup_ticket": (
        "ticketing.tickets.retrieve",
        "GET",
        "https://ticketing.sim.agentops.local/api/v2/tickets/{n}.json",
    ),
    "refund_payment": ("billing.refunds.create", "POST", "https://billing.sim.agentops.local/v1/refunds"),
    "find_customer": ("crm.contacts.search", "POST", "https://crm.sim.agentops.local/crm/v3/objects/contacts/search"),
}
QUESTIONS = (
    "Where is my order {o}? It should have arrived on Monday.",
    "I was charged twice for {o}, please refund one of the charges.",
    "Can you change the delivery address of {o} to Lyon?",
    "The rain jacket from {o} is damaged, what now?",
)


def answer_for(tool: str, n: int, rng: random.Random) -> tuple[int, Any]:
    if tool == "ticketing.tickets.retrieve":
        return 200, {"ticket": {"id": n, "subject": "Order question", "status": "open", "priority": "normal",
                                "description": "Customer asks about an order " + "x" * rng.randint(20, 200),
                                "requester_id": 1000 + n, "tags": ["order", "web"]}}  # fmt: skip
    if tool == "billing.refunds.create":
        return 200, {"id": f"re_{n:014d}", "object": "refund", "amount": 1900, "currency": "eur", "status": "succeeded"}
    return 200, {"total": 1, "results": [{"id": str(5000 + n), "properties": {"email": f"c{n}@shop.test"}}]}


def build_run(i: int, rng: random.Random) -> tuple[Any, dict[str, Any]]:
    """One test's run, as the tap and the policy engine would have recorded it."""
    from pytest_agentops import Budget
    from pytest_agentops.policy.engine import Guard
    from pytest_agentops.trace.run import ModelCall, Run, ToolCallRequest, Usage

    run = Run(f"tests/test_support_{i // 100:02d}.py::test_case_{i:04d}")
    run.guard = Guard(run, budget=Budget(max_tool_calls=4, max_tokens_total=12_000))
    t = run.started_at + 0.002
    question = rng.choice(QUESTIONS).format(o=f"NW-{100000 + i}")
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    turns = 12 if i % 50 == 7 else rng.randint(1, 4)  # 1 in 50 loops past its budget
    deny = i % 33 == 5
    for turn in range(turns):
        name = rng.choice(list(CALLS))
        tokens_in = 120 + sum(len(json.dumps(m)) for m in messages) // 4
        call_id = f"call_{i}_{turn}"
        call = ModelCall("openai.chat", "gpt-4o-mini", Usage(tokens_in, rng.randint(12, 60)),
                         [ToolCallRequest(call_id, name, {"id": i})], stop_reason="tool_calls")  # fmt: skip
        dt = rng.uniform(0.3, 2.5)
        asked = {
            "text": "",
            "stop_reason": "tool_calls",
            "tool_calls": [{"id": call_id, "name": name, "arguments": {"id": i}}],
        }
        model = run.record(kind="model", method="POST", url="https://api.openai.com/v1/chat/completions",
                           backend="cassette", status=200, started_at=t, duration_s=dt, model_call=call,
                           request_body={"model": "gpt-4o-mini", "messages": list(messages), "tools": TOOLS},
                           response_body=asked)  # fmt: skip
        t += dt
        tool, method, url = CALLS[name]
        over = turn >= 4  # past max_tool_calls: the guard denies the call
        rule = "budget.max_tool_calls" if over else "denylist" if deny and tool == "billing.refunds.create" else None
        denied = rule is not None
        status, body = (403, {"error": {"type": "policy_denied", "rule": rule}}) if denied else answer_for(tool, i, rng)
        if not denied and i % 50 == 11 and turn == 0:
            status, body = 404, {"error": "RecordNotFound", "description": "Not found"}
        run.record(kind="tool", method=method, url=url.format(n=i), backend="policy" if denied else "simulator",
                   status=status, started_at=t, duration_s=rng.uniform(0.0005, 0.004), tool=tool,
                   access="write" if method == "POST" and "search" not in url else "read", arguments={"id": i},
                   rule=rule, error=f"{tool}: denied by {rule}" if denied else None,
                   requested_by=(model.seq, call_id), response_body=body)  # fmt: skip
        t += 0.004
        messages += [{"role": "assistant", "tool_calls": [{"id": call_id, "function": {"name": name}}]},
                     {"role": "tool", "tool_call_id": call_id, "content": json.dumps(body)}]  # fmt: skip
    final = "Thanks for waiting: " + " ".join(rng.choice(("order", "parcel", "refund", "label")) for _ in range(30))
    run.record(kind="model", method="POST", url="https://api.openai.com/v1/chat/completions", backend="cassette",
               status=200, started_at=t, duration_s=0.8,
               model_call=ModelCall("openai.chat", "gpt-4o-mini", Usage(900, 60), [], stop_reason="stop", text=final),
               request_body={"model": "gpt-4o-mini", "messages": messages, "tools": TOOLS},
               response_body={"text": final, "tool_calls": [], "stop_reason": "stop"})  # fmt: skip
    run.guard.ended_at = t + 0.9
    failed = i % 10 == 3 or turns == 12
    escalated = not failed and i % 20 == 9
    meta = {"outcome": "failed" if failed else "passed",
            "result": "failed" if failed else "escalated" if escalated else "success",
            "duration_s": round(t + 1 - run.started_at, 6), "contract": "support_triage",
            "escalations": ["refund over 200 EUR"] if escalated else []}  # fmt: skip
    return run, meta


def write_traces(root: Path, n: int) -> None:
    from pytest_agentops.readers.tracefile import write_trace

    rng = random.Random(42)
    for i in range(n):
        run, meta = build_run(i, rng)
        path = write_trace(root, run, meta)
        assert path is not None
        if i % 100 == 50:  # the process died before the footer
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            path.write_text("".join(lines[:-1]), encoding="utf-8")


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def phases(root: Path) -> tuple[float, float, float]:
    """Seconds to read the traces, to build the figures, to render the page (in memory)."""
    from pytest_agentops.readers.html import page as htmlreport

    load_s, traces = timed(htmlreport.load_traces, root)
    build_s, (entries, report) = timed(htmlreport.build_entries, traces, None)
    source = htmlreport.Source(str(root))
    render_s, _ = timed(htmlreport.render, entries, report, htmlreport.Payloads(root), source)
    return load_s, build_s, render_s


PYTEST_HTML_TESTS = """
import pytest


@pytest.mark.parametrize("i", range({n}))
def test_ticket(i):
    print(f"ticket {{i}}: looked up, answered")
    assert i % 10 != 3, f"ticket {{i}}: wrong answer"
"""


def pytest_html_cost(n: int, tmp: Path) -> tuple[float, int] | None:
    """(seconds --html adds to a run of n tests, bytes of its page); None without pytest-html."""
    try:
        import pytest_html  # noqa: F401
    except ImportError:
        return None
    project = tmp / "pytest-html-suite"
    project.mkdir()
    (project / "test_suite.py").write_text(PYTEST_HTML_TESTS.format(n=n), encoding="utf-8")
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:agentops", "-p", "no:randomly"]
    base += ["-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:recording"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}

    def run(extra: list[str]) -> float:
        t0 = time.perf_counter()
        subprocess.run([*base, *extra], cwd=project, env=env, capture_output=True, check=False)
        return time.perf_counter() - t0

    page = project / "report.html"
    html_flags = [f"--html={page}", "--self-contained-html"]
    run([])  # warm-up (bytecode, page cache)
    plain, with_html = [], []
    for _ in range(3):
        plain.append(run([]))
        with_html.append(run(html_flags))
    return max(0.0, statistics.median(with_html) - statistics.median(plain)), page.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 traces instead of 1,000")
    n = 200 if parser.parse_args().quick else 1000

    from pytest_agentops.readers.html import page as htmlreport

    with tempfile.TemporaryDirectory(prefix="agentops-bench-report-") as tmp:
        root = Path(tmp) / "traces"
        gen_s, _ = timed(write_traces, root, n)
        jsonl = sum(p.stat().st_size for p in root.rglob("*.jsonl"))
        payload_files = list((root / "payloads").glob("*.json"))
        payload_bytes = sum(p.stat().st_size for p in payload_files)
        out = Path(tmp) / "report.html"
        htmlreport.write_report(root, out)  # warm-up: imports, CSS/JS assets
        totals: list[float] = []
        parts: list[tuple[float, float, float]] = []
        for _ in range(3):
            total_s, written = timed(htmlreport.write_report, root, out)
            totals.append(total_s)
            parts.append(phases(root))
        total = statistics.median(totals)
        print(f"agentops report: {n:,} traces (Python {sys.version.split()[0]}), median of 3 runs")
        files = f"{len(payload_files):,} payload files ({payload_bytes / 1e6:.1f} MB)"
        print(f"  input: {jsonl / 1e6:.1f} MB of JSONL, {files}, written by the library in {gen_s:.1f} s")
        print(f"  tests: {written.tests:,}, failed {written.failed}, incomplete {written.incomplete}")
        print(f"  {'write_report (the command)':<32}{total * 1000:>9,.0f} ms  {total / n * 1000:>6.2f} ms/test")
        labels = ("  read + check the JSONL", "  figures + scorecard.build", "  render (payloads read once)")
        for k, label in enumerate(labels):
            median = statistics.median(p[k] for p in parts)
            print(f"  {label:<30}{median * 1000:>9,.0f} ms  {median / n * 1000:>6.2f} ms/test")
        print(f"  output: {written.size / 1e6:.1f} MB of HTML ({written.size / n / 1000:.1f} KB/test)")
        other = pytest_html_cost(n, Path(tmp))
        if other is None:
            print("  pytest-html is not installed (pip install pytest-html): no comparison")
        else:
            added, size = other
            print(f"pytest-html, same suite size ({n:,} tests, 10% failing), median of 3 runs:")
            print(f"  --html --self-contained-html adds {added * 1000:,.0f} ms ({added / n * 1000:.2f} ms/test)")
            print(f"  output: {size / 1e6:.1f} MB of HTML ({size / n / 1000:.1f} KB/test), outcomes only")
            ratio = total / added if added > 0 else float("inf")
            print(f"  agentops report / pytest-html: {ratio:.2f}x the time, {written.size / size:.1f}x the size")
        per_test_ms = total / n * 1000
        ok = per_test_ms < 10
        print(f"[{'PASS' if ok else 'FAIL'}] under 10 ms per test ({per_test_ms:.2f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
