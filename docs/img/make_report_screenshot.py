"""Regenerate docs/img/report.png: a real run of a small support agent, its HTML report, a screenshot.

Usage: python docs/img/make_report_screenshot.py [--keep DIR]

In a temporary project it writes a support-triage agent (official openai SDK, tools over the
ticketing, billing and crm simulators, answers from the scripted fake model) and five tests: three
pass (one escalates after a policy denial), one loops on a missing ticket until its budget stops
it, one answers in the wrong language. It runs them with ``--agent-trace-dir``, renders
``agentops report``, and screenshots the page at 1280x800 in Debian's chromium (Playwright):
the scorecard and the first failing test's timeline, open. Nothing touches the network.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = HERE / "report.png"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip

PYPROJECT = """
[tool.agentops.agents.support_triage]
budgets = { max_tool_calls = 6, max_tokens_total = 6000 }
logging = { store_prompt = true, store_tool_io = true, pii_redaction = true }
safety = { allowlisted_tools = ["ticketing.tickets.*", "billing.refunds.create", "crm.contacts.search"] }
"""

AGENT = '''
"""A small support agent: the model picks tools, the agent calls the services, until an answer."""
import json

import openai

TOOLS = {
    "lookup_ticket": "GET ticketing /api/v2/tickets/{ticket_id}.json",
    "solve_ticket": "PUT ticketing /api/v2/tickets/{ticket_id}.json",
    "refund_payment": "POST billing /v1/refunds",
    "find_customer": "POST crm /crm/v3/objects/contacts/search",
}
SCHEMAS = [{"type": "function", "function": {"name": name, "parameters": {"type": "object"}}} for name in TOOLS]
SYSTEM = "You are the support agent of Northwind. Look tickets up before acting. Refunds over $200 need a human."


def call_tool(services, name, args):
    method, service, path = TOOLS[name].split(" ")
    path = path.format(**args)
    with services[service].client() as http:
        if name == "solve_ticket":
            return http.put(path, json={"ticket": {"status": "solved", "comment": {"body": args["note"]}}})
        if name == "refund_payment":
            return http.post(path, data={"payment_intent": args["payment"], "amount": args["amount"]})
        if name == "find_customer":
            match = {"propertyName": "email", "operator": "EQ", "value": args["email"]}
            query = {"filterGroups": [{"filters": [match]}]}
            return http.post(path, json=query)
        return http.request(method, path)


def handle(model_url, services, message, max_steps=8):
    client = openai.OpenAI(base_url=model_url, api_key="sk-test")
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": message}]
    for _ in range(max_steps):
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=SCHEMAS).choices[0].message
        if not reply.tool_calls:
            return reply.content
        messages.append(reply.model_dump(exclude_none=True))
        for call in reply.tool_calls:
            answer = call_tool(services, call.function.name, json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": answer.text})
    return None
'''

TESTS = """
import pytest

from agent import handle


@pytest.fixture
def services(ticketing, billing, crm):
    return {"ticketing": ticketing, "billing": billing, "crm": crm}


@pytest.mark.agent("support_triage")
def test_refunds_a_double_charge(fake_llm, services, ticketing, billing):
    ticket = ticketing.create_ticket(subject="Charged twice", comment={"body": "Order NW-1042 was charged twice."})
    pay = billing.create_payment(1900)
    fake_llm.script([
        fake_llm.tool_call("lookup_ticket", ticket_id=ticket.id),
        fake_llm.tool_call("refund_payment", payment=pay.id, amount=1900),
        fake_llm.tool_call("solve_ticket", ticket_id=ticket.id, note="Refunded the duplicate charge."),
        "I refunded the duplicate charge of $19.00; it shows on your card in 5-10 days.",
    ])
    answer = handle(fake_llm.openai_base_url, services, "I was charged twice for NW-1042")
    assert "refunded" in answer
    billing.assert_wrote("refunds", payment_intent=pay.id)


