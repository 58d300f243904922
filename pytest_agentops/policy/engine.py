"""The policy engine: deterministic rules outside the model, run before any backend.

One ``Guard`` per test holds the test's policy, budget and price table, compiled once. It is
installed as a tap gate (so a denied HTTP call never reaches a simulator, cassette or network) and
as the current guard of ``@tool`` functions. It also names each traced request after the tool it
calls, records its kind and arguments, and links it to the model tool call that asked for it.

Rules, in the order they are asked (the first denial wins):

==========================  ========================================================================
rule                        denies
==========================  ========================================================================
``no_writes``               any write while the kill switch is on (``--agent-no-writes``)
``budget.<key>``            a call past the budget (see ``budget.exhausted``); fails the test
``model_pinning``           a model call whose ``model`` is not pinned by the contract; fails the test
``allowlist``               a tool (registered or not) that the allowlist does not name
``denylist``                a tool on the deny list
``read_only``               any write when the policy is read-only
``risk``                    a tool riskier than ``max_risk``
``arguments``               arguments the tool's schema rejects (status 422, the fields at fault)
``tenant``                  a write carrying a tenant other than the policy's
``preconditions``           a write before every ``writes_require`` name is satisfied, or any call of
                            a tool before its own ``preconditions`` are
(plugin rules)              whatever an ``agentops_policy_rules`` hook returns
==========================  ========================================================================

Model API calls are never tools: only budgets, model pinning and plugin rules apply to them.
An unregistered non-model HTTP request is a tool call without a name; its kind comes from the
method (GET/HEAD/OPTIONS read, anything else write), so the kill switch and write preconditions
cover it, and an allowlist denies it.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pytest_agentops.policy import budget as _budget
from pytest_agentops.policy.patterns import known_tools, pattern_problem
from pytest_agentops.policy.tools import (
    Denial,
    Kind,
    Risk,
    ToolRegistry,
    ToolSpec,
    arguments_denial,
    http_payload,
    normalise_name,
)
from pytest_agentops.policy.tools import registry as default_registry
from pytest_agentops.trace.prices import DEFAULT as DEFAULT_PRICES
from pytest_agentops.trace.replies import no_retry
from pytest_agentops.trace.run import Verdict

if TYPE_CHECKING:
    from pytest_agentops.policy.budget import Budget
    from pytest_agentops.policy.contracts import AgentContract
    from pytest_agentops.tap.routing import LiveRequest, Reply
    from pytest_agentops.trace.prices import PriceTable
    from pytest_agentops.trace.run import Run

RISK_ORDER = {"low": 0, "medium": 1, "high": 2, "critical": 3}
FAILING_RULES = frozenset({"model_pinning"})  # rules whose Denial says fail_test=True (see Verdict.fails_test)


class Policy(BaseModel):
    """What a test's agent may do. ``allow=None`` means no allowlist (every tool allowed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow: list[str] | None = None  # tool names or shell-style patterns ("crm.*.retrieve")
    deny: list[str] = Field(default_factory=list)
    writes_require: list[str] = Field(default_factory=list)  # preconditions every write needs
    read_only: bool = False
    tenant: str | None = None  # writes carrying another tenant are denied
    tenant_header: str = "x-tenant-id"  # where an HTTP write carries its tenant
    tenant_argument: str = "tenant"  # where a tool call's arguments carry it
    max_risk: Risk | None = None
    models: list[str] | None = None  # pinned model ids (the contract's model_routing values)
    # Tool name or pattern -> "read"/"write": beats what a tool says of itself (an MCP tool's
    # readOnlyHint). The first matching key wins; an exact name before patterns.
    access: dict[str, Kind] = Field(default_factory=dict)

    def merged(self, override: Policy) -> Policy:
        """This policy with every field ``override`` sets explicitly replacing ours."""
        return self.model_copy(update={key: getattr(override, key) for key in override.model_fields_set})


