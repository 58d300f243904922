"""OpenAPI 3.1 generated from the route table and its pydantic models.

The document is derived, never hand-written, so it cannot drift from what ``handle()``
validates. It is built once per simulator class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

if TYPE_CHECKING:
    from simulators.core.routing import Route
    from simulators.core.simulator import Simulator

_REF = "#/components/schemas/{model}"
_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"


def _core_schema(tp: Any) -> Any:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp.__pydantic_core_schema__
    return TypeAdapter(tp).core_schema


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        target = defs.get(ref.rsplit("/", 1)[1])
        if isinstance(target, dict):
            return target
    return schema


@dataclass(frozen=True, slots=True)
class _Schemas:
    """The JSON schemas of every model the routes name, generated in one pass so that a model two
    routes share is one definition under ``components/schemas``."""

    key_map: Any
    defs: dict[str, Any]

    def ref(self, tp: Any, mode: str) -> dict[str, Any]:
        return dict(self.key_map[((id(tp), mode), mode)])

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        return _resolve(schema, self.defs)


def _schemas(cls: type[Simulator], error_model: Any) -> _Schemas:
    inputs: list[tuple[Any, Any, Any]] = []
    seen: set[tuple[int, str]] = set()

    def want(tp: Any, mode: str) -> None:
        if tp is None or (id(tp), mode) in seen:
            return
        seen.add((id(tp), mode))
        inputs.append(((id(tp), mode), mode, _core_schema(tp)))

    want(error_model, "serialization")
    for r in cls.routes:
        want(r.params, "validation")
        want(r.response, "serialization")
    gen = GenerateJsonSchema(ref_template=_REF)
    key_map, defs_wrapper = gen.generate_definitions(inputs)
    return _Schemas(key_map, {str(k): v for k, v in defs_wrapper.items()})


def build_openapi(cls: type[Simulator]) -> dict[str, Any]:
    error_model = cls.error_model()
    schemas = _schemas(cls, error_model)
    error_ref = schemas.ref(error_model, "serialization")
    paths: dict[str, dict[str, Any]] = {}
    for r in cls.routes:
        paths.setdefault(r.path, {})[r.method.lower()] = _operation(cls, r, schemas, error_ref)
    paths["/openapi.json"] = {
        "get": {
            "operationId": f"{cls.name}.openapi",
            "summary": "This document.",
            "security": [],
            "responses": {"200": {"description": "OpenAPI document", "content": {_JSON: {"schema": {}}}}},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": cls.title or f"{cls.name} simulator",
            "version": cls.api_version,
            "description": f"In-memory simulator `{cls.name}` (pytest-agentops). Tool names are "
            "`x-agentops-tool`; writes are `x-agentops-kind: write`.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas.defs,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "basicAuth": {"type": "http", "scheme": "basic"},
            },
        },
        "security": [{"bearerAuth": []}, {"basicAuth": []}],
        "x-agentops-error-codes": {
            code: {"status": status, "description": text} for code, (status, text) in cls.all_error_codes().items()
        },
    }


def _operation(cls: type[Simulator], r: Route, schemas: _Schemas, error_ref: dict[str, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in r.path_params
    ]
    op: dict[str, Any] = {
        "operationId": r.tool,
        "summary": r.summary or r.tool,
        "tags": [r.resource],
        "x-agentops-tool": r.tool,
        "x-agentops-kind": r.kind,
    }
    if r.errors:
        op["x-agentops-errors"] = list(r.errors)
    if r.params is not None:
        params_ref = schemas.ref(r.params, "validation")
        model_schema = schemas.resolve(params_ref)
        if r.method in cls.query_methods:
            parameters.extend(_query_parameters(model_schema, schemas))
        else:
            op["requestBody"] = {
                "required": bool(model_schema.get("required")),
                "content": {_FORM if cls.body_format == "form" else _JSON: {"schema": params_ref}},
            }
    if r.accepts_idempotency_key:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 255},
                "description": "Replays the first result for 24 simulated hours.",
            }
        )
    if parameters:
        op["parameters"] = parameters
    op["responses"] = _responses(r, schemas, error_ref)
    return op


def _query_parameters(model_schema: dict[str, Any], schemas: _Schemas) -> list[dict[str, Any]]:
    """One query parameter per field; nested values say how they are spelled in the query string."""
    required = set(model_schema.get("required", []))
    out: list[dict[str, Any]] = []
    for fname, fschema in model_schema.get("properties", {}).items():
        param: dict[str, Any] = {"name": fname, "in": "query", "required": fname in required, "schema": fschema}
        resolved = schemas.resolve(fschema)
        if resolved.get("type") in ("object", "array") or "anyOf" in resolved:
            param["style"] = "deepObject" if resolved.get("type") == "object" else "form"
            param["explode"] = True
        out.append(param)
    return out


def _responses(r: Route, schemas: _Schemas, error_ref: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status in r.statuses:
        if status == 204:
            responses["204"] = {"description": "No content"}
            continue
        ok: dict[str, Any] = {"description": "Success"}
        if r.response is not None:
            ok["content"] = {_JSON: {"schema": schemas.ref(r.response, "serialization")}}
        responses[str(status)] = ok
    return {
        **responses,
        "default": {
            "description": "Error; `code` is one of x-agentops-error-codes.",
            "content": {_JSON: {"schema": error_ref}},
        },
    }
