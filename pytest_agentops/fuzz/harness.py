"""Episodes: a fresh run, policy guard, simulators and model per hypothesis example, on one tap.

pytest's fixtures (``agent_run``, ``billing``...) live for the whole test, but a ``@given`` test runs
its body once per example, and each example needs a clean slate. ``with episode() as ep:`` gives one:

- ``ep.run``: a new :class:`~pytest_agentops.readers.assertions.AgentRun` (the trace the properties read);
- a new policy ``Guard`` with the test's policy, budget and contract (or the ones given);
- ``ep.billing`` / ``ep.ticketing`` / ``ep.crm``: new simulators, served in-process through the tap;
- ``ep.requests``: every request as it left the agent (method, URL, headers, body; model calls
  included), the raw material of the canary-leak property and of ``canary_run``;
- a *sink*: any other request (an attacker's URL) is answered locally with an empty JSON object,
  recorded like any request, and never leaves the machine, in record mode too.

Inside a pytest test the episode borrows the test's tap (the plugin's interception) through the
tap's public ``Tap.episode`` block, which swaps the run, gates, mounts and cassette for its
duration; outside pytest (a script, a benchmark) it opens its own tap.
"""

from __future__ import annotations

import contextlib
import json
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_agentops.readers.assertions import AgentRun
from pytest_agentops.trace.run import Run

if TYPE_CHECKING:
    from pytest_agentops.backends.model import FakeModel
    from pytest_agentops.backends.sims import TappedSimulator
    from pytest_agentops.policy.budget import Budget
    from pytest_agentops.policy.contracts import AgentContract
    from pytest_agentops.policy.engine import Guard, Policy, Rule
    from pytest_agentops.policy.tools import ToolRegistry
    from pytest_agentops.tap.episode import TapEpisode
    from pytest_agentops.tap.routing import Gate, LiveRequest, LocalHandler, Reply, Tap
    from pytest_agentops.trace.run import Backend
    from simulators.core.simulator import Simulator

SINK_REPLY: Reply = (200, {"content-type": "application/json", "x-agentops-sink": "1"}, b"{}")


class Episode:
    """One example's world. See the module docstring."""

    def __init__(self, scoped: TapEpisode, run: AgentRun, guard: Guard | None, requests: list[LiveRequest]) -> None:
        self.tap = scoped.tap
        self.run = run
        self.guard = guard
        self.requests = requests  # every request as it left the agent (the episode's first gate)
        self._scoped = scoped  # the tap's episode block: mounts go there
        self._sims: dict[str, TappedSimulator] = {}
        self.fakes: list[FakeModel] = []

    # ---- backends -----------------------------------------------------------------------------

    def mount(self, base_url: str, handler: LocalHandler, backend: Backend = "simulator") -> None:
        """Serve ``base_url`` in-process for this episode (before the test's own backends)."""
        self._scoped.mount(base_url, handler, backend)

    def fake_model(
        self,
        mode: str = "gullible",
        *,
        respond: Callable[[Any], Any] | None = None,
        script: Sequence[Any] | None = None,
    ) -> FakeModel:
        """A fresh fake model for this episode (``pytest_agentops.backends.model``), served at its ``base_url``:
        ``gullible`` (obeys instructions found in tool results and user content), ``adversarial`` or
        ``scripted``; ``respond``/``script`` answer when the mode does not."""
        from pytest_agentops.backends.model import FakeModel

        fake = FakeModel(run=self.run)
        if mode == "gullible":
            fake.gullible()
        elif mode == "adversarial":
            fake.adversarial()
        elif mode != "scripted":
            raise ValueError(f"fake_model(mode={mode!r}): gullible, adversarial or scripted")
        if respond is not None:
            fake.respond(respond)
        if script is not None:
            fake.script(list(script))

        def serve(live: LiveRequest) -> Reply:
            return fake.handle(live.method, live.url, live.headers, live.body)

        self.mount(fake.base_url, serve, backend="fake_model")
        self.fakes.append(fake)
        return fake

    def sim(self, name: str) -> TappedSimulator:
        """A fresh simulator ``name`` for this episode (``billing``, ``ticketing``, ``crm``)."""
        tapped = self._sims.get(name)
        if tapped is None:
            from pytest_agentops.backends.sims import TappedSimulator, handler, register_tools
            from simulators import simulator_class

            sim = simulator_class(name)()
            register_tools(sim)
            self.mount(sim.base_url, handler(sim))
            tapped = self._sims[name] = TappedSimulator(sim)
        return tapped

    def add_sim(self, sim: Simulator, name: str | None = None) -> TappedSimulator:
        """Use an already built simulator (seeded, with tenants) for this episode."""
        from pytest_agentops.backends.sims import TappedSimulator, handler, register_tools

        register_tools(sim)
        self.mount(sim.base_url, handler(sim))
        tapped = self._sims[name or sim.name] = TappedSimulator(sim)
        return tapped

    @property
    def billing(self) -> TappedSimulator:
        return self.sim("billing")

    @property
    def ticketing(self) -> TappedSimulator:
        return self.sim("ticketing")

    @property
    def crm(self) -> TappedSimulator:
        return self.sim("crm")

    @property
    def simulators(self) -> dict[str, TappedSimulator]:
        """The simulators this episode created, by name."""
        return dict(self._sims)

    # ---- what happened ------------------------------------------------------------------------

    @property
    def model_requests(self) -> list[LiveRequest]:
        return [r for r in self.requests if r.kind == "model"]

    def model_text(self) -> str:
        """Everything sent to model APIs, as text (JSON bodies decoded, so escapes are resolved)."""
        out = []
        for r in self.model_requests:
            body = r.body.decode("utf-8", "replace")
            with contextlib.suppress(ValueError):
                body = json.dumps(json.loads(body), ensure_ascii=False)
            out.append(body)
        return "\n".join(out)

    def satisfy(self, precondition: str) -> None:
        self.run.satisfy(precondition)

    def failures(self) -> list[str]:
        """Budget breaches and failing denials (model pinning) of this episode's guard."""
        return self.guard.failures() if self.guard is not None else []


