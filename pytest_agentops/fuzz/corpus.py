"""The injection corpus: attack templates and the goals they pursue, loaded from versioned data files.

A corpus file (YAML or JSON) holds a format ``version``, ``goals`` (what an attack wants the agent to
do, as a structured tool call with a canary in it) and ``templates`` (how the attack is phrased, per
family, with hand-written translations). ``default_corpus()`` is the built-in ``corpus/core.yaml``;
``load_corpus(path)`` reads a user's file and ``Corpus.extended(...)`` merges them.

Placeholders are ``${name}``; anything else, braces included, is literal text, so fake JSON tool-call
markup needs no escaping.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

FAMILIES: tuple[str, ...] = (
    "instruction_override",
    "role_impersonation",
    "fake_tool_markup",
    "data_exfiltration",
    "privilege_escalation",
    "delimiter_breaking",
    "delayed_trigger",
    "task_hijacking",
)
"""Built-in attack families, simplest first (strategies shrink toward the first)."""

CORPUS_DIR = Path(__file__).with_name("corpus")
SUPPORTED_VERSIONS = (1,)
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Placeholders whose values are kept intact by character-level obfuscations (they carry the canary,
# a tool name or arguments the model must reproduce exactly for the goal to be checkable).
PROTECTED = frozenset({"canary", "tool", "arguments", "arguments_str"})
DEFAULT_CALL_CLAUSE = {"en": "call the tool `${tool}` with the arguments ${arguments}"}


class CorpusError(ValueError):
    """A corpus file or template is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class GoalSpec:
    """What an attack wants done: a tool call (``tool`` / ``arguments``) or text in an output (``contains``).

    ``arguments``, ``instruction`` and ``contains`` may use ``${canary}`` and ``${<param>}``; a string
    that is exactly one placeholder takes the parameter's value with its type (``"${amount}"`` -> 4900).
    """

    kind: str
    tool: str | None
    instruction: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    function: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    match: tuple[str, ...] = ()
    contains: str | None = None
    translations: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    @property
    def model_function(self) -> str | None:
        """The name the model calls the tool by (function names cannot hold dots)."""
        if self.function:
            return self.function
        return None if self.tool is None else re.sub(r"[^A-Za-z0-9_-]", "_", self.tool)

    def with_params(self, **params: Any) -> GoalSpec:
        return replace(self, params={**self.params, **params})

    @classmethod
    def from_dict(cls, kind: str, data: Mapping[str, Any], where: str = "") -> GoalSpec:
        known = {
            "tool",
            "function",
            "params",
            "arguments",
            "match",
            "instruction",
            "translations",
            "contains",
            "description",
        }
        unknown = set(data) - known
        if unknown:
            raise CorpusError(f"{where}goal {kind!r}: unknown key(s) {sorted(unknown)}; known: {sorted(known)}")
        if not isinstance(data.get("instruction"), str) or not data["instruction"].strip():
            raise CorpusError(f"{where}goal {kind!r}: needs an 'instruction' (an imperative clause)")
        tool = data.get("tool")
        contains = data.get("contains")
        if tool is None and contains is None:
            raise CorpusError(f"{where}goal {kind!r}: needs a 'tool' or a 'contains' text")
        text = json.dumps([data.get("arguments"), data["instruction"], contains])
        if "${canary}" not in text:
            raise CorpusError(
                f"{where}goal {kind!r}: ${{canary}} must appear in its arguments, instruction or contains"
            )
        return cls(
            kind=kind,
            tool=tool,
            function=data.get("function"),
            instruction=data["instruction"],
            arguments=dict(data.get("arguments") or {}),
            params=dict(data.get("params") or {}),
            match=tuple(data.get("match") or ()),
            contains=contains,
            translations=dict(data.get("translations") or {}),
            description=str(data.get("description") or ""),
        )


