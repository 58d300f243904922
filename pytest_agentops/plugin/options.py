"""The plugin's command-line options and ini keys, in one place (``agentops_*`` keys are checked
against this list: an unknown one is an error).

The gating and outputs hooks add their own (``plugin.gating``, ``plugin.outputs``), next to the
settings they fill.
"""

from __future__ import annotations

import pytest

from pytest_agentops.plugin import gating as _guard
from pytest_agentops.plugin import outputs as _outputs


def addoption(parser: pytest.Parser) -> None:
    _command_line(parser.getgroup("agentops", "pytest-agentops: test LLM agent workflows"))
    _tap_ini(parser)
    _cassette_ini(parser)
    _guard.addoption(parser)
    _outputs.addoption(parser)


def _command_line(group: pytest.OptionGroup) -> None:
    group.addoption(
        "--agent-replay",
        action="store_true",
        default=None,
        help="strict offline mode: serve every request from a cassette, simulator or fake model; "
        "block sockets to non-loopback addresses for the whole session",
    )
    group.addoption(
        "--agent-record",
        nargs="?",
        const="new",
        default=None,
        metavar="MODE",
        help="record cassettes: 'new' (default) adds what is missing, 'all' re-records every cassette used, "
        "'prune' adds what is missing and removes the interactions no test used",
    )
    group.addoption("--agent-cassette-dir", default=None, metavar="DIR", help="cassette folder (default: cassettes/)")
    group.addoption(
        "--agent-staging",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="in record mode, send simulator NAME's traffic to a staging base URL and record it",
    )
    group.addoption(
        "--agent-netns",
        action="store_true",
        default=None,
        help="re-run the session in a fresh network namespace with only loopback (Linux; nothing, not even "
        "curl or C code, can reach another address)",
    )
    group.addoption(
        "--agent-record-errors",
        action="store_true",
        default=None,
        help="while recording, save upstream 5xx answers too (by default they fail the test and are not saved)",
    )


def _tap_ini(parser: pytest.Parser) -> None:
    """Recording, replay, scope and framework tools."""
    parser.addini("agentops_record_errors", "save upstream 5xx answers while recording", type="bool", default=False)
    parser.addini("agentops_replay", "strict offline mode (as --agent-replay)", type="bool", default=False)
    parser.addini("agentops_netns", "re-run the session in a network namespace (as --agent-netns)", type="bool")
    parser.addini("agentops_record", "record mode: new, all or prune (as --agent-record)", default="")
    parser.addini(
        "agentops_cassette_max_age_days", "warn about cassettes last recorded more than this many days ago", default=""
    )
    parser.addini("agentops_cassette_dir", "cassette folder (as --agent-cassette-dir)", default="")
    parser.addini("agentops_staging", "NAME=URL staging targets (as --agent-staging)", type="linelist")
    parser.addini(
        "agentops_scope",
        "which tests the tap governs: 'auto' (tests using an agentops marker, fixture or contract, plus "
        "model, simulator and registered-tool traffic of any test) or 'all'",
        default="auto",
    )
    parser.addini(
        "agentops_loopback_passthrough",
        "let requests to 127.0.0.1/localhost that no cassette owns reach the local server",
        type="bool",
        default=True,
    )
    parser.addini(
        "agentops_telemetry_hosts",
        "extra SDK telemetry answered locally, never recorded: HOST or HOST/PATH-GLOB (docs/frameworks-model.md)",
        type="linelist",
    )
    parser.addini(
        "agentops_usage_estimate",
        "estimate the tokens of model calls whose answer carried no usage: 'tiktoken' or 'tiktoken:ENCODING' "
        "(off by default: unknown usage fails token and cost budgets)",
        default="",
    )
    parser.addini(
        "agentops_framework_tools",
        "gate the tools of agent frameworks (openai-agents, pydantic-ai, LangChain, ...) like @tool",
        type="bool",
        default=True,
    )
    parser.addini(
        "agentops_tool_names",
        "framework tools: NAME = [read|write] [CONTRACT_NAME] (undeclared framework tools are writes)",
        type="linelist",
    )


def _cassette_ini(parser: pytest.Parser) -> None:
    """Matching and redaction rules added to the defaults."""
    parser.addini("agentops_match_ignore", "extra match ignores: body:<path> or query:<name>", type="linelist")
    parser.addini("agentops_redact_headers", "extra header names to redact", type="linelist")
    parser.addini("agentops_redact_query", "extra query parameters to redact", type="linelist")
    parser.addini("agentops_redact_fields", "extra JSON field names whose values are redacted", type="linelist")
    parser.addini("agentops_redact_patterns", "extra regular expressions of secret values", type="linelist")
