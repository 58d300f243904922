"""A modest version of Zendesk's search query language.

Supported: free words (prefix match, case-insensitive, every word must match), ``"quoted
phrases"`` (substring), ``key:value``, ``key<value`` / ``key>value`` (and ``<=``/``>=``) for
ordered properties, ``-term`` negation, ``type:ticket|user`` (``-type:user``), and ``order_by:<field> sort:asc``.
The same keyword repeated is an OR (``tags:a tags:b``), different keywords are an AND.

Ticket keywords: ``status``, ``priority``, ``ticket_type``, ``tags``/``tag``, ``requester``,
``assignee``, ``submitter`` (an id, email, name or ``me``; ``none`` for no assignee),
``subject``, ``description``, ``comment``, ``external_id``, ``created``, ``updated`` (a date
``2025-01-31``, a timestamp, or a relative ``4hours``/``2days``/``1weeks``...).
User keywords: ``role``, ``email``, ``name``, ``tags``, ``phone``, ``details``, ``notes``.
Anything else is matched as free text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .models import PRIORITY_ORDER, STATUS_ORDER, Comment, Ticket, User

_TERM = re.compile(r'(-)?(?:([A-Za-z_]+)(<=|>=|:|<|>))?(?:"([^"]*)"?|(\S+))')
_WORD = re.compile(r"\w+", re.UNICODE)
_RELATIVE = re.compile(r"^(\d{1,6})(minute|hour|day|week|month|year)s?$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400, "month": 30 * 86400, "year": 365 * 86400}


@dataclass(frozen=True, slots=True)
class Term:
    negated: bool
    key: str | None
    op: str
    value: str
    phrase: bool


@dataclass(frozen=True, slots=True)
class Query:
    terms: tuple[Term, ...]
    types: frozenset[str]
    excluded_types: frozenset[str]
    order_by: str | None
    sort: str | None


def parse(text: str) -> Query:
    terms: list[Term] = []
    types: set[str] = set()
    excluded: set[str] = set()
    order_by = sort = None
    for m in _TERM.finditer(text):
        neg, key, op, quoted, bare = m.groups()
        value = quoted if quoted is not None else bare or ""
        k = key.lower() if key else None
        if k == "type" and op == ":":
            (excluded if neg else types).add(value.lower())
            continue
        if k == "order_by" and op == ":":
            order_by = value.lower()
            continue
        if k == "sort" and op == ":":
            sort = value.lower()
            continue
        if k is None and not value.strip():
            continue
        terms.append(Term(bool(neg), k, op or ":", value, quoted is not None))
    return Query(tuple(terms), frozenset(types), frozenset(excluded), order_by, sort)


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def text_matches(haystack: str, term: Term) -> bool:
    """Free text: a phrase is a substring; a word matches when each of its parts is a prefix of
    some word of the text (Zendesk matches word prefixes: ``top`` finds ``Toppings``)."""
    if term.phrase:
        needle = " ".join(term.value.casefold().split())
        return needle in " ".join(haystack.casefold().split())
    parts = words(term.value.rstrip("*"))
    if not parts:
        return term.value.casefold() in haystack.casefold()
    have = words(haystack)
    return all(any(w.startswith(p) for w in have) for p in parts)


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if actual is None or expected is None:
        return False
    if op == ":":
        return bool(actual == expected)
    if op == "<":
        return bool(actual < expected)
    if op == ">":
        return bool(actual > expected)
    if op == "<=":
        return bool(actual <= expected)
    return bool(actual >= expected)


def _ordered(value: str | None, op: str, raw: str, order: dict[str, int]) -> bool:
    want = raw.casefold()
    if want == "none":
        return (value is None) == (op == ":")
    if want not in order:
        return False
    return _compare(order.get(value or ""), op, order[want])


def _date(actual: datetime | None, op: str, raw: str, now: datetime) -> bool:
    if actual is None:
        return False
    rel = _RELATIVE.match(raw.casefold())
    if rel:
        # created>4hours: within the last four hours
        edge = now - timedelta(seconds=int(rel.group(1)) * _UNITS[rel.group(2)])
        flipped = {">": "<", "<": ">", ">=": "<=", "<=": ">=", ":": ":"}[op]
        if op == ":":
            return actual >= edge
        return _compare(edge, flipped, actual)
    try:
        if len(raw) == 10:
            day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
            nxt = day + timedelta(days=1)
            if op == ":":
                return day <= actual < nxt
            return {"<": actual < day, "<=": actual < nxt, ">": actual >= nxt, ">=": actual >= day}[op]
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return _compare(actual, op, when)


def user_matches(user: User | None, raw: str, me_id: int) -> bool:
    if user is None:
        return False
    want = raw.casefold()
    if want == "me":
        return user.id == me_id
    if want.isascii() and want.isdigit():
        return user.id == int(want)
    if user.email and user.email.casefold() == want:
        return True
    name = user.name.casefold()
    return name == want or any(w.startswith(want) for w in words(name))


class Matcher:
    """Evaluates a parsed query against tickets and users of one tenant."""

    def __init__(
        self,
        query: Query,
        users: dict[int, User],
        comments: dict[int, list[Comment]],
        now: datetime,
        me_id: int,
    ) -> None:
        self.query = query
        self.users = users
        self.comments = comments
        self.now = now
        self.me_id = me_id

    def _groups(self) -> Iterable[tuple[bool, list[Term]]]:
        grouped: dict[tuple[bool, str | None, int], list[Term]] = {}
        for i, t in enumerate(self.query.terms):
            # free words are each required; a repeated keyword is an OR group
            slot = i if t.key is None else -1
            grouped.setdefault((t.negated, t.key, slot), []).append(t)
        for (neg, _, _), terms in grouped.items():
            yield neg, terms

    def _all(self, check: Callable[[Term], bool]) -> bool:
        for negated, terms in self._groups():
            hit = any(check(t) for t in terms)
            if hit == negated:
                return False
        return True

    # ------------------------------------------------------------ tickets
    def ticket_text(self, t: Ticket) -> str:
        parts = [t.subject or "", t.description]
        parts.extend(c.body for c in self.comments.get(t.id, ()))
        return "\n".join(parts)

    def ticket(self, t: Ticket) -> bool:
        return self._all(lambda term: self._ticket_term(t, term))

    def _ticket_term(self, t: Ticket, term: Term) -> bool:
        k, op, v = term.key, term.op, term.value
        if k is None:
            if v.isascii() and v.isdigit() and int(v) == t.id:
                return True
            return text_matches(self.ticket_text(t), term)
        if k == "status":
            return _ordered(t.status, op, v, STATUS_ORDER)
        if k == "priority":
            return _ordered(t.priority, op, v, PRIORITY_ORDER)
        if k == "ticket_type":
            return (t.type is None) if v.casefold() == "none" else t.type == v.casefold()
        if k in ("tags", "tag"):
            return (not t.tags) if v.casefold() == "none" else v.casefold() in t.tags
        if k in ("requester", "assignee", "submitter"):
            uid = {"requester": t.requester_id, "assignee": t.assignee_id, "submitter": t.submitter_id}[k]
            if v.casefold() == "none":
                return uid is None
            return uid is not None and user_matches(self.users.get(uid), v, self.me_id)
        if k == "subject":
            return text_matches(t.subject or "", term)
        if k == "description":
            return text_matches(t.description, term)
        if k == "comment":
            return text_matches("\n".join(c.body for c in self.comments.get(t.id, ())), term)
        if k == "external_id":
            return t.external_id == v
        if k in ("created", "updated", "due_date"):
            actual = {"created": t.created_at, "updated": t.updated_at, "due_date": t.due_at}[k]
            return _date(actual, op, v, self.now)
        if k in _USER_KEYS:
            return False
        return text_matches(self.ticket_text(t), Term(term.negated, None, ":", f"{k}{op}{v}", True))

    # -------------------------------------------------------------- users
    def user(self, u: User) -> bool:
        return self._all(lambda term: self._user_term(u, term))

    def _user_term(self, u: User, term: Term) -> bool:
        k, op, v = term.key, term.op, term.value
        text = "\n".join(x for x in (u.name, u.email, u.phone, u.details, u.notes) if x)
        if k is None:
            if v.isascii() and v.isdigit() and int(v) == u.id:
                return True
            return text_matches(text, term)
        if k == "role":
            return u.role == v.casefold()
        if k == "email":
            return (u.email or "").casefold() == v.casefold()
        if k in ("tags", "tag"):
            return v.casefold() in u.tags
        if k in ("name", "phone", "details", "notes"):
            return text_matches(getattr(u, k) or "", term)
        if k in ("created", "updated"):
            return _date(u.created_at if k == "created" else u.updated_at, op, v, self.now)
        return False


_USER_KEYS = frozenset({"role", "email", "name", "phone", "details", "notes"})
