"""The socket-free request/response pair that every transport speaks, and body decoding.

A transport (in-process interception, the loopback server, an httpx transport) converts its
own request into ``Simulator.handle(method, url, headers, body)`` and turns the returned
:class:`SimResponse` back into its own response, or into a client-side error when ``fault``
says the connection was dropped or timed out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

from simulators.core.errors import SimError

#: Outcomes that have no HTTP response at all; the transport must raise the client error.
Fault = Literal["drop", "timeout"]

_MAX_DEPTH = 8


@dataclass(slots=True)
class SimResponse:
    """One simulated HTTP answer.

    ``fault`` is ``"drop"`` (connection closed, no response: raise a connection error) or
    ``"timeout"`` (no response in time: raise a read timeout); then ``status`` is 0 and the
    other fields are empty, so a transport that forgets to check cannot pass it off as real.
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    fault: Fault | None = None

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def ok(self) -> bool:
        return self.fault is None and 200 <= self.status < 300


def _split_key(key: str) -> list[str]:
    """``metadata[a][b]`` -> ``["metadata", "a", "b"]``; ``expand[]`` -> ``["expand", ""]``."""
    i = key.find("[")
    if i <= 0 or not key.endswith("]"):
        return [key]
    parts = [key[:i]]
    rest = key[i:]
    while rest:
        if not rest.startswith("["):
            raise SimError("body_invalid", f"Malformed parameter name: {key}", param=key)
        j = rest.find("]")
        if j < 0:
            raise SimError("body_invalid", f"Malformed parameter name: {key}", param=key)
        parts.append(rest[1:j])
        rest = rest[j + 1 :]
    if len(parts) > _MAX_DEPTH:
        raise SimError("body_invalid", f"Parameter nested too deeply: {key}", param=key)
    return parts


def _listify(node: Any) -> Any:
    """Dicts keyed ``"0".."n-1"`` become lists: Stripe's SDK sends arrays as ``a[0]=x``."""
    if isinstance(node, dict):
        for k, v in node.items():
            node[k] = _listify(v)
        if node and all(k.isdigit() for k in node):
            idx = sorted(node, key=int)
            if [int(k) for k in idx] == list(range(len(idx))):
                return [node[k] for k in idx]
    elif isinstance(node, list):
        return [_listify(v) for v in node]
    return node


def decode_form(text: str) -> dict[str, Any]:
    """Decode an urlencoded string with bracket notation into nested dicts and lists.

    ``a=1&a=2`` (a repeated plain key) becomes a list too, which the HubSpot-style query
    strings of other simulators need.
    """
    if not text:
        return {}
    out: dict[str, Any] = {}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=1000)
    except ValueError as exc:
        raise SimError("body_invalid", f"Could not decode form body: {exc}") from None
    nested = False
    for key, value in pairs:
        if "[" not in key:
            prev = out.get(key)
            if prev is None:
                out[key] = value
            elif isinstance(prev, list):
                prev.append(value)
            elif isinstance(prev, str):
                out[key] = [prev, value]
            else:
                raise SimError("body_invalid", f"Conflicting values for {key}", param=key)
            continue
        nested = True
        parts = _split_key(key)
        node: Any = out
        for depth, part in enumerate(parts[:-1]):
            nxt_is_append = parts[depth + 1] == ""
            if isinstance(node, list):
                raise SimError("body_invalid", f"Conflicting values for {key}", param=key)
            child = node.get(part)
            if child is None:
                child = [] if nxt_is_append else {}
                node[part] = child
            elif not isinstance(child, list if nxt_is_append else dict):
                raise SimError("body_invalid", f"Conflicting values for {key}", param=key)
            node = child
        last = parts[-1]
        if last == "":
            if not isinstance(node, list):
                raise SimError("body_invalid", f"Conflicting values for {key}", param=key)
            node.append(value)
        else:
            if not isinstance(node, dict) or isinstance(node.get(last), dict | list):
                raise SimError("body_invalid", f"Conflicting values for {key}", param=key)
            node[last] = value
    result: dict[str, Any] = _listify(out) if nested else out
    return result


def decode_json(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SimError("body_invalid", f"Request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SimError("body_invalid", "Request body must be a JSON object.")
    return data


def decode_body(body: bytes, content_type: str | None, default: Literal["form", "json"]) -> dict[str, Any]:
    """Decode by the request's Content-Type, falling back to the service's native format."""
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ctype == "application/json" or ctype.endswith("+json"):
        return decode_json(body)
    if ctype == "application/x-www-form-urlencoded" or (not ctype and default == "form"):
        try:
            return decode_form(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise SimError("body_invalid", "Form body is not UTF-8.") from None
    if not ctype:
        return decode_json(body)
    if not body:
        return {}
    raise SimError("body_invalid", f"Unsupported Content-Type: {ctype}")


# Built once: json.dumps with any option set builds a new encoder on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def canonical(params: Any) -> str:
    """A stable text form of decoded parameters, for idempotency and duplicate detection."""
    return _CANONICAL.encode(params)
