"""A stdio MCP server as a child process: send it lines, match its answers to requests by id.

The server may write a message that answers nothing (a notification, or a request of its own such
as ``sampling/createMessage``) at any time; one that arrives while requests are waiting belongs to
the oldest of them (it is recorded with that answer, so a replay plays it in the same place) and
is handed on at once, since a server request inside a call waits for the client's reply.
"""

from __future__ import annotations

import collections
import contextlib
import json
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

START_WAIT_S = 120.0


class ChildFailed(RuntimeError):
    """The server could not start, or exited before answering (the message names the command)."""


@dataclass
class _Waiter:
    done: threading.Event = field(default_factory=threading.Event)
    answer: bytes = b""
    extras: list[bytes] = field(default_factory=list)


class Child:
    """One server process for one client session; ``on_message`` gets lines that answer nothing."""

    def __init__(
        self, argv: list[str], env: dict[str, str] | None, cwd: str | None, on_message: Callable[[bytes], None]
    ) -> None:
        self.argv = argv
        self._env = env
        self._cwd = cwd
        self._on_message = on_message
        self._process: subprocess.Popen[bytes] | None = None
        self._waiters: dict[str, _Waiter] = {}
        self._lock = threading.Lock()
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._ended = False  # its stdout closed: no answer will come
        self._drainer: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._process is not None

    def start(self) -> None:
        try:
            self._process = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=self._env, cwd=self._cwd,
            )  # fmt: skip
        except OSError as exc:
            raise ChildFailed(f"cannot start the stdio MCP server {self._shown()}: {exc.strerror or exc}") from None
        assert self._process.stdout is not None and self._process.stderr is not None
        threading.Thread(target=self._read, args=(self._process.stdout,), daemon=True).start()
        self._drainer = threading.Thread(target=self._drain, args=(self._process.stderr,), daemon=True)
        self._drainer.start()

    def request(self, line: bytes, message_id: Any) -> tuple[bytes, list[bytes]]:
        """Send a request and wait for its answer; also the lines that arrived meanwhile."""
        waiter = _Waiter()
        key = json.dumps(message_id)
        with self._lock:
            self._waiters[key] = waiter
            if self._ended:
                waiter.done.set()
        self.send(line)
        if not waiter.done.wait(START_WAIT_S) or not waiter.answer:
            with self._lock:
                self._waiters.pop(key, None)
            raise ChildFailed(self._gone("before answering"))
        return waiter.answer, waiter.extras

    def send(self, line: bytes) -> None:
        process = self._process
        assert process is not None and process.stdin is not None
        try:
            process.stdin.write(line if line.endswith(b"\n") else line + b"\n")
            process.stdin.flush()
        except OSError:
            raise ChildFailed(self._gone("before reading its input")) from None

    def stop(self) -> None:
        """End the session as the spec says: close its stdin, then terminate, then kill."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            process.terminate()
            try:
                process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _read(self, stdout: IO[bytes]) -> None:
        for line in iter(stdout.readline, b""):
            if line.strip():
                self._route(line)
        stdout.close()
        with self._lock:  # it exited: nobody waits for ever
            self._ended = True
            waiters, self._waiters = list(self._waiters.values()), {}
        for waiter in waiters:
            waiter.done.set()

    def _route(self, line: bytes) -> None:
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        answer = isinstance(value, dict) and "method" not in value and ("result" in value or "error" in value)
        with self._lock:
            waiter = self._waiters.pop(json.dumps(value.get("id")), None) if answer else None
            oldest = next(iter(self._waiters.values()), None)
        if waiter is not None:
            waiter.answer = line.rstrip(b"\r\n")
            waiter.done.set()
            return
        if oldest is not None:
            oldest.extras.append(line.rstrip(b"\r\n"))
        self._on_message(line)

    def _drain(self, stderr: IO[bytes]) -> None:
        for line in iter(stderr.readline, b""):
            self._stderr.append(line.decode("utf-8", "replace").rstrip())
        stderr.close()

    def _gone(self, when: str) -> str:
        process = self._process
        code = None
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = process.wait(timeout=1)
        if code is not None and self._drainer is not None:
            self._drainer.join(timeout=1)  # it exited: what it wrote last is still in the pipe
        how = f"exited with code {code}" if code is not None else "stopped answering"
        tail = "\n".join(self._stderr)
        return f"the stdio MCP server {self._shown()} {how} {when}" + (f"; its stderr:\n{tail}" if tail else "")

    def _shown(self) -> str:
        return " ".join(self.argv)
