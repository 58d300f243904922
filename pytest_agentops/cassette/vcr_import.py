"""Convert a vcrpy / pytest-recording cassette (YAML or JSON) into a pytest-agentops cassette.

Interactions are stored the way the tap records them: request bodies parsed and redacted for
matching, response bodies decompressed (gzip, deflate, ...) and stored in the most readable form
that writes back to the same bytes, secrets redacted, ``kind`` from the providers' detection.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from pytest_agentops.cassette import body as bodies
from pytest_agentops.cassette.errors import CassetteFormatError
from pytest_agentops.cassette.format import (
    FORMAT_VERSION,
    Interaction,
    build_meta,
    compact_headers,
    dump,
    store_request_body,
    write_atomic,
)
from pytest_agentops.cassette.matching import body_value
from pytest_agentops.cassette.record import redact_body
from pytest_agentops.cassette.redact import Redactor, active
from pytest_agentops.trace import providers

_DROPPED = ("content-length", "transfer-encoding")


def read_vcr(path: Path) -> dict[str, Any]:
    """The vcrpy document; any problem is a ``CassetteFormatError`` naming the file."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CassetteFormatError(path, "no such file") from exc
    except IsADirectoryError as exc:
        raise CassetteFormatError(path, "is a directory, not a vcrpy cassette") from exc
    except UnicodeDecodeError as exc:
        raise CassetteFormatError(path, f"not UTF-8 text ({exc})") from exc
    except OSError as exc:
        raise CassetteFormatError(path, f"cannot be read ({exc.strerror or exc})") from exc
    try:
        data = yaml.safe_load(text)  # handles !!binary, and JSON (vcrpy's json serializer)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CassetteFormatError(path, f"not valid YAML{where}: {problem}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteFormatError(path, "not a vcrpy cassette (expected a mapping with 'interactions' and 'version')")
    if data.get("version") != 1:
        raise CassetteFormatError(
            path,
            f"vcrpy cassette version {data.get('version')!r} is not supported (expected 1, as vcrpy >= 1.0 writes)",
        )
    return data


def _raw(value: Any, where: str, path: Path) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and set(value) <= {"string", "base64_string"}:
        if "base64_string" in value:
            return base64.b64decode(value["base64_string"])
        return _raw(value.get("string"), where, path)
    raise CassetteFormatError(path, f"{where} is not a string or binary ({type(value).__name__})")


def _headers(value: Any, where: str, path: Path) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CassetteFormatError(path, f"{where} is not a mapping")
    out: dict[str, list[str]] = {}
    for name, raw in value.items():
        items = raw if isinstance(raw, list) else [raw]
        out.setdefault(str(name).lower(), []).extend(
            item.decode("latin-1") if isinstance(item, bytes) else str(item) for item in items
        )
    return out


def _is_text(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _redact_request(redactor: Redactor, value: Any) -> Any:
    """As the tap redacts a live request: secret names (form pairs too) and secret values."""
    return redactor.request(value)


def convert_interaction(item: Any, index: int, path: Path, redactor: Redactor) -> Interaction:
    where = f"interactions[{index}]"
    if (
        not isinstance(item, dict)
        or not isinstance(item.get("request"), dict)
        or not isinstance(item.get("response"), dict)
    ):
        raise CassetteFormatError(path, f"{where} needs a 'request' and a 'response' mapping")
    request, response = item["request"], item["response"]
    method = str(request.get("method") or "").upper()
    url = request.get("uri") or request.get("url")
    if not method or not isinstance(url, str):
        raise CassetteFormatError(path, f"{where}.request needs 'method' and 'uri'")

    req_headers = _headers(request.get("headers"), f"{where}.request.headers", path)
    req_raw = _raw(request.get("body"), f"{where}.request.body", path)
    req_encoding = (req_headers.get("content-encoding") or [""])[0]
    if req_raw and req_encoding:
        req_raw = bodies.decompress(req_raw, req_encoding) or req_raw
    content_type = (req_headers.get("content-type") or [""])[0]
    request_body = _redact_request(redactor, body_value(req_raw, content_type))

    status = response.get("status")
    if isinstance(status, dict):
        code, reason = status.get("code"), str(status.get("message") or "")
    else:
        code, reason = status, ""
    if not isinstance(code, int) or not 100 <= code <= 599:
        raise CassetteFormatError(path, f"{where}.response.status {code!r} is not an HTTP status")
    resp_headers = _headers(response.get("headers"), f"{where}.response.headers", path)
    resp_raw = _raw(response.get("body"), f"{where}.response.body", path)
    encoding = (resp_headers.get("content-encoding") or [""])[0]
    if encoding:
        plain = bodies.decompress(resp_raw, encoding) if resp_raw else b""
        if plain is None and _is_text(resp_raw):
            plain = resp_raw  # vcrpy's requests/urllib3 stub stores the decoded body and keeps the header
        if plain is not None:
            resp_raw = plain
            resp_headers.pop("content-encoding", None)
    for name in _DROPPED:
        resp_headers.pop(name, None)
    resp_type = (resp_headers.get("content-type") or [""])[0]

    return {
        "kind": "model" if providers.detect_provider(method, url) else "tool",
        "request": {
            "method": method,
            "url": redactor.url(url),
            "headers": compact_headers(redactor.headers_dict(req_headers)),
            "body": store_request_body(request_body),
        },
        "response": {
            "status": code,
            "reason": reason,
            "headers": compact_headers(redactor.headers_dict(resp_headers)),
            "body": redact_body(redactor, bodies.encode(resp_raw, resp_type)),
        },
    }


def convert(path: Path, redactor: Redactor | None = None) -> dict[str, Any]:
    """The pytest-agentops cassette document for the vcrpy cassette at ``path``."""
    redactor = redactor or active()
    data = read_vcr(path)
    interactions = [convert_interaction(item, i, path, redactor) for i, item in enumerate(data["interactions"])]
    meta = build_meta(interactions)
    meta["imported_from"] = f"vcrpy cassette {path.name}"
    return {"version": FORMAT_VERSION, "meta": meta, "interactions": interactions}


def default_output(path: Path) -> Path:
    return path.with_suffix(".json")


def import_file(source: Path, output: Path | None = None, *, force: bool = False) -> tuple[Path, dict[str, Any]]:
    """Convert ``source`` and write it (atomically) to ``output``; returns the path and document."""
    target = output or default_output(source)
    if target.resolve() == source.resolve():
        raise CassetteFormatError(source, "output would overwrite the vcrpy cassette itself; pass -o OUT.json")
    if target.exists() and not force:
        raise CassetteFormatError(target, "already exists; pass --force to overwrite it")
    document = convert(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, dump(document))
    return target, document
