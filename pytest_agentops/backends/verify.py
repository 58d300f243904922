"""``agentops sim verify``: replay a scenario recorded against the real service on a simulator
and report every way the simulator's answers differ in shape from the recorded ones.

A team records its real Stripe, Zendesk or HubSpot once (``--agent-record`` writes a cassette);
this check then runs in CI and fails when the simulator drifts from the service: a field the
service sends that the simulator does not, a field of another type, another status, a field
only the simulator sends. Values are not compared (ids, timestamps and amounts differ between
any two runs), shapes are.

Ids the service made are not the simulator's: each answer's ids (``id``, ``*_id``, ``*Id``) are
paired with the simulator's answer at the same place, and later requests are rewritten to use
the simulator's ids (in the path, the query and the body), so a recorded "create, then update
what was created" replays as such. Objects the scenario only reads must exist before it starts:
``seed`` them (the shape of ``Simulator.seed()``; official fixtures and recorded answers fit).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

if TYPE_CHECKING:
    from simulators.core.simulator import Simulator

_ID_KEY = re.compile(r"^(id|ids|.*_id|.*_ids|.*Id|.*Ids)$")


# ---- shapes ------------------------------------------------------------------------------------


def kind(value: Any) -> str:
    """The JSON type of a value, numbers as one kind (``1`` and ``1.0`` are the same shape)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def shape_diff(recorded: Any, ours: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(category, text) for each shape difference: ``missing`` (the service sends it, the
    simulator does not), ``extra`` (only the simulator sends it) or ``type``. ``null`` on either
    side is data, not shape; list items are compared pairwise."""
    if recorded is None or ours is None:
        return
    if kind(recorded) != kind(ours):
        yield "type", f"{where or '(body)'}: the service sends {kind(recorded)}, the simulator {kind(ours)}"
        return
    if isinstance(recorded, dict):
        for key, value in recorded.items():
            if key not in ours:
                yield "missing", f"{where}.{key}"
            else:
                yield from shape_diff(value, ours[key], f"{where}.{key}")
        for key in ours.keys() - recorded.keys():
            yield "extra", f"{where}.{key}"
    elif isinstance(recorded, list):
        for i, (a, b) in enumerate(zip(recorded, ours, strict=False)):
            yield from shape_diff(a, b, f"{where}[{i}]")


# ---- ids ---------------------------------------------------------------------------------------


@dataclass
class IdMap:
    """Recorded ids -> the simulator's ids for the same objects."""

    ids: dict[str, str] = field(default_factory=dict)

    def learn(self, recorded: Any, ours: Any, key: str = "") -> None:
        if isinstance(recorded, dict) and isinstance(ours, dict):
            for k, value in recorded.items():
                if k in ours:
                    self.learn(value, ours[k], k)
        elif isinstance(recorded, list) and isinstance(ours, list):
            for a, b in zip(recorded, ours, strict=False):
                self.learn(a, b, key)
        elif _ID_KEY.match(key) and kind(recorded) in ("string", "number") and kind(ours) == kind(recorded):
            self._pair(str(recorded), str(ours))

    def _pair(self, recorded: str, ours: str) -> None:
        if recorded != ours:
            self.ids.setdefault(recorded, ours)

    def _segment(self, seg: str) -> str:
        stem, dot, rest = seg.partition(".")  # Zendesk's ``123.json``
        return self.ids.get(stem, stem) + dot + rest

    def _value(self, text: str) -> str:
        return ",".join(self.ids.get(part, part) for part in text.split(","))

    def url(self, url: str) -> str:
        """The path and query of ``url`` with recorded ids replaced."""
        split = urlsplit(url)
        path = "/".join(self._segment(seg) for seg in split.path.split("/"))
        pairs = [(k, self._value(v)) for k, v in parse_qsl(split.query, keep_blank_values=True)]
        return path + (f"?{urlencode(pairs)}" if pairs else "")

    def body(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.body(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.body(v) for v in value]
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value) in self.ids:
            new = self.ids[str(value)]
            return int(new) if isinstance(value, int) and new.isdigit() else new
        return value


# ---- replay ------------------------------------------------------------------------------------


@dataclass
class Step:
    index: int
    method: str
    path: str
    recorded_status: int
    status: int
    differences: list[tuple[str, str]]

    def drifted(self, allow_extra: bool = False) -> bool:
        return self.recorded_status != self.status or any(c != "extra" or not allow_extra for c, _ in self.differences)

    def describe(self) -> str:
        head = f"[{self.index}] {self.method} {self.path}: "
        head += (
            f"{self.status}"
            if self.status == self.recorded_status
            else f"status {self.recorded_status} (service) -> {self.status} (simulator)"
        )
        by: dict[str, list[str]] = {}
        for category, text in self.differences:
            by.setdefault(category, []).append(text)
        labels = {"missing": "missing in the simulator", "extra": "only in the simulator", "type": "type"}
        parts = [f"{labels[c]}: {', '.join(sorted(by[c]))}" for c in ("missing", "type", "extra") if c in by]
        return head + ("; " + "; ".join(parts) if parts else "")


@dataclass
class Report:
    simulator: str
    cassette: str
    steps: list[Step]
    skipped: int

    def drifted(self, allow_extra: bool = False) -> list[Step]:
        return [s for s in self.steps if s.drifted(allow_extra)]

    def render(self, allow_extra: bool = False) -> str:
        bad = self.drifted(allow_extra)
        lines = [
            f"{self.simulator} vs {self.cassette}: {len(self.steps)} request(s) replayed, {len(bad)} differ"
            + (f", {self.skipped} not for this simulator (skipped)" if self.skipped else "")
        ]
        lines += [s.describe() for s in self.steps if s.drifted(allow_extra) or s.differences]
        if any(s.recorded_status < 400 <= s.status == 404 for s in bad):
            lines.append("hint: a 404 where the service answered is an object the scenario did not create: --seed it")
        return "\n".join(lines)


def _request_bytes(stored: Any, ids: IdMap) -> bytes:
    if not stored:
        return b""
    if "json" in stored:
        return json.dumps(ids.body(stored["json"])).encode()
    if "form" in stored:
        return urlencode([(k, ids.body(v)) for k, v in stored["form"]]).encode()
    if "text" in stored:
        return str(stored["text"]).encode()
    return b""


def _recorded_json(interaction: dict[str, Any]) -> Any:
    from pytest_agentops.cassette import body as bodies

    raw = bodies.decode(interaction["response"].get("body"))
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _kept_headers(recorded: dict[str, Any]) -> dict[str, str]:
    """The recorded headers that shape an answer (never its credentials)."""
    keep = {k.lower(): v if isinstance(v, str) else ", ".join(v) for k, v in recorded.items()}
    return {k: v for k, v in keep.items() if k in ("content-type", "idempotency-key", "stripe-version")}


def _headers(sim: Simulator, recorded: dict[str, Any]) -> dict[str, str]:
    return {**_kept_headers(recorded), **sim.auth_headers()}


def _ask_simulator(sim: Simulator, ids: IdMap, request: dict[str, Any]) -> tuple[int, Any]:
    method, target = str(request["method"]).upper(), ids.url(str(request["url"]))
    body = _request_bytes(request.get("body"), ids)
    response = sim.handle(method, sim.base_url + target, _headers(sim, request.get("headers") or {}), body)
    return response.status, json.loads(response.body) if response.body else None


def replay(sim: Simulator, interactions: list[dict[str, Any]]) -> tuple[list[Step], int]:
    """Send each interaction the simulator serves, in order; (steps, interactions skipped)."""
    ids, steps, skipped = IdMap(), [], 0
    for index, interaction in enumerate(interactions):
        request = interaction["request"]
        method, url = str(request["method"]).upper(), str(request["url"])
        if type(sim).route_for(method, url) is None:
            skipped += 1
            continue
        status, ours = _ask_simulator(sim, ids, request)
        recorded = _recorded_json(interaction)
        ids.learn(recorded, ours)
        recorded_status = int(interaction["response"]["status"])
        steps.append(Step(index, method, urlsplit(url).path, recorded_status, status, list(shape_diff(recorded, ours))))
    return steps, skipped


class Staging:
    """The real service (a staging account) asked live, with its own id map: the ids it makes are
    neither the recording's nor the simulator's."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.ids = IdMap()
        auth = {"authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(headers=auth, timeout=timeout)

    def ask(self, request: dict[str, Any], recorded: Any) -> tuple[int, Any]:
        """Send ``request`` (ids rewritten to the service's), learn the ids of its answer."""
        headers = _kept_headers(request.get("headers") or {})
        method, target = str(request["method"]).upper(), self.ids.url(str(request["url"]))
        body = _request_bytes(request.get("body"), self.ids)
        answer = self.client.request(method, self.base_url + target, headers=headers, content=body)
        try:
            theirs = answer.json() if answer.content else None
        except ValueError:
            theirs = None
        self.ids.learn(recorded, theirs)
        return answer.status_code, theirs

    def close(self) -> None:
        self.client.close()


def against_staging(sim: Simulator, interactions: list[dict[str, Any]], staging: Staging) -> tuple[list[Step], int]:
    """Send each interaction the simulator serves to the service now and to the simulator, in
    order, and compare the two answers (the recording gives the scenario and pairs the ids)."""
    ids, steps, skipped = IdMap(), [], 0
    for index, interaction in enumerate(interactions):
        request = interaction["request"]
        method, url = str(request["method"]).upper(), str(request["url"])
        if type(sim).route_for(method, url) is None:
            skipped += 1
            continue
        recorded = _recorded_json(interaction)
        their_status, theirs = staging.ask(request, recorded)
        status, ours = _ask_simulator(sim, ids, request)
        ids.learn(recorded, ours)
        steps.append(Step(index, method, urlsplit(url).path, their_status, status, list(shape_diff(theirs, ours))))
    return steps, skipped


def verify_cassette(name: str, cassette: Path, *, seed: Path | None = None, staging: Staging | None = None) -> Report:
    """Replay ``cassette`` on a fresh simulator ``name`` (seeded from ``seed``) and compare with
    the recorded answers, or, given ``staging``, with the service's answers to the same requests now."""
    from pytest_agentops.cassette.inspect import load
    from simulators import simulator_class

    recorded = load(cassette)
    sim = simulator_class(name)()
    if seed is not None:
        sim.seed_file(seed)
    if staging is None:
        steps, skipped = replay(sim, recorded.interactions)
        return Report(name, str(cassette), steps, skipped)
    steps, skipped = against_staging(sim, recorded.interactions, staging)
    return Report(name, f"{staging.base_url} (the requests of {cassette})", steps, skipped)


__all__ = ["IdMap", "Report", "Staging", "Step", "against_staging", "replay", "shape_diff", "verify_cassette"]
