"""A stand-in for api.openai.com, used once to record this example's cassettes.

The cassettes were made without internet access or an OpenAI key, so the ones in
``cassettes/examples/langgraph_agent/`` were recorded against this local server instead of the
real API. It is the library's own fake model (``pytest_agentops.FakeModel``, which speaks the
OpenAI Chat Completions wire format) served on a loopback port, answering like a competent model
would for this agent's three scenarios: it reads the conversation (the user's request and the tool
results so far) and picks the next tool call or the final answer. The commands, from the repo root::

    python examples/langgraph_agent/record_upstream.py 8766 &
    python -m pytest examples/langgraph_agent --agent-record=all \\
        --agent-staging openai=http://127.0.0.1:8766
    kill %1

``--agent-staging`` sends the model traffic here while the cassette keeps the real URL
(``https://api.openai.com/v1/chat/completions``), so replay needs no server at all. The CRM calls
are not recorded: the ``crm`` simulator fixture serves them in every mode. With an API key and
network, drop ``--agent-staging`` to record the real model instead (its answers will differ, so
the tests' exact-text assertions would need loosening).
"""

from __future__ import annotations

import json
import re
import sys
import threading
from typing import Any

from pytest_agentops.backends.model import Conversation, FakeModel, Message

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
STAGES = {"sales qualified lead": "salesqualifiedlead", "customer": "customer", "opportunity": "opportunity"}

fake = FakeModel()


def _result(conversation: Conversation, name: str) -> dict[str, Any] | None:
    """The latest result of tool ``name``, parsed."""
    for message in reversed(conversation.tool_results):
        if message.name == name:
            value = json.loads(message.text)
            return value if isinstance(value, dict) else None
    return None


def _call(conversation: Conversation, name: str, **arguments: Any) -> Any:
    # Stable call ids (not the fake's request counter), so a re-recording diffs cleanly.
    step = conversation.assistant_turns + 1
    return fake.tool_call(name, arguments, call_id=f"call_{name}_{step}")


def _person(contact: dict[str, Any]) -> str:
    return f"{contact.get('firstname', '')} {contact.get('lastname', '')}".strip() or contact.get("email", "?")


def answer(conversation: Conversation) -> Any:
    request = next(m.text for m in conversation.messages if m.role == "user")
    results: list[Message] = conversation.tool_results
    if not results:
        email = EMAIL.search(request)
        return _call(conversation, "search_contacts", query=email.group(0) if email else request)
    last = results[-1]
    data = json.loads(last.text)
    if "error" in data:
        return (
            f"I could not complete that: the CRM refused the {last.name} call ({data['error']}). "
            "Nothing was changed; please ask a CRM admin to make this change."
        )
    found = _result(conversation, "search_contacts") or {}
    if last.name == "search_contacts":
        if not data["contacts"]:
            query = EMAIL.search(request)
            wanted = query.group(0) if query else repr(request)
            return f"I found no contact matching {wanted} in the CRM, so I logged nothing."
        contact = data["contacts"][0]
        for phrase, stage in STAGES.items():
            if f"as a {phrase}" in request.lower():
                return _call(
                    conversation, "update_contact", contact_id=contact["id"], properties={"lifecyclestage": stage}
                )
        return _call(conversation, "get_account", contact_id=contact["id"])
    contact = found["contacts"][0]
    if last.name == "get_account":
        company = data.get("company") or {}
        parts = [
            f"Renewal prep for {_person(contact)} ({contact.get('jobtitle', 'contact')}, "
            f"{company.get('name', 'no company')}, {company.get('numberofemployees', '?')} employees)."
        ]
        for deal in data["deals"]:
            parts.append(
                f"Deal '{deal['dealname']}': ${deal['amount']}, stage {deal['dealstage']}, "
                f"closes {deal.get('closedate', '?')[:10]}."
            )
        if contact.get("message"):
            parts.append(f'Open ask: "{contact["message"]}"')
        return _call(conversation, "add_note", contact_id=contact["id"], body=" ".join(parts))
    if last.name == "add_note":
        account = _result(conversation, "get_account") or {}
        company = (account.get("company") or {}).get("name", "their company")
        deals = "; ".join(f"{d['dealname']} (${d['amount']}, {d['dealstage']})" for d in account.get("deals", []))
        return (
            f"{_person(contact)} is {contact.get('jobtitle', 'a contact')} at {company}. "
            f"Open deals: {deals or 'none'}. I logged a prep note on the contact record (note {data['note_id']})."
        )
    if last.name == "update_contact":
        return f"Done: {_person(contact)} is updated in the CRM."
    return "Done."


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8766
    fake.respond(answer).serve(port=port)
    print(f"fake OpenAI upstream listening on {fake.loopback_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.close()


if __name__ == "__main__":
    main()
