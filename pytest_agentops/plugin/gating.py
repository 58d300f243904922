"""pytest glue for contracts, policy and budgets: options, loading, one guard per test, failing a test.

``plugin.py`` calls ``addoption`` and ``configure`` and wraps each test's tap in ``activate``.
Everything heavier (pydantic, the contract models) is imported on first use.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_agentops.tap.items import closest_marks

if TYPE_CHECKING:
    from pydantic import BaseModel

    from pytest_agentops.policy.budget import Budget
    from pytest_agentops.policy.contracts import AgentContract, Contracts
    from pytest_agentops.policy.engine import Guard, Policy, Rule
    from pytest_agentops.policy.tools import Denial, ToolSpec
    from pytest_agentops.tap.routing import LiveRequest, Reply, Tap
    from pytest_agentops.trace.prices import Price, PriceTable
    from pytest_agentops.trace.run import Run

GUARD = pytest.StashKey["Guard"]()


@dataclass
class GuardSettings:
    no_writes: bool = False
    rootdir: Path = Path(".")
    pyproject: Path | None = None
    contracts_file: str | None = None
    ini_prices: dict[str, Price] = field(default_factory=dict)
    _contracts: Contracts | None = None
    _prices: PriceTable | None = None
    _rules: dict[Any, tuple[Rule, ...]] = field(default_factory=dict)  # test folder -> its conftests' rules
    _providers: tuple[Any, ...] | None = None  # model-API parsers from pytest_agentops_providers hooks
    # (id of each closest marker, id of the parent node) -> (those markers and the node, what build_guard
    # made of them): see _terms
    _terms: dict[tuple[int, int, int, int], tuple[tuple[Any, ...], _Terms]] = field(default_factory=dict)

    @property
    def contracts(self) -> Contracts:
        if self._contracts is None:
            from pytest_agentops.policy.contracts import Contracts

            self._contracts = Contracts()
        return self._contracts


SETTINGS = pytest.StashKey[GuardSettings]()


def addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("agentops")
    group.addoption(
        "--agent-no-writes",
        action="store_true",
        default=None,
        help="kill switch: the policy denies every write tool call (HTTP and @tool) in every test",
    )
    group.addoption(
        "--agent-contracts",
        default=None,
        metavar="PATH",
        help="a YAML file of agent contracts (agents: {name: {...}}), besides [tool.agentops.agents] in pyproject",
    )
    parser.addini("agentops_no_writes", "deny every write tool call (as --agent-no-writes)", type="bool", default=False)
    parser.addini("agentops_contracts", "YAML file of agent contracts (as --agent-contracts)", default="")
    parser.addini(
        "agentops_prices",
        "model prices, USD per 1M tokens: MODEL = input:N output:N [cached_input:N] [cache_write:N]",
        type="linelist",
    )
    parser.addini(
        "agentops_mcp_servers",
        "MCP servers by name, one 'NAME = URL' a line: their tools are mcp.NAME.<tool> (docs/mcp.md)",
        type="linelist",
    )


def _pyproject(config: pytest.Config) -> Path | None:
    inipath = config.inipath
    if inipath is not None and inipath.name == "pyproject.toml":
        return Path(inipath)
    candidate = Path(str(config.rootpath)) / "pyproject.toml"
    return candidate if candidate.is_file() else None


def _prices_and_contracts(settings: GuardSettings, lines: list[str], contracted: bool) -> None:
    """The ini's price lines, then the contracts; their modules load only for a session that has either."""
    from pytest_agentops.trace.prices import PriceError, parse_ini_line

    try:
        for line in lines:
            model, price = parse_ini_line(line)
            settings.ini_prices[model] = price
        if contracted:
            from pytest_agentops.policy.contracts import ContractError, load

            try:
                settings._contracts = load(settings.rootdir, settings.pyproject, settings.contracts_file)
            except ContractError as exc:
                raise pytest.UsageError(f"pytest-agentops: invalid agent contract:\n{exc}") from None
    except PriceError as exc:
        raise pytest.UsageError(f"pytest-agentops: {exc}") from None


