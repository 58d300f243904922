"""The one atomic writer: an interrupted write (an error, or the process killed) keeps the old file."""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

import pytest

from pytest_agentops.cassette import format as cassette_format
from pytest_agentops.readers import baseline, tracefile
from pytest_agentops.readers.html import page
from pytest_agentops.trace import files


def test_every_writer_uses_the_one_atomic_writer() -> None:
    assert cassette_format.write_atomic is files.write_atomic
    assert tracefile.write_atomic is files.write_atomic
    for module in (baseline, page):
        assert "pytest_agentops.trace.files import write_atomic" in Path(module.__file__ or "").read_text()


@pytest.mark.parametrize("stage", ["write", "fsync", "replace"])
def test_an_error_mid_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str) -> None:
    target = tmp_path / "report.json"
    target.write_text('{"old": true}\n')

    def boom(*args: object) -> None:
        raise OSError(28, "No space left on device")

    if stage == "fsync":
        monkeypatch.setattr(files.os, "fsync", boom)
    elif stage == "replace":
        monkeypatch.setattr(files.os, "replace", boom)
    else:
        real_fdopen = os.fdopen

        class HalfFull:
            """A file where half the bytes land, then the disk fills up."""

            def __init__(self, fd: int, mode: str) -> None:
                self.fh = real_fdopen(fd, mode)

            def __enter__(self) -> HalfFull:
                return self

            def __exit__(self, *exc: object) -> None:
                self.fh.close()

            def write(self, data: bytes) -> int:
                self.fh.write(data[:5])
                self.fh.flush()
                raise OSError(28, "No space left on device")

        monkeypatch.setattr(files.os, "fdopen", HalfFull)
    with pytest.raises(OSError, match="No space"):
        files.write_atomic(target, b'{"new": true, "padding": "' + b"x" * 100 + b'"}\n')
    assert target.read_text() == '{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temp file left behind


def test_a_process_killed_mid_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "cassette.json"
    target.write_text("old\n")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: start a write and stop inside fsync, after the data is in the temp file
        os.close(read)

        def hang(fd: int) -> None:
            os.write(write, b"1")
            signal.pause()

        files.os.fsync = hang  # type: ignore[assignment]
        try:
            files.write_atomic(target, b"new " * 10_000)
        finally:
            os._exit(1)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert target.read_text() == "old\n"
    temps = [p for p in tmp_path.iterdir() if p.name != "cassette.json"]
    assert temps and temps[0].stat().st_size == 40_000  # the killed write got that far, in a temp file only


def test_a_new_file_gets_the_umask_mode_and_an_existing_one_keeps_its_mode(tmp_path: Path) -> None:
    fresh = tmp_path / "sub" / "new.json"
    files.write_atomic(fresh, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
    os.chmod(fresh, 0o640)
    files.write_atomic(fresh, "y")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o640 and fresh.read_text() == "y"
