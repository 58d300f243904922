"""Strict offline mode: no traffic to a non-loopback address, for any client, for the whole session.

Three layers, because each closes what the one above cannot see:

- patches on ``socket.socket`` (connect, connect_ex, sendto, sendmsg) and on the name lookups
  (getaddrinfo, gethostbyname(_ex), gethostbyaddr, getnameinfo) refuse before C resolves a name,
  so not even a DNS query leaves;
- an audit hook (``sys.addaudithook``) sees the same calls made below the class, on a bare
  ``_socket.socket`` or ``socket.socket.__mro__[1].connect``, and ctypes looking up libc's
  network functions;
- Python subprocesses inherit the guard: ``offline_site/sitecustomize.py`` comes first on their
  ``PYTHONPATH`` and installs it again, reporting blocked attempts back to the session.

A connect made by C code (curl, a C extension, a ctypes pointer taken before the session) is not
visible from Python at all: ``--agent-netns`` (``pytest_agentops.tap.netns``) covers that.

This module uses the standard library only: a subprocess loads it by file path when it cannot
import pytest_agentops (another interpreter).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import sys
import tempfile
from collections.abc import Callable
from typing import Any

current_test = "(outside a test)"
on_block: Callable[[str], None] | None = None

ENV_ON = "AGENTOPS_NETGUARD"  # "1": a Python subprocess installs the guard at start-up
ENV_TEST = "AGENTOPS_NETGUARD_TEST"  # the test that started the subprocess
ENV_REPORT = "AGENTOPS_NETGUARD_REPORT"  # file subprocesses append their blocked attempts to
SITE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "offline_site")

_originals: dict[str, Any] = {}
_depth = 0  # install() calls not yet undone
_hooked = False  # the audit hook is registered (it cannot be removed; it checks _depth)
_saved_env: dict[str, str | None] = {}
_exported_at = 0  # the install() depth that pointed subprocesses here, 0: none
_report_path = ""  # this process's report file (its subprocesses write to it)
_report_offset = 0
# One byte a subprocess sets (in ``<report>.flag``) after appending a report, mapped here: a test's
# two checks for reports read memory instead of asking the kernel (two stats were ~18 µs a test).
_flag: Any = None
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""})
_INET = (socket.AF_INET, socket.AF_INET6)
# libc functions that open connections or resolve names; ctypes looking one up is refused.
_C_NETWORK = frozenset(
    {
        "connect",
        "sendto",
        "sendmsg",
        "sendmmsg",
        "getaddrinfo",
        "gethostbyname",
        "gethostbyname2",
        "gethostbyname_r",
        "gethostbyname2_r",
        "gethostbyaddr",
        "getnameinfo",
        "res_query",
        "res_search",
        "res_send",
        "res_nquery",
        "res_nsearch",
        "res_nsend",
    }
)


class NetworkBlockedError(ConnectionRefusedError):
    """Raised instead of connecting; a ConnectionRefusedError so clients fail fast, not hang."""


# ---- what counts as local ---------------------------------------------------------------------


def _text(host: Any) -> str:
    if isinstance(host, bytes):
        return host.decode("ascii", "replace")
    return str(host)


def _ip(host: Any) -> Any:
    """The address ``host`` spells (IPv4-mapped IPv6 unwrapped), or None for a name."""
    try:
        addr = ipaddress.ip_address(_text(host).strip("[]").split("%")[0])
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _is_local_host(host: Any) -> bool:
    if host is None or _text(host).strip("[]").lower() in _LOCAL_NAMES:
        return True
    addr = _ip(host)
    return addr is not None and (addr.is_loopback or addr.is_unspecified)


def _is_ip_literal(host: Any) -> bool:
    return _ip(host) is not None


def _where(address: Any) -> str:
    host, port = address[0], address[1]
    host = _text(host)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"  # IPv6 as in a URL


# ---- refusing ---------------------------------------------------------------------------------


def _block(what: str, call: str) -> NetworkBlockedError:
    message = (
        f"pytest-agentops --agent-replay: test {current_test} tried to {what}; replay mode allows "
        "loopback only. Serve this request from a cassette (record it with --agent-record), a "
        f"simulator or the fake model. (blocked call: {call})"
    )
    if on_block is not None:
        on_block(message)
    return NetworkBlockedError(message)


def _check_address(sock: Any, address: Any, verb: str, call: str) -> None:
    """Refuse ``verb`` (connect, datagram) to a non-loopback INET address, named or numeric."""
    if getattr(sock, "family", None) not in _INET or not isinstance(address, tuple) or len(address) < 2:
        return
    if not _is_local_host(address[0]):
        raise _block(f"{verb} {_where(address)}", call)


def _check_lookup(host: Any, call: str) -> None:
    """A name needs a DNS query; an address literal does not (its connect is what gets checked)."""
    if not _is_local_host(host) and not _is_ip_literal(host):
        raise _block(f"resolve the host name {_text(host)!r}", f"{call}({_text(host)!r})")


def _check_reverse(host: Any, call: str) -> None:
    """A reverse lookup of any non-loopback address asks DNS."""
    if not _is_local_host(host):
        raise _block(f"look up the name of the address {_text(host)!r}", f"{call}({_text(host)!r})")


# ---- layer 1: patches on the socket module ----------------------------------------------------


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check_address(self, address, "open a socket to", "socket.socket.connect")
    _originals["connect"](self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check_address(self, address, "open a socket to", "socket.socket.connect_ex")
    result: int = _originals["connect_ex"](self, address)
    return result


def _guarded_sendto(self: socket.socket, data: Any, *rest: Any) -> int:
    if rest:
        _check_address(self, rest[-1], "send a datagram to", "socket.socket.sendto")
    result: int = _originals["sendto"](self, data, *rest)
    return result


def _guarded_sendmsg(self: socket.socket, buffers: Any, *rest: Any, **kwargs: Any) -> int:
    address = kwargs.get("address", rest[2] if len(rest) > 2 else None)
    if address is not None:
        _check_address(self, address, "send a datagram to", "socket.socket.sendmsg")
    result: int = _originals["sendmsg"](self, buffers, *rest, **kwargs)
    return result


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    _check_lookup(host, "socket.getaddrinfo")
    return _originals["getaddrinfo"](host, *args, **kwargs)


def _guarded_gethostbyname(host: Any) -> Any:
    _check_lookup(host, "socket.gethostbyname")
    return _originals["gethostbyname"](host)


def _guarded_gethostbyname_ex(host: Any) -> Any:
    _check_lookup(host, "socket.gethostbyname_ex")
    return _originals["gethostbyname_ex"](host)


def _guarded_gethostbyaddr(host: Any) -> Any:
    _check_reverse(host, "socket.gethostbyaddr")
    return _originals["gethostbyaddr"](host)


def _guarded_getnameinfo(sockaddr: Any, flags: int) -> Any:
    if isinstance(sockaddr, tuple) and sockaddr and not flags & socket.NI_NUMERICHOST:
        _check_reverse(sockaddr[0], "socket.getnameinfo")
    return _originals["getnameinfo"](sockaddr, flags)


_SOCKET_METHODS = {
    "connect": _guarded_connect,
    "connect_ex": _guarded_connect_ex,
    "sendto": _guarded_sendto,
    "sendmsg": _guarded_sendmsg,
}
_MODULE_FUNCTIONS = {
    "getaddrinfo": _guarded_getaddrinfo,
    "gethostbyname": _guarded_gethostbyname,
    "gethostbyname_ex": _guarded_gethostbyname_ex,
    "gethostbyaddr": _guarded_gethostbyaddr,
    "getnameinfo": _guarded_getnameinfo,
}


def _patch() -> None:
    for name, guarded in _SOCKET_METHODS.items():
        _originals[name] = getattr(socket.socket, name)
        setattr(socket.socket, name, guarded)
    for name, guarded in _MODULE_FUNCTIONS.items():
        _originals[name] = getattr(socket, name)
        setattr(socket, name, guarded)


def _unpatch() -> None:
    for name in _SOCKET_METHODS:
        setattr(socket.socket, name, _originals.pop(name))
    for name in _MODULE_FUNCTIONS:
        setattr(socket, name, _originals.pop(name))


# ---- layer 2: the audit hook (below the class, ctypes, subprocess start) ----------------------


def _audit(event: str, args: tuple[Any, ...]) -> None:
    handler = _AUDITED.get(event)
    if handler is not None and _depth:
        handler(args)


def _audit_connect(args: tuple[Any, ...]) -> None:
    _check_address(args[0], args[1], "open a socket to", "connect below socket.socket (audit event socket.connect)")


def _audit_sendto(args: tuple[Any, ...]) -> None:
    _check_address(args[0], args[1], "send a datagram to", "sendto below socket.socket (audit event socket.sendto)")


def _audit_sendmsg(args: tuple[Any, ...]) -> None:
    if args[1] is not None:
        _check_address(
            args[0], args[1], "send a datagram to", "sendmsg below socket.socket (audit event socket.sendmsg)"
        )


def _audit_dlsym(args: tuple[Any, ...]) -> None:
    if isinstance(args[1], str) and args[1] in _C_NETWORK:
        raise _block(
            f"call libc's {args[1]}() through ctypes (the address it would reach is out of Python's sight)",
            f"ctypes lookup of {args[1]!r} (audit event ctypes.dlsym); --agent-netns isolates C code too",
        )


def _audit_spawn(args: tuple[Any, ...]) -> None:
    """A subprocess is starting: hand it the guard and the name of the test starting it."""
    os.environ[ENV_TEST] = current_test
    env = args[3] if len(args) > 3 else None
    if isinstance(env, dict):  # an explicit env= would otherwise drop the guard
        env.update(_child_env(env.get("PYTHONPATH")))


_AUDITED: dict[str, Callable[[tuple[Any, ...]], None]] = {
    "socket.connect": _audit_connect,
    "socket.sendto": _audit_sendto,
    "socket.sendmsg": _audit_sendmsg,
    "socket.getaddrinfo": lambda args: _check_lookup(args[0], "_socket.getaddrinfo"),
    "socket.gethostbyname": lambda args: _check_lookup(args[0], "_socket.gethostbyname"),
    "socket.gethostbyaddr": lambda args: _check_reverse(args[0], "_socket.gethostbyaddr"),
    "ctypes.dlsym": _audit_dlsym,
    "subprocess.Popen": _audit_spawn,
    "os.system": lambda args: os.environ.__setitem__(ENV_TEST, current_test),
    "os.posix_spawn": lambda args: os.environ.__setitem__(ENV_TEST, current_test),
}


# ---- layer 3: subprocesses --------------------------------------------------------------------


def _child_env(pythonpath: str | None) -> dict[str, str]:
    parts = [p for p in (pythonpath or "").split(os.pathsep) if p and p != SITE_DIR]
    return {
        ENV_ON: "1",
        ENV_TEST: current_test,
        ENV_REPORT: os.environ.get(ENV_REPORT, ""),
        "PYTHONPATH": os.pathsep.join([SITE_DIR, *parts]),
    }


def _export() -> None:
    """Point this process's future subprocesses at the guard and at a report file of its own."""
    global _report_path, _report_offset
    fd, _report_path = tempfile.mkstemp(prefix="agentops-netguard-", suffix=".log")
    os.close(fd)
    _report_offset = 0
    _map_flag(_flag_path(_report_path))
    values = _child_env(os.environ.get("PYTHONPATH"))
    values[ENV_REPORT] = _report_path
    for name, value in values.items():
        _saved_env[name] = os.environ.get(name)
        os.environ[name] = value


