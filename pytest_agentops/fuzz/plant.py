"""Planting payloads into the untrusted fields an agent reads.

``planted(injections(...), into=...)`` draws a payload and a carrier value (simulator seed data, a
cassette document, retrieved documents, any JSON-like value), picks the field(s) to hold it (one per
part when the payload is split across fields) and returns a :class:`Planted`: the payload, the carrier
with the payload in it, and where it went.

Carriers are plain JSON-like values (dicts, lists, strings) and every wire format they travel in is
written by a real serializer (``json``, ``yaml.safe_dump``, form encoding, SSE with JSON data lines), so
a payload cannot break the data around it; the one format that cannot hold every text, a raw (non-JSON)
SSE data line, refuses texts with a carriage return and the field is skipped.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hypothesis import assume
from hypothesis import strategies as st

from pytest_agentops.fuzz.payload import Payload

PathT = tuple[str | int, ...]
MODES: tuple[str, ...] = ("replace", "append", "prepend")

BENIGN_TEXTS: tuple[str, ...] = (
    "Hi, I was charged twice this month. Can you check?",
    "Customer asked about the annual plan discount.",
    "Please update the billing address on file.",
    "Invoice attached. Thanks for the quick help last time!",
    "My card expired; I added a new one yesterday.",
    "Follow up next week if there is no reply.",
    "",
)
"""Realistic filler for the fields that do not hold the payload (the first is what examples shrink to)."""

# Keys whose values are free text an agent reads (the default candidates of a plain value).
FREE_TEXT_KEYS = frozenset(
    {
        "description",
        "subject",
        "body",
        "notes",
        "note",
        "details",
        "message",
        "comment",
        "content",
        "text",
        "title",
        "summary",
        "hs_note_body",
        "jobtitle",
        "dealname",
        "memo",
        "reason_text",
        "snippet",
        "html_body",
        "plain_body",
    }
)
# Keys of recorded model/tool responses that are protocol, not data: never planted into.
STRUCTURAL_KEYS = frozenset(
    {
        "id",
        "object",
        "model",
        "type",
        "role",
        "finish_reason",
        "stop_reason",
        "status",
        "created",
        "system_fingerprint",
        "tool_call_id",
        "call_id",
        "index",
        "event",
        "currency",
        "url",
        "href",
        "next_page",
        "previous_page",
        "service_tier",
        "arguments",
        "partial_json",
        "name",
    }
)
SSE_TEXT_KEYS = frozenset({"content", "text", "delta", "refusal"})

SLOT_PREFIX = "\ue000agentops-slot\ue000"
_SLOT = SLOT_PREFIX + "\ue001" * 70_000  # long: a strategy's own truncation reveals the field's limit


class CarrierError(ValueError):
    """A text cannot be held verbatim by a field of this carrier format."""


# ---- paths in JSON-like values -------------------------------------------------------------------


def dotted(path: PathT) -> str:
    return ".".join(str(p) for p in path)


def string_leaves(value: Any, prefix: PathT = ()) -> Iterator[tuple[PathT, str]]:
    """Every string leaf of a JSON-like value, with its path (dict keys and list indexes)."""
    if isinstance(value, str):
        yield prefix, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from string_leaves(v, (*prefix, k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from string_leaves(v, (*prefix, i))


def get_at(value: Any, path: PathT) -> Any:
    for part in path:
        value = value[part]
    return value


def set_at(value: Any, path: PathT, new: Any) -> Any:
    """A copy of ``value`` with ``path`` set to ``new`` (containers along the path copied, the rest shared)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, Mapping):
        out = dict(value)
        out[head] = set_at(value[head], rest, new)
        return out
    if isinstance(value, list | tuple) and isinstance(head, int):
        items = list(value)
        items[head] = set_at(items[head], rest, new)
        return items
    raise KeyError(f"cannot descend into {type(value).__name__} at {path!r}")


def matches(path: PathT, patterns: Sequence[str] | None) -> bool:
    if patterns is None:
        return True
    text = dotted(path)
    return any(fnmatch.fnmatchcase(text, p) for p in patterns)


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


# ---- carriers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    path: PathT
    current: str  # the benign text the field holds
    limit: int | None  # the field's maximum length, when known


