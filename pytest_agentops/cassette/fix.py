"""``agentops cassettes audit --fix``: rewrite what the audit found to placeholders, atomically.

The same redactor that records rewrites the file (cassettes part by part, traces line by line,
other JSON as a whole, text files line by line), so a fixed file reads as if it had been recorded
with today's rules. The file is replaced in one rename: a crash never leaves half a file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_agentops.cassette import body as bodies
from pytest_agentops.cassette.format import compact_headers, dump, header_list, write_atomic
from pytest_agentops.cassette.record import redact_body
from pytest_agentops.cassette.redact import Redactor

_REQUEST_KEYS = frozenset({"request", "arguments", "request_body"})


def fix_file(path: Path, redactor: Redactor) -> bool:
    """Rewrite ``path`` with its secrets redacted; True when it changed."""
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    if path.suffix == ".jsonl":
        fixed = "".join(_fix_line(redactor, line) + "\n" for line in text.splitlines())
    elif path.suffix == ".json":
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if isinstance(document, dict) and isinstance(document.get("interactions"), list):
            document["interactions"] = [fix_interaction(redactor, it) for it in document["interactions"]]
            fixed = dump(document)
        elif document is not None:
            fixed = json.dumps(_fix_json(redactor, document), indent=2, ensure_ascii=False) + "\n"
        else:
            fixed = redactor.text(text)
    else:
        fixed = "".join(redactor.text(line) for line in text.splitlines(keepends=True))
    if fixed == text:
        return False
    write_atomic(path, fixed)
    return True


def _fix_line(redactor: Redactor, line: str) -> str:
    try:
        value = json.loads(line)
    except ValueError:
        return redactor.text(line)
    return json.dumps(_fix_json(redactor, value), ensure_ascii=False, separators=(", ", ": "))


def _fix_json(redactor: Redactor, value: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "url" and isinstance(item, str):
                out[key] = redactor.url(item)
            elif key in _REQUEST_KEYS:
                out[key] = redactor.request(item)
            else:
                out[key] = _fix_json(redactor, item)
        return out
    if isinstance(value, list):
        return [_fix_json(redactor, item) for item in value]
    return redactor.value(value)


def fix_interaction(redactor: Redactor, interaction: Any) -> Any:
    """One stored interaction redacted as the recorder would: request first (it learns the secrets)."""
    if not isinstance(interaction, dict):
        return interaction
    request = dict(interaction.get("request") or {})
    response = dict(interaction.get("response") or {})
    if isinstance(request.get("url"), str):
        request["url"] = redactor.url(request["url"])
    request["headers"] = _headers(redactor, request.get("headers"))
    request["body"] = _request_body(redactor, request.get("body"))
    response["headers"] = _headers(redactor, response.get("headers"))
    stored = response.get("body")
    if isinstance(stored, dict) and "base64" in stored:
        stored = bodies.encode(redactor.raw(bodies.decode(stored)))
    response["body"] = redact_body(redactor, stored) if isinstance(stored, dict) else stored
    return {**interaction, "request": request, "response": response}


def _headers(redactor: Redactor, headers: Any) -> Any:
    if not isinstance(headers, dict):
        return headers
    expanded = {str(k): header_list(v) if isinstance(v, str | list) else [str(v)] for k, v in headers.items()}
    return compact_headers(redactor.headers_dict(expanded))


def _request_body(redactor: Redactor, stored: Any) -> Any:
    if not isinstance(stored, dict):
        return stored
    if "json" in stored:
        return {**stored, "json": redactor.request(stored["json"])}
    if "form" in stored and isinstance(stored["form"], list):
        pairs = [tuple(p) for p in stored["form"] if isinstance(p, list | tuple) and len(p) == 2]
        return {**stored, "form": [list(p) for p in redactor.request({"__form__": pairs})["__form__"]]}
    if "text" in stored and isinstance(stored["text"], str):
        return {**stored, "text": redactor.request(stored["text"])}
    return stored