def _sink_for(tap: Tap) -> LocalHandler:
    def sink(live: LiveRequest) -> Reply | None:
        # Model calls go to the fake model or a cassette, loopback servers answer themselves, and a
        # cassette answers for the origins it recorded.
        if live.kind == "model" or live.is_loopback or live.origin in tap.origins():
            return None
        return SINK_REPLY

    return sink


def _guard_for(
    run: Run,
    policy: Policy | None,
    budget: Budget | None,
    contract: AgentContract | None,
    rules: tuple[Rule, ...] | None,
    registry: ToolRegistry | None,
    inherit: bool,
) -> Guard:
    from pytest_agentops.policy.engine import Guard
    from pytest_agentops.policy.tools import current_guard

    outer: Any = current_guard() if inherit else None
    if hasattr(outer, "get"):  # the test's guard, not built yet (guard.Deferred): the episode needs its policy
        outer = outer.get()
    base: Any = outer if hasattr(outer, "policy") else None
    if base is not None:
        eff_policy = base.policy.merged(policy) if policy is not None else base.policy
        eff_budget = base.budget.merged(budget) if budget is not None else base.budget
        return Guard(
            run,
            policy=eff_policy,
            budget=eff_budget,
            contract=contract or base.contract,
            prices=base.prices,
            no_writes=base.no_writes,
            rules=base.rules if rules is None else rules,
            registry=registry or base.registry,
        )
    return Guard(
        run,
        policy=policy if policy is not None else (contract.policy if contract is not None else None),
        budget=budget if budget is not None else (contract.budgets if contract is not None else None),
        contract=contract,
        rules=rules or (),
        registry=registry,
    )


@contextlib.contextmanager
def episode(
    *,
    policy: Policy | None = None,
    budget: Budget | None = None,
    contract: AgentContract | None = None,
    rules: tuple[Rule, ...] | None = None,
    registry: ToolRegistry | None = None,
    inherit: bool = True,
    sink: bool = True,
    cassette: Any = None,
    test_id: str = "fuzz-episode",
) -> Iterator[Episode]:
    """A fresh world for one example (see the module docstring).

    ``policy``/``budget``/``contract``/``rules``: the episode's guard; with ``inherit`` (default) they
    refine the current test's (its ``@pytest.mark.agent`` contract, ``agent_policy``...); with none of
    them the guard allows everything but still names each call after its tool for the properties.
    ``cassette``: a cassette document (e.g. ``Planted.data``) or a cassette file to replay from,
    instead of the test's cassette (and of a saved failing run) for the episode.
    ``sink=False`` lets unknown requests reach the test's cassette or record mode as usual.

    Recording (``--agent-record``), the final run of a failing example (hypothesis replays the
    shrunk example last) saves what the model and services answered to ``<test>.failing.json``
    beside the test's cassette; while that file exists, every episode replays from it first.
    """
    from pytest_agentops.tap.current import active_tap

    with contextlib.ExitStack() as stack:
        tap = active_tap()
        if tap is None:
            tap = stack.enter_context(_own_tap(test_id))
        run = AgentRun(test_id)  # what ``agent_run`` is: ``ep.run.assert_called(...)`` works as there
        ep_guard = _guard_for(run, policy, budget, contract, rules, registry, inherit)
        requests: list[LiveRequest] = []
        failing = failing_path(tap.cassette.path)
        recording = failing is not None and tap.record != "none"
        keep: tuple[Backend, ...] = ("network", "cassette") if recording else ()  # what the real model said
        gates = [_observer(requests), ep_guard.gate]
        replayed, test_name = _replayed(cassette, failing, tap), tap.run.test_id
        scoped = stack.enter_context(tap.episode(run, gates=gates, cassette=replayed, keep=keep))
        if failing is not None and recording:  # on the way out, an exception (a failing example) included
            stack.callback(_save_if_final, failing, scoped, test_name)
        if sink:
            sink_handler = _sink_for(tap)
            scoped.mount("https:", sink_handler, last=True)
            scoped.mount("http:", sink_handler, last=True)
        stack.enter_context(_attached(ep_guard))
        yield Episode(scoped, run, ep_guard, requests)