@dataclass(slots=True)
class Call:
    """A call as the rules see it: a tool call (HTTP or Python) or a model call."""

    kind: Literal["tool", "model"]
    name: str | None  # the tool's name; None for an unregistered request
    spec: ToolSpec | None
    access: Kind | None  # read/write for tool calls, None for model calls
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    arguments: Any = None
    payload: Any = None  # what the schema validates (HTTP: body or query)
    model: str | None = None
    source: str = "http"
    # A framework tool the allowlist does not govern (it names service tools only: the calls the
    # tool's body makes meet it instead); see pytest_agentops.tap.frameworks.gate.
    wrapper: bool = False

    @property
    def label(self) -> str:
        return self.name or f"{self.method} {self.url.split('?', 1)[0]}"


# A plugin rule: (call, run) -> Denial, or None to allow. It must not do I/O.
Rule = Callable[[Call, "Run"], "Denial | None"]


def _typos(patterns: Sequence[str] | None) -> str:
    """The allowlist patterns that match no known tool, named in the denial (a typo denies silently)."""
    known = known_tools()
    problems = [found for found in (pattern_problem(p, known) for p in patterns or []) if found]
    return "".join(f"; {problem}" for problem in problems)


def _compile_patterns(patterns: Sequence[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def _pinned(models: Sequence[str]) -> re.Pattern[str]:
    """A model id or its dated snapshot (``gpt-4o`` pins ``gpt-4o-2024-08-06``), nothing else."""
    alts = "|".join(re.escape(m) for m in models)
    return re.compile(rf"(?:{alts})(?:-\d{{4}}-\d{{2}}-\d{{2}}|-\d{{8}})?\Z")


class Guard:
    """The policy, budget and prices of one test, compiled once, and the gate that applies them."""

    def __init__(
        self,
        run: Run,
        *,
        policy: Policy | None = None,
        budget: Budget | None = None,
        contract: AgentContract | None = None,
        prices: PriceTable | None = None,
        no_writes: bool = False,
        rules: Sequence[Rule] = (),
        registry: ToolRegistry | None = None,
    ) -> None:
        self.run = run
        self.contract = contract
        self.policy = policy or Policy()
        self.budget = budget or _budget.Budget()
        self.prices = prices or DEFAULT_PRICES
        self.no_writes = no_writes
        self.rules = tuple(rules)
        self.registry = registry or default_registry
        self.ended_at: float | None = None
        p = self.policy
        self._allow = _compile_patterns(p.allow) if p.allow is not None else None
        self._deny = _compile_patterns(p.deny)
        self._models = _pinned(p.models) if p.models else None
        self._max_risk = RISK_ORDER[p.max_risk] if p.max_risk else None
        self._tenant_header = p.tenant_header.lower()
        self._lock = threading.Lock()
        self._tally: _budget.Tally | None = None  # running totals for the budget check before each call
        # Model tool-call requests by normalised name, in order: (model event seq, index, ref).
        self._requests: dict[str, deque[tuple[int, int, tuple[int, str | None]]]] = {}
        self._requests_seen = 0
        self._linked: set[tuple[int, str | None]] = set()

    # ---- wiring -------------------------------------------------------------------------------

    def attach(self) -> None:
        self.run.guard = self

    def detach(self) -> None:
        if self.ended_at is None:
            self.ended_at = time.time()

    # ---- the rules ----------------------------------------------------------------------------

    def check(self, call: Call) -> Denial | None:
        """The first rule that denies ``call``, or None (in the order of the module's table)."""
        denied = self._model_rules(call) if call.kind == "model" else self._tool_rules(call)
        return denied if denied is not None else self._plugin_rules(call)

    def _model_rules(self, call: Call) -> Denial | None:
        """Budgets, then model pinning: the only built-in rules a model call meets."""
        denied = self._budget_rule(call)
        if denied is not None:
            return denied
        if self._models is None or (call.model and self._models.match(call.model)):
            return None
        p = self.policy
        routed = self.contract is not None and list(p.models or []) == self.contract.models
        # Name where the pin comes from: the contract's model_routing, or models= of a policy.
        owner = f"contract {self.contract.name!r}" if routed and self.contract else "the policy"
        source = "model_routing" if routed else "models="
        shown = repr(call.model) if call.model else "a model call naming no model"
        return Denial(
            "model_pinning",
            f"{shown} is not pinned by {owner} ({source} allows: {', '.join(p.models or [])}); no silent model change",
            fail_test=True,
        )

    def _tool_rules(self, call: Call) -> Denial | None:
        """The rules from ``no_writes`` to ``preconditions``, in order, for a tool call."""
        p = self.policy
        write = call.access == "write"
        if write and self.no_writes:
            return Denial("no_writes", f"{call.label}: writes are switched off (--agent-no-writes)")
        denied = self._budget_rule(call)
        if denied is not None:
            return denied
        name = call.name
        if self._allow is not None and not call.wrapper and (name is None or not self._allow.match(name)):
            what = f"tool {name!r} is" if name else f"{call.label} is not a registered tool, so it is"
            return Denial(
                "allowlist", f"{what} not on the allowlist ({', '.join(p.allow or []) or 'empty'}){_typos(p.allow)}"
            )
        if self._deny is not None and name is not None and self._deny.match(name):
            return Denial("denylist", f"tool {name!r} is on the deny list ({', '.join(p.deny)})")
        if write and p.read_only:
            return Denial("read_only", f"{call.label}: this test's policy is read-only")
        spec = call.spec
        if self._max_risk is not None and spec is not None and RISK_ORDER[spec.risk] > self._max_risk:
            return Denial("risk", f"tool {name!r} has risk {spec.risk}; the policy allows up to {p.max_risk}")
        # An MCP call's arguments are checked against the tool's own inputSchema (pytest_agentops.mcp.gate).
        if spec is not None and spec.schema is not None and call.source not in ("python", "mcp"):
            try:
                spec.schema.model_validate(call.payload if call.payload is not None else {})
            except ValidationError as exc:
                return arguments_denial(spec.name, exc)
        if write and p.tenant is not None:
            tenant = self._tenant_of(call)
            if tenant is not None and tenant != p.tenant:
                return Denial(
                    "tenant", f"{call.label}: writes are scoped to tenant {p.tenant!r}; this one is for {tenant!r}"
                )
        return self._preconditions_rule(call, write)

    def _preconditions_rule(self, call: Call, write: bool) -> Denial | None:
        """A write needs every ``writes_require`` name, and any call its own tool's ``preconditions``."""
        required = list(self.policy.writes_require) if write else []
        if call.spec is not None:
            required += [r for r in call.spec.preconditions if r not in required]
        missing = [r for r in required if not self.satisfied(r)]
        if not missing:
            return None
        return Denial(
            "preconditions",
            f"{call.label}: {'write ' if write else ''}needs {', '.join(missing)} first "
            f"(call agent_run.satisfy({missing[0]!r}) or run a tool named {missing[0]!r})",
        )

    def _budget_rule(self, call: Call) -> Denial | None:
        if not self.budget.limited:
            return None
        key = None
        if call.kind == "tool" and self.budget.max_repeated_calls is not None:
            key = _budget.key_of(call.name, call.method, call.url, call.arguments)
        if self._tally is None:
            self._tally = _budget.Tally(self.prices, repeats=self.budget.max_repeated_calls is not None)
        found = _budget.exhausted(
            self.run, self.budget, model=call.kind == "model", key=key, prices=self.prices, tally=self._tally
        )
        if found is None:
            return None
        rule, message = found
        return Denial(rule, message, fail_test=True)

    def _plugin_rules(self, call: Call) -> Denial | None:
        for rule in self.rules:
            denial = rule(call, self.run)
            if denial is not None:
                return denial
        return None

    def _tenant_of(self, call: Call) -> str | None:
        spec = call.spec
        if spec is not None and spec.tenant is not None:
            return spec.tenant(call.headers, call.arguments)
        value = call.headers.get(self._tenant_header)
        if value:
            return value
        if isinstance(call.arguments, Mapping):
            found = call.arguments.get(self.policy.tenant_argument)
            return None if found is None else str(found)
        return None

    def satisfied(self, precondition: str) -> bool:
        """Met by ``agent_run.satisfy(name)``, or by a tool named ``name`` that succeeded in this run."""
        if precondition in self.run.satisfied:
            return True
        return any(
            e.tool == precondition and e.backend not in ("policy", "miss") and (e.status or 0) < 400
            for e in self.run.events
        )

    # ---- HTTP: the tap gate -------------------------------------------------------------------

    def gate(self, live: LiveRequest) -> Reply | None:
        """Deny (a 403/422 JSON reply the backend never sees) or allow (None) an intercepted request.

        Either way the verdict travels on ``live.verdict`` to the one place that writes its event.
        """
        verdict, denial = self.judge(live)
        live.verdict = verdict
        if denial is None:
            return None
        if live.mcp is not None:  # MCP's own form: the client hands the model a tool error
            from pytest_agentops.mcp.gate import denial_reply

            return denial_reply(live.mcp, denial, verdict.tool)
        return self.reply(denial, verdict.tool)

    def judge(self, live: LiveRequest) -> tuple[Verdict, Denial | None]:
        """The verdict on ``live`` (and the denial behind it, to build the reply). Writes nothing."""
        if live.kind == "model":
            # The body is parsed for its model only when a rule reads it: a model pin or a plugin rule.
            # Otherwise a replayed request is never parsed (its cassette hit carries the parsed body).
            model = self._model_of(live) if self._models is not None or self.rules else None
            call = Call("model", None, None, None, live.method, live.url, live.headers, model=model)
            denial = self.check(call)
            return _verdict(None, None, None, denial), denial
        from pytest_agentops.mcp import gate as mcp

        message = mcp.message_of(live)
        if message is not None:
            return mcp.judge(self, live, message)
        call = self._tool_call(live)
        denial = self.check(call)
        link = self.link(call.name) if call.name is not None else None
        return _verdict(call.name, call.access, call.arguments, denial, link), denial

    def _tool_call(self, live: LiveRequest) -> Call:
        """``live`` as the rules see a tool call: its registered tool, access and decoded arguments."""
        resolved = self.registry.resolve(live.method, live.url)
        spec, params = resolved if resolved is not None else (None, {})
        decode = spec.decode if spec is not None and spec.decode is not None else http_payload
        try:
            payload = decode(live.method, live.url, live.headers, live.body)
        except Exception:  # an undecodable body is the schema's problem, not a crash of the tap
            payload = None
        if params:
            arguments: Any = {**params, **payload} if isinstance(payload, Mapping) else {**params, "body": payload}
        else:
            arguments = payload
        access: Kind = (
            spec.kind if spec is not None else ("read" if live.method in ("GET", "HEAD", "OPTIONS") else "write")
        )
        name = spec.name if spec is not None else None
        return Call("tool", name, spec, access, live.method, live.url, live.headers, arguments, payload)

    @staticmethod
    def reply(denial: Denial, tool: str | None) -> Reply:
        headers, body = no_retry(denial.error_json(tool), ("x-agentops-denied", denial.rule))
        return denial.status, headers, body

    @staticmethod
    def _model_of(live: LiveRequest) -> str | None:
        data = live.json_object()  # parsed once per request, shared with the tap's model-call parser
        model = data.get("model") if data is not None else None
        return model if isinstance(model, str) else None

    def link(self, tool: str) -> tuple[int, str | None] | None:
        """The earliest model tool call named ``tool`` (or an alias) not yet linked to an execution.

        Asked when the call is judged, so its event is written with the link. The model's requests
        are indexed by name as the events go by (``_requests``), so linking costs the same at the
        1,000th tool call as at the first.
        """
        spec = self.registry.get(tool)
        names = {normalise_name(tool)}
        if spec is not None:
            names.update(normalise_name(a) for a in spec.aliases)
        with self._lock:
            events = self.run.events
            upto = len(events)  # every model call recorded before this one was judged
            if upto < self._requests_seen:  # a list that shrank (never done by the library)
                self._requests, self._requests_seen, self._linked = {}, 0, set()
            for source in events[self._requests_seen : upto]:
                if source.requested_by is not None:
                    self._linked.add(source.requested_by)
                call = source.model_call
                if call is None or not call.tool_calls:
                    continue
                for index, requested in enumerate(call.tool_calls):
                    ref = (source.seq, requested.id if requested.id is not None else f"#{index}")
                    self._requests.setdefault(normalise_name(requested.name), deque()).append((source.seq, index, ref))
            self._requests_seen = max(self._requests_seen, upto)
            best: tuple[int, int, tuple[int, str | None]] | None = None
            for name in names:
                queue = self._requests.get(name)
                while queue and queue[0][2] in self._linked:
                    queue.popleft()
                if queue and queue[0][0] < upto and (best is None or queue[0][:2] < best[:2]):
                    best = queue[0]
            if best is None:
                return None
            self._linked.add(best[2])
            return best[2]

    # ---- Python tools (``@tool``) -------------------------------------------------------------

    def check_python(self, spec: ToolSpec, arguments: dict[str, Any]) -> Denial | None:
        call = Call(
            "tool", spec.name, spec, spec.kind, "CALL", _python_url(spec), {}, arguments, arguments, source="python"
        )
        return self.check(call)

    def record_python(
        self,
        spec: ToolSpec,
        arguments: Any,
        *,
        started_at: float,
        duration_s: float,
        status: int,
        error: str | None = None,
        denial: Denial | None = None,
        result: Any = None,
    ) -> None:
        self.run.record(
            _verdict(spec.name, spec.kind, arguments, denial, self.link(spec.name)),
            kind="tool",
            method="CALL",
            url=_python_url(spec),
            backend="policy" if denial is not None else "python",
            status=status,
            started_at=started_at,
            duration_s=duration_s,
            error=error,
            # What the tool returned, for trace files (the writer redacts it like any tool I/O).
            response_body=_plain(result) if self.run.capture_io and result is not None else None,
        )

    # ---- what fails the test --------------------------------------------------------------------

    def failures(self) -> list[str]:
        """Budget breaches and failing denials (model pinning, budgets), one line each."""
        # No limit, no breach: most tests set none, and the status walks the whole trace.
        breaches = _budget.status(self.run, self.budget, self.prices).breaches if self.budget.limited else ()
        lines = [f"budget exceeded: {b.message}" for b in breaches]
        shown = {f"budget.{b.key}" for b in breaches}
        seen: set[tuple[str, str | None]] = set()
        for event in self.run.events:
            rule = event.rule
            if rule is None or not event.fails_test or rule in shown or (rule, event.error) in seen:
                continue
            seen.add((rule, event.error))
            what = "model call" if event.kind == "model" else f"call of {event.tool or event.url}"
            prefix = "budget exceeded" if rule.startswith("budget.") else "policy"
            lines.append(f"{prefix}: {rule} denied the {what} (seq {event.seq}): {event.error}")
        return lines


def _verdict(
    tool: str | None,
    access: Kind | None,
    arguments: Any,
    denial: Denial | None,
    requested_by: tuple[int, str | None] | None = None,
) -> Verdict:
    if denial is None:
        return Verdict(tool, access, arguments, requested_by=requested_by)
    return Verdict(tool, access, arguments, denial.rule, denial.message, denial.fail_test, requested_by)


def _plain(value: Any) -> Any:
    """A tool's return value as JSON data: pydantic models and dataclasses as their fields."""
    import dataclasses

    try:
        if hasattr(value, "model_dump"):
            value = value.model_dump(mode="json")
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        return json.loads(json.dumps(value, default=repr, ensure_ascii=False))
    except Exception:  # a trace must never break the test it describes
        return repr(value)


def _python_url(spec: ToolSpec) -> str:
    func = spec.func
    if func is None:
        return f"python:{spec.name}"
    return f"python:{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', spec.name)}"
