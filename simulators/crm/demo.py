"""Demo data: contacts, companies, deals, a ticket and notes with realistic free text.

Notes (``hs_note_body``), contact messages and company/deal descriptions are what an agent reads
and what injection fuzzing later plants payloads into, so the demo carries some of each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulators.crm import CrmSimulator

COMPANIES: list[dict[str, Any]] = [
    {
        "name": "Analytical Engines Ltd",
        "domain": "analytical.example.com",
        "industry": "COMPUTER_SOFTWARE",
        "numberofemployees": 120,
        "description": "Enterprise customer since 2021; renews every March.",
    },
    {
        "name": "Compiler Co",
        "domain": "compiler.example.com",
        "industry": "INFORMATION_TECHNOLOGY_AND_SERVICES",
        "numberofemployees": 15,
        "description": "Startup plan; evaluating the enterprise tier.",
    },
]

CONTACTS: list[dict[str, Any]] = [
    {
        "email": "ada@example.com",
        "firstname": "Ada",
        "lastname": "Lovelace",
        "jobtitle": "CTO",
        "lifecyclestage": "customer",
        "message": "Please send the renewal quote before the end of the month.",
    },
    {
        "email": "grace@example.com",
        "firstname": "Grace",
        "lastname": "Hopper",
        "jobtitle": "Head of Engineering",
        "lifecyclestage": "opportunity",
        "message": "Interested in a demo of the audit log feature.",
    },
    {
        "email": "alan@example.com",
        "firstname": "Alan",
        "lastname": "Turing",
        "lifecyclestage": "lead",
        "hs_lead_status": "NEW",
        "message": "Found you through the conference talk.",
    },
]


def seed_demo(sim: CrmSimulator, *, tenant: str | None = None) -> dict[str, Any]:
    """Create the demo objects in ``tenant`` and return their ids by name."""
    engines, compiler = (sim.create_company(tenant=tenant, **c) for c in COMPANIES)
    ada, grace, alan = (sim.create_contact(tenant=tenant, **c) for c in CONTACTS)
    sim.associate("contacts", ada.id, "companies", engines.id, tenant=tenant)
    sim.associate("contacts", grace.id, "companies", compiler.id, tenant=tenant)
    renewal = sim.create_deal(
        tenant=tenant,
        dealname="Analytical Engines renewal 2025",
        amount=48000,
        dealstage="contractsent",
        pipeline="default",
        closedate="2025-03-31T00:00:00Z",
        description="Annual renewal; legal is reviewing the DPA.",
    )
    upsell = sim.create_deal(
        tenant=tenant,
        dealname="Compiler Co enterprise upgrade",
        amount=12000,
        dealstage="qualifiedtobuy",
        pipeline="default",
        description="Wants SSO and the audit log before signing.",
    )
    sim.associate("deals", renewal.id, "companies", engines.id, tenant=tenant)
    sim.associate("deals", renewal.id, "contacts", ada.id, tenant=tenant)
    sim.associate("deals", upsell.id, "companies", compiler.id, tenant=tenant)
    notes = [
        sim.create_note(
            "Call with Ada: happy with support, asked for a 10% multi-year discount.",
            about=[("contacts", ada.id), ("deals", renewal.id)],
            tenant=tenant,
        ),
        sim.create_note(
            "Grace's team needs SSO (Okta) before they can sign.",
            about=[("contacts", grace.id), ("companies", compiler.id)],
            tenant=tenant,
        ),
    ]
    ticket = sim.create_object(
        "tickets",
        subject="Invoice shows the wrong VAT number",
        content="Ada says the March invoice has our old VAT number; finance needs a corrected copy.",
        hs_pipeline="0",
        hs_pipeline_stage="1",
        hs_ticket_priority="HIGH",
        hs_ticket_category="BILLING_ISSUE",
        tenant=tenant,
    )
    sim.associate("tickets", ticket.id, "contacts", ada.id, tenant=tenant)
    return {
        "companies": [engines.id, compiler.id],
        "contacts": [ada.id, grace.id, alan.id],
        "deals": [renewal.id, upsell.id],
        "tickets": [ticket.id],
        "notes": [n.id for n in notes],
    }