def _own_tap(test_id: str) -> contextlib.AbstractContextManager[Tap]:
    """Outside pytest (a script, ``hypothesis.find``): a tap of the episode's own, no cassette file."""
    from pytest_agentops.tap.opener import open_tap
    from pytest_agentops.tap.settings import Settings

    return open_tap(Settings(), Run(test_id), Path("<agentops-fuzz>.json"))


def _observer(requests: list[LiveRequest]) -> Gate:
    """A gate that denies nothing and keeps every request as it left the agent (``ep.requests``)."""

    def observe(live: LiveRequest) -> Reply | None:
        requests.append(live)
        return None

    return observe


def _replayed(value: Any, failing: Path | None, tap: Tap) -> Any:
    """The cassette the episode answers from first: the one given, else a saved failing run (in front
    of the test's cassette), else None (the test's own cassette answers)."""
    if value is not None:
        return _cassette_from(value, tap)
    if failing is not None and tap.record != "all" and failing.is_file():
        from pytest_agentops.cassette.layered import Layered

        return Layered(_saved_run(tap, failing).fresh_view(), tap.cassette)
    return None


@contextlib.contextmanager
def _attached(guard: Guard) -> Iterator[None]:
    """``guard`` is the current guard (``@tool`` functions ask it) and watches its run, for the block."""
    from pytest_agentops.policy.tools import use_guard

    guard.attach()
    try:
        with use_guard(guard):
            yield
    finally:
        guard.detach()


def _save_if_final(path: Path, scoped: TapEpisode, test_id: str) -> None:
    """Hypothesis' final run of a failing example: save what the model and services answered."""
    if scoped.answers and _final_example():
        save_failing_run(path, scoped.answers, test_id=test_id)


def failing_path(cassette_path: Path) -> Path | None:
    """``<test>.failing.json`` beside a test's cassette; None outside pytest (no cassette file)."""
    path = Path(cassette_path)
    if path.name.startswith("<") or path.suffix != ".json":
        return None
    return path.with_name(path.stem + ".failing.json")


# Per tap (one test), each failing run's cassette as read from disk.
_SAVED_RUNS: weakref.WeakKeyDictionary[Any, dict[Path, Any]] = weakref.WeakKeyDictionary()


def _saved_run(tap: Tap, path: Path) -> Any:
    """The failing run's cassette, read once per test (each episode gets a fresh view)."""
    from pytest_agentops.cassette.format import Cassette

    cache = _SAVED_RUNS.setdefault(tap, {})
    if path not in cache:
        cache[path] = Cassette.load(path, tap.cassette.config)
    return cache[path]


def _final_example() -> bool:
    """Whether this is hypothesis' last run of a failing example (the one it reports)."""
    try:
        from hypothesis.control import current_build_context, currently_in_test_context
    except ImportError:  # pragma: no cover - hypothesis is a dependency
        return False
    return currently_in_test_context() and bool(current_build_context().is_final)


def save_failing_run(path: Path, interactions: list[Any], *, test_id: str) -> None:
    """Write the failing example's answers as a cassette (atomically) and say so in the report."""
    from hypothesis import note

    from pytest_agentops.cassette.format import FORMAT_VERSION, build_meta, dump, write_atomic

    meta = build_meta(interactions)
    meta["fuzz"] = {"test": test_id, "what": "the final run of hypothesis' shrunk failing example"}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, dump({"version": FORMAT_VERSION, "meta": meta, "interactions": interactions}))
    note(
        f"pytest-agentops: this example's model and service answers ({len(interactions)}) were saved to "
        f"{path}; while it exists the test replays them first, offline (commit it with the example "
        "database; delete it to record afresh)."
    )


def _cassette_from(value: Any, tap: Tap) -> Any:
    from pytest_agentops.cassette.format import Cassette

    if isinstance(value, Cassette):
        return value
    if isinstance(value, str | Path):
        path = Path(value)
        if not path.is_file():
            raise FileNotFoundError(f"episode(cassette={str(value)!r}): no such cassette file")
        return Cassette.load(path, tap.cassette.config)
    doc: Mapping[str, Any] = value if isinstance(value, Mapping) else {"interactions": list(value)}
    cassette = Cassette(Path("<planted cassette>"), tap.cassette.config)
    cassette.meta = dict(doc.get("meta") or {})
    cassette.extend(doc.get("interactions") or [])
    cassette.existed = True
    return cassette


def run_episode(agent: Callable[[Episode], Any], **options: Any) -> tuple[Episode, Any]:
    """``agent(ep)`` inside a fresh episode; returns the episode (for properties) and the agent's result."""
    with episode(**options) as ep:
        result = agent(ep)
    return ep, result
