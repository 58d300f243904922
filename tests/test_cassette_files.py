"""Cassette files stay whole: atomic writes under SIGKILL, and parallel (xdist) workers merging."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from upstream import Upstream

if TYPE_CHECKING:
    from conftest import Project


def _wait_for(predicate, timeout: float, interval: float = 0.0005) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def _temp_files(folder: Path, name: str) -> list[str]:
    try:
        return [n for n in os.listdir(folder) if n.startswith(f".{name}.") and n.endswith(".tmp")]
    except FileNotFoundError:
        return []


# ---- write_atomic itself, killed mid-write -------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from pytest_agentops.cassette.format import dump, write_atomic

    path = Path(sys.argv[1])
    generation = 0
    while True:
        generation += 1
        items = [{"generation": generation, "i": i, "pad": "x" * 200} for i in range(20000)]
        write_atomic(path, dump({"version": 1, "meta": {"generation": generation}, "interactions": items}))
        print(generation, flush=True)
    """
)


def _check_whole(path: Path) -> int:
    data = json.loads(path.read_text(encoding="utf-8"))  # never half a file
    generation = data["meta"]["generation"]
    assert len(data["interactions"]) == 20000
    assert {item["generation"] for item in data["interactions"]} == {generation}
    return int(generation)


def test_write_atomic_killed_mid_write_leaves_the_old_file_or_the_new(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    caught_mid_write = 0
    for _ in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline(), child.stderr.read() if child.stderr else ""  # one write done
            # Kill the writer while it is writing (its temp file exists, the rename has not happened).
            if _wait_for(lambda: bool(_temp_files(tmp_path, path.name)), timeout=10):
                caught_mid_write += 1
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        assert child.returncode == -signal.SIGKILL
        assert _check_whole(path) >= 1
        for leftover in _temp_files(tmp_path, path.name):
            (tmp_path / leftover).unlink()
    assert caught_mid_write >= 1  # the kill really landed during a write


# ---- a recording pytest killed mid-way --------------------------------------------------------------

MANY_TESTS = """
import os

import httpx
import pytest

UPSTREAM = os.environ["AGENTOPS_TEST_UPSTREAM"]
PAD = "y" * 60_000


@pytest.mark.agent_cassette("shared")
@pytest.mark.parametrize("n", range(30))
def test_many(n):
    got = httpx.post(UPSTREAM + "/echo/many", json={"n": n, "pad": PAD}).json()
    assert got["body"]["n"] == n
"""


def _check_cassette(path: Path) -> int:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == 1
    interactions = data["interactions"]
    assert data["meta"]["interaction_count"] == len(interactions)
    for interaction in interactions:
        body = interaction["request"]["body"]["json"]
        assert interaction["response"]["body"]["json"]["body"] == body
    return len(interactions)


def test_recording_session_killed_mid_save_leaves_a_whole_cassette(project: Project, upstream: Upstream) -> None:
    project.pytester.makepyfile(test_many=MANY_TESTS)
    folder = project.path / "cassettes"
    path = folder / "shared.json"
    child = project.popen_pytest("--agent-record", "-q")
    try:
        # Let a few saves happen, then kill during one: the shared cassette grows, each save is a big write.
        assert _wait_for(lambda: upstream.count >= 5, timeout=30, interval=0.01), "inner session did not start"
        assert _wait_for(lambda: bool(_temp_files(folder, path.name)), timeout=30), "never caught a save"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    saved = _check_cassette(path)  # valid JSON, every interaction whole
    assert 1 <= saved < 30

    # The next recording run merges with what the killed one left, and finishes the job.
    project.run("--agent-record", "-q").assert_outcomes(passed=30)
    assert _check_cassette(path) == 30


HANG_TESTS = """
import os

import httpx

UPSTREAM = os.environ["AGENTOPS_TEST_UPSTREAM"]


def test_hangs():
    httpx.post(UPSTREAM + "/echo/first", json={"a": 1})
    httpx.get(UPSTREAM + "/hang", timeout=60)
"""


def test_recording_killed_while_waiting_on_the_network_writes_nothing(project: Project, upstream: Upstream) -> None:
    project.pytester.makepyfile(test_hang=HANG_TESTS)
    child = project.popen_pytest("--agent-record", "-q")
    try:
        assert _wait_for(lambda: "/hang" in upstream.paths(), timeout=30, interval=0.01)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    folder = project.path / "cassettes"
    assert not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))


# ---- xdist ---------------------------------------------------------------------------------------

XDIST_TESTS = """
import os

import httpx
import pytest

UPSTREAM = os.environ["AGENTOPS_TEST_UPSTREAM"]


@pytest.mark.parametrize("n", range(6))
def test_own(n):
    for step in range(3):
        assert httpx.post(UPSTREAM + f"/echo/own/{n}", json={"step": step}).json()["body"] == {"step": step}


@pytest.mark.agent_cassette("shared")
@pytest.mark.parametrize("n", range(8))
def test_shared(n):
    assert httpx.post(UPSTREAM + "/echo/shared", json={"n": n}).json()["body"] == {"n": n}
"""


def test_xdist_workers_record_and_replay_every_interaction(project: Project, upstream: Upstream) -> None:
    pytest.importorskip("xdist")
    project.pytester.makepyfile(test_par=XDIST_TESTS)
    recorded = project.run("-n", "2", "--agent-record")
    recorded.assert_outcomes(passed=14)
    assert upstream.count == 6 * 3 + 8
    upstream.stop()

    folder = project.path / "cassettes"
    for n in range(6):
        data = json.loads((folder / "test_par" / f"test_own[{n}].json").read_text())
        assert [i["request"]["body"]["json"] for i in data["interactions"]] == [{"step": s} for s in range(3)]
    shared = json.loads((folder / "shared.json").read_text())
    assert sorted(i["request"]["body"]["json"]["n"] for i in shared["interactions"]) == list(range(8))
    assert shared["meta"]["interaction_count"] == 8
    assert not [p.name for p in folder.rglob("*.tmp")]

    replayed = project.run("-n", "2", "--agent-replay")
    replayed.assert_outcomes(passed=14)


@pytest.mark.parametrize("size", [0, 1, 7000, 65535, 65536, 65537, 3_000_001])
def test_a_cassette_file_is_read_whole_at_any_size(tmp_path: Path, size: int) -> None:
    from pytest_agentops.cassette.format import read_text

    path = tmp_path / "c.json"
    text = ("é" * size)[: size // 2] + "x" * (size % 2)
    path.write_text(text, encoding="utf-8")
    assert read_text(path) == text


def test_a_cassette_that_grew_after_its_size_was_taken_is_read_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_agentops.cassette import format as cassette_format

    path = tmp_path / "c.json"
    text = '{"version": 1, "interactions": []}' + " " * 200_000
    path.write_text(text, encoding="utf-8")
    real = os.fstat
    monkeypatch.setattr(cassette_format.os, "fstat", lambda fd: os.stat_result((*real(fd)[:6], 10, *real(fd)[7:])))
    assert cassette_format.read_text(path) == text
