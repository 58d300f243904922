"""Shared by the suite benchmarks: what a pytest process costs in instructions, counted by valgrind.

On a shared machine the same run's CPU time moves by a third from one minute to the next (a
neighbour's load, frequency changes), so a ratio near its target can read as a pass or a fail
depending on the hour. valgrind's callgrind counts the instructions the process executes instead:
the same count every time for the same program, input and environment, whatever else the machine
is doing. Instructions are not time (a cache miss costs more than an add), so the benchmarks print
both; a change that adds work shows in the count, undisturbed.

Each variant runs once, under ``valgrind --tool=callgrind`` (about 50 times slower than without),
with ``PYTHONHASHSEED=0`` so that dict and set orders, and so the count, repeat. Two variants run at
a time: counts do not depend on the other core's load.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

_COLLECTED = re.compile(r"Collected : (\d+)")


def available() -> str | None:
    """Why instructions cannot be counted here, or None."""
    return None if shutil.which("valgrind") else "--instructions needs valgrind (Debian: apt install valgrind)"


def count(folder: Path, extra: Sequence[str], env: Mapping[str, str]) -> int:
    """Instructions executed by one ``python -m pytest EXTRA`` in ``folder`` (which must pass)."""
    with tempfile.TemporaryDirectory(prefix="agentops-bench-valgrind-") as scratch:
        out = _callgrind(["-m", "pytest", *extra], folder, env, Path(scratch))
        found = _COLLECTED.search(Path(f"{out}.log").read_text(encoding="utf-8"))
    if found is None:
        raise SystemExit(f"valgrind printed no instruction count for pytest {' '.join(extra)} in {folder}")
    return int(found.group(1))


def _callgrind(argv: Sequence[str], cwd: Path, env: Mapping[str, str], scratch: Path) -> Path:
    """Run ``python ARGV`` under callgrind (which must pass); its output file (the log beside it, ``.log``)."""
    environ = {**os.environ, **env, "PYTHONHASHSEED": "0"}
    environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as bench_suite.run: compiled modules are kept
    out = scratch / "callgrind.out"
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", f"--log-file={out}.log"]
    proc = subprocess.run([*command, sys.executable, *argv], cwd=cwd, capture_output=True, text=True, env=environ)
    if proc.returncode != 0:
        tail = proc.stdout[-2000:] + proc.stderr[-2000:]
        raise SystemExit(f"python {' '.join(argv)} failed under valgrind in {cwd}:\n{tail}")
    return out


def count_all(folder: Path, variants: Mapping[str, tuple[list[str], dict[str, str]]]) -> dict[str, int]:
    """``count`` for each variant, two at a time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {label: pool.submit(count, folder, extra, env) for label, (extra, env) in variants.items()}
        return {label: future.result() for label, future in futures.items()}


# ---- one region of a process ------------------------------------------------------------------
#
# For a per-request figure, the process's start-up and the cassette's load must not count: the
# child zeroes callgrind's counters just before the region and dumps them just after
# (``callgrind_control``, which the child runs on itself), and the dump holds the region alone.

REGION_ENV = "AGENTOPS_BENCH_REGION"


def mark(flag: str) -> None:
    """In a child under ``count_region``: ``-z`` zeroes the counters, ``-d`` dumps them; else nothing."""
    if os.environ.get(REGION_ENV):
        subprocess.run(["callgrind_control", flag, str(os.getpid())], capture_output=True, check=False)


def count_region(argv: Sequence[str], cwd: Path) -> int:
    """Instructions between the child's ``mark("-z")`` and ``mark("-d")`` in ``python ARGV``."""
    with tempfile.TemporaryDirectory(prefix="agentops-bench-valgrind-") as scratch:
        dump = Path(f"{_callgrind(argv, cwd, {REGION_ENV: '1'}, Path(scratch))}.1")
        found = re.search(r"^totals: (\d+)", dump.read_text(encoding="utf-8"), re.M) if dump.is_file() else None
    if found is None:
        raise SystemExit(f"no region was counted in python {' '.join(argv)} (is callgrind_control installed?)")
    return int(found.group(1))
