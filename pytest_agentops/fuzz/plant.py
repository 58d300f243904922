"""Planting payloads into the untrusted fields an agent reads.

``planted(injections(...), into=...)`` draws a payload and a carrier value (simulator seed data, a
cassette document, retrieved documents, any JSON-like value), picks the field(s) to hold it (one per
part when the payload is split across fields) and returns a :class:`Planted`: the payload, the carrier
with the payload in it, and where it went.

Carriers are plain JSON-like values (dicts, lists, strings) and every wire format they travel in is
written by a real serializer (``json``, ``yaml.safe_dump``, form encoding, SSE with JSON data lines), so
a payload cannot break the data around it; the one format that cannot hold every text, a raw (non-JSON)
SSE data line, refuses texts with a carriage return and the field is skipped.

The carriers are in ``pytest_agentops.fuzz.carriers`` and the field paths in
``pytest_agentops.fuzz.paths``; their names are answered here too, where they were first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hypothesis import assume
from hypothesis import strategies as st

from pytest_agentops.fuzz.carriers import BENIGN_TEXTS as BENIGN_TEXTS
from pytest_agentops.fuzz.carriers import FREE_TEXT_KEYS as FREE_TEXT_KEYS
from pytest_agentops.fuzz.carriers import SEED_LIMITS as SEED_LIMITS
from pytest_agentops.fuzz.carriers import SLOT_PREFIX as SLOT_PREFIX
from pytest_agentops.fuzz.carriers import SSE_TEXT_KEYS as SSE_TEXT_KEYS
from pytest_agentops.fuzz.carriers import STRUCTURAL_KEYS as STRUCTURAL_KEYS
from pytest_agentops.fuzz.carriers import Carrier as Carrier
from pytest_agentops.fuzz.carriers import CarrierError as CarrierError
from pytest_agentops.fuzz.carriers import CassetteCarrier as CassetteCarrier
from pytest_agentops.fuzz.carriers import DocumentsCarrier as DocumentsCarrier
from pytest_agentops.fuzz.carriers import MCPResultsCarrier as MCPResultsCarrier
from pytest_agentops.fuzz.carriers import MultiCarrier as MultiCarrier
from pytest_agentops.fuzz.carriers import SeedCarrier as SeedCarrier
from pytest_agentops.fuzz.carriers import Slot as Slot
from pytest_agentops.fuzz.carriers import ValueCarrier as ValueCarrier
from pytest_agentops.fuzz.carriers import as_carrier as as_carrier
from pytest_agentops.fuzz.carriers import cassette as cassette
from pytest_agentops.fuzz.carriers import combined as combined
from pytest_agentops.fuzz.carriers import documents as documents
from pytest_agentops.fuzz.carriers import seed as seed
from pytest_agentops.fuzz.paths import PathT as PathT
from pytest_agentops.fuzz.paths import dotted as dotted
from pytest_agentops.fuzz.paths import get_at as get_at
from pytest_agentops.fuzz.paths import matches as matches
from pytest_agentops.fuzz.paths import set_at as set_at
from pytest_agentops.fuzz.paths import string_leaves as string_leaves
from pytest_agentops.fuzz.payload import Payload

MODES: tuple[str, ...] = ("replace", "append", "prepend")


# ---- the result ----------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Planted:
    """A payload planted in a carrier: ``data`` holds ``payload`` (or its parts) at ``where``."""

    payload: Payload
    data: Any
    where: tuple[PathT, ...]
    carrier: str
    mode: str = "replace"

    @property
    def canary(self) -> str:
        return self.payload.canary

    @property
    def goal(self) -> Any:
        return self.payload.goal

    @property
    def fields(self) -> list[str]:
        return [dotted(p) for p in self.where]

    def texts(self) -> list[str]:
        """The planted fields' values, as they are in ``data``."""
        return [get_at(self.data, p) for p in self.where]

    def __repr__(self) -> str:
        return f"Planted(into={self.carrier!r}, where={self.fields!r}, mode={self.mode!r}, payload={self.payload!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # hypothesis' falsifying-example printer
        printer.text(repr(self))

    def describe(self) -> str:
        return f"planted into {self.carrier} at {', '.join(self.fields)} ({self.mode})\n" + self.payload.describe()


def compose(mode: str, current: str, text: str, limit: int | None) -> str:
    """``text`` put into a field holding ``current``, trimming the benign part to fit ``limit``."""
    if mode == "replace" or not current:
        return text
    room = None if limit is None else max(0, limit - len(text) - 2)
    benign = current if room is None else current[:room]
    if not benign:
        return text
    return f"{benign}\n\n{text}" if mode == "append" else f"{text}\n\n{benign}"