def _has_agentops_table(path: Path | None) -> bool:
    if path is None:
        return False
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and "agentops" in tool


def configure(config: pytest.Config) -> None:
    """Read the kill switch, prices and contracts now, so a bad contract is a usage error."""
    no_writes = config.getoption("agent_no_writes", default=None)
    if no_writes is None:
        no_writes = bool(config.getini("agentops_no_writes"))
    settings = GuardSettings(
        no_writes=bool(no_writes),
        rootdir=Path(str(config.rootpath)),
        pyproject=_pyproject(config),
        contracts_file=config.getoption("agent_contracts", default=None) or config.getini("agentops_contracts") or None,
    )
    lines = config.getini("agentops_prices")
    contracted = bool(settings.contracts_file) or _has_agentops_table(settings.pyproject)
    if lines or contracted:
        _prices_and_contracts(settings, lines, contracted)
    mcp_servers = config.getini("agentops_mcp_servers")
    if mcp_servers:
        from pytest_agentops.mcp.servers import configure as name_mcp_servers

        try:
            name_mcp_servers(mcp_servers)
        except ValueError as exc:
            raise pytest.UsageError(f"pytest-agentops: {exc}") from None
    config.stash[SETTINGS] = settings
    if not config.pluginmanager.has_plugin("agentops-guard"):
        config.pluginmanager.register(GuardHooks(), "agentops-guard")


# ---- per test -------------------------------------------------------------------------------------


def _prices(config: pytest.Config, settings: GuardSettings) -> PriceTable:
    if settings._prices is None:
        from pytest_agentops.trace.prices import DEFAULT, Price, parse_price

        overrides: dict[str, Price] = {}
        for result in config.hook.pytest_agentops_prices(config=config):
            for model, value in (result or {}).items():
                overrides[model] = (
                    value if isinstance(value, Price) else parse_price(model, value, "agentops_prices hook:")
                )
        overrides.update(settings.contracts.prices)
        overrides.update(settings.ini_prices)
        settings._prices = DEFAULT.with_overrides(overrides) if overrides else DEFAULT
    return settings._prices


def _rules(item: pytest.Item, settings: GuardSettings) -> tuple[Rule, ...]:
    """The rules of the conftests above ``item`` (and plugins): asked once per test folder."""
    folder = item.path.parent
    rules = settings._rules.get(folder)
    if rules is None:
        found: list[Rule] = []
        for result in item.ihook.pytest_agentops_policy_rules(config=item.config):
            found.extend(result or ())
        rules = settings._rules[folder] = tuple(found)
    return rules


def _providers(config: pytest.Config, settings: GuardSettings) -> None:
    """Install the ``pytest_agentops_providers`` parsers once per session (removed at unconfigure)."""
    if settings._providers is None:
        from pytest_agentops.trace import providers

        found: list[Any] = []
        for result in config.hook.pytest_agentops_providers(config=config):
            found.extend(result or ())
        settings._providers = tuple(found)
        providers.add_parsers(settings._providers)


def _marker_model(item: pytest.Item, marker: pytest.Mark, model: type[BaseModel], what: str) -> Any:
    from pydantic import ValidationError

    if marker.args:
        if len(marker.args) == 1 and not marker.kwargs and isinstance(marker.args[0], model):
            return marker.args[0]
        pytest.fail(
            f"{item.nodeid}: @pytest.mark.{what} takes keyword arguments or one {model.__name__}(...)",
            pytrace=False,
        )
    try:
        return model.model_validate(marker.kwargs)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(arguments)'}: "
            + (
                "unknown key; known keys: " + ", ".join(model.model_fields)
                if err["type"] == "extra_forbidden"
                else err["msg"]
            )
            for err in exc.errors()
        )
        pytest.fail(f"{item.nodeid}: @pytest.mark.{what}: {problems}", pytrace=False)