def _unexport() -> None:
    global _report_path
    for name, value in _saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _saved_env.clear()
    _unmap_flag()
    for path in (_report_path, _flag_path(_report_path)):
        with contextlib.suppress(OSError):
            os.unlink(path)
    _report_path = ""


def _flag_path(report: str) -> str:
    return report + ".flag"


def _map_flag(path: str) -> None:
    """The flag file, one zero byte, mapped shared; where mapping fails the checks stat the report."""
    global _flag
    import mmap

    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)  # as mkstemp
    except OSError:
        _flag = None
        return
    try:
        os.write(fd, b"\0")
        _flag = mmap.mmap(fd, 1)
    except (OSError, ValueError):
        _flag = None
    finally:
        os.close(fd)  # the mapping stays


def _unmap_flag() -> None:
    global _flag
    flag, _flag = _flag, None
    if flag is not None:
        with contextlib.suppress(OSError, ValueError, BufferError):
            flag.close()


def collect_subprocess_reports() -> list[str]:
    """Blocked attempts this process's subprocesses reported since the last call; each also goes
    to ``on_block``, so the test running now fails naming it."""
    global _report_offset
    if not _report_path:
        return []
    flag = _flag
    try:
        if flag is not None:
            if not flag[0]:  # no subprocess reported since the last look
                return []
            flag[0] = 0  # before reading: a report appended after the read sets it again
        elif os.stat(_report_path).st_size <= _report_offset:  # nothing new
            return []
        with open(_report_path, "rb") as fh:
            fh.seek(_report_offset)
            data = fh.read()
    except OSError:
        return []
    complete = data[: data.rfind(b"\n") + 1]
    _report_offset += len(complete)
    messages = [line.replace("\\n", "\n") for line in complete.decode("utf-8", "replace").splitlines() if line]
    if on_block is not None:
        for message in messages:
            on_block(message)
    return messages


