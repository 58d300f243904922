"""Strict offline mode: no socket to a non-loopback address, for any client, for the whole session.

The guard sits at the lowest Python level every client shares (``socket.socket.connect`` and name
resolution), so plain sockets, httpx, requests and aiohttp are all covered, and a blocked attempt
names the test that made it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

current_test = "(outside a test)"
on_block: Callable[[str], None] | None = None

_originals: dict[str, Any] = {}
_depth = 0  # install() calls not yet undone
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""})


class NetworkBlockedError(ConnectionRefusedError):
    """Raised instead of connecting; a ConnectionRefusedError so clients fail fast, not hang."""


def _is_local_host(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]").lower()
    if host in _LOCAL_NAMES:
        return True
    try:
        addr = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback or addr.is_unspecified


def _block(what: str) -> NetworkBlockedError:
    message = (
        f"pytest-agentops --agent-replay: test {current_test} tried to {what}; replay mode allows "
        "loopback only. Serve this request from a cassette (record it with --agent-record), a "
        "simulator or the fake model."
    )
    if on_block is not None:
        on_block(message)
    return NetworkBlockedError(message)


def _check_address(sock: socket.socket, address: Any) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
        return
    host, port = address[0], address[1]
    if not _is_local_host(host):
        where = f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"  # IPv6 as in a URL
        raise _block(f"open a socket to {where}")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check_address(self, address)
    _originals["connect"](self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check_address(self, address)
    result: int = _originals["connect_ex"](self, address)
    return result


def _is_ip_literal(host: Any) -> bool:
    text = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    try:
        ipaddress.ip_address(text.strip("[]").split("%")[0])
    except ValueError:
        return False
    return True


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    # An address literal needs no lookup; the connect that follows is what gets checked.
    if not _is_local_host(host) and not _is_ip_literal(host):
        raise _block(f"resolve the host name {host!r}")
    return _originals["getaddrinfo"](host, *args, **kwargs)


def install() -> None:
    """Install the guard; nested sessions (pytester in-process) each install, and nest."""
    global _depth
    _depth += 1
    if _originals:
        return
    _originals["connect"] = socket.socket.connect
    _originals["connect_ex"] = socket.socket.connect_ex
    _originals["getaddrinfo"] = socket.getaddrinfo
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = _guarded_getaddrinfo


def uninstall() -> None:
    """Undo one ``install()``: an inner session ending must not lift the outer session's guard."""
    global _depth
    if _depth == 0:
        return
    _depth -= 1
    if _depth or not _originals:
        return
    socket.socket.connect = _originals.pop("connect")  # type: ignore[method-assign]
    socket.socket.connect_ex = _originals.pop("connect_ex")  # type: ignore[method-assign]
    socket.getaddrinfo = _originals.pop("getaddrinfo")


def installed() -> bool:
    return bool(_originals)
