"""A stand-in for api.anthropic.com, used once to record this example's cassettes.

The cassettes were made without internet access or an Anthropic key, so the ones in
``cassettes/examples/async_anthropic/`` were recorded against this local server instead of the
real API. It is the library's own fake model (``pytest_agentops.FakeModel``, which speaks the
Anthropic Messages wire format, streamed as SSE like the real API) served on a loopback port,
answering like a competent triage model would: it reads the conversation (the ticket id in the
user's request, then the tool results) and picks the next tool call or the final answer. The
commands, from the repo root::

    python examples/async_anthropic/record_upstream.py 8767 &
    python -m pytest examples/async_anthropic --agent-record=all \\
        --agent-staging anthropic=http://127.0.0.1:8767
    kill %1

``--agent-staging`` sends the model traffic here while the cassette keeps the real URL
(``https://api.anthropic.com/v1/messages``), so replay needs no server at all. The ticketing calls
are not recorded: the ``ticketing`` simulator fixture serves them in every mode. With an API key
and network, drop ``--agent-staging`` to record the real model instead (its wording will differ,
so the tests' exact-text assertions would need loosening).
"""

from __future__ import annotations

import json
import re
import sys
import threading
from typing import Any

from pytest_agentops.backends.model import Conversation, FakeModel

TICKET = re.compile(r"#(\d+)")

# (words in the ticket, category, tags, priority, next step for the team)
RULES: list[tuple[tuple[str, ...], str, list[str], str, str]] = [
    (
        ("charged twice", "refund", "invoice"),
        "billing",
        ["billing", "refund"],
        "high",
        "check the payment log and refund the duplicate charge",
    ),
    (
        ("down", "outage", "error 500", "not loading"),
        "outage",
        ["outage"],
        "urgent",
        "check the status page and link the incident",
    ),
    (
        ("password", "log in", "locked out", "2fa"),
        "account access",
        ["account_access"],
        "normal",
        "verify the requester's identity, then reset their 2FA",
    ),
]
DEFAULT_RULE = ((), "how-to question", ["how_to"], "low", "answer from the help center")

fake = FakeModel()


def _call(ticket_id: int, name: str, /, **arguments: Any) -> Any:
    # Stable tool_use ids (not the fake's request counter), so a re-recording diffs cleanly.
    return fake.tool_call(name, arguments, call_id=f"toolu_{name}_{ticket_id}")


def answer(conversation: Conversation) -> Any:
    request = next(m.text for m in conversation.messages if m.role == "user")
    found = TICKET.search(request)
    ticket_id = int(found.group(1)) if found else 0
    results = conversation.tool_results
    if not results:
        read = _call(ticket_id, "get_ticket", ticket_id=ticket_id)
        return fake.reply(f"I'll read ticket #{ticket_id} first.", [read])
    last = results[-1]
    if last.is_error:
        action = "read" if last.name == "get_ticket" else "update"
        return (
            f"I could not {action} ticket #{ticket_id} ({last.text}), so it is unchanged "
            "and needs a human to triage it."
        )
    if last.name == "get_ticket":
        ticket = json.loads(last.text)
        text = " ".join([ticket["subject"], *(c["body"] for c in ticket["comments"])]).lower()
        _, category, tags, priority, step = next((r for r in RULES if any(w in text for w in r[0])), DEFAULT_RULE)
        first = ticket["comments"][0]["body"] if ticket["comments"] else ticket["subject"]
        note = f'Triage: {category}, {priority} priority. Customer: "{first}" Next step: {step}.'
        return fake.reply(
            f"This is a {category} issue, so I'm setting it to {priority} priority.",
            [_call(ticket_id, "triage_ticket", ticket_id=ticket_id, priority=priority, tags=tags, note=note)],
        )
    if last.name == "triage_ticket":
        done = json.loads(last.text)
        return (
            f"Ticket #{ticket_id} is triaged: {done['priority']} priority, tagged {', '.join(done['tags'])}, "
            "with an internal note for the team."
        )
    return "Done."


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8767
    fake.respond(answer).serve(port=port)
    print(f"fake Anthropic upstream listening on {fake.loopback_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.close()


if __name__ == "__main__":
    main()
