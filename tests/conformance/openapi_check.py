"""Validate a simulator's answer against the official OpenAPI operation it imitates.

Given a vendored OpenAPI 3.0 document, a method, a concrete request path, a status and a JSON
body, :meth:`SpecChecker.violations` finds the operation (literal segments win over templated
ones, as a router does), picks the response for the status (exact, then ``4XX``-style ranges,
then ``default``) and validates the body with ``openapi-schema-validator`` (OAS 3.0 ``nullable``,
``$ref`` resolved inside the document by ``referencing``).

``null_anywhere=True`` accepts ``null`` for any field: the real HubSpot and Zendesk APIs send it
for unset properties their specs mark non-nullable, so a strict check would fault the simulator
for answering like the real service. Stripe's spec marks its nullables, so Stripe is checked
strictly (the default).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_PARAM = re.compile(r"\{[^/{}]+\}")
_DOC_URI = "urn:agentops:spec"


def _with_null(validator_cls: Any, *, anywhere: bool) -> Any:
    """``validator_cls`` on which ``null`` satisfies every keyword of a schema marked ``nullable``.

    Stripe marks nullable expandable fields as ``{"anyOf": [string, $ref], "nullable": true}``:
    OAS 3.0.3 reads ``nullable`` only next to ``type``, so a literal validator rejects every
    ``null`` Stripe sends there. ``anywhere=True`` accepts ``null`` for every schema (see the
    module docstring).
    """

    def wrap(check: Any) -> Any:
        def keyword(validator: Any, value: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
            if instance is None and (anywhere or schema.get("nullable") is True):
                return iter(())
            found: Iterator[ValidationError] | None = check(validator, value, instance, schema)
            return found or iter(())

        return keyword

    def type_(validator: Any, value: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
        if instance is None and not (anywhere or schema.get("nullable") is True):
            return iter((ValidationError(f"None is not nullable (type {value!r})"),))
        return wrap(validator_cls.VALIDATORS["type"])(validator, value, instance, schema)  # type: ignore[no-any-return]

    keywords = {name: wrap(fn) for name, fn in validator_cls.VALIDATORS.items()}
    return extend(validator_cls, {**keywords, "type": type_})


_STRICT = _with_null(OAS30Validator, anywhere=False)
_LENIENT = _with_null(OAS30Validator, anywhere=True)


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _where(err: ValidationError) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path) or "(body)"


def _explain(err: ValidationError, depth: int = 0) -> str:
    """``where: why``; for ``anyOf``/``oneOf``, why the alternative that got furthest failed."""
    if not err.context or depth > 3:
        return f"{_where(err)}: {err.message[:160]}"
    branches: dict[Any, list[ValidationError]] = {}
    for sub in err.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)

    def distance(subs: list[ValidationError]) -> tuple[int, int]:
        return (-min(len(s.absolute_path) for s in subs), len(subs))

    best = min(distance(subs) for subs in branches.values())
    closest = [subs for subs in branches.values() if distance(subs) == best]
    return " | or ".join("; ".join(_explain(sub, depth + 1) for sub in subs[:5]) for subs in closest[:3])


@dataclass(frozen=True)
class Operation:
    """One operation of the document: ``template`` is its path as the spec spells it."""

    method: str
    template: str
    spec: Mapping[str, Any]

    @property
    def operation_id(self) -> str:
        return str(self.spec.get("operationId", f"{self.method.upper()} {self.template}"))

    def response_key(self, status: int) -> str | None:
        """The key of ``responses`` that documents ``status`` (exact, ``4XX`` range, ``default``)."""
        responses = self.spec.get("responses", {})
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                return key
        return None


class SpecChecker:
    """Finds operations of one OpenAPI 3.0 document and validates response bodies against them."""

    def __init__(
        self,
        document: Mapping[str, Any],
        *,
        null_anywhere: bool = False,
        name: str = "",
        aliases: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.document = document
        self.null_anywhere = null_anywhere
        self.name = name or str(document.get("info", {}).get("title", "spec"))
        self._prefix = self._server_prefix(document)
        #: (regex, replacement) applied to a concrete path before matching: the simulator's
        #: spelling to the spec's (Zendesk's ``.json`` suffix, HubSpot's ``deals`` as ``0-3``)
        self.aliases = tuple((re.compile(pattern), repl) for pattern, repl in aliases)

    @classmethod
    def from_file(
        cls, path: str | Path, *, null_anywhere: bool = False, aliases: Sequence[tuple[str, str]] = ()
    ) -> SpecChecker:
        with open(path, encoding="utf-8") as fh:
            return cls(json.load(fh), null_anywhere=null_anywhere, name=Path(path).name, aliases=aliases)

    @staticmethod
    def _server_prefix(document: Mapping[str, Any]) -> str:
        servers = document.get("servers") or [{}]
        return urlsplit(str(servers[0].get("url", ""))).path.rstrip("/")

    @cached_property
    def _index(self) -> dict[int, list[tuple[tuple[str | None, ...], str]]]:
        index: dict[int, list[tuple[tuple[str | None, ...], str]]] = {}
        for template in self.document.get("paths", {}):
            segs = tuple(None if _PARAM.search(s) else s for s in template.strip("/").split("/"))
            index.setdefault(len(segs), []).append((segs, template))
        for rows in index.values():
            rows.sort(key=lambda row: [seg is None for seg in row[0]])  # literal segments first
        return index

    @cached_property
    def _registry(self) -> Registry[Any]:
        resource: Resource[Any] = Resource.from_contents(dict(self.document), default_specification=DRAFT4)
        registry: Registry[Any] = Registry().with_resource(_DOC_URI, resource)
        return registry

    def _templates(self, path: str) -> Iterator[str]:
        path = urlsplit(path).path
        for pattern, repl in self.aliases:
            path = pattern.sub(repl, path)
        if self._prefix and path.startswith(self._prefix + "/"):
            path = path[len(self._prefix) :]
        parts = path.strip("/").split("/")
        for segs, template in self._index.get(len(parts), ()):
            if all(seg is None or seg == part for seg, part in zip(segs, parts, strict=True)):
                yield template

    def operation(self, method: str, path: str) -> Operation:
        """The operation serving ``method path``; ``KeyError`` names the request when none does."""
        method = method.lower()
        for template in self._templates(path):
            op = self.document["paths"][template].get(method)
            if op is not None:
                return Operation(method, template, op)
        raise KeyError(f"{self.name}: no operation for {method.upper()} {path}")

    def schema_ref(self, op: Operation, status: int, media: str = "application/json") -> dict[str, Any] | None:
        """A ``$ref`` to the response schema for ``status``; ``None`` when the spec documents no body."""
        key = op.response_key(status)
        if key is None:
            raise KeyError(f"{self.name}: {op.operation_id} documents no response {status}")
        where = "/" + _pointer("paths", op.template, op.method, "responses", key)
        response = op.spec["responses"][key]
        ref = response.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):  # a shared response (HubSpot's Error)
            where, response = ref[1:], self._resolve(ref)
        content = response.get("content") or {}
        # HubSpot documents its error responses as */*
        found = next((m for m in (media, "*/*") if m in content and "schema" in content[m]), None)
        if found is None:
            return None
        return {"$ref": f"{_DOC_URI}#{where}/{_pointer('content', found, 'schema')}"}

    def _resolve(self, ref: str) -> Any:
        node: Any = self.document
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def violations(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Every way ``body`` departs from the documented response, as readable lines (empty: conforms)."""
        op = self.operation(method, path)
        ref = self.schema_ref(op, status)
        if ref is None:
            if body in (None, b"", ""):
                return []
            return [f"{op.operation_id} {status}: the spec documents no JSON body, got {type(body).__name__}"]
        cls = _LENIENT if self.null_anywhere else _STRICT
        validator = cls(ref, registry=self._registry, format_checker=oas30_format_checker)
        return [self._describe(op, status, err) for err in validator.iter_errors(body)]

    @staticmethod
    def _describe(op: Operation, status: int, err: ValidationError) -> str:
        return f"{op.operation_id} {status} {_explain(err)}"

    def check(self, method: str, path: str, status: int, body: Any) -> None:
        """Raise ``AssertionError`` listing every violation (for tests)."""
        found = self.violations(method, path, status, body)
        if found:
            raise AssertionError(
                f"{method.upper()} {path} -> {status} does not conform to {self.name}:\n  " + "\n  ".join(found[:20])
            )


class SpecSet:
    """Several documents checked as one: a service whose API is published as one document per
    area (HubSpot: one per object type, owners, pipelines, properties, associations). A request
    is checked against the first document that has its operation."""

    def __init__(self, checkers: Sequence[SpecChecker], *, name: str) -> None:
        self.checkers = tuple(checkers)
        self.name = name

    def _owner(self, method: str, path: str) -> tuple[SpecChecker, Operation]:
        for checker in self.checkers:
            try:
                return checker, checker.operation(method, path)
            except KeyError:
                continue
        raise KeyError(f"{self.name}: no operation for {method.upper()} {path}")

    def operation(self, method: str, path: str) -> Operation:
        return self._owner(method, path)[1]

    def violations(self, method: str, path: str, status: int, body: Any) -> list[str]:
        return self._owner(method, path)[0].violations(method, path, status, body)

    def check(self, method: str, path: str, status: int, body: Any) -> None:
        self._owner(method, path)[0].check(method, path, status, body)


__all__ = ["Operation", "SpecChecker", "SpecSet"]