@pytest.mark.agent("support_triage")
@pytest.mark.agent_policy(writes_require=["manager_approval"])
def test_large_refund_goes_to_a_human(fake_llm, services, ticketing, billing, agent_run):
    ticket = ticketing.create_ticket(subject="Refund", comment={"body": "Please refund my $540 order."})
    pay = billing.create_payment(54000)
    fake_llm.script([
        fake_llm.tool_call("lookup_ticket", ticket_id=ticket.id),
        fake_llm.tool_call("refund_payment", payment=pay.id, amount=54000),
        "A colleague will review your refund today.",
    ])
    handle(fake_llm.openai_base_url, services, "Please refund my $540 order")
    assert len(agent_run.denials) == 1
    billing.assert_no_writes()
    agent_run.escalate("refund over $200")


@pytest.mark.agent("support_triage")
def test_finds_the_customer_first(fake_llm, services, crm):
    crm.create_contact(email="ana@shop.test", firstname="Ana")
    fake_llm.script([fake_llm.tool_call("find_customer", email="ana@shop.test"), "Hi Ana, how can I help?"])
    assert handle(fake_llm.openai_base_url, services, "Hello, it's ana@shop.test") == "Hi Ana, how can I help?"


@pytest.mark.agent("support_triage")
@pytest.mark.agent_budget(max_tool_calls=4)
def test_gives_up_on_a_missing_ticket(fake_llm, services):
    fake_llm.script([fake_llm.tool_call("lookup_ticket", ticket_id=9041)], loop=True)
    handle(fake_llm.openai_base_url, services, "Where is my ticket 9041?")


@pytest.mark.agent("support_triage")
def test_replies_in_the_customer_language(fake_llm, services, ticketing):
    ticket = ticketing.create_ticket(subject="Livraison", comment={"body": "Où est mon colis ?"})
    fake_llm.script([fake_llm.tool_call("lookup_ticket", ticket_id=ticket.id), "Your parcel ships tomorrow."])
    answer = handle(fake_llm.openai_base_url, services, "Où est mon colis ? (ticket %d)" % ticket.id)
    assert answer == "Votre colis part demain."
"""

INI = """
[pytest]
addopts = -p no:hypothesispytest -p no:benchmark -p no:recording -p no:cacheprovider
    -p no:schemathesis -p no:langsmith_plugin -p no:anyio
"""


def make_project(root: Path) -> None:
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (root / "pytest.ini").write_text(INI, encoding="utf-8")
    (root / "agent.py").write_text(AGENT, encoding="utf-8")
    (root / "test_support.py").write_text(TESTS, encoding="utf-8")


def run(root: Path) -> Path:
    """The test run (2 of 5 tests fail, on purpose) and the report; returns report.html."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--agent-trace-dir=traces", "--agent-report=agentops-report.json"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    if "2 failed, 3 passed" not in summary:
        raise SystemExit(f"unexpected test run: {summary}\n{result.stdout[-4000:]}")
    from pytest_agentops.cli import main

    here = Path.cwd()
    os.chdir(root)  # relative paths, as a user would type them (the page shows them)
    try:
        code = main(["report", "traces", "-o", "report.html", "--scorecard", "agentops-report.json",
                     "--title", "support agent: nightly run"])  # fmt: skip
    finally:
        os.chdir(here)
    if code != 0:
        raise SystemExit(f"agentops report exited {code}")
    return root / "report.html"


def screenshot(report: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(report.resolve().as_uri())
        page.screenshot(path=str(out))
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", metavar="DIR", help="build the project in DIR and keep it (default: a temp dir)")
    parser.add_argument("-o", "--output", default=str(OUT), help=f"where to write the PNG (default: {OUT})")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="agentops-shot-") as tmp:
        root = Path(args.keep) if args.keep else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        make_project(root)
        report = run(root)
        screenshot(report, Path(args.output))
    size = Path(args.output).stat().st_size
    print(f"{args.output}: {size:,} bytes")
    return 0 if size < 250_000 else 1


if __name__ == "__main__":
    sys.exit(main())
