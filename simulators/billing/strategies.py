"""Hypothesis strategies for billing seed data.

``text`` lets a fuzzer choose what lands in the free-text fields an agent reads
(descriptions, metadata notes), e.g. ``seed_data(text=injections())``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

_SAFE_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=120)
_META_KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=20)


def customers(text: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    free = text if text is not None else _SAFE_TEXT
    return st.fixed_dictionaries(
        {
            "name": st.text(alphabet=st.characters(categories=("L", "Zs")), min_size=1, max_size=40),
            "email": st.emails().filter(lambda e: len(e) <= 200),
            "description": free.map(lambda s: s[:5000]),
            "metadata": st.dictionaries(_META_KEYS, free.map(lambda s: s[:500]), max_size=3),
        }
    )


def payment_intents(
    customer_ids: list[str], text: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    free = text if text is not None else _SAFE_TEXT
    return st.fixed_dictionaries(
        {
            "amount": st.integers(50, 1_000_000),
            "currency": st.sampled_from(["usd", "eur", "gbp"]),
            "customer": st.sampled_from(customer_ids) if customer_ids else st.none(),
            "description": free.map(lambda s: s[:5000]),
            "metadata": st.dictionaries(_META_KEYS, free.map(lambda s: s[:500]), max_size=2),
            "status": st.sampled_from(["requires_payment_method", "succeeded", "canceled"]),
        }
    )


@st.composite
def seed_data(
    draw: st.DrawFn, text: st.SearchStrategy[str] | None = None, max_customers: int = 4, max_payments: int = 4
) -> dict[str, Any]:
    """A dict for ``BillingSimulator.seed``: customers with ids, and payment intents of them."""
    rows = draw(st.lists(customers(text), min_size=1, max_size=max_customers))
    for i, row in enumerate(rows):
        row["id"] = f"cus_seed{i:04d}"
    ids = [r["id"] for r in rows]
    pis = draw(st.lists(payment_intents(ids, text), max_size=max_payments))
    for i, row in enumerate(pis):
        row["id"] = f"pi_seed{i:04d}"
        if row["status"] == "succeeded":
            row["amount_received"] = row["amount"]
    return {"customers": rows, "payment_intents": pis}
