"""pytest hooks only: options, markers, fixtures and reporting, wired to the library.

Heavy imports (vcrpy and the HTTP clients it patches) happen in the first test that needs the tap,
never at plugin import, so pytest start-up stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_agentops.cassette.errors import CassetteError
from pytest_agentops.plugin import checks as _checks
from pytest_agentops.plugin import gating as _guard
from pytest_agentops.plugin import nesting as _nesting
from pytest_agentops.plugin import options as _options
from pytest_agentops.plugin import outputs as _outputs
from pytest_agentops.plugin import simfixtures as _simfixtures
from pytest_agentops.plugin import tapping as _tapping
from pytest_agentops.plugin.tapping import OPENER as OPENER  # the stash keys' old home: re-exported
from pytest_agentops.plugin.tapping import RUN as RUN
from pytest_agentops.plugin.tapping import SIMS as SIMS
from pytest_agentops.plugin.tapping import TAP as TAP
from pytest_agentops.tap import offline as netguard
from pytest_agentops.tap import settings as _config
from pytest_agentops.tap.items import SETTINGS as SETTINGS  # (the settings' key and path: the CLI asks them too)
from pytest_agentops.tap.items import cassette_path_for as cassette_path_for

if TYPE_CHECKING:
    from pytest_agentops.backends.sims import AgentSims, SimSet
    from pytest_agentops.cassette.format import Cassette
    from pytest_agentops.readers.assertions import AgentRun
    from pytest_agentops.tap.routing import Tap
    from pytest_agentops.trace.run import Miss, Run

_OUTER_ON_BLOCK = pytest.StashKey[Any]()  # a nested session restores the outer session's callback
_INTERCEPTING = pytest.StashKey[bool]()  # this session holds the process-wide interception
_ESTIMATE_BEFORE = pytest.StashKey[str]()  # the token estimate in force before this session set its own
_OUTSIDE = pytest.StashKey[Any]()  # strict offline: SDK telemetry sent outside a test (tap.outside.Outside)

# Using one of these (or an agent* marker) puts a test in scope: all its requests are governed.
# (and every simulator fixture: ``billing``, ``ticketing``, ``crm``, ... from the simulator registry)
SCOPE_FIXTURES = frozenset({"agent_run", "agent_cassette", "agent_sims", "fake_llm"})

MARKERS = (
    'agent(name): apply the agent contract "name" (budgets, allowlist, logging)',
    "agent_cassette(name=None, record_errors=False): govern and record every request of the test; with a name, "
    'use the cassette "DIR/<name>.json" instead of the per-test one; record_errors=True saves upstream 5xx '
    "answers while recording (tests of error handling)",
    "agent_budget(max_tool_calls=, max_tokens=, max_cost_usd=, max_seconds=, max_repeated_calls=, "
    "max_simulated_seconds=): "
    "budget for this test",
    "agent_policy(allow=[...], writes_require=[...]): policy for this test",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    _options.addoption(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_agentops.plugin import hookspecs

    pluginmanager.add_hookspecs(hookspecs)
    _nesting.note_start(pluginmanager)  # the first hook a session calls: before its conftests import


def disabled() -> bool:
    """``AGENTOPS_DISABLE=1``, or an outer pytest run with ``-p no:agentops`` (pytester sessions inside it)."""
    import itertools
    import os
    import sys

    if os.environ.get("AGENTOPS_DISABLE", "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    argv = sys.argv[1:]
    return "-pno:agentops" in argv or ("-p", "no:agentops") in itertools.pairwise(argv)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """``--agent-netns``: this session runs again inside a network namespace; its status is ours."""
    from pytest_agentops.tap import netns

    if disabled() or netns.active() or not _config.netns_wanted(config):
        return None
    try:
        return netns.rerun(config.invocation_params.args, str(config.invocation_params.dir))
    except netns.NamespaceUnavailable as exc:
        raise pytest.UsageError(f"--agent-netns: {exc}") from exc


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    _nesting.configure(config)  # an in-process session inside this one leaves no module copies behind
    _simfixtures.install(config, globals())  # the fixtures exist turned off too, and then say so
    if disabled():
        return  # no settings: every hook and fixture of ours steps aside
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    _checks.check_ini_keys(config)
    try:
        settings = _config.from_pytest(config)
    except _config.UsageError as exc:
        raise pytest.UsageError(str(exc)) from exc
    config.stash[SETTINGS] = settings
    _guard.configure(config)
    _usage_estimate(config, str(config.getini("agentops_usage_estimate")))
    _outputs.configure(config)
    _framework_tools(config)
    _checks.warn_staging_outside_record(config, settings)
    tracking = settings.record != "none" or settings.max_age_days is not None  # else it has nothing to do
    if tracking and not config.pluginmanager.has_plugin("agentops-hygiene"):
        from pytest_agentops.cassette.hygiene import Hygiene

        config.pluginmanager.register(Hygiene(config, settings, _loaded_cassette), "agentops-hygiene")
    if not config.pluginmanager.has_plugin("agentops-checks"):
        config.pluginmanager.register(_checks.MarkerCheck(), "agentops-checks")
        config.pluginmanager.register(_checks.PatternCheck(), "agentops-patterns")
    if settings.replay_strict:
        config.stash[_OUTER_ON_BLOCK] = netguard.on_block
        netguard.install()
        netguard.on_block = _on_block
        from pytest_agentops.tap import outside

        config.stash[_OUTSIDE] = outside.start(settings.telemetry)  # collection, between tests, the end


def _framework_tools(config: pytest.Config) -> None:
    """Switch the framework tool adapters on (each patches its framework only once it is imported)."""
    if not config.getini("agentops_framework_tools"):
        return
    from pytest_agentops.tap import frameworks

    lines = config.getini("agentops_tool_names")
    gate = sys.modules.get("pytest_agentops.tap.frameworks.gate")
    if gate is not None or lines:  # else no session declared any name: nothing to keep apart
        from pytest_agentops.tap.frameworks.gate import names

        outer = names.swap({})  # this session's names only, the outer session's back at its end

        def restore() -> None:
            names.swap(outer)

        config.add_cleanup(restore)
    try:
        frameworks.parse_names(lines)
    except ValueError as exc:
        raise pytest.UsageError(f"pytest-agentops: {exc}") from None
    frameworks.enable()
    config.add_cleanup(frameworks.disable)


def _usage_estimate(config: pytest.Config, spec: str | None) -> None:
    """Switch the opt-in token estimate on for this session; ``None``: put back what was before it."""
    if spec is None:
        if _ESTIMATE_BEFORE in config.stash:
            from pytest_agentops.trace.providers import estimate

            estimate.use(config.stash[_ESTIMATE_BEFORE])
        return
    if not spec.strip():
        return  # the default: nothing to import, nothing to put back
    from pytest_agentops.trace.providers import estimate

    try:
        config.stash[_ESTIMATE_BEFORE] = estimate.use(spec)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from exc


def pytest_unconfigure(config: pytest.Config) -> None:
    _simfixtures.uninstall(config)
    _usage_estimate(config, None)
    if config.stash.get(_INTERCEPTING, False):
        from pytest_agentops.tap import install

        install.release()
        config.stash[_INTERCEPTING] = False
    if config.stash.get(_OUTSIDE, None) is not None:
        from pytest_agentops.tap import outside

        outside.stop(config.stash[_OUTSIDE])
        config.stash[_OUTSIDE] = None
    if SETTINGS in config.stash and config.stash[SETTINGS].replay_strict:
        netguard.uninstall()
        netguard.on_block = config.stash.get(_OUTER_ON_BLOCK, None)


def pytest_fixture_post_finalizer(fixturedef: pytest.FixtureDef[Any]) -> None:
    if fixturedef.argname == "pytester":  # it has just put sys.modules back as the test found it
        _nesting.forget_dropped_submodules(fixturedef)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: every worker shares one recording session id (merging re-recorded files)."""
    if SETTINGS in node.config.stash:
        node.workerinput["agentops_session"] = node.config.stash[SETTINGS].session_id


