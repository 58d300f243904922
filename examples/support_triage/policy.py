"""Refund rules of the ``support_triage`` contract, checked by the policy engine on every request.

The contract in pyproject.toml (``[tool.agentops.agents.support_triage]``) already says which tools
the agent may call and that no write happens before ``validate_step``. These two rules add what
a refund must satisfy, whatever the model asked for:

- ``refund_as_validated``: a refund must be exactly the one ``validate_step`` approved for this
  ticket (same charge, same amount), so no code path can refund something validation did not see;
- ``refund_limit``: support refunds at most ``AUTO_REFUND_LIMIT_CENTS`` per refund; above that a
  billing specialist decides (kb-104).

They are plain functions ``(call, run) -> Denial | None`` of the request about to be sent; the
examples' conftest.py installs them with the ``pytest_agentops_policy_rules`` hook. A denied
request never reaches the billing service: the agent gets a 403 and hands the ticket to a human.
"""

from __future__ import annotations

from typing import Any

from pytest_agentops import Denial
from pytest_agentops.policy.engine import Call
from pytest_agentops.trace.run import Run

CONTRACT = "support_triage"
REFUND = "billing.refunds.create"
AUTO_REFUND_LIMIT_CENTS = 10_000


def _applies(call: Call, run: Run) -> bool:
    contract = run.contract
    return call.name == REFUND and contract is not None and contract.name == CONTRACT


def _validated_plan(run: Run) -> dict[str, Any] | None:
    """The arguments of the last ``validate_step`` that ran successfully in this run."""
    for event in reversed(run.events):
        if event.tool == "validate_step" and event.backend == "python" and event.status == 200:
            return dict(event.arguments or {})
    return None


def _amount(arguments: Any) -> int | None:
    try:
        return int(arguments["amount"])
    except (KeyError, TypeError, ValueError):
        return None


def refund_as_validated(call: Call, run: Run) -> Denial | None:
    if not _applies(call, run):
        return None
    plan = _validated_plan(run)
    arguments = call.arguments if isinstance(call.arguments, dict) else {}
    wanted = (arguments.get("charge"), _amount(arguments))
    approved = (plan.get("refund_charge"), plan.get("refund_amount")) if plan else None
    if approved != wanted:
        return Denial(
            "refund_as_validated",
            f"refund of {wanted[1]} on {wanted[0]} is not the refund validate_step approved ({approved})",
        )
    return None


def refund_limit(call: Call, run: Run) -> Denial | None:
    if not _applies(call, run):
        return None
    amount = _amount(call.arguments)
    if amount is None or amount > AUTO_REFUND_LIMIT_CENTS:
        shown = "no amount" if amount is None else f"${amount / 100:,.2f}"
        return Denial(
            "refund_limit",
            f"refund of {shown} is over the ${AUTO_REFUND_LIMIT_CENTS / 100:,.2f} support can refund; "
            "a billing specialist must approve it",
        )
    return None


RULES = [refund_as_validated, refund_limit]
