"""Property-based prompt-injection fuzzing: hypothesis strategies, an attack corpus, planting and
ready-made safety properties. See docs/fuzzing.md.

```python
from hypothesis import given
from pytest_agentops import fuzz

@given(case=fuzz.planted(fuzz.injections(goal="refund"), into="ticketing"))
def test_agent_resists_injection(case):
    with fuzz.episode() as ep:
        ep.ticketing.seed(case.data)
        run_my_agent(ep)
        fuzz.check(ep, case)
```

This package imports hypothesis; the pytest plugin never imports it.
"""

from __future__ import annotations

from pytest_agentops.fuzz.corpus import FAMILIES, Corpus, CorpusError, GoalSpec, Template, default_corpus, load_corpus
from pytest_agentops.fuzz.harness import Episode, episode, run_episode
from pytest_agentops.fuzz.obfuscate import OBFUSCATIONS, reveal
from pytest_agentops.fuzz.payload import Goal, Payload, make_canary, render
from pytest_agentops.fuzz.plant import (
    Carrier,
    CarrierError,
    Planted,
    as_carrier,
    cassette,
    cassette_round_trip,
    combined,
    documents,
    planted,
    round_trip,
    seed,
)
from pytest_agentops.fuzz.probe import Probe, canary_run
from pytest_agentops.fuzz.properties import (
    PropertyViolation,
    assert_goal_not_reached,
    assert_no_canary_leak,
    assert_no_cross_tenant_writes,
    assert_no_unauthorized_writes,
    assert_tools_within,
    assert_writes_within,
    check,
    goal_reached,
    leaks,
    outbound,
)
from pytest_agentops.fuzz.strategies import injections, payload_texts
from pytest_agentops.fuzz.toolcalls import (
    MUTATIONS,
    Outcome,
    ToolCall,
    ToolInfo,
    execute,
    tool_call,
    tool_calls,
    tools_of,
)

__all__ = [
    "FAMILIES",
    "MUTATIONS",
    "OBFUSCATIONS",
    "Carrier",
    "CarrierError",
    "Corpus",
    "CorpusError",
    "Episode",
    "Goal",
    "GoalSpec",
    "Outcome",
    "Payload",
    "Planted",
    "Probe",
    "PropertyViolation",
    "Template",
    "ToolCall",
    "ToolInfo",
    "as_carrier",
    "assert_goal_not_reached",
    "assert_no_canary_leak",
    "assert_no_cross_tenant_writes",
    "assert_no_unauthorized_writes",
    "assert_tools_within",
    "assert_writes_within",
    "canary_run",
    "cassette",
    "cassette_round_trip",
    "check",
    "combined",
    "default_corpus",
    "documents",
    "episode",
    "execute",
    "goal_reached",
    "injections",
    "leaks",
    "load_corpus",
    "make_canary",
    "outbound",
    "payload_texts",
    "planted",
    "render",
    "reveal",
    "round_trip",
    "run_episode",
    "seed",
    "tool_call",
    "tool_calls",
    "tools_of",
]
