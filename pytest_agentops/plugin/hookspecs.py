"""Hooks other plugins (or a conftest) may implement to extend pytest-agentops."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec
def pytest_agentops_redact_interaction(interaction: dict[str, Any]) -> None:
    """Edit a recorded interaction in place before it is written (after built-in redaction).

    Use it for secrets the built-in rules and the ``agentops_redact_*`` ini options cannot name,
    e.g. a customer id in a URL path. It is also applied to each live request before matching
    (then ``interaction["response"]["status"]`` is None), so what it edits still matches on replay.
    A conftest's implementation applies to the tests below its folder.
    """


@pytest.hookspec
def pytest_agentops_policy_rules(config: pytest.Config) -> list[Any]:
    """Extra policy rules, asked after the built-in ones for every call (HTTP, ``@tool``, model).

    Return a list of callables ``(call, run) -> Denial | None`` (``pytest_agentops.policy.engine.Call``,
    ``pytest_agentops.trace.run.Run``, ``pytest_agentops.policy.tools.Denial``). A ``Denial`` refuses the call
    (403 JSON for HTTP, ``ToolDenied`` for ``@tool``); ``Denial(..., fail_test=True)`` also fails the
    test. Rules run on every request: keep them cheap and free of I/O. Called once per test folder:
    a conftest's rules apply to the tests under it, as with ``pytest_agentops_redact_interaction``.
    (Named ``pytest_*`` because pytest only takes ``pytest_*`` functions of a conftest as hooks.)
    """
    return []


@pytest.hookspec
def pytest_agentops_prices(config: pytest.Config) -> dict[str, Any]:
    """Model prices to add to (or override in) the built-in table, USD per million tokens:
    ``{"my-model": {"input": 1.0, "output": 2.0, "cached_input": 0.1}}`` or ``pytest_agentops.trace.prices.Price``
    values. ``[tool.agentops.prices]`` and the ``agentops_prices`` ini option win over hooks.
    Called once per session.
    """
    return {}


@pytest.hookspec
def pytest_agentops_providers(config: pytest.Config) -> list[Any]:
    """Extra model-API formats, asked before the built-in ones (OpenAI chat/responses, Anthropic).

    Return a list of objects with ``detect(method, url) -> str | None`` (the format's name, e.g.
    ``"gemini"``, when the request is a call of that API) and ``parse(method, url, request_body,
    status, headers, body) -> ModelCall | None`` (``pytest_agentops.trace.providers.ProviderParser``).
    A request one of them detects is a model call: a ``model`` event with the parsed ``ModelCall``
    (usage, tool calls), counted by token and cost budgets, checked by model pinning. Called once
    per session, at the first test; ``detect`` runs for every intercepted request, keep it cheap.
    """
    return []


@pytest.hookspec
def pytest_agentops_report(report: dict[str, Any], config: pytest.Config) -> None:
    """A report sink: called once at the end of the session (in the xdist controller, never in a
    worker) with the scorecard report, the dict ``--agent-report`` writes as JSON: ``agents``
    (per-contract figures), ``total``, ``pass_k``, ``tests`` (per-test figures) and, with
    ``--agent-baseline``, ``baseline`` (tolerances and regressions). Called whether or not a report
    file is written; do not modify ``report``.
    """
