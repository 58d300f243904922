"""One whole pytest run replaying a 1,000-call cassette through the openai SDK: ours vs pytest-recording.

Usage: python benchmarks/bench_pytest_run.py [--quick] [--vcr-body-full]

The inner test sends 1,000 distinct chat completions with ``client.chat.completions.create(...)``
and checks each answer. It runs in a fresh ``python -m pytest`` process, timed from outside (wall):

* ours: the plugin as installed (``-p no:recording``), cassettes/test_replay/test_chat.json
* pytest-recording: ``@pytest.mark.vcr``, ``--record-mode=none``, ``-p no:agentops``, with a
  ``vcr_config`` fixture adding ``match_on=[..., "body"]`` (needed to replay LLM calls correctly),
  and, for reference, with pytest-recording's defaults (body not matched: answers by order).

vcrpy with body matching costs ~0.35 s per request at 1,000 interactions, so a full run takes ~6
minutes; by default the test sends an evenly spaced 1-in-10 subset (body matching finds each request
wherever it is, and its cost grows linearly with the position) and the full run is extrapolated
from the in-test loop time. ``--vcr-body-full`` runs it for real instead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

N = 1000
DEFAULT_MATCH_ON = "method,scheme,host,port,path,query"

CONFTEST = """\
import os

import pytest


@pytest.fixture
def vcr_config():
    match_on = os.environ.get("BENCH_VCR_MATCH_ON")
    return {"match_on": match_on.split(",")} if match_on else {}
"""

TEST = """\
import json
import os
import time
from pathlib import Path

import openai
import pytest

HERE = Path(__file__).parent


@pytest.mark.vcr
def test_chat():
    calls = json.loads((HERE / "calls.json").read_text())
    stride = int(os.environ.get("BENCH_STRIDE", "1"))
    picked = calls[stride // 2 :: stride] if stride > 1 else calls
    client = openai.OpenAI(api_key="sk-dummy-benchmark-key", max_retries=0)
    start = time.perf_counter()
    for call in picked:
        result = client.chat.completions.create(**call["kwargs"])
        assert result.id == call["id"], (result.id, call["id"])
    elapsed = time.perf_counter() - start
    Path(os.environ["BENCH_OUT"]).write_text(json.dumps({"loop_s": elapsed, "calls": len(picked)}))
"""

INI = """\
[pytest]
markers =
    vcr: pytest-recording's marker (registered here for the runs where pytest-recording is disabled)
"""


def run(root: Path, args: list[str], env_extra: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, in-test loop seconds, calls sent) of one ``python -m pytest`` process."""
    out = root / "out.json"
    out.unlink(missing_ok=True)
    env = {**os.environ, **env_extra, "BENCH_OUT": str(out)}
    env.pop("PYTEST_ADDOPTS", None)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "test_replay.py"],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"inner pytest {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    result = json.loads(out.read_text())
    return wall, result["loop_s"], result["calls"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run each, 1-in-20 sample for vcrpy + body")
    parser.add_argument("--vcr-body-full", action="store_true", help="run vcrpy + body on all 1,000 (~6 min)")
    args = parser.parse_args()
    rounds = 1 if args.quick else 3
    stride = 1 if args.vcr_body_full else (20 if args.quick else 10)
    began = time.perf_counter()
    print(f"whole pytest run replaying {N:,} chat completions through the openai SDK (python {sys.version.split()[0]})")

    exchanges = C.make_exchanges(N)
    captured = C.capture(exchanges)
    with tempfile.TemporaryDirectory(prefix="agentops-run-") as tmp:
        root = Path(tmp)
        (root / "pytest.ini").write_text(INI)
        (root / "conftest.py").write_text(CONFTEST)
        (root / "test_replay.py").write_text(TEST)
        calls = [{"kwargs": ex.kwargs, "id": ex.response_id} for ex in exchanges]
        (root / "calls.json").write_text(json.dumps(calls))
        C.write_ours(root / "cassettes" / "test_replay" / "test_chat.json", captured)
        C.write_vcr(root / "cassettes" / "test_replay" / "test_chat.yaml", captured)

        ours_args = ["-p", "no:recording"]
        vcr_args = ["-p", "no:agentops", "--record-mode=none"]
        body_env = {"BENCH_VCR_MATCH_ON": DEFAULT_MATCH_ON + ",body"}
        ours: list[tuple[float, float, int]] = []
        default: list[tuple[float, float, int]] = []
        for i in range(rounds):
            pair = [(ours, ours_args), (default, vcr_args)]
            for sink, argv in pair if i % 2 == 0 else reversed(pair):
                sink.append(run(root, argv, {}))
            print(f"  round {i + 1}: ours {ours[-1][0]:.2f} s, pytest-recording (defaults) {default[-1][0]:.2f} s")
        body = run(root, vcr_args, {**body_env, "BENCH_STRIDE": str(stride)})
        print(f"  pytest-recording + body: {body[2]} calls in {body[0]:.1f} s")

    def med(results: list[tuple[float, float, int]], index: int) -> float:
        return statistics.median(r[index] for r in results)

    body_wall, body_loop, body_calls = body
    body_loop_full = body_loop * N / body_calls
    body_wall_full = body_wall - body_loop + body_loop_full
    rows = [
        ("pytest-agentops", med(ours, 0), med(ours, 1), f"median of {rounds}"),
        ("pytest-recording, match_on + body", body_wall_full, body_loop_full,
         "measured" if body_calls == N else f"estimated from {body_calls} evenly spaced calls"),
        ("pytest-recording, default matchers", med(default, 0), med(default, 1),
         f"median of {rounds}; body ignored, answers by order"),
    ]  # fmt: skip
    print(f"\nWhole process wall time, {N:,}-interaction cassette, {N:,} calls through openai's SDK")
    header = f"{'':36} | {'wall':>9} | {'test loop':>9} | {'per call':>9} | {'rest':>7} | note"
    print(header)
    print("-" * len(header))
    for name, wall, loop, note in rows:
        print(
            f"{name:36} | {wall:>7.2f} s | {loop:>7.2f} s | {loop / N * 1e3:>6.2f} ms | {wall - loop:>5.2f} s | {note}"
        )
    print("  (rest = interpreter + pytest start-up, cassette load, teardown: everything outside the test's loop)")
    print(f"\n  ours vs pytest-recording + body: {body_wall_full / med(ours, 0):,.0f}x less wall time")
    print(f"  ours vs pytest-recording defaults: {med(default, 0) / med(ours, 0):,.1f}x less wall time")
    print(f"total {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
