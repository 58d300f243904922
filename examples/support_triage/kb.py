"""The help centre: a few articles and the ``kb_search`` tool over them.

``kb_search`` is an in-process tool: ``@tool`` gives it a pydantic schema built from its signature
(the same schema is offered to the model), registers it under the name ``kb_search`` with kind
``read``, and in a test sends every call through the policy engine and onto the run's trace.
Outside pytest it is a plain function that validates its arguments.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field

from pytest_agentops import tool

ARTICLES: list[dict[str, str]] = [
    {
        "id": "kb-101",
        "title": "Charged twice: refunding a duplicate charge",
        "url": "https://support.example.com/kb/101",
        "body": "When the same invoice was charged twice, refund the duplicate charge in full with reason "
        "duplicate. The money is back on the card in 5 to 10 business days.",
    },
    {
        "id": "kb-102",
        "title": "Reset your password",
        "url": "https://support.example.com/kb/102",
        "body": "Customers reset their password at https://app.example.com/reset. Support never asks for "
        "or sets a password.",
    },
    {
        "id": "kb-103",
        "title": "Password reset link expired",
        "url": "https://support.example.com/kb/103",
        "body": "Reset links expire after 30 minutes. Request a new link at https://app.example.com/reset "
        "and use the newest email only.",
    },
    {
        "id": "kb-104",
        "title": "Refund policy",
        "url": "https://support.example.com/kb/104",
        "body": "Support refunds up to $100 per ticket directly. Larger refunds need a billing specialist.",
    },
]

_WORD = re.compile(r"[a-z]+")
_STOP = {"a", "an", "and", "for", "i", "my", "of", "the", "to", "was", "with", "your", "me", "it", "is"}


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


@tool(kind="read", owner="support")
def kb_search(
    query: Annotated[str, Field(min_length=2, max_length=200, description="what to look for")],
    limit: Annotated[int, Field(ge=1, le=5)] = 2,
) -> list[dict[str, Any]]:
    """Search the help-centre articles; the best matches first."""
    wanted = _words(query)
    scored = [(len(wanted & _words(a["title"] + " " + a["body"])), a["id"], a) for a in ARTICLES]
    best = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))
    return [article for _, _, article in best[:limit]]