def contract_for(item: pytest.Item, settings: GuardSettings) -> AgentContract | None:
    from pytest_agentops.policy.contracts import AgentContract

    marker = item.get_closest_marker("agent")
    if marker is None:
        return None
    if len(marker.args) != 1 or marker.kwargs:
        pytest.fail(
            f'{item.nodeid}: @pytest.mark.agent takes one contract name, e.g. agent("support_triage")', pytrace=False
        )
    arg = marker.args[0]
    if isinstance(arg, AgentContract):
        return arg
    if not isinstance(arg, str):
        pytest.fail(f"{item.nodeid}: @pytest.mark.agent: {arg!r} is not a contract name", pytrace=False)
    contract = settings.contracts.get(arg)
    if contract is None:
        pytest.fail(f"{item.nodeid}: @pytest.mark.agent: {settings.contracts.unknown(arg)}", pytrace=False)
    return contract


@dataclass(frozen=True)
class _Terms:
    """What a test's guard is built from, decided by its markers and folder alone."""

    contract: AgentContract | None
    policy: Policy
    budget: Budget
    rules: tuple[Rule, ...]


_MARKERS = ("agent", "agent_budget", "agent_policy")


def build_guard(item: pytest.Item, run: Run) -> Guard:
    """The guard for ``item``: its contract, then the ``agent_budget``/``agent_policy`` overrides."""
    from pytest_agentops.policy.engine import Guard

    settings = item.config.stash[SETTINGS]
    terms = _terms(item, settings)
    contract = terms.contract
    if contract is not None and contract.mcp.servers:
        from pytest_agentops.mcp import servers

        for name, url in contract.mcp.servers.items():
            servers.register_mcp_server(name, url)
    return Guard(
        run,
        policy=terms.policy,
        budget=terms.budget,
        contract=contract,
        prices=_prices(item.config, settings),
        no_writes=settings.no_writes,
        rules=terms.rules,
    )


def _terms(item: pytest.Item, settings: GuardSettings) -> _Terms:
    """The test's terms, merged and validated once for each set of markers (most tests of a suite share
    theirs: none, or a module's ``pytestmark``) and parent node (a module or class: one folder); the
    markers and the node are kept with them, so an id reused by a later object can never find
    another's terms."""
    marks = closest_marks(item, _MARKERS)
    parent = item.parent
    key = (id(marks[0]), id(marks[1]), id(marks[2]), id(parent))
    found = settings._terms.get(key)
    if found is not None:
        kept, terms = found
        if kept[0] is marks[0] and kept[1] is marks[1] and kept[2] is marks[2] and kept[3] is parent:
            return terms
    terms = _merge(item, settings, tuple(marks))
    settings._terms[key] = ((*marks, parent), terms)
    return terms


def _merge(item: pytest.Item, settings: GuardSettings, marks: tuple[pytest.Mark | None, ...]) -> _Terms:
    from pytest_agentops.policy.budget import Budget
    from pytest_agentops.policy.engine import Policy

    contract = contract_for(item, settings)
    budget = contract.budgets if contract is not None else Budget()
    policy = contract.policy if contract is not None else Policy()
    if marks[1] is not None:
        budget = budget.merged(_marker_model(item, marks[1], Budget, "agent_budget"))
    if marks[2] is not None:
        policy = policy.merged(_marker_model(item, marks[2], Policy, "agent_policy"))
    return _Terms(contract, policy, budget, _rules(item, settings))


