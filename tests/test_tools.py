"""The tool registry, ``@tool`` validation and ``register_tool`` matching (in-process, no inner session)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from pytest_agentops import Budget, Policy, ToolArgumentsInvalid, ToolDenied, ToolSpec, register_tool, tool
from pytest_agentops.policy.engine import Guard
from pytest_agentops.policy.tools import ToolRegistry, http_payload, registry, use_guard
from pytest_agentops.readers.assertions import AgentRun
from pytest_agentops.tap import LiveRequest
from pytest_agentops.trace.run import ModelCall, Run, ToolCallRequest


@pytest.fixture(autouse=True)
def _isolated_registry() -> Iterator[None]:
    with registry.isolated():
        yield


@pytest.fixture
def run() -> AgentRun:
    return AgentRun("test")  # what agent_run is: the run plus .budget and the assertions


def guarded(run: Run, **kwargs: Any) -> Guard:
    guard = Guard(run, **kwargs)
    guard.attach()
    return guard


# ---- @tool ----------------------------------------------------------------------------------------


def test_tool_validates_arguments_before_the_call() -> None:
    calls: list[tuple[str, int]] = []

    @tool(kind="read", risk="low", owner="support")
    def kb_search(query: str, limit: int = 5) -> list[str]:
        calls.append((query, limit))
        return [query] * limit

    assert kb_search("refund", limit="2") == ["refund", "refund"]  # type: ignore[arg-type]  # coerced
    with pytest.raises(ToolArgumentsInvalid) as info:
        kb_search("refund", limit="many")  # type: ignore[arg-type]
    assert info.value.rule == "arguments"
    assert info.value.fields[0][0] == "limit"
    assert "limit" in str(info.value)
    with pytest.raises(ToolArgumentsInvalid) as missing:
        kb_search()  # type: ignore[call-arg]
    assert "query" in str(missing.value)
    assert calls == [("refund", 2)]  # the invalid calls never ran
    spec = registry.get("kb_search")
    assert spec is not None and spec.kind == "read" and spec.owner == "support" and spec.source == "python"
    assert spec.schema is not None and set(spec.schema.model_fields) == {"query", "limit"}


def test_tool_rejects_bad_declarations() -> None:
    with pytest.raises(ValueError, match="kind must be one of read, write"):

        @tool(kind="delete")  # type: ignore[arg-type]
        def nope() -> None: ...

    with pytest.raises(ValueError, match="risk must be one of"):
        ToolSpec(name="x", kind="read", risk="extreme")  # type: ignore[arg-type]


def test_tool_pydantic_argument_and_name_override(agent_run: Run) -> None:
    class Refund(BaseModel):
        charge: str
        amount: int

    @tool(kind="write", risk="high", name="billing.refunds.create", preconditions=["validate_step"])
    def refund(request: Refund, *, reason: str = "requested") -> str:
        return f"{request.charge}:{request.amount}:{reason}"

    # The plugin's own guard is active in this test: the write needs its precondition first.
    with pytest.raises(ToolDenied, match="needs validate_step first"):
        refund({"charge": "ch_1", "amount": 5})  # type: ignore[arg-type]
    agent_run.satisfy("validate_step")
    assert refund({"charge": "ch_1", "amount": 5}) == "ch_1:5:requested"  # type: ignore[arg-type]
    with pytest.raises(ToolArgumentsInvalid) as info:
        refund({"charge": "ch_1", "amount": "lots"})  # type: ignore[arg-type]
    assert info.value.fields[0][0] == "request.amount"
    assert "billing.refunds.create" in registry
    assert [(e.tool, e.backend, e.rule) for e in agent_run.events] == [
        ("billing.refunds.create", "policy", "preconditions"),
        ("billing.refunds.create", "python", None),
        ("billing.refunds.create", "policy", "arguments"),
    ]
    assert agent_run.events[1].arguments == {"request": {"charge": "ch_1", "amount": 5}}


def test_tool_calls_are_events_and_policy_denies_them(run: Run) -> None:
    @tool(kind="read")
    def lookup(customer_id: str) -> dict[str, str]:
        return {"id": customer_id}

    @tool(kind="write", risk="critical")
    def delete_customer(customer_id: str) -> None:
        raise AssertionError("a denied tool must not run")

    guard = guarded(run, policy=Policy(allow=["lookup"]))
    with use_guard(guard):
        assert lookup("c1") == {"id": "c1"}
        with pytest.raises(ToolDenied) as info:
            delete_customer("c1")
        with pytest.raises(ToolArgumentsInvalid):
            lookup(customer_id=["not", "a", "string"])  # type: ignore[arg-type]
    assert info.value.rule == "allowlist"
    ok, denied, invalid = run.events
    assert (ok.tool, ok.backend, ok.status, ok.access, ok.arguments) == (
        "lookup",
        "python",
        200,
        "read",
        {"customer_id": "c1"},
    )
    assert (denied.backend, denied.status, denied.rule, denied.access) == ("policy", 403, "allowlist", "write")
    assert (invalid.backend, invalid.status, invalid.rule) == ("policy", 422, "arguments")
    assert run.denials == [denied, invalid]
    assert run.writes == []


def test_tool_exception_is_recorded_and_reraised(run: Run) -> None:
    @tool(kind="read")
    def flaky() -> None:
        raise RuntimeError("boom")

    with use_guard(guarded(run)), pytest.raises(RuntimeError):
        flaky()
    assert run.events[0].status == 500
    assert run.events[0].error == "RuntimeError: boom"


def test_async_tool(run: Run) -> None:
    @tool(kind="write")
    async def update(ticket_id: int, status: str) -> str:
        await asyncio.sleep(0)
        return f"{ticket_id}:{status}"

    guard = guarded(run, policy=Policy(writes_require=["validate_step"]))

    async def main() -> None:
        with use_guard(guard):
            with pytest.raises(ToolDenied) as info:
                await update(1, "solved")
            assert info.value.rule == "preconditions"
            run.satisfy("validate_step")
            assert await update("2", "solved") == "2:solved"  # type: ignore[arg-type]

    asyncio.run(main())
    assert [e.backend for e in run.events] == ["policy", "python"]
    assert run.events[1].arguments == {"ticket_id": 2, "status": "solved"}
    assert len(run.writes) == 1


def test_tool_without_an_active_test_just_validates() -> None:
    @tool(kind="read")
    def double(x: int) -> int:
        return 2 * x

    assert double(2) == 4
    with pytest.raises(ToolArgumentsInvalid):
        double("x")  # type: ignore[arg-type]


def test_method_tools_skip_self(run: Run) -> None:
    class Kb:
        @tool(kind="read", name="kb.search")
        def search(self, query: str) -> str:
            return query.upper()

    with use_guard(guarded(run)):
        assert Kb().search("a") == "A"
    assert run.events[0].arguments == {"query": "a"}


# ---- register_tool and matching -------------------------------------------------------------------


def test_register_tool_patterns_and_specificity() -> None:
    reg = ToolRegistry()
    reg.add(ToolSpec("kb.any", kind="read", url="https://kb.example.com/*"))
    reg.add(ToolSpec("kb.search", kind="read", method="GET", url="https://kb.example.com/search*"))
    reg.add(
        ToolSpec("tickets.update", kind="write", method="PUT", url="https://t.example.com/api/v2/tickets/{id}.json")
    )
    reg.add(ToolSpec("tickets.any_host", kind="read", method="GET", url="/api/v2/tickets/{id}.json"))

    def name(method: str, url: str) -> str | None:
        found = reg.resolve(method, url)
        return found[0].name if found else None

    assert name("GET", "https://kb.example.com/search?q=refund") == "kb.search"
    assert name("GET", "https://KB.example.com/search") == "kb.search"  # host case-insensitive
    assert name("POST", "https://kb.example.com/search") == "kb.any"  # method filters
    assert name("GET", "https://kb.example.com/articles/1") == "kb.any"
    assert name("GET", "https://other.example.com/search") is None
    found = reg.resolve("PUT", "https://t.example.com/api/v2/tickets/42.json?x=1")
    assert found is not None and found[0].name == "tickets.update" and found[1] == {"id": "42"}
    assert name("PUT", "https://t.example.com/api/v2/tickets/42/comments.json") is None  # {id} is one segment
    assert name("GET", "http://127.0.0.1:8080/api/v2/tickets/7.json") == "tickets.any_host"


def test_register_tool_kind_defaults_from_method() -> None:
    assert register_tool("a", method="GET", url="https://a.test/x").kind == "read"
    assert register_tool("b", method="POST", url="https://a.test/y").kind == "write"
    assert register_tool("c", url="https://a.test/z").kind == "write"  # any method: assume it writes
    with pytest.raises(ValueError, match=r"register_tool\('d'\): give url= .* or matcher= .*mcp.<server>.<tool>"):
        register_tool("d")


def test_an_mcp_tool_needs_neither_url_nor_matcher() -> None:
    """The MCP gate finds it by name: registering gives it preconditions, a risk, or a kind."""
    plain = register_tool("mcp.weather.get_weather", preconditions=["city_known"])
    assert (plain.source, plain.url, plain.matcher, plain.preconditions) == ("mcp", None, None, ("city_known",))
    assert plain.kind_given is False  # the server's readOnlyHint still decides (see test_mcp_gate)
    assert registry.resolve("POST", "http://127.0.0.1:8000/mcp") is None  # never an HTTP tool
    kinded = register_tool("mcp.weather.delete_account", kind="write", risk="high")
    assert (kinded.source, kinded.kind, kinded.kind_given) == ("mcp", "write", True)
    with pytest.raises(ValueError, match="url="):
        register_tool("mcpweather.reset")  # only the mcp. prefix


def test_registry_replaces_and_reindexes() -> None:
    register_tool("kb", method="GET", url="https://kb.test/v1/*")
    assert registry.resolve("GET", "https://kb.test/v1/a") is not None
    register_tool("kb", method="GET", url="https://kb.test/v2/*")
    assert registry.resolve("GET", "https://kb.test/v1/a") is None
    assert registry.resolve("GET", "https://kb.test/v2/a") is not None
    registry.remove("kb")
    assert registry.resolve("GET", "https://kb.test/v2/a") is None


def test_simulator_style_spec_with_a_matcher() -> None:
    def match(method: str, url: str) -> dict[str, str] | None:
        return {"contactId": url.rsplit("/", 1)[1]} if "/crm/v3/objects/contacts/" in url else None

    registry.add(ToolSpec("crm.contacts.retrieve", kind="read", method="GET", matcher=match, source="simulator"))
    found = registry.resolve("GET", "http://crm.agentops.test/crm/v3/objects/contacts/101")
    assert found is not None and found[1] == {"contactId": "101"}


def test_http_payload() -> None:
    assert http_payload("GET", "https://x/s?q=a&q=b&n=1", {}, b"") == {"q": ["a", "b"], "n": "1"}
    assert http_payload("POST", "https://x/s", {"content-type": "application/json"}, b'{"a": 1}') == {"a": 1}
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert http_payload("POST", "https://x/s", form, b"amount=5&currency=usd") == {"amount": "5", "currency": "usd"}
    assert http_payload("POST", "https://x/s", {"content-type": "text/plain"}, b"hi") is None


# ---- the gate, driven directly ----------------------------------------------------------------------


def live(method: str, url: str, body: bytes = b"", **headers: str) -> LiveRequest:
    return LiveRequest(method=method, url=url, headers={"content-type": "application/json", **headers}, body=body)


def tap_event(run: Run, request: LiveRequest, status: int, backend: str = "simulator", **fields: Any) -> None:
    """What the tap records after routing a request (with the verdict the gate left on it)."""
    run.record(
        request.verdict,
        kind=request.kind,
        method=request.method,
        url=request.url,
        backend=backend,
        status=status,
        started_at=request.started_at,
        **fields,
    )


def test_gate_names_http_tools_and_validates_their_schema(run: Run) -> None:
    class Search(BaseModel):
        q: str
        limit: int = 10

    register_tool("kb_search", method="GET", url="https://kb.example.com/search*", schema=Search)
    guard = guarded(run)
    ok = live("GET", "https://kb.example.com/search?q=refund&limit=3")
    assert guard.gate(ok) is None
    tap_event(run, ok, 200)
    bad = live("GET", "https://kb.example.com/search?limit=lots")
    status, headers, body = guard.gate(bad) or (0, {}, b"")
    assert status == 422 and headers["x-should-retry"] == "false"
    assert b'"rule": "arguments"' in body and b'"loc": "q"' in body and b'"loc": "limit"' in body
    tap_event(run, bad, status, backend="policy")
    assert run.events[0].tool == "kb_search" and run.events[0].arguments == {"q": "refund", "limit": "3"}
    assert run.events[1].rule == "arguments" and "q: Field required" in (run.events[1].error or "")


def test_model_tool_calls_link_to_the_executions_that_follow(run: Run) -> None:
    @tool(kind="read", aliases=["lookup_weather"])
    def get_weather(city: str) -> str:
        return "sunny"

    guard = guarded(run)
    call = ModelCall(
        "openai.chat",
        "gpt-4o",
        tool_calls=[
            ToolCallRequest("call_1", "get_weather", {"city": "Paris"}),
            ToolCallRequest("call_2", "lookup_weather", {"city": "Oslo"}),
        ],
    )
    run.record(
        kind="model",
        method="POST",
        url="https://api.openai.com/v1/chat/completions",
        backend="cassette",
        model_call=call,
    )
    with use_guard(guard):
        get_weather("Paris")
        get_weather("Oslo")
        get_weather("Rome")  # nobody asked for this one
    assert [e.requested_by for e in run.events[1:]] == [(0, "call_1"), (0, "call_2"), None]


def test_alias_links_a_frameworks_function_name_to_an_http_tool(run: Run) -> None:
    """A LangGraph tool ``add_note`` that POSTs to the CRM: the trace links it once it is aliased."""
    register_tool("crm.notes.create", method="POST", url="https://crm.example.com/notes")
    guard = guarded(run)

    def model_asks_then_tool_runs() -> None:
        call = ModelCall("openai.chat", "gpt-4o", tool_calls=[ToolCallRequest(f"c{len(run.events)}", "add_note", {})])
        url = "https://api.openai.com/v1/chat/completions"
        run.record(kind="model", method="POST", url=url, backend="cassette", model_call=call)
        request = live("POST", "https://crm.example.com/notes", b'{"body": "hi"}')
        assert guard.gate(request) is None
        tap_event(run, request, 201)

    model_asks_then_tool_runs()
    assert run.events[1].tool == "crm.notes.create" and run.events[1].requested_by is None
    with pytest.raises(KeyError, match=r"alias\('crm.notes.make'\): no tool of that name"):
        registry.alias("crm.notes.make", "add_note")
    spec = registry.alias("crm.notes.create", "add_note")
    assert spec.aliases == ("add_note",) and registry.get("crm.notes.create") is spec
    model_asks_then_tool_runs()
    assert run.events[3].requested_by == (0, "c0")  # the earliest request not yet linked to an execution


def test_guard_budget_denies_past_the_limit(run: AgentRun) -> None:
    @tool(kind="read")
    def ping() -> str:
        return "pong"

    guard = guarded(run, budget=Budget(max_tool_calls=2))
    with use_guard(guard):
        ping()
        assert run.budget.remaining.tool_calls == 1
        ping()
        assert run.budget.remaining.tool_calls == 0
        with pytest.raises(ToolDenied) as info:
            ping()
    assert info.value.rule == "budget.max_tool_calls"
    assert run.budget.exceeded
    assert any("max_tool_calls=2" in line for line in guard.failures())


def test_tool_exposes_its_spec_and_arguments_schema() -> None:
    @tool(kind="read")
    def kb_search(q: str, limit: int = 3) -> list[str]:
        """Search the help centre."""
        return [q] * limit

    schema = kb_search.spec.json_schema()  # typed: Tool[P, R].spec, no ignore needed
    assert schema["required"] == ["q"] and set(schema["properties"]) == {"q", "limit"}
    assert kb_search.spec.description == "Search the help centre." and kb_search("x", limit=1) == ["x"]
    assert ToolSpec("t", kind="read").json_schema() == {}


def test_linking_tool_calls_to_model_requests_matches_the_definition() -> None:
    """Each execution is linked to the earliest earlier model request of its name not yet linked
    (the guard indexes requests as they come; checked against that definition on random traces)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from pytest_agentops.policy.engine import normalise_name
    from pytest_agentops.trace.run import ModelCall, Run, ToolCallRequest

    names = st.sampled_from(["kb_search", "kb.search", "lookup", "find_docs", "crm_get", "refund"])
    aliases = {"kb_search": {"lookup", "find_docs"}}  # kb_search answers to its aliases too
    step = st.one_of(
        st.tuples(st.just("model"), st.lists(st.tuples(names, st.booleans()), max_size=3)),
        st.tuples(st.just("tool"), names),
    )

    def reference(events: list[Any]) -> list[Any]:
        linked: list[Any] = []
        taken: set[Any] = set()
        for event in events:
            if event.kind != "tool":
                continue
            found = None
            for source in events[: event.seq]:
                for index, requested in enumerate(source.model_call.tool_calls if source.model_call else []):
                    ref = (source.seq, requested.id if requested.id is not None else f"#{index}")
                    wanted = {normalise_name(event.tool), *aliases.get(event.tool, ())}  # the spec of that exact name
                    if ref not in taken and normalise_name(requested.name) in wanted:
                        found = ref
                        break
                if found:
                    break
            if found:
                taken.add(found)
            linked.append(found)
        return linked

    @settings(max_examples=300, deadline=None, database=None)
    @given(steps=st.lists(step, max_size=12))
    def agree(steps: list[Any]) -> None:
        run = Run("t")
        tools = ToolRegistry()
        tools.add(ToolSpec("kb_search", kind="read", aliases=("lookup", "find_docs")))
        guard = Guard(run, registry=tools)
        guard.attach()
        for n, (kind, what) in enumerate(steps):
            if kind == "model":
                calls = [ToolCallRequest(f"call_{n}_{i}" if has_id else None, name, {}) for i, (name, has_id) in
                         enumerate(what)]  # fmt: skip
                call = ModelCall("openai.chat", "gpt-4o", tool_calls=calls)
                run.record(kind="model", method="POST", url="https://api.example/v1/chat", backend="cassette",
                           model_call=call)  # fmt: skip
            else:
                run.record(kind="tool", method="GET", url="https://x/y", backend="simulator", tool=what,
                           requested_by=guard.link(what))  # fmt: skip
        assert [e.requested_by for e in run.events if e.kind == "tool"] == reference(run.events)

    agree()