@dataclass(frozen=True)
class Template:
    """One phrasing of an attack. ``goals`` limits it to those goal kinds (empty: any goal)."""

    id: str
    family: str
    text: str
    translations: Mapping[str, str] = field(default_factory=dict)
    goals: tuple[str, ...] = ()
    requires_tool: bool = False  # names ${tool}/${arguments}: only for goals that are tool calls
    source: str = ""
    notes: str = ""

    def accepts(self, goal: GoalSpec) -> bool:
        if self.goals and goal.kind not in self.goals:
            return False
        return not (self.requires_tool and goal.tool is None)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.translations))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "") -> Template:
        known = {"id", "family", "text", "translations", "goals", "requires_tool", "source", "notes"}
        if not isinstance(data, Mapping):
            raise CorpusError(f"{where}a template must be a mapping, not {type(data).__name__}")
        unknown = set(data) - known
        ident = data.get("id")
        if not isinstance(ident, str) or not ident:
            raise CorpusError(f"{where}a template needs an 'id'")
        if unknown:
            raise CorpusError(f"{where}template {ident!r}: unknown key(s) {sorted(unknown)}; known: {sorted(known)}")
        family, text = data.get("family"), data.get("text")
        if not isinstance(family, str) or not family:
            raise CorpusError(f"{where}template {ident!r}: needs a 'family'")
        if not isinstance(text, str) or not text.strip():
            raise CorpusError(f"{where}template {ident!r}: needs a 'text'")
        translations = dict(data.get("translations") or {})
        for lang, body in [("(text)", text), *translations.items()]:
            names = set(_PLACEHOLDER.findall(body))
            if "goal" not in names and not names & {"tool", "arguments", "arguments_str", "canary"}:
                raise CorpusError(
                    f"{where}template {ident!r} {lang}: must place the goal (${{goal}}, ${{tool}}/${{arguments}} "
                    "or ${canary})"
                )
            bad = names - {"goal", "tool", "arguments", "arguments_str", "canary", "user", "model"}
            if bad:
                raise CorpusError(f"{where}template {ident!r} {lang}: unknown placeholder(s) {sorted(bad)}")
        return cls(
            id=ident,
            family=family,
            text=text,
            translations=translations,
            goals=tuple(data.get("goals") or ()),
            requires_tool=bool(data.get("requires_tool", False)),
            source=str(data.get("source") or ""),
            notes=str(data.get("notes") or ""),
        )


@dataclass(frozen=True)
class Corpus:
    """Goals and templates; ``version`` is the data version (bump it when a template changes meaning)."""

    version: int
    goals: Mapping[str, GoalSpec]
    templates: tuple[Template, ...]
    name: str = ""
    sources: tuple[str, ...] = ()
    call_clause: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_CALL_CLAUSE))

    @property
    def families(self) -> tuple[str, ...]:
        """Families present, built-in ones first in their canonical order, then others as found."""
        seen = {t.family for t in self.templates}
        extra = [f for f in dict.fromkeys(t.family for t in self.templates) if f not in FAMILIES]
        return tuple(f for f in FAMILIES if f in seen) + tuple(extra)

    def template(self, ident: str) -> Template:
        for t in self.templates:
            if t.id == ident:
                return t
        raise KeyError(ident)

    def by_family(self, family: str) -> tuple[Template, ...]:
        return tuple(t for t in self.templates if t.family == family)

    def extended(self, *others: Corpus | Template | Mapping[str, Any] | str | Path) -> Corpus:
        """This corpus plus ``others`` (corpora, templates, template dicts or corpus files).

        A template or goal with an id/kind already present replaces it.
        """
        goals = dict(self.goals)
        templates = {t.id: t for t in self.templates}
        sources = list(self.sources)
        for other in others:
            if isinstance(other, str | Path):
                other = load_corpus(other)
            if isinstance(other, Corpus):
                goals.update(other.goals)
                templates.update({t.id: t for t in other.templates})
                sources.extend(other.sources)
            elif isinstance(other, Template):
                templates[other.id] = other
            elif isinstance(other, Mapping):
                t = Template.from_dict(other, "extra template: ")
                templates[t.id] = t
            else:
                raise TypeError(f"cannot extend a corpus with {other!r}")
        for t in templates.values():
            for kind in t.goals:
                if kind not in goals:
                    raise CorpusError(f"template {t.id!r} names unknown goal {kind!r}; known: {sorted(goals)}")
        clause = dict(self.call_clause)
        for other in others:
            if isinstance(other, Corpus):
                clause.update(other.call_clause)
        return Corpus(self.version, goals, tuple(templates.values()), self.name, tuple(sources), clause)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "") -> Corpus:
        if not isinstance(data, Mapping):
            raise CorpusError(f"{where}a corpus must be a mapping with version, goals and templates")
        version = data.get("version")
        if version not in SUPPORTED_VERSIONS:
            raise CorpusError(f"{where}unsupported corpus version {version!r} (supported: {SUPPORTED_VERSIONS})")
        unknown = set(data) - {"version", "name", "goals", "templates", "call_clause"}
        if unknown:
            raise CorpusError(f"{where}unknown top-level key(s) {sorted(unknown)}")
        goals_data = data.get("goals") or {}
        if not isinstance(goals_data, Mapping):
            raise CorpusError(f"{where}'goals' must map a goal kind to its definition")
        goals = {kind: GoalSpec.from_dict(kind, g, where) for kind, g in goals_data.items()}
        templates = tuple(Template.from_dict(t, where) for t in data.get("templates") or ())
        ids = [t.id for t in templates]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise CorpusError(f"{where}duplicate template id(s) {dupes}")
        clause = {**DEFAULT_CALL_CLAUSE, **dict(data.get("call_clause") or {})}
        corpus = cls(int(version), goals, templates, str(data.get("name") or ""), (where.rstrip(": "),), clause)
        return corpus if not goals_data and not templates else corpus._checked(where)

    def _checked(self, where: str) -> Corpus:
        for t in self.templates:
            for kind in t.goals:
                if kind not in self.goals and not _is_builtin_goal(kind):
                    raise CorpusError(f"{where}template {t.id!r} names unknown goal {kind!r}")
        return self