def _report_to_parent(message: str) -> None:
    """A subprocess's refusal: on its stderr, and appended to the parent's report file."""
    path = os.environ.get(ENV_REPORT)
    if path:
        with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as fh:
            fh.write(message.replace("\n", "\\n") + "\n")
        with contextlib.suppress(OSError), open(_flag_path(path), "r+b") as fh:  # after the line: see collect
            fh.write(b"\1")
    sys.stderr.write(message + "\n")


def _subprocess_reporter(label: str) -> Callable[[str], None]:
    def report(message: str) -> None:
        _report_to_parent(message.replace(" tried to ", f" ({label}) tried to ", 1))

    return report


def install_inherited() -> None:
    """In a subprocess (from sitecustomize): the guard, naming the parent's test, reporting to it."""
    global current_test, on_block
    current_test = os.environ.get(ENV_TEST) or current_test
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    on_block = _subprocess_reporter(f"in subprocess {os.getpid()}, {name or 'python'}")
    install(export=False)


# ---- installing -------------------------------------------------------------------------------


def install(export: bool = True) -> None:
    """Install the guard; nested sessions (pytester in-process) each install, and nest.

    ``export`` also hands the guard to subprocesses started from now on (the session's install;
    a subprocess's inherited install does not, its environment already carries it).
    """
    global _depth, _hooked, _exported_at
    _depth += 1
    if not _originals:
        _patch()
    if not _hooked:
        sys.addaudithook(_audit)
        _hooked = True
    if export and not _exported_at:
        _export()
        _exported_at = _depth


def uninstall() -> None:
    """Undo one ``install()``: an inner session ending must not lift the outer session's guard."""
    global _depth, _exported_at
    if _depth == 0:
        return
    if _depth == _exported_at:
        _unexport()
        _exported_at = 0
    _depth -= 1
    if not _depth and _originals:
        _unpatch()


def installed() -> bool:
    return bool(_originals)


def _adopt_inherited() -> None:
    """In a subprocess, sitecustomize loaded this file as ``_agentops_netguard`` before pytest
    imported the plugin: the plugin then uses that module, so one guard holds one state."""
    inherited = sys.modules.get("_agentops_netguard")
    if inherited is None or __name__ == "_agentops_netguard":
        return
    if os.path.abspath(getattr(inherited, "__file__", "") or "") == os.path.abspath(__file__):
        sys.modules[__name__] = inherited


_adopt_inherited()
