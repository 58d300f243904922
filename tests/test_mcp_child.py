"""A stdio MCP server that dies is named with what it wrote to stderr, however late that is read.

The server's stderr is read by a thread of its own; when the process has exited, the error waits
for that thread to read what the pipe still holds, so the message never depends on which thread
the scheduler ran first (it did, on a loaded machine: the reason was missing from the error).
"""

from __future__ import annotations

import sys
import time
from typing import IO

import pytest

from pytest_agentops.mcp.child import Child, ChildFailed

DIES = "import sys; sys.stderr.write('no config file\\n'); sys.exit(1)"


def test_the_error_carries_stderr_read_after_the_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    drain = Child._drain

    def late(self: Child, stderr: IO[bytes]) -> None:
        time.sleep(0.3)  # the scheduler runs the reader last
        drain(self, stderr)

    monkeypatch.setattr(Child, "_drain", late)
    child = Child([sys.executable, "-c", DIES], env=None, cwd=None, on_message=lambda line: None)
    child.start()
    time.sleep(0.2)
    with pytest.raises(ChildFailed) as failed:
        child.request(b'{"jsonrpc": "2.0", "id": 1, "method": "initialize"}', 1)
    child.stop()
    assert "exited with code 1" in str(failed.value)
    assert str(failed.value).endswith("its stderr:\nno config file")
