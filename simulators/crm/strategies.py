"""Hypothesis strategies for CRM seed data.

``text`` lets a fuzzer choose what lands in the free-text fields an agent reads (note bodies,
contact messages, company and deal descriptions), e.g. ``seed_data(text=injections())``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from .properties import DEAL_STAGES

_SAFE_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=120)
_NAME = st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=30)


def _free(text: st.SearchStrategy[str] | None) -> st.SearchStrategy[str]:
    return (text if text is not None else _SAFE_TEXT).map(lambda s: s[:65_536])


def contacts(text: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "email": st.emails().filter(lambda e: len(e) <= 200),
            "firstname": _NAME,
            "lastname": _NAME,
            "jobtitle": _free(text),
            "message": _free(text),
            "lifecyclestage": st.sampled_from(["lead", "opportunity", "customer"]),
        }
    )


def companies(text: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "name": _NAME,
            "domain": st.from_regex(r"[a-z]{3,10}\.example\.com", fullmatch=True),
            "description": _free(text),
            "numberofemployees": st.integers(1, 100_000),
        }
    )


def deals(text: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "dealname": _free(text).map(lambda s: s or "deal"),
            "amount": st.integers(0, 10**7),
            "dealstage": st.sampled_from(DEAL_STAGES),
            "pipeline": st.just("default"),
            "description": _free(text),
        }
    )


@st.composite
def seed_data(
    draw: st.DrawFn, text: st.SearchStrategy[str] | None = None, max_contacts: int = 4, max_notes: int = 4
) -> dict[str, Any]:
    """A dict for ``CrmSimulator.seed``: contacts (ids "1".."n", unique emails), a company, a deal,
    notes about contacts (``hs_note_body`` from ``text``) and their associations."""
    rows = draw(st.lists(contacts(text), min_size=1, max_size=max_contacts, unique_by=lambda c: c["email"].casefold()))
    for i, row in enumerate(rows, start=1):
        row["id"] = str(i)
    company = {**draw(companies(text)), "id": "1"}
    deal = {**draw(deals(text)), "id": "1"}
    notes = draw(st.lists(_free(text), max_size=max_notes))
    note_rows = [
        {"id": str(i), "hs_note_body": body, "hs_timestamp": "2025-01-01T00:00:00Z"}
        for i, body in enumerate(notes, start=1)
    ]
    links = [{"from_type": "contacts", "from_id": r["id"], "to_type": "companies", "to_id": "1"} for r in rows]
    links += [
        {"from_type": "notes", "from_id": n["id"], "to_type": "contacts", "to_id": rows[i % len(rows)]["id"]}
        for i, n in enumerate(note_rows)
    ]
    links.append({"from_type": "deals", "from_id": "1", "to_type": "companies", "to_id": "1"})
    return {"contacts": rows, "companies": [company], "deals": [deal], "notes": note_rows, "associations": links}