def planted(
    payloads: st.SearchStrategy[Payload],
    into: Any,
    *,
    fields: Sequence[str] | None = None,
    modes: Sequence[str] = MODES,
    benign: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[Planted]:
    """Payloads planted into ``into`` (see ``as_carrier``), in ``fields`` (shell-style patterns of
    dotted paths, e.g. ``"tickets.0.description"``, ``"customers.*.metadata.*"``; default: the carrier's
    free-text fields). ``modes``: replace the field, append to or prepend to its benign text.

    A split payload goes into several fields, one part each, in order. An example whose carrier has no
    field that can hold the payload is rejected (hypothesis draws another).
    """
    carrier = as_carrier(into, fields=fields, benign=benign)
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise ValueError(f"modes must be a non-empty subset of {MODES}, not {list(modes)}")
    bases = carrier.bases()
    mode_strategy = st.sampled_from(list(modes))

    @st.composite
    def draw_planted(draw: st.DrawFn) -> Planted:
        payload = draw(payloads)
        value, slots = draw(bases)
        parts = list(payload.parts)
        fit = [s for s in slots if carrier.can_hold(s, max(parts, key=len))]
        assume(bool(fit))
        k = min(len(parts), len(fit))
        texts = [*parts[: k - 1], "\n".join(parts[k - 1 :])]
        if k < len(parts):
            fit = [s for s in fit if carrier.can_hold(s, texts[-1])]
            assume(len(fit) >= k)
        chosen: list[Slot] = []
        remaining = list(fit)
        for _ in range(k):
            slot = draw(st.sampled_from(remaining))
            chosen.append(slot)
            remaining = [s for s in remaining if s is not slot]
        chosen.sort(key=lambda s: fit.index(s))  # parts go in field order
        mode = draw(mode_strategy)
        for slot, text in zip(chosen, texts, strict=True):
            composed = compose(mode, slot.current, text, slot.limit)
            assume(carrier.can_hold(slot, composed))
            value = set_at(value, slot.path, composed)
        return Planted(payload, carrier.finish(value), tuple(s.path for s in chosen), carrier.name, mode)

    return draw_planted()


# ---- wire formats: what a carrier value looks like in transit (for round-trip checks) -------------


def form_encode(value: Mapping[str, Any]) -> str:
    """Stripe-style form encoding with bracket notation (``metadata[memo]=...``, ``items[0][x]=...``)."""
    pairs: list[tuple[str, str]] = []

    def walk(prefix: str, v: Any) -> None:
        if isinstance(v, Mapping):
            for k, item in v.items():
                walk(f"{prefix}[{k}]" if prefix else str(k), item)
        elif isinstance(v, list | tuple):
            for i, item in enumerate(v):
                walk(f"{prefix}[{i}]", item)
        elif v is None:
            pairs.append((prefix, ""))
        elif isinstance(v, bool):
            pairs.append((prefix, "true" if v else "false"))
        else:
            pairs.append((prefix, str(v)))

    walk("", value)
    return "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in pairs)


def form_decode(text: str) -> Any:
    from simulators.core.wire import decode_form

    return decode_form(text)


def _yaml_dump(value: Any) -> str:
    import yaml

    # allow_unicode=False: PyYAML writes NEL (U+0085) raw in a single-quoted scalar with allow_unicode, and
    # reads it back as a line break; escaped, every character round-trips.
    return str(yaml.safe_dump(value, allow_unicode=False, sort_keys=False))


def _yaml_load(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)


def _sse_dump(events: Any) -> str:
    from pytest_agentops.trace import sse

    return sse.render(list(events))


def _sse_load(text: str) -> Any:
    from pytest_agentops.trace import sse

    events = sse.parse(text)
    if events is None:
        raise CarrierError("not a plain SSE stream")
    return events


FORMATS: dict[str, tuple[Callable[[Any], str], Callable[[str], Any]]] = {
    "json": (lambda v: json.dumps(v, ensure_ascii=False), json.loads),
    "json_ascii": (json.dumps, json.loads),
    "yaml": (_yaml_dump, _yaml_load),
    "form": (form_encode, form_decode),
    "sse": (_sse_dump, _sse_load),
}
"""name -> (encode, decode): the formats a planted value travels in."""


def round_trip(value: Any, fmt: str) -> Any:
    """``value`` written in ``fmt`` and read back."""
    encode, decode = FORMATS[fmt]
    return decode(encode(value))


def cassette_round_trip(document: Mapping[str, Any]) -> Any:
    """A planted cassette document as the tap replays it: each response body rendered to bytes and
    stored again from them (``cassette.body.encode``), so a body that no longer round-trips shows up."""
    from pytest_agentops.cassette import body as bodies
    from pytest_agentops.cassette.format import dump

    doc = json.loads(dump(dict(document)))
    for interaction in doc.get("interactions", []):
        response = interaction.get("response") or {}
        stored = response.get("body")
        if not stored:
            continue
        raw = bodies.decode(stored)
        ctype = "text/event-stream" if "sse" in stored else ("application/json" if "json" in stored else "")
        again = bodies.encode(raw, ctype)
        kind = next(k for k in ("json", "sse", "text", "base64") if k in stored)
        if again is None or kind not in again or bodies.decode(again) != raw:
            raise CarrierError(f"a planted response body no longer reads back as {kind}")
        response["body"] = again
    return doc
