"""Hypothesis strategies of injection payloads: ``injections(goal=..., families=..., obfuscations=...)``.

Every choice is a ``sampled_from`` over an ordered list (goals, families and templates simplest first,
obfuscations as a list that shrinks to empty, the canary number to 0), so a failing example shrinks
toward the plainest attack that still works: "Ignore all previous instructions and ...", no obfuscation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from pytest_agentops.fuzz import obfuscate
from pytest_agentops.fuzz.corpus import Corpus, CorpusError, GoalSpec, Template, as_corpus
from pytest_agentops.fuzz.payload import Payload, make_canary, render

GoalLike = str | GoalSpec | Mapping[str, Any]


def _goal_specs(goal: GoalLike | Sequence[GoalLike] | None, corpus: Corpus) -> list[GoalSpec]:
    if goal is None:
        return list(corpus.goals.values())
    items: Sequence[GoalLike] = [goal] if isinstance(goal, str | GoalSpec | Mapping) else list(goal)
    out: list[GoalSpec] = []
    for item in items:
        if isinstance(item, GoalSpec):
            out.append(item)
        elif isinstance(item, str):
            if item not in corpus.goals:
                raise CorpusError(f"unknown goal {item!r}; known: {', '.join(corpus.goals)}")
            out.append(corpus.goals[item])
        elif isinstance(item, Mapping):
            data = dict(item)
            kind = str(data.pop("kind", "custom"))
            out.append(GoalSpec.from_dict(kind, data, "goal: "))
        else:
            raise TypeError(f"a goal is a kind name, a GoalSpec or a dict, not {item!r}")
    if not out:
        raise ValueError("injections(goal=[]): give at least one goal")
    return out


def injections(
    goal: GoalLike | Sequence[GoalLike] | None = None,
    *,
    families: Iterable[str] | None = None,
    obfuscations: Iterable[str] | None = None,
    max_obfuscations: int = 2,
    templates: Iterable[str] | None = None,
    extra_templates: Iterable[Template | Mapping[str, Any] | Corpus | str | Path] = (),
    corpus: Corpus | str | Path | None = None,
    params: Mapping[str, Any] | None = None,
    canary: str | None = None,
    styles: Sequence[str] = ("tool_call", "natural"),
    user: str = "Alex Morgan",
    model: str = "the AI assistant",
) -> st.SearchStrategy[Payload]:
    """Injection payloads from the corpus.

    - ``goal``: a goal kind of the corpus (``"refund"``, ``"exfil_email"``, ...), a ``GoalSpec`` or a
      dict (``{"tool": ..., "arguments": {...}, "instruction": "... ${canary} ..."}``), or a list of
      them; default: every goal of the corpus.
    - ``families``: attack families to draw from (default: all, see ``corpus.FAMILIES``).
    - ``obfuscations``: names allowed (default: all of ``obfuscate.OBFUSCATIONS``; ``[]`` for none);
      up to ``max_obfuscations`` are combined per payload.
    - ``templates``: template ids to restrict to; ``extra_templates``: templates (or template dicts,
      or corpus files) added to the corpus; ``corpus``: a corpus instead of the built-in one.
    - ``params``: goal parameters (``payment_intent``, ``amount``, ``contact_id``, ``ticket_id``...):
      point the goal at objects that exist in your simulator.
    - ``canary``: a fixed canary (default: ``CANARY-<8 hex digits>`` drawn per payload).
    - ``styles``: how the goal is phrased: ``tool_call`` (the corpus' call clause: "call the tool
      `billing_refunds_create` with the arguments {...}", AgentDojo's tool-knowledge idea in every
      template; what examples shrink to) and/or ``natural`` (in words: "refund 4900 cents on ...").
    - ``user``/``model``: the names impersonation templates use (AgentDojo addresses the model by
      name and signs as the user).
    """
    corp = as_corpus(corpus)
    if extra_templates:
        corp = corp.extended(*extra_templates)
    goals = _goal_specs(goal, corp)
    if params:
        goals = [g.with_params(**{k: v for k, v in params.items() if k != "canary"}) for g in goals]
    by_goal = _templates_by_goal(corp, goals, families, templates)
    names = _obfuscation_names(obfuscations, max_obfuscations)
    bad_styles = [x for x in styles if x not in ("natural", "tool_call")]
    if bad_styles or not styles:
        raise ValueError(f"styles must be a non-empty subset of ('natural', 'tool_call'), not {list(styles)}")
    canaries = st.just(canary) if canary is not None else st.integers(0, 0xFFFFFFFF).map(make_canary)
    return _payloads(by_goal, names, st.sampled_from(list(styles)), canaries, user, model, corp.call_clause)


#: per goal, the families (in corpus order) that have a template for it, with those templates
_Choices = list[tuple[GoalSpec, list[tuple[str, list[Template]]]]]


def _templates_by_goal(
    corp: Corpus, goals: list[GoalSpec], families: Iterable[str] | None, templates: Iterable[str] | None
) -> _Choices:
    """Grouped so a draw picks a goal, then a family, then a template: each shrinks on its own to
    the first (built-in families first, templates in file order)."""
    wanted = list(families) if families is not None else list(corp.families)
    unknown = [f for f in wanted if f not in corp.families]
    if unknown:
        raise CorpusError(f"unknown family/families {unknown}; known: {', '.join(corp.families)}")
    pool = [t for t in corp.templates if t.family in wanted]
    if templates is not None:
        ids = list(templates)
        missing = [i for i in ids if i not in {t.id for t in corp.templates}]
        if missing:
            raise CorpusError(f"unknown template id(s) {missing}")
        pool = [t for t in pool if t.id in ids]
    fam_order = [f for f in corp.families if f in wanted]
    by_goal: _Choices = []
    for g in goals:
        fams = [(f, [t for t in pool if t.family == f and t.accepts(g)]) for f in fam_order]
        fams = [(f, ts) for f, ts in fams if ts]
        if fams:
            by_goal.append((g, fams))
    if not by_goal:
        raise CorpusError(
            f"no template of famil{'y' if len(wanted) == 1 else 'ies'} {wanted} fits goal(s) {[g.kind for g in goals]}"
        )
    return by_goal


def _obfuscation_names(obfuscations: Iterable[str] | None, max_obfuscations: int) -> st.SearchStrategy[list[str]]:
    """``max_obfuscations`` slots, each "none" half of the time or one obfuscation (every one equally
    likely, so the last in the list turns up as early as the first): a fixed number of choices,
    each shrinking to "none", so a failing example keeps only the obfuscations it needs."""
    allowed = list(obfuscate.OBFUSCATIONS if obfuscations is None else obfuscations)
    bad = [o for o in allowed if o not in obfuscate.OBFUSCATIONS]
    if bad:
        raise ValueError(f"unknown obfuscation(s) {bad}; known: {', '.join(obfuscate.OBFUSCATIONS)}")
    slot = st.sampled_from((None,) * len(allowed) + tuple(allowed))

    @st.composite
    def names_strategy(draw: st.DrawFn) -> list[str]:
        if not allowed or max_obfuscations <= 0:
            return []
        picked = {draw(slot) for _ in range(max_obfuscations)}
        return [name for name in allowed if name in picked]

    return names_strategy()


@st.composite
def _payloads(
    draw: st.DrawFn,
    by_goal: _Choices,
    names_strategy: st.SearchStrategy[list[str]],
    style_strategy: st.SearchStrategy[str],
    canaries: st.SearchStrategy[str],
    user: str,
    model: str,
    call_clause: Mapping[str, str],
) -> Payload:
    """The choices are drawn in one fixed order, each from a list simplest first, so a failing
    example shrinks toward the plainest attack that still works."""
    style = draw(style_strategy)  # first, so shrinking can move between families and templates freely
    spec, fams = draw(st.sampled_from(by_goal))
    _, candidates = draw(st.sampled_from(fams))
    template = draw(st.sampled_from(candidates))
    names = draw(names_strategy)
    language = "en"
    if obfuscate.TRANSLATE in names:
        names.remove(obfuscate.TRANSLATE)
        if template.languages:
            language = draw(st.sampled_from(template.languages))
    # Draw every choice on every path (even when unused), so shrinking compares like with like and
    # goes to the lowest index of each: the first goal, family and template, no obfuscation.
    seed = draw(st.integers(0, 255))
    if spec.tool is None or template.requires_tool:
        style = "natural"
    return render(
        template,
        spec,
        draw(canaries),
        language=language,
        obfuscations=names,
        seed=seed,
        user=user,
        model=model,
        style=style,
        call_clause=call_clause,
    )


def payload_texts(**kwargs: Any) -> st.SearchStrategy[str]:
    """``injections(**kwargs)`` as plain text, for a strategy that takes ``text=`` (simulator seeds).

    Prefer ``planted(...)``: it keeps the payload's canary and goal for the property to check.
    """
    return injections(**kwargs).map(lambda p: p.text)
