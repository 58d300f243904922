"""Which MCP server a URL is, and what its ``tools/list`` said about each tool.

The name a tool call gets (``mcp.<server>.<tool>``) is the user's first (``register_mcp_server``,
the ini key ``agentops_mcp_servers``), else the one the server announces (``serverInfo.name`` in
the initialize answer, or in a 2026 answer's ``_meta``), learned as answers go by: recorded
answers replayed from a cassette teach the same names, so a replayed run is named like the
recorded one. A simulator's tools keep their own names (``billing.refunds.create``).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pytest_agentops.trace.warning import AgentopsWarning

_SERVER_INFO = "io.modelcontextprotocol/serverInfo"
_NOT_NAME = re.compile(r"[^a-z0-9_-]")


@dataclass(slots=True)
class ToolInfo:
    """What ``tools/list`` said about one tool."""

    read_only: bool = False
    schema: dict[str, Any] | None = None


@dataclass(slots=True)
class _Known:
    named: dict[str, str] = field(default_factory=dict)  # url -> the user's name
    announced: dict[str, str] = field(default_factory=dict)  # url -> the server's own name
    simulators: set[str] = field(default_factory=set)  # urls whose tools keep their own names
    tools: dict[str, dict[str, ToolInfo]] = field(default_factory=dict)  # url -> tool -> info
    unnamed: set[str] = field(default_factory=set)  # urls already warned about


_known = _Known()
_lock = threading.Lock()


def key(url: str) -> str:
    """A URL as the registry keys it: no query, fragment, userinfo or trailing slash; lower-cased host."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.rpartition('@')[2].lower()}{parts.path.rstrip('/')}"


def normalise(name: str) -> str:
    """A server name as a tool-name segment: lower-cased, anything outside ``[a-z0-9_-]`` as ``_``."""
    return _NOT_NAME.sub("_", name.strip().lower())


def register_mcp_server(name: str, url: str) -> None:
    """Name the MCP server at ``url``: its tools become ``mcp.<name>.<tool>`` for the policy and the trace."""
    if not name or not isinstance(name, str):
        raise ValueError(f"register_mcp_server: a server needs a non-empty name (got {name!r} for {url!r})")
    if not urlsplit(url).scheme:
        raise ValueError(f"register_mcp_server({name!r}, {url!r}): the URL needs a scheme (http://...)")
    with _lock:
        _known.named[key(url)] = normalise(name)


def register_simulator(url: str) -> None:
    """The MCP server at ``url`` is a simulator: its tool names are already policy names."""
    with _lock:
        _known.simulators.add(key(url))


def configure(lines: list[str]) -> None:
    """The ini key ``agentops_mcp_servers``: one ``name = url`` a line."""
    for line in lines:
        name, sep, url = line.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise ValueError(f"agentops_mcp_servers: {line!r} is not 'name = url'")
        register_mcp_server(name.strip(), url.strip())


def forget(url: str) -> None:
    """Forget what was said about the server at ``url``: its port closed, and the next server that
    listens there (a port is reused) is another one, with its own name and tools."""
    k = key(url)
    with _lock:
        _known.named.pop(k, None)
        _known.announced.pop(k, None)
        _known.tools.pop(k, None)
        _known.simulators.discard(k)
        _known.unnamed.discard(k)


def is_known(url: str) -> bool:
    k = key(url)
    return k in _known.named or k in _known.announced or k in _known.simulators


def server_of(url: str) -> str | None:
    """The server's name for tool names, or None when nobody named it yet."""
    k = key(url)
    return _known.named.get(k) or _known.announced.get(k)


def tool_name(url: str, tool: str) -> str:
    """The policy name of ``tool`` on the server at ``url``."""
    k = key(url)
    if k in _known.simulators or _simulator(url):
        # A simulator's tools are its policy names; ``?names=dashed`` lists them with dashes.
        return tool if "." in tool else tool.replace("-", ".")
    server = _known.named.get(k) or _known.announced.get(k)
    if server is None:
        server = _fallback(url)
    return f"mcp.{server}.{tool}"


def _simulator(url: str) -> bool:
    """Whether a simulator mounted on the tap or served on a port answers MCP at ``url``."""
    return simulator_name(url) is not None


def simulator_name(url: str) -> str | None:
    """The simulator answering MCP at ``url`` (mounted on the tap or served on a port), if one does."""
    if not urlsplit(url).path.rstrip("/").endswith("/mcp"):
        return None
    from pytest_agentops.backends import sims

    find = getattr(sims, "mcp_simulator", None)  # the simulators' side (backends.sims) names its endpoints
    found = find(url) if find is not None else None
    return str(found) if found is not None else None


def host_name(url: str) -> str:
    """The name of a server that never said its own: its host and port."""
    parts = urlsplit(url)
    return normalise(f"{parts.hostname or 'server'}_{parts.port or ''}".rstrip("_"))


def _fallback(url: str) -> str:
    """A server that never said its name: named after its address, with one warning naming it."""
    import warnings

    name = host_name(url)
    k = key(url)
    if k not in _known.unnamed:
        _known.unnamed.add(k)
        warnings.warn(
            AgentopsWarning(
                f"the MCP server at {k} announced no serverInfo.name (no initialize or discover answer "
                f"naming it was seen); its tools are named mcp.{name}.<tool>. Name it with "
                f"pytest_agentops.register_mcp_server('NAME', {k!r}) or the ini key agentops_mcp_servers"
            ),
            stacklevel=2,
        )
    return name


def tool_info(url: str, tool: str) -> ToolInfo | None:
    return _known.tools.get(key(url), {}).get(tool)


def learn(url: str, method: str, answer: dict[str, Any]) -> None:
    """Learn the server's name and tools from an answer (live, or replayed from a cassette)."""
    result = answer.get("result")
    if not isinstance(result, dict):
        return
    k = key(url)
    info = result.get("serverInfo")
    if not isinstance(info, dict):
        meta = result.get("_meta")
        info = meta.get(_SERVER_INFO) if isinstance(meta, dict) else None
    if isinstance(info, dict) and isinstance(info.get("name"), str) and info["name"].strip():
        with _lock:
            _known.announced[k] = normalise(info["name"])
    if method == "tools/list" and isinstance(result.get("tools"), list):
        found = {}
        for tool in result["tools"]:
            if isinstance(tool, dict) and isinstance(tool.get("name"), str):
                annotations = tool.get("annotations")
                schema = tool.get("inputSchema")
                read_only = isinstance(annotations, dict) and annotations.get("readOnlyHint") is True
                found[tool["name"]] = ToolInfo(read_only, schema if isinstance(schema, dict) else None)
        with _lock:
            _known.tools.setdefault(k, {}).update(found)
