"""Core plumbing: body decoding, a generic JSON service built on core, clock, snapshots,
seeding, ledger assertions, determinism, and "never a 500" for any input."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx
import pytest
import yaml
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from pydantic import BaseModel, ConfigDict, Field

from simulators import simulator_class
from simulators.billing import BillingSimulator
from simulators.billing.strategies import seed_data
from simulators.core import Context, Reply, ResourceSpec, Router, SimError, SimServer, Simulator
from simulators.core.clock import DEFAULT_EPOCH
from simulators.core.ids import IdFactory
from simulators.core.wire import decode_form

# ------------------------------------------------------------------ decoding


def test_decode_form_bracket_notation() -> None:
    assert decode_form("metadata[a]=1&metadata[b]=&expand[]=x&expand[]=y") == {
        "metadata": {"a": "1", "b": ""},
        "expand": ["x", "y"],
    }
    assert decode_form("expand[0]=customer&expand[1]=latest_charge") == {"expand": ["customer", "latest_charge"]}
    assert decode_form("items[0][price]=p1&items[0][qty]=2&items[1][price]=p2") == {
        "items": [{"price": "p1", "qty": "2"}, {"price": "p2"}]
    }
    assert decode_form("properties=a&properties=b&x=%5B1%5D") == {"properties": ["a", "b"], "x": "[1]"}
    assert decode_form("") == {}
    for bad in ("a=1&a[b]=2", "a[b]=1&a[]=2", "a[b]=1&a=2", "a" + "[x]" * 9 + "=1"):
        with pytest.raises(SimError) as exc:
            decode_form(bad)
        assert exc.value.code == "body_invalid"


# --------------------------------------------- a JSON service on the same core


class Note(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: int
    title: str
    body: str = ""
    created_at: float = 0.0


class NoteInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=50)
    body: str = ""


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: NoteInput


class NoteEnvelope(BaseModel):
    note: Note


notes = Router("notes")


@notes.post("/api/v2/notes.json", tool="notes.notes.create", params=NoteCreate, response=NoteEnvelope)
def create_note(ctx: Context, p: NoteCreate) -> Reply:
    """Create a note (Zendesk-style envelope and 201)."""
    n = Note(id=ctx.new_int_id("notes"), created_at=ctx.now, **p.note.model_dump())
    ctx.insert("notes", n)
    return Reply({"note": n}, status=201)


@notes.get("/api/v2/notes/{note_id}.json", tool="notes.notes.retrieve", response=NoteEnvelope)
def show_note(ctx: Context, p: None) -> Any:
    """Show a note."""
    try:
        return {"note": ctx.require("notes", int(ctx.path["note_id"]))}  # type: ignore[arg-type]
    except ValueError:
        raise SimError("resource_missing", "RecordNotFound", param="note_id") from None


class NotesSimulator(Simulator):
    name: ClassVar[str] = "notes"
    router = notes
    body_format: ClassVar[Literal["form", "json"]] = "json"
    resources: ClassVar[tuple[ResourceSpec, ...]] = (ResourceSpec("notes", Note, "note", "note", numeric_ids=True),)

    def error_body(self, err: SimError, request_id: str | None) -> Any:
        return {"error": err.code, "description": err.message, "details": {"field": err.param}}


def test_a_json_service_reuses_core() -> None:
    sim = NotesSimulator()
    h = {**sim.auth_headers(), "Content-Type": "application/json"}
    url = sim.base_url + "/api/v2/notes.json"
    r = sim.handle("POST", url, h, json.dumps({"note": {"title": "hi"}}).encode())
    assert r.status == 201 and r.json()["note"]["id"] == 1
    assert sim.handle("GET", sim.base_url + "/api/v2/notes/1.json", h).json()["note"]["title"] == "hi"
    bad = sim.handle("POST", url, h, json.dumps({"note": {"title": ""}}).encode())
    assert bad.status == 400 and bad.json()["details"]["field"] == "note.title"
    assert bad.json()["error"] == "parameter_invalid_empty"
    assert sim.handle("POST", url, h, b"{not json").json()["error"] == "body_invalid"
    assert sim.handle("POST", url, h, b"[1]").status == 400
    assert sim.handle("GET", sim.base_url + "/api/v2/nope", h).status == 404
    assert sim.handle("DELETE", url, h).status == 405
    assert sim.handle("GET", sim.base_url + "/api/v2/notes/x.json", h).status == 404
    # idempotency is core behaviour, so JSON services get it too
    k = {**h, "Idempotency-Key": "n1"}
    first = sim.handle("POST", url, k, b'{"note": {"title": "once"}}')
    again = sim.handle("POST", url, k, b'{"note":{"title":"once"}}')  # same params, other spelling
    assert first.status == again.status == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert len(sim.all("notes")) == 2
    sim.seed({"notes": [{"id": 10, "title": "seeded"}, {"title": "next"}]})
    assert [n.id for n in sim.all("notes")] == [1, 2, 10, 11]
    assert sim.handle("POST", url, h, b'{"note": {"title": "after"}}').json()["note"]["id"] == 12
    validate(sim.openapi())
    assert "application/json" in sim.openapi()["paths"]["/api/v2/notes.json"]["post"]["requestBody"]["content"]


def test_internal_errors_become_500_and_are_recorded() -> None:
    router = Router("broken")

    @router.get("/boom", tool="broken.things.list")
    def boom(ctx: Context, p: None) -> Any:
        raise RuntimeError("bug")

    class Broken(Simulator):
        name: ClassVar[str] = "broken"

    Broken.router = router
    Broken.routes = tuple(router.routes)
    sim = Broken()
    r = sim.handle("GET", sim.base_url + "/boom", sim.auth_headers())
    assert r.status == 500 and r.json()["error"]["code"] == "internal_error"
    assert "RuntimeError: bug" in sim.internal_errors[0]
    strict = Broken(raise_server_errors=True)
    with pytest.raises(RuntimeError):
        strict.handle("GET", strict.base_url + "/boom", strict.auth_headers())


def test_router_rejects_bad_tool_names() -> None:
    r = Router("svc")
    with pytest.raises(ValueError):
        r.add("GET", "/x", lambda c, p: None, tool="svc.Bad-Name.list")
    with pytest.raises(ValueError):
        r.add("GET", "/x", lambda c, p: None, tool="other.things.list")


# --------------------------------------------------------------------- clock


def test_clock_moves_only_when_told() -> None:
    sim = BillingSimulator()
    assert sim.clock.now() == DEFAULT_EPOCH
    time.sleep(0.01)
    assert sim.clock.now() == DEFAULT_EPOCH
    first = sim.create_customer(email="a@example.com")
    sim.clock.advance(days=1)
    second = sim.create_customer(email="b@example.com")
    assert second.created - first.created == 86400
    with pytest.raises(ValueError):
        sim.clock.advance(-1)


def test_clock_follows_freezegun() -> None:
    t0 = int(datetime(2030, 5, 1, 12, tzinfo=UTC).timestamp())
    with freeze_time("2030-05-01 12:00:00") as frozen:
        sim = BillingSimulator()
        c = sim.create_customer(email="a@example.com")
        assert c.created == t0
        frozen.tick(3600)
        assert sim.clock.timestamp() == t0 + 3600
        sim.clock.advance(60)
        assert sim.clock.timestamp() == t0 + 3660
        short = sim.issue_token(ttl=100)
        frozen.tick(100)
        assert sim.handle("GET", sim.base_url + "/v1/customers", sim.auth_headers(short)).status == 401


# ----------------------------------------------------------- snapshot/restore


def test_snapshot_restore() -> None:
    sim = BillingSimulator()
    c = sim.create_customer(email="a@example.com")
    snap = sim.snapshot()
    with sim.client() as client:
        created = client.post("/v1/customers", data={"email": "b@example.com"}).json()["id"]
        client.post(f"/v1/customers/{c.id}", data={"name": "Changed"})
    token = sim.issue_token(tenant="later")
    assert len(sim.ledger) == 2
    sim.restore(snap)
    assert [x.id for x in sim.all("customers")] == [c.id]
    assert sim.get("customers", c.id).name is None
    assert len(sim.ledger) == 0
    assert "later" not in sim.tenants
    assert sim.handle("GET", sim.base_url + "/v1/customers", sim.auth_headers(token)).status == 401
    # ids continue from the snapshot, so a replayed run gets the same ids
    with sim.client() as client:
        assert client.post("/v1/customers", data={"email": "b@example.com"}).json()["id"] == created


def test_runs_are_deterministic() -> None:
    def run() -> list[bytes]:
        sim = BillingSimulator()
        sim.seed_demo()
        out = []
        with sim.client() as c:
            out.append(c.post("/v1/customers", data={"email": "z@example.com"}).content)
            out.append(c.get("/v1/payment_intents", params={"limit": 3}).content)
        return [sim.api_key.encode(), *out]

    assert run() == run()


# ------------------------------------------------------------------- seeding


def test_seed_dict_with_tenants_and_tokens() -> None:
    sim = BillingSimulator()
    sim.seed(
        {
            "customers": [{"id": "cus_fixed", "email": "a@example.com", "description": "Pays late"}],
            "tenants": {"acme": {"customers": [{"email": "acme@example.com"}]}},
            "tokens": [{"tenant": "acme", "scopes": ["read"], "value": "rk_test_acme"}],
        }
    )
    assert sim.get("customers", "cus_fixed").description == "Pays late"
    r = sim.handle("GET", sim.base_url + "/v1/customers", sim.auth_headers("rk_test_acme"))
    assert [c["email"] for c in r.json()["data"]] == ["acme@example.com"]
    with pytest.raises(ValueError, match="unknown seed key"):
        sim.seed({"customer": []})
    with pytest.raises(ValueError):
        sim.seed({"customers": [{"email": "x", "bogus_field": 1}]})
    assert sim.internal_errors == []


def test_seed_files(tmp_path: Path) -> None:
    data = {"customers": [{"id": "cus_json", "email": "j@example.com", "metadata": {"note": "from json"}}]}
    (tmp_path / "seed.json").write_text(json.dumps(data))
    (tmp_path / "seed.yaml").write_text(yaml.safe_dump({"customers": [{"id": "cus_yaml", "name": "Y"}]}))
    sim = BillingSimulator()
    sim.seed_file(tmp_path / "seed.json")
    sim.seed_file(tmp_path / "seed.yaml", tenant="other")
    assert sim.get("customers", "cus_json").metadata == {"note": "from json"}
    assert sim.get("customers", "cus_yaml", tenant="other").name == "Y"
    assert sim.get("customers", "cus_yaml") is None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed_data())
def test_seed_from_hypothesis(data: dict[str, Any]) -> None:
    sim = BillingSimulator()
    sim.seed(data)
    with sim.client() as c:
        listed = c.get("/v1/customers", params={"limit": 100}).json()["data"]
        assert {x["id"] for x in listed} == {r["id"] for r in data["customers"]}
        for row in data["customers"]:
            got = c.get(f"/v1/customers/{row['id']}").json()
            assert got["description"] == row["description"] and got["metadata"] == row["metadata"]


def test_demo_seed_has_free_text() -> None:
    sim = BillingSimulator()
    ids = sim.seed_demo()
    assert all(sim.get("customers", i).description for i in ids["customers"])
    assert all(sim.get("customers", i).metadata.get("notes") for i in ids["customers"])
    assert sim.get("invoices", ids["invoices"][0]).status == "open"
    sim.assert_no_writes()  # seeding is setup, not agent activity


# --------------------------------------------------------------- assertions


def test_assertion_messages_show_ledger_entries() -> None:
    sim = BillingSimulator()
    sim.assert_no_writes()
    with sim.client() as c:
        c.post("/v1/customers", data={"email": "a@example.com", "metadata[tier]": "gold"})
    with pytest.raises(AssertionError, match=r"#1 .*POST /v1/customers billing\.customers\.create") as exc:
        sim.assert_no_writes()
    assert "create customers cus_" in str(exc.value)
    sim.assert_wrote("customers", email="a@example.com")
    sim.assert_wrote("customer", metadata={"tier": "gold"})
    with pytest.raises(AssertionError, match=r"a@example\.com"):
        sim.assert_wrote("customers", email="nobody@example.com")
    entry = sim.ledger.writes()[0]
    assert entry.changes[0].before is None and entry.changes[0].after["email"] == "a@example.com"  # type: ignore[index]


def test_registry_and_transports() -> None:
    assert simulator_class("billing") is BillingSimulator
    sim = BillingSimulator()
    with SimServer(sim) as server, httpx.Client(base_url=server.base_url, headers=sim.auth_headers()) as c:
        assert c.get("/v1/customers").json()["object"] == "list"
        assert c.get("/openapi.json").json()["openapi"] == "3.1.0"
    assert not server.running


async def _async_roundtrip(sim: BillingSimulator) -> int:
    async with sim.async_client() as c:
        r = await c.post("/v1/customers", data={"email": "async@example.com"})
        return r.status_code


def test_async_client() -> None:
    import asyncio

    sim = BillingSimulator()
    assert asyncio.run(_async_roundtrip(sim)) == 200
    sim.assert_wrote("customers", email="async@example.com")


# ------------------------------------------------------------ never a 500

_REAL = -1  # placeholder value replaced by an id of an existing object
_values = st.one_of(
    st.text(max_size=30),
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(["", "true", "usd", "pm_card_visa", "pm_card_chargeDeclined", "include", "0"]),
    st.integers(0, 40),
)
_keys = st.one_of(
    st.sampled_from(
        [
            "amount",
            "currency",
            "customer",
            "metadata[x]",
            "expand[]",
            "expand[0]",
            "limit",
            "starting_after",
            "ending_before",
            "payment_method",
            "charge",
            "payment_intent",
            "email",
            "status",
            "confirm",
            "reason",
            "address[city]",
            "invoice",
            "metadata",
            "description",
            "paid_out_of_band",
            "amount_to_capture",
            "capture_method",
            "pending_invoice_items_behavior",
            "collection_method",
            "days_until_due",
            "cancellation_reason",
            "invoice_settings[footer]",
        ]
    ),
    st.text(max_size=12),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(BillingSimulator.routes),
    st.lists(st.tuples(_keys, _values), max_size=6),
    st.one_of(st.sampled_from(["", "cus_x", "%00", ".."]), st.integers(0, 40)),
)
def test_no_input_gets_a_500(route: Any, pairs: list[tuple[str, str | int]], ident: str | int) -> None:
    from urllib.parse import urlencode

    sim = BillingSimulator()
    known = [i for ids in sim.seed_demo().values() for i in ids if i]

    def real(v: str | int) -> str:
        return known[v % len(known)] if isinstance(v, int) else v

    path = route.path
    for name in route.path_params:
        path = path.replace("{" + name + "}", real(ident) or "x")
    encoded = urlencode([(k, real(v)) for k, v in pairs])
    if route.method == "GET":
        r = sim.handle("GET", f"{sim.base_url}{path}?{encoded}", sim.auth_headers())
    else:
        r = sim.handle(route.method, sim.base_url + path, sim.auth_headers(), encoded.encode())
    assert r.status < 500, (route.tool, pairs, r.body)
    assert sim.internal_errors == []
    if r.status >= 400:
        err = r.json()["error"]
        assert err["code"] in BillingSimulator.all_error_codes()


def test_in_process_read_is_cheap() -> None:
    # a loose guard (the measured cost is ~15-30 us): catches per-request work that belongs at import
    sim = BillingSimulator()
    cust = sim.create_customer(email="a@example.com")
    url, headers = f"{sim.base_url}/v1/customers/{cust.id}", sim.auth_headers()
    for _ in range(200):
        sim.handle("GET", url, headers)
    n = 2000
    t0 = time.perf_counter()
    for _ in range(n):
        sim.handle("GET", url, headers)
    assert (time.perf_counter() - t0) / n < 500e-6


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=24), length=st.integers(min_value=0, max_value=30))
def test_ids_are_base62_digits_least_significant_first(data: bytes, length: int) -> None:
    """Ids must not change between versions (recorded cassettes and snapshots hold them): the pairwise
    encoding writes what one digit at a time writes."""
    from simulators.core.ids import _ALPHABET, _base62

    n, digits = int.from_bytes(data, "big"), []
    for _ in range(length):
        n, r = divmod(n, 62)
        digits.append(_ALPHABET[r])
    assert _base62(data, length) == "".join(digits)


def test_seed_zero_still_issues_the_same_first_ids() -> None:
    factory = IdFactory(0)
    assert [factory.new("cus"), factory.new("cus")] == ["cus_aFFXJ7etm86LpJ", "cus_LNl2bxoZ4Ecrw6"]
    assert IdFactory("s", length=7).new("in", sep="-") == "in-B4eNExx"  # an odd length
