"""Mistakes people make fail loudly: a misspelt marker or ini key would otherwise turn a rule off.

A misspelt ``@pytest.mark.agent_polcy`` is only pytest's ``PytestUnknownMarkWarning`` and the test
runs with no policy; ``agentops_replya = true`` is only a config warning and the run is not strict.
Both are errors here, naming the closest real name. The session header says what is in force.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_agentops.policy.patterns import closest as closest
from pytest_agentops.policy.patterns import did_you_mean as did_you_mean
from pytest_agentops.policy.patterns import known_tools as known_tools
from pytest_agentops.policy.patterns import pattern_problem as pattern_problem
from pytest_agentops.trace.warning import AgentopsWarning as AgentopsWarning

if TYPE_CHECKING:
    from pytest_agentops.tap.settings import Settings


def registered_markers(config: pytest.Config) -> set[str]:
    """Every marker name registered with pytest (ours, other plugins', the project's ``markers``)."""
    names = set()
    for line in config.getini("markers"):
        names.add(str(line).split(":", 1)[0].split("(", 1)[0].strip())
    return names


def check_ini_keys(config: pytest.Config) -> None:
    """An ``agentops_*`` ini key that no option of ours reads is a usage error, not a warning."""
    unknown: Any = getattr(config, "_get_unknown_ini_keys", None)  # pytest's own list (private, stable since 7)
    if unknown is None:
        return
    known = [name for name in getattr(config._parser, "_inidict", {}) if name.startswith("agentops_")]
    for key in sorted(str(k) for k in unknown()):
        if not key.startswith("agentops_"):
            continue
        overrides = getattr(config.option, "override_ini", None) or []
        if any(str(o).split("=", 1)[0].strip() == key for o in overrides):
            where = " (given with -o)"
        else:
            where = f" in {config.inipath}" if config.inipath else ""
        raise pytest.UsageError(
            f"pytest-agentops: unknown ini option {key!r}{where}{did_you_mean(key, known)} "
            f"(known: {', '.join(sorted(known))})"
        )


def warn_staging_outside_record(config: pytest.Config, settings: Settings) -> None:
    """``--agent-staging`` typed for one run but not recording: it would be ignored without a word."""
    if settings.record == "none" and config.getoption("agent_staging", default=None):
        config.issue_config_time_warning(
            AgentopsWarning(
                "--agent-staging only applies while recording (--agent-record); this run replays, "
                "so the staging target(s) are not used"
            ),
            stacklevel=2,
        )


def marks_of(node: pytest.Item | pytest.Collector) -> list[pytest.Mark]:
    """What ``node.iter_markers()`` yields, closest first, without its two generators a node (each test asks)."""
    marks: list[pytest.Mark] = []
    current: pytest.Item | pytest.Collector | None = node
    while current is not None:
        marks += current.own_markers
        current = current.parent
    return marks


def unknown_markers(item: pytest.Item | pytest.Collector, known: set[str]) -> list[str]:
    """One line per ``agent*`` marker on ``item`` (or its class/module) that nothing registered."""
    lines: list[str] = []
    if isinstance(item, pytest.Class):
        getattr(item, "obj", None)  # a class reads its own marks when its object is first asked for
    for mark in marks_of(item):
        if mark.name.startswith("agent") and mark.name not in known:
            ours = sorted(name for name in known if name.startswith("agent"))  # for the message only
            hint = did_you_mean(mark.name, ours, "@pytest.mark.{}")
            lines.append(
                f"{item.nodeid}: unknown marker @pytest.mark.{mark.name}{hint} "
                f"(pytest-agentops markers: {', '.join(ours)}); a misspelt marker would turn its rule off"
            )
    return lines


class MarkerCheck:
    """Turns a collector's report into a collection error when one of its tests has a misspelt marker."""

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Generator[None, Any, Any]:
        report = yield
        if report.passed and report.result:
            known = registered_markers(collector.config)  # read now: plugins configured after us add theirs
            problems: list[str] = []
            for node in report.result:  # tests, and classes (their methods' report never comes after an error)
                problems += [line for line in unknown_markers(node, known) if line not in problems]
            if problems:
                report.outcome = "failed"
                report.longrepr = "\n".join(problems)
                report.result = []
        return report


def header(config: pytest.Config, settings: Settings) -> str:
    """One line: the mode, the cassette folder, the staging targets, where the policy comes from."""
    if settings.replay_strict:
        mode = "replay (strict, offline)"
    elif settings.record != "none":
        mode = f"record ({settings.record})"
    else:
        mode = "replay"
    parts = [f"agentops: {mode}", f"cassettes in {settings.cassette_dir}"]
    if settings.staging:
        used = "" if settings.record != "none" else " (unused: not recording)"
        parts.append("staging " + ", ".join(f"{k}={v}" for k, v in settings.staging.items()) + used)
    parts.append("policy from " + policy_source(config))
    return ", ".join(parts)


def policy_source(config: pytest.Config) -> str:
    from pytest_agentops.plugin import gating as guard

    found = config.stash.get(guard.SETTINGS, None)
    if found is None or found._contracts is None or not found._contracts.agents:
        return "markers only (no agent contracts)"
    by_file: dict[str, list[str]] = {}
    for name, source in found._contracts.sources.items():
        by_file.setdefault(source, []).append(name)
    return "; ".join(f"{source} (contracts: {', '.join(sorted(names))})" for source, names in sorted(by_file.items()))


# ---- allowlist patterns that match no tool ---------------------------------------------------------


def allow_patterns(item: pytest.Item) -> list[tuple[str, str]]:
    """(pattern, where it comes from) of ``item``'s allowlist: its ``agent_policy`` marker and contract."""
    from pytest_agentops.plugin import gating as guard

    found: list[tuple[str, str]] = []
    closest: dict[str, pytest.Mark] = {}
    for mark in marks_of(item):  # one walk up the node chain for both (each test is checked)
        if mark.name in ("agent_policy", "agent"):
            closest.setdefault(mark.name, mark)
    marker = closest.get("agent_policy")
    allow = marker.kwargs.get("allow") if marker is not None else None
    if isinstance(allow, list | tuple):
        found += [(str(p), "@pytest.mark.agent_policy") for p in allow]
    marker = closest.get("agent")
    settings = item.config.stash.get(guard.SETTINGS, None)
    if marker is not None and marker.args and isinstance(marker.args[0], str) and settings is not None:
        contract = settings.contracts.get(marker.args[0])
        if contract is not None:
            found += [(p, f"contract {marker.args[0]!r}") for p in contract.policy.allow or []]
    return found


class PatternCheck:
    """At collection, warn once per allowlist pattern that no known tool matches (a typo denies silently)."""

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        import warnings

        seen: set[tuple[str, str]] = set()
        known: set[str] | None = None
        for item in items:
            for pattern, where in allow_patterns(item):
                if (pattern, where) in seen:
                    continue
                seen.add((pattern, where))
                known = known_tools() if known is None else known
                problem = pattern_problem(pattern, known)
                if problem is not None:
                    warnings.warn(AgentopsWarning(f"{where} (first used by {item.nodeid}): {problem}"), stacklevel=1)