def pytest_report_header(config: pytest.Config) -> str | None:
    settings = config.stash.get(SETTINGS, None)
    if settings is None:
        return None
    from pytest_agentops.tap import netns

    isolated = ", network namespace (loopback only)" if netns.active() else ""
    return _checks.header(config, settings) + isolated


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Telemetry answered outside a test has no test's trace to be on: the session lists it here."""
    answered = config.stash.get(_OUTSIDE, None)
    lines = answered.lines() if answered is not None else []
    if lines:
        terminalreporter.write_sep("-", f"agentops: {len(lines)} telemetry request(s) outside a test, answered locally")
        for line in lines:
            terminalreporter.write_line(line)


def _on_block(message: str) -> None:
    from pytest_agentops.tap.current import active_tap
    from pytest_agentops.trace.run import Miss

    tap = active_tap()  # opens the tap of a test outside the scope: its blocked socket fails it too
    if tap is not None:
        tap.run.misses.append(Miss("socket", "(network guard)", message))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    outer, netguard.current_test = netguard.current_test, item.nodeid
    try:
        return (yield)
    finally:
        netguard.current_test = outer  # an inner (pytester) session's test ends inside the outer's
        _tapping.release(item)


def _fail_on_misses(item: pytest.Item, when: str) -> Generator[None, object, object]:
    run = item.stash.get(RUN, None)
    tap = item.stash.get(TAP, None)
    before = len(run.misses) if run is not None else 0
    errors_before = len(tap.upstream_errors) if tap is not None else 0
    try:
        result = yield
    except CassetteError as exc:  # read on first use, inside the test's own request
        raise pytest.fail.Exception(cassette_fix(exc, item), pytrace=False) from None
    except BaseException as exc:
        netguard.collect_subprocess_reports()  # a subprocess's blocked attempt fails this test too
        text = _problems(item, run, before, tap, errors_before)
        if text and isinstance(exc, Exception):
            # The miss (or failed recording) is the cause: say it the same way whichever SDK wrapped it.
            raised = (str(exc).splitlines() or [""])[0][:200]
            pytest.fail(f"{text}\n(the code under test then raised {type(exc).__name__}: {raised})", pytrace=False)
        if text:
            item.add_report_section(when, "agentops", text)
        raise
    netguard.collect_subprocess_reports()
    if run is None and RUN not in item.stash:  # no run before or now (most tests): nothing to report
        return result
    text = _problems(item, run, before, tap, errors_before)
    if text:
        pytest.fail(text, pytrace=False)
    return result


