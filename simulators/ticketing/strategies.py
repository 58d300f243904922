"""Hypothesis strategies for ticketing seed data.

``text`` lets a fuzzer choose what lands in the free-text fields an agent reads (subjects,
descriptions, comments, user notes), e.g. ``seed_data(text=injections())``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

_SAFE_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=120)
_TAG = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=16)


def _free(text: st.SearchStrategy[str] | None, limit: int) -> st.SearchStrategy[str]:
    return (text if text is not None else _SAFE_TEXT).map(lambda s: s[:limit])


def users(text: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "name": st.text(alphabet=st.characters(categories=("L", "Zs")), min_size=1, max_size=40).map(
                lambda s: s.strip() or "X"
            ),
            "email": st.emails().filter(lambda e: len(e) <= 200),
            "role": st.sampled_from(["end-user", "end-user", "agent"]),
            "notes": _free(text, 5000),
            "details": _free(text, 5000),
        }
    )


def comments(text: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"body": _free(text, 65_535).map(lambda s: s or "(no text)"), "public": st.booleans()})


def tickets(user_ids: list[int], text: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "subject": _free(text, 255),
            "description": _free(text, 65_535).map(lambda s: s or "(no text)"),
            "requester_id": st.sampled_from(user_ids),
            "status": st.sampled_from(["new", "open", "pending", "hold", "solved", "closed"]),
            "priority": st.sampled_from([None, "low", "normal", "high", "urgent"]),
            "tags": st.lists(_TAG, max_size=3, unique=True),
            "comments": st.lists(comments(text), max_size=2),
        }
    )


@st.composite
def seed_data(
    draw: st.DrawFn, text: st.SearchStrategy[str] | None = None, max_users: int = 4, max_tickets: int = 5
) -> dict[str, Any]:
    """A dict for ``TicketingSimulator.seed``: users (ids 1..n) and tickets (ids 1..m) of them,
    each ticket with its description as first comment and maybe more comments."""
    rows = draw(st.lists(users(text), min_size=1, max_size=max_users, unique_by=lambda u: u["email"].lower()))
    for i, row in enumerate(rows, start=1):
        row["id"] = i
    ids = [r["id"] for r in rows]
    found = draw(st.lists(tickets(ids, text), max_size=max_tickets))
    for i, row in enumerate(found, start=1):
        row["id"] = i
    return {"users": rows, "tickets": found}
