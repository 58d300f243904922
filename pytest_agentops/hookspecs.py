"""Hooks other plugins (or a conftest) may implement to extend pytest-agentops."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec
def agentops_redact_interaction(interaction: dict[str, Any]) -> None:
    """Edit a recorded interaction in place before it is written (after built-in redaction).

    Use it for secrets the built-in rules and the ``agentops_redact_*`` ini options cannot name,
    e.g. a customer id in a URL path.
    """