def _problems(item: pytest.Item, run: Run | None, before: int, tap: Tap | None, errors_before: int) -> str:
    """Misses and upstream errors since the phase began; a tap opened during it (outside the scope) from 0."""
    parts = []
    misses = _new_misses(item, run, before)
    if misses:
        parts.append(_misses_text(misses))
    now = item.stash.get(TAP, None)
    if now is not None:
        errors = now.upstream_errors[errors_before if now is tap else 0 :]
        if errors:
            parts.append(_upstream_text(errors))
    return "\n".join(parts)


def _new_misses(item: pytest.Item, run: Run | None, before: int) -> list[Miss]:
    """The misses since ``before``; a run opened during the phase (a test outside the scope) counts from 0."""
    now = item.stash.get(RUN, None)
    if now is None:
        return []
    return now.misses[before if now is run else 0 :]


def _upstream_text(errors: list[str]) -> str:
    counted: dict[str, int] = {}
    for line in errors:
        counted[line] = counted.get(line, 0) + 1
    lines = [f"- {line}" + (f" ({n} times: the client retried)" if n > 1 else "") for line, n in counted.items()]
    return "\n".join(
        [
            f"pytest-agentops: {len(errors)} upstream error(s) while recording; nothing was saved for them:",
            *lines,
            "Fix the upstream (or --agent-staging URL) and record again; to record error answers on purpose, "
            "use @pytest.mark.agent_cassette(record_errors=True) or --agent-record-errors.",
        ]
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _guard.call_phase(item, _fail_on_misses(item, "call")))