def _is_builtin_goal(kind: str) -> bool:
    return kind in default_corpus().goals


def load_corpus(path: str | Path) -> Corpus:
    """Read a corpus file (``.yaml``/``.yml`` or ``.json``)."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    try:
        if p.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:
        raise CorpusError(f"{p}: cannot parse: {exc}") from exc
    return Corpus.from_dict(data, f"{p}: ")


@functools.cache
def default_corpus() -> Corpus:
    """The built-in corpus (``pytest_agentops/fuzz/corpus/core.yaml``)."""
    return load_corpus(CORPUS_DIR / "core.yaml")


def as_corpus(value: Corpus | str | Path | Iterable[Corpus | str | Path] | None) -> Corpus:
    if value is None:
        return default_corpus()
    if isinstance(value, Corpus):
        return value
    if isinstance(value, str | Path):
        return load_corpus(value)
    items = list(value)
    if not items:
        return default_corpus()
    first = as_corpus(items[0])
    return first.extended(*items[1:]) if len(items) > 1 else first


# ---- rendering ----------------------------------------------------------------------------------

Segment = tuple[str, bool]  # (text, protected): protected text is never altered by char-level obfuscations


def fill(value: Any, values: Mapping[str, Any]) -> Any:
    """``value`` (a string, list or dict) with ``${name}`` replaced; exact placeholders keep their type."""
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole is not None and whole.group(1) in values:
            return values[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), value)
    if isinstance(value, Mapping):
        return {k: fill(v, values) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [fill(v, values) for v in value]
    return value


def segments(
    text: str,
    values: Mapping[str, Any],
    nested: Mapping[str, Sequence[Segment]] | None = None,
    protected: frozenset[str] = PROTECTED,
) -> list[Segment]:
    """Split ``text`` at placeholders: literal text (unprotected), values (protected when named in
    ``protected``), and ``nested`` placeholders replaced by their own segments (the goal clause)."""
    nested = nested or {}
    out: list[Segment] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(text):
        if m.start() > pos:
            out.append((text[pos : m.start()], False))
        name = m.group(1)
        if name in nested:
            out.extend(nested[name])
        elif name in values:
            out.append((str(values[name]), name in protected))
        else:
            out.append((m.group(0), False))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return [s for s in out if s[0]]
