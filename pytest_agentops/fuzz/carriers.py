"""Carriers: where a payload can go. Each turns what ``planted(into=...)`` was given (simulator seed
data, a cassette document, retrieved documents, a fake MCP server's results, any JSON-like value) into
base values and their candidate fields (``Slot``), and says which texts a field can hold."""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from pytest_agentops.fuzz.paths import PathT, dotted, matches, set_at, string_leaves

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


class MCPResultsCarrier(ValueCarrier):
    """The scripted results of a fake MCP server's tools (``{tool: result}``): every text is a candidate,
    so the injection reaches the agent as a tool's answer over MCP (``fake_mcp.plant(case)``)."""

    def __init__(self, results: Any, fields: Sequence[str] | None = None, benign: st.SearchStrategy[str] | None = None):
        super().__init__(results, fields, benign, name="mcp")

    def default_field(self, path: PathT) -> bool:
        return True


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
    if hasattr(into, "results") and hasattr(into, "plant"):  # a fake MCP server: its tools' results
        return MCPResultsCarrier(into.results(), fields, benign)
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