def _start_tap(item: pytest.Item) -> None:
    """Route the test's requests to its tap (once): after its skip marks and higher-scoped fixtures."""
    settings = item.config.stash.get(SETTINGS, None)
    if settings is not None and OPENER not in item.stash:  # None: turned off (AGENTOPS_DISABLE=1, -p no:agentops)
        _hold_interception(item.config)
        _tapping.start(item, settings, eager=asks_for_agentops(item, settings))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    result = yield
    _start_tap(item)  # a test with no function-scoped fixture: still at setup (a bad cassette errors it)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: pytest.FixtureRequest) -> Generator[None, object, object]:
    """Before the test's first function-scoped fixture (session fixtures run before the per-test tap)."""
    if fixturedef.scope == "function" and isinstance(request.node, pytest.Item):
        try:
            _start_tap(request.node)
        except BaseException as exc:
            _failed_setup(fixturedef, request, exc)
            raise
    result = yield
    if fixturedef.argname == "pytester":  # runs first at teardown: before pytester puts sys.modules back
        fixturedef.addfinalizer(lambda: _nesting.hold(fixturedef))
    return result


def _failed_setup(fixturedef: Any, request: pytest.FixtureRequest, exc: BaseException) -> None:
    """Leave ``fixturedef`` as pytest's own setup leaves a fixture that raised: its result cached as
    the error, so its teardown runs and clears what pytest registered for it. The tap failed to
    start before the fixture ran; without this the fixture kept a finalizer, and the next test
    that used it failed at setup on pytest's bare ``assert not self._finalizers``. (The error is
    stored as pytest 8.2+ stores it; nothing reads it back: the test's setup has failed.)"""
    fixturedef.cached_result = (None, fixturedef.cache_key(request), (exc, exc.__traceback__))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, object, object]:
    try:
        return (yield from _fail_on_misses(item, "teardown"))
    finally:
        _tapping.stop(item)


def _misses_text(misses: list[Miss]) -> str:
    parts = [f"pytest-agentops: {len(misses)} request(s) had no recorded answer:"]
    for miss in misses:
        parts.append(f"- {miss.request}\n  " + miss.detail.replace("\n", "\n  "))
    return "\n".join(parts)


def _loaded_cassette(item: pytest.Item) -> Cassette | None:
    """The cassette ``item``'s tap loaded, or None (for the cassette hygiene tally)."""
    tap = item.stash.get(TAP, None)
    return tap.loaded_cassette if tap is not None else None


def cassette_fix(exc: CassetteError, item: pytest.Item) -> str:
    """The loader's message (file, position, fault) and what to do about it, on one line.

    The file is left as it is (nothing is written over a cassette that failed to load, except by
    ``--agent-record=all``, which replaces a cassette's content anyway).
    """
    text = " ".join(str(exc).split())
    if "re-record" in text:
        return text
    return f"{text}; fix the file by hand, or re-record it: pytest --agent-record=all {item.nodeid}"


def _hold_interception(config: pytest.Config) -> None:
    """Start the process-wide interception at this session's first test; released at unconfigure."""
    if not config.stash.get(_INTERCEPTING, False):
        from pytest_agentops.tap import install

        install.acquire()
        config.stash[_INTERCEPTING] = True