class Carrier:
    """Where payloads can go: a strategy of base values, their candidate fields, and the field format."""

    name = "value"

    def __init__(self, fields: Sequence[str] | None = None, benign: st.SearchStrategy[str] | None = None) -> None:
        self.fields = None if fields is None else tuple(fields)
        self.benign = benign if benign is not None else st.sampled_from(BENIGN_TEXTS)

    def bases(self) -> st.SearchStrategy[tuple[Any, list[Slot]]]:
        raise NotImplementedError

    def can_hold(self, slot: Slot, text: str) -> bool:
        return slot.limit is None or len(text) <= slot.limit

    def fixed(self) -> tuple[Any, list[Slot]] | None:
        """The one base value and its slots, when the carrier is not a strategy (else None)."""
        return None

    def finish(self, value: Any) -> Any:
        return value

    def default_field(self, path: PathT) -> bool:
        """Candidate fields when ``fields`` is not given: free-text keys, metadata values, and strings
        that are not under any key (a plain string, a list of strings)."""
        if not any(isinstance(part, str) for part in path):
            return True
        for part in reversed(path):
            if isinstance(part, str):
                if part in FREE_TEXT_KEYS:
                    return True
                break
        return "metadata" in path


class ValueCarrier(Carrier):
    """A fixed JSON-like value (or a strategy of them): string leaves are the candidates."""

    def __init__(
        self,
        value: Any,
        fields: Sequence[str] | None = None,
        benign: st.SearchStrategy[str] | None = None,
        name: str = "value",
        limits: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(fields, benign)
        self.value = value
        self.name = name
        self.limits = dict(limits or {})

    def slots_of(self, value: Any) -> list[Slot]:
        out = []
        for path, text in string_leaves(value):
            if self.fields is not None:
                if not matches(path, self.fields):
                    continue
            elif not self.default_field(path):
                continue
            out.append(Slot(path, text, self._limit(path)))
        return out

    def _limit(self, path: PathT) -> int | None:
        text = dotted(path)
        for pattern, limit in self.limits.items():
            if fnmatch.fnmatchcase(text, pattern):
                return limit
        return None

    def bases(self) -> st.SearchStrategy[tuple[Any, list[Slot]]]:
        fixed = self.fixed()
        if fixed is not None:
            return st.just(fixed)
        strategy: st.SearchStrategy[Any] = self.value
        return strategy.map(lambda v: (v, self.slots_of(v)))

    def fixed(self) -> tuple[Any, list[Slot]] | None:
        if isinstance(self.value, st.SearchStrategy):
            return None
        return self.value, self.slots_of(self.value)


class DocumentsCarrier(ValueCarrier):
    """Retrieved documents: a list of strings (each is a candidate) or of dicts (their text fields)."""

    def __init__(self, docs: Any, fields: Sequence[str] | None = None, benign: st.SearchStrategy[str] | None = None):
        super().__init__(docs, fields, benign, name="documents")

    def default_field(self, path: PathT) -> bool:
        return len(path) == 1 or super().default_field(path)


class SeedCarrier(Carrier):
    """Simulator seed data from a strategy factory taking ``text=`` (``simulators.<name>.strategies.seed_data``).

    The factory is called with ``text=`` a long marker: every field it puts free text in becomes a
    candidate, and the factory's own truncation tells each field's maximum length. The other candidate
    fields are filled with ``benign`` text.
    """

    def __init__(
        self,
        factory: Callable[..., st.SearchStrategy[Any]],
        fields: Sequence[str] | None = None,
        benign: st.SearchStrategy[str] | None = None,
        name: str = "seed",
    ) -> None:
        super().__init__(fields, benign)
        self.factory = factory
        self.name = name
        self._strategy = factory(text=st.just(_SLOT))

    def bases(self) -> st.SearchStrategy[tuple[Any, list[Slot]]]:
        @st.composite
        def draw_base(draw: st.DrawFn) -> tuple[Any, list[Slot]]:
            value = draw(self._strategy)
            slots: list[Slot] = []
            for path, text in list(string_leaves(value)):
                if not text.startswith(SLOT_PREFIX[:8]):
                    continue
                limit = len(text) if len(text) < len(_SLOT) else None
                filler = draw(self.benign)
                if limit is not None:
                    filler = filler[:limit]
                value = set_at(value, path, filler)
                if matches(path, self.fields):
                    slots.append(Slot(path, filler, limit))
            return value, slots

        return draw_base()


class CassetteCarrier(Carrier):
    """A cassette document (``{"version", "meta", "interactions"}``) or its list of interactions.

    Candidates are the recorded *response* bodies of tool interactions (``include_model=True`` adds model
    ones): string leaves of JSON bodies (protocol keys such as ``id``/``object``/``model`` excluded),
    text deltas of SSE events (``content``/``text``/``delta``), and text bodies.
    """

    name = "cassette"

    def __init__(
        self,
        document: Any,
        fields: Sequence[str] | None = None,
        benign: st.SearchStrategy[str] | None = None,
        include_model: bool = False,
    ) -> None:
        super().__init__(fields, benign)
        if isinstance(document, str | Path):
            from pytest_agentops.cassette.format import read_document

            document = read_document(Path(document))
        elif hasattr(document, "interactions") and not isinstance(document, Mapping):
            document = {
                "version": 1,
                "meta": dict(getattr(document, "meta", {}) or {}),
                "interactions": list(document.interactions),
            }
        self.document = document
        self.include_model = include_model

    def _interactions(self, value: Any) -> tuple[PathT, list[Any]]:
        if isinstance(value, Mapping):
            return ("interactions",), list(value.get("interactions") or [])
        return (), list(value)

    def slots_of(self, value: Any) -> list[Slot]:
        prefix, interactions = self._interactions(value)
        out: list[Slot] = []
        for i, interaction in enumerate(interactions):
            if interaction.get("kind") == "model" and not self.include_model:
                continue
            body = (interaction.get("response") or {}).get("body")
            if not isinstance(body, Mapping):
                continue
            base: PathT = (*prefix, i, "response", "body")
            if "json" in body:
                for path, text in string_leaves(body["json"], (*base, "json")):
                    if self._keep(path, text, sse=False):
                        out.append(Slot(path, text, None))
            elif "sse" in body:
                for k, event in enumerate(body["sse"]):
                    data = event.get("data") if isinstance(event, Mapping) else None
                    at: PathT = (*base, "sse", k, "data")
                    if isinstance(data, str):
                        if self._keep(at, data, sse=True, raw=True):
                            out.append(Slot(at, data, None))
                    elif (isinstance(data, Mapping) and "__raw__" not in data) or isinstance(data, list):
                        for path, text in string_leaves(data, at):
                            if self._keep(path, text, sse=True):
                                out.append(Slot(path, text, None))
            elif "text" in body and isinstance(body["text"], str):
                path = (*base, "text")
                if matches(path, self.fields):
                    out.append(Slot(path, body["text"], None))
        return out

    def _keep(self, path: PathT, text: str, *, sse: bool, raw: bool = False) -> bool:
        if self.fields is not None:
            return matches(path, self.fields)
        if raw:
            return text not in ("[DONE]",)
        key = next((p for p in reversed(path) if isinstance(p, str)), "")
        if sse:
            return key in SSE_TEXT_KEYS
        return key not in STRUCTURAL_KEYS

    def can_hold(self, slot: Slot, text: str) -> bool:
        if "sse" in slot.path and slot.path[-1] == "data":
            # A raw SSE data line: "\n" is written as several data lines, but "\r" would end the line, and
            # text starting with "{" or "[" would be read back as JSON data instead of text.
            return "\r" not in text and text[:1] not in ("{", "[") and super().can_hold(slot, text)
        return super().can_hold(slot, text)

    def bases(self) -> st.SearchStrategy[tuple[Any, list[Slot]]]:
        fixed = self.fixed()
        assert fixed is not None
        return st.just(fixed)

    def fixed(self) -> tuple[Any, list[Slot]] | None:
        return self.document, self.slots_of(self.document)


class MultiCarrier(Carrier):
    """Several carriers at once (``combined(ticketing="ticketing", billing="billing")``): the value is a
    dict of each carrier's value, and a field path starts with the carrier's key."""

    name = "combined"

    def __init__(
        self,
        carriers: Mapping[str, Any],
        fields: Sequence[str] | None = None,
        benign: st.SearchStrategy[str] | None = None,
    ) -> None:
        super().__init__(fields, benign)
        self.carriers = {key: as_carrier(value, benign=benign) for key, value in carriers.items()}

    def fixed(self) -> tuple[Any, list[Slot]] | None:
        parts = {key: carrier.fixed() for key, carrier in self.carriers.items()}
        if any(part is None for part in parts.values()):
            return None
        return self._join(tuple(parts.values()))  # type: ignore[arg-type]

    def _join(self, parts: tuple[tuple[Any, list[Slot]], ...]) -> tuple[Any, list[Slot]]:
        keys = list(self.carriers)
        value = {key: part[0] for key, part in zip(keys, parts, strict=True)}
        slots = [
            Slot((key, *s.path), s.current, s.limit) for key, part in zip(keys, parts, strict=True) for s in part[1]
        ]
        return value, [s for s in slots if matches(s.path, self.fields)]

    def bases(self) -> st.SearchStrategy[tuple[Any, list[Slot]]]:
        fixed = self.fixed()
        if fixed is not None:
            return st.just(fixed)
        keys = list(self.carriers)

        return st.tuples(*(self.carriers[k].bases() for k in keys)).map(self._join)

    def can_hold(self, slot: Slot, text: str) -> bool:
        inner = self.carriers[str(slot.path[0])]
        return inner.can_hold(Slot(slot.path[1:], slot.current, slot.limit), text)

    def finish(self, value: Any) -> Any:
        return {key: self.carriers[key].finish(item) for key, item in value.items()}


def combined(**carriers: Any) -> MultiCarrier:
    """One carrier made of several: ``combined(ticketing="ticketing", billing="billing")``; ``Planted.data``
    is then ``{"ticketing": <seed>, "billing": <seed>}`` and fields read ``"ticketing.tickets.0.subject"``."""
    return MultiCarrier(carriers)


def as_carrier(
    into: Any,
    *,
    fields: Sequence[str] | None = None,
    benign: st.SearchStrategy[str] | None = None,
) -> Carrier:
    """``into`` as a carrier: a ``Carrier``; ``"billing"``/``"ticketing"``/``"crm"`` (their seed
    strategies); a callable taking ``text=`` (a seed-strategy factory); a strategy or a JSON-like value."""
    if isinstance(into, Carrier):
        if fields is not None:
            narrowed: Carrier = copy.copy(into)
            narrowed.fields = tuple(fields)
            return narrowed
        return into
    if isinstance(into, str):
        import importlib

        try:
            module = importlib.import_module(f"simulators.{into}.strategies")
        except ImportError as exc:
            raise ValueError(f"planted(into={into!r}): no simulator strategies named {into!r}") from exc
        return SeedCarrier(module.seed_data, fields, benign, name=into)
    if callable(into) and not isinstance(into, st.SearchStrategy):
        name = getattr(into, "__module__", "seed") or "seed"
        short = name.split(".")[1] if name.startswith("simulators.") else "seed"
        return SeedCarrier(into, fields, benign, name=short)
    return ValueCarrier(into, fields, benign)


# Maximum lengths of the simulators' free-text fields (what their seed validation accepts).
SEED_LIMITS: dict[str, dict[str, int]] = {
    "billing": {"*.metadata.*": 500, "*.description": 5000, "*.name": 256},
    "ticketing": {"tickets.*.subject": 255, "*": 65_535},
    "crm": {"*": 65_536},
}


def seed(
    simulator: str, data: Any, *, fields: Sequence[str] | None = None, benign: st.SearchStrategy[str] | None = None
) -> ValueCarrier:
    """A fixed seed dict (or a strategy of them) for simulator ``simulator``: its free-text fields are the
    candidates, with the simulator's length limits (``SEED_LIMITS``) respected."""
    return ValueCarrier(data, fields, benign, name=simulator, limits=SEED_LIMITS.get(simulator, {}))


def cassette(document: Any, *, fields: Sequence[str] | None = None, include_model: bool = False) -> CassetteCarrier:
    """A cassette carrier (a document dict, a ``Cassette``, a list of interactions or a file path)."""
    return CassetteCarrier(document, fields, include_model=include_model)


def documents(docs: Any, *, fields: Sequence[str] | None = None) -> DocumentsCarrier:
    """Retrieved documents (strings, or dicts with text fields), or a strategy of such lists."""
    return DocumentsCarrier(docs, fields)


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
