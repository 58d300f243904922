"""``--agent-netns``: re-run the session in a fresh Linux network namespace holding only loopback.

The socket guard (``netguard``) sees what Python does; C code (curl, a C extension, ``libc.connect``
through a ctypes pointer) is out of its sight. A network namespace with nothing but ``lo`` is
enforced by the kernel, for every process and language: 127.0.0.1 and ::1 work, anything else is
"Network is unreachable", and DNS has no server to reach.

The session's pytest process starts ``python -m pytest_agentops.tap.netns ARGS``; that fresh,
single-threaded process calls ``unshare(2)`` (a new user namespace too when it is not root, which
GitHub's Linux runners allow), brings ``lo`` up, and then replaces itself with ``pytest ARGS``;
its exit status becomes the session's.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
from collections.abc import Sequence

ENV_ACTIVE = "AGENTOPS_NETNS"  # set in the re-run: that session is already isolated
ENV_RUNNER = "AGENTOPS_NETNS_RUNNER"  # "module" or the script path the session was started with
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_IFREQ_PAD = bytes(40 - 18)  # struct ifreq: 16-byte name, then a union of 24 bytes; flags come first
USAGE_ERROR = 4  # pytest's ExitCode.USAGE_ERROR


class NamespaceUnavailable(Exception):
    """The OS refuses a new network namespace here; the message says why and what to do."""


def active() -> bool:
    return os.environ.get(ENV_ACTIVE) == "1"


def rerun(args: Sequence[str], cwd: str) -> int:
    """Run this session again, isolated; returns its exit status."""
    if not sys.platform.startswith("linux"):
        raise NamespaceUnavailable(
            f"network namespaces are a Linux feature and this is {sys.platform}; run without "
            "--agent-netns (--agent-replay still blocks Python's sockets) or on a Linux runner"
        )
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None) or ""
    runner = "module" if script.endswith("__main__.py") or not script else os.path.abspath(script)
    env = {**os.environ, ENV_ACTIVE: "1", ENV_RUNNER: runner}
    command = [sys.executable, "-m", "pytest_agentops.tap.netns", *args]
    return subprocess.run(command, cwd=cwd, env=env, check=False).returncode


def enter() -> None:
    """Move this (single-threaded) process into a new network namespace with ``lo`` up."""
    import ctypes  # here: every session imports this module (``active``), ctypes costs ~3 ms to import

    libc = ctypes.CDLL(None, use_errno=True)
    attempts = [CLONE_NEWNET] if os.geteuid() == 0 else []
    attempts.append(CLONE_NEWUSER | CLONE_NEWNET)  # unprivileged, or root without CAP_SYS_ADMIN
    uid, gid = os.getuid(), os.getgid()
    error = 0
    for flags in attempts:
        if libc.unshare(flags) == 0:
            if flags & CLONE_NEWUSER:
                _map_ids(uid, gid)
            _loopback_up()
            return
        error = ctypes.get_errno()
    raise NamespaceUnavailable(
        f"the OS refused a new network namespace (unshare: {os.strerror(error)}). Unprivileged user "
        "namespaces may be turned off (sysctl kernel.unprivileged_userns_clone=0, "
        "user.max_user_namespaces=0, an AppArmor or seccomp policy, a container without "
        "CAP_SYS_ADMIN). Run without --agent-netns, or where namespaces are allowed "
        "(GitHub's Linux runners are)"
    )


def _map_ids(uid: int, gid: int) -> None:
    """Keep the same uid and gid inside the new user namespace (files stay owned as before)."""
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    except OSError as exc:
        raise NamespaceUnavailable(f"cannot map the user ids into the new namespace ({exc})") from exc


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def _loopback_up() -> None:
    """``ip link set lo up`` without ``ip``: the kernel then gives it 127.0.0.1/8 and ::1."""
    import fcntl  # POSIX only: this module is imported on every platform (the plugin asks active())

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            request = struct.pack("16sH", b"lo", 0) + _IFREQ_PAD
            flags = struct.unpack("16sH", fcntl.ioctl(sock, _SIOCGIFFLAGS, request)[:18])[1]
            fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | _IFF_UP) + _IFREQ_PAD)
    except OSError as exc:
        raise NamespaceUnavailable(f"cannot bring the loopback interface up in the new namespace ({exc})") from exc


def _pytest_command(args: Sequence[str]) -> list[str]:
    runner = os.environ.get(ENV_RUNNER, "module")
    if runner == "module":
        return [sys.executable, "-m", "pytest", *args]
    return [sys.executable, runner, *args]


def main(args: Sequence[str]) -> int:
    try:
        enter()
    except NamespaceUnavailable as exc:
        sys.stderr.write(f"ERROR: pytest-agentops --agent-netns: {exc}\n")
        return USAGE_ERROR
    command = _pytest_command(args)
    os.execv(command[0], command)
    return USAGE_ERROR  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