def asks_for_agentops(item: pytest.Item, settings: _config.Settings) -> bool:
    """Every request of this test is governed from its start: an agent* marker, a fixture of ours, scope all.

    A test with a cassette already is governed too; that one is found when its tap opens.
    """
    if settings.scope == "all":
        return True
    names = getattr(item, "fixturenames", ())
    if not SCOPE_FIXTURES.isdisjoint(names) or any(map(_simfixtures.is_simulator_fixture, names)):
        return True
    node: pytest.Item | pytest.Collector | None = item
    while node is not None:  # what item.iter_markers() walks, without its two generators (every test asks)
        for mark in node.own_markers:
            if mark.name.startswith("agent"):
                return True
        node = node.parent
    return False


def _enter_scope(request: pytest.FixtureRequest) -> Tap:
    """A fixture of ours asked for at run time (``getfixturevalue``) puts the test in scope too."""
    if SETTINGS not in request.config.stash:
        pytest.fail(
            f"pytest-agentops is turned off (AGENTOPS_DISABLE=1 or -p no:agentops): no {request.fixturename} fixture",
            pytrace=False,
        )
    settings = request.config.stash[SETTINGS]
    opener = _tapping.opener_of(request.node, settings, eager=asks_for_agentops(request.node, settings))
    tap = opener.open()
    assert tap is not None, "the test's tap opens before any request"
    tap.in_scope = True
    if opener.guard is not None:
        opener.guard.get()  # an agent test reads its guard (agent_run.budget) whether or not it calls
    return tap


@pytest.fixture
def agent_run(request: pytest.FixtureRequest) -> AgentRun:
    """The current test's run: trace id, events, model calls, usage."""
    _enter_scope(request)
    run: AgentRun = request.node.stash[RUN]
    return run


@pytest.fixture
def agent_cassette(request: pytest.FixtureRequest) -> Cassette:
    """The active cassette: its interactions and metadata."""
    return _enter_scope(request).cassette


# ``billing``, ``ticketing``, ``crm``: one fixture per simulator in the registry (plugin/simfixtures.py)
globals().update(_simfixtures.shipped())


@pytest.fixture
def agent_sims(request: pytest.FixtureRequest) -> AgentSims:
    """This test's simulators on real loopback ports: ``agent_sims.crm.base_url``."""
    from pytest_agentops.backends.sims import AgentSims

    _enter_scope(request)
    sims: SimSet = request.node.stash[SIMS]
    return AgentSims(sims)


if TYPE_CHECKING:
    from pytest_agentops.backends.model import FakeModel


@pytest.fixture
def fake_llm(request: pytest.FixtureRequest) -> Generator[FakeModel, None, None]:
    """The scripted fake model (OpenAI and Anthropic wire formats), in-process at ``fake_llm.base_url``."""
    from pytest_agentops.backends.model import FakeModel

    _enter_scope(request)
    fake = FakeModel(run=request.node.stash[RUN]).attach(request.node.stash[SIMS].tap)
    try:
        yield fake
    finally:
        fake.close()


if TYPE_CHECKING:
    from pytest_agentops.backends.mcp import FakeMCP


@pytest.fixture
def fake_mcp(request: pytest.FixtureRequest) -> Generator[FakeMCP, None, None]:
    """A scripted MCP server, in-process at ``fake_mcp.url`` (``fake_mcp.serve()`` adds a port)."""
    from pytest_agentops.backends.mcp import FakeMCP

    _enter_scope(request)
    fake = FakeMCP().attach(request.node.stash[SIMS].tap)
    try:
        yield fake
    finally:
        fake.close()


if TYPE_CHECKING:
    from pytest_agentops.mcp.stdio import StdioBridge


@pytest.fixture
def mcp_stdio(request: pytest.FixtureRequest) -> Generator[StdioBridge, None, None]:
    """stdio MCP servers through the gate: ``mcp_stdio.server(name, CMD, *ARGS)`` gives the proxy's launch command."""
    from pytest_agentops.mcp.stdio import StdioBridge

    _enter_scope(request)
    bridge = StdioBridge(request.node.stash[SIMS].tap)
    try:
        yield bridge
    finally:
        bridge.close()