@contextlib.contextmanager
def activate(item: pytest.Item, run: Run, tap: Tap, *, tools: bool = True) -> Iterator[Deferred | None]:
    """Install the test's guard: a gate on ``tap``, a listener on ``run``, and (``tools``) the ``@tool`` guard.

    A test outside the scope (docs/existing-suites.md) gets a ``Deferred`` guard, built on its first
    governed request or ``@tool`` call: most such tests make none, and building one per test was
    most of the plugin's cost on a suite that never calls an agent.
    """
    if SETTINGS not in item.config.stash:
        yield None
        return
    from pytest_agentops.policy.tools import use_guard

    _providers(item.config, item.config.stash[SETTINGS])
    deferred = Deferred(item, run)
    if tap.in_scope:  # an agent test reads its guard (agent_run.budget, failures) whether or not it calls
        deferred.get()
    tap.gates.append(deferred.gate)
    try:
        with use_guard(deferred) if tools else contextlib.nullcontext():
            yield deferred
    finally:
        if deferred.real is not None:
            deferred.real.detach()
        with contextlib.suppress(ValueError):
            tap.gates.remove(deferred.gate)


class _Delegate:
    """The ``@tool`` and gate calls of a guard that is found (or built) only when first needed."""

    def get(self) -> Guard | None:
        raise NotImplementedError

    def gate(self, live: LiveRequest) -> Reply | None:
        guard = self.get()
        return guard.gate(live) if guard is not None else None

    def check_python(self, spec: ToolSpec, arguments: dict[str, Any]) -> Denial | None:
        guard = self.get()
        return guard.check_python(spec, arguments) if guard is not None else None

    def record_python(self, spec: ToolSpec, arguments: Any, **details: Any) -> None:
        guard = self.get()
        if guard is not None:
            guard.record_python(spec, arguments, **details)


class Deferred(_Delegate):
    """The test's guard, built when first needed; ``item.stash[GUARD]`` holds it from then on."""

    def __init__(self, item: pytest.Item, run: Run) -> None:
        self._item, self._run = item, run
        self.real: Guard | None = None

    def get(self) -> Guard:
        if self.real is None:
            self.real = build_guard(self._item, self._run)
            self.real.attach()
            self._item.stash[GUARD] = self.real
        return self.real


class Opening(_Delegate):
    """The ``@tool`` guard of a test outside the scope: a tool call first opens the test's tap and guard."""

    def __init__(self, open_guard: Callable[[], Deferred | None]) -> None:
        self._open_guard = open_guard

    def get(self) -> Guard | None:
        deferred = self._open_guard()
        return deferred.get() if deferred is not None else None


def failure_text(guard: Guard, lines: list[str]) -> str:
    from pytest_agentops.policy.budget import describe, status
    from pytest_agentops.readers.assertions import step_table

    state = status(guard.run, guard.budget, guard.prices)
    return "\n".join(
        [
            f"pytest-agentops: {len(lines)} policy/budget failure(s):",
            *(f"- {line}" for line in lines),
            f"budget: {describe(state)}",
            step_table(guard.run.events),
        ]
    )


def call_phase(item: pytest.Item, inner: Generator[None, object, object]) -> Generator[None, object, object]:
    """The test's call around ``inner``: a run that broke its budget or a failing rule (model pinning) fails it.

    One wrapper with the plugin's own (the miss check is ``inner``): every test pays for each hook
    wrapper pluggy calls, and most tests never build a guard.
    """
    guard = item.stash.get(GUARD, None)
    if guard is not None:
        from pytest_agentops.policy.budget import start_simulated

        start_simulated(guard.run)  # simulated time counts from here, not from the fixtures
    try:
        result = yield from inner
    except BaseException:
        guard = item.stash.get(GUARD, None)  # a deferred guard may have been built meanwhile
        if guard is not None:
            guard.ended_at = time.time()
            lines = guard.failures()
            if lines:
                item.add_report_section("call", "agentops", failure_text(guard, lines))
        raise
    guard = item.stash.get(GUARD, None)
    if guard is not None:
        guard.ended_at = time.time()
        lines = guard.failures()
        if lines:
            pytest.fail(failure_text(guard, lines), pytrace=False)
    return result


class GuardHooks:
    """The session's end: the providers this session's settings added are removed again."""

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        settings = config.stash.get(SETTINGS, None)
        if settings is not None and settings._providers:
            from pytest_agentops.trace import providers

            providers.remove_parsers(settings._providers)
