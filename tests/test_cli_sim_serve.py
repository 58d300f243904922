"""``agentops sim serve``: one simulator on a loopback port, seeded from a file, for non-Python agents."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from pytest_agentops.cli import main


def _serve(*args: str) -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest_agentops.cli", "sim", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    parts = line.split()
    return proc, parts[3], line.rsplit("API key: ", 1)[1].rstrip(")\n")


def test_serve_seeded_billing_answers_over_http(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("customers:\n  - {id: cus_seeded1, email: seeded@shop.test, description: From the seed file}\n")
    proc, url, key = _serve("billing", "--seed", str(seed))
    try:
        assert url.startswith("http://127.0.0.1:")
        request = urllib.request.Request(f"{url}/v1/customers/cus_seeded1", headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            customer = json.load(response)
        assert customer["email"] == "seeded@shop.test"
        assert customer["description"] == "From the seed file"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


KILLED_AT_ONCE = """
import os, signal, sys

from pytest_agentops.cli.common import serve_until_stopped


def announce():
    print("ready", flush=True)
    os.kill(os.getpid(), signal.SIGTERM)  # what a CI job does as soon as it reads the line


sys.exit(serve_until_stopped(lambda: print("stopped", flush=True), announce))
"""


def test_a_server_killed_as_soon_as_it_says_ready_stops_cleanly() -> None:
    """SIGTERM is handled before the ready line is printed: the kill stops the server, exit 0."""
    done = subprocess.run([sys.executable, "-c", KILLED_AT_ONCE], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "ready\nstopped\n"), done.stderr


def test_bad_seed_file_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text("[1, 2]")
    assert main(["sim", "serve", "billing", "--seed", str(seed)]) == 2
    assert str(seed) in capsys.readouterr().err
    assert main(["sim", "serve", "billing", "--seed", str(tmp_path / "missing.json")]) == 2
    assert "no such seed file" in capsys.readouterr().err


def test_unknown_simulator_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "serve", "payroll"]) == 2
    assert "unknown simulator 'payroll'" in capsys.readouterr().err
