"""The package's one warning category, at the bottom layer so that every layer can warn with it.

A warning is for a setting or a recording that probably does not do what was meant while the run
goes on (an error stops it). ``pytest_agentops.plugin.checks.AgentopsWarning`` is the same class,
so ``-W error::pytest_agentops.plugin.checks.AgentopsWarning`` keeps working.
"""

from __future__ import annotations


class AgentopsWarning(UserWarning):
    """A setting or recording that probably does not do what was meant (the run goes on)."""
