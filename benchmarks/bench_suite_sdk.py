"""A whole suite of agent tests replayed: N tests with one openai SDK call each, three ways.

Usage: python benchmarks/bench_suite_sdk.py [--quick] [--runs R] [--instructions]

The suite a team has once it adopted cassettes: N tests (2,000; --quick 500), each sending one
distinct chat completion through the official openai SDK (one client for the module, as a fixture
or a module global would hold it) and checking the answer's id. Each test has its own one-call
cassette, as each tool records it. In the same run, alternating, each a fresh ``python -m pytest``:

* **ours**: the plugin, default (replay) mode, per-test cassettes under ``cassettes/``;
* **no interception** (the floor), two ways, no plugin, an unpatched ``httpx2.MockTransport`` that
  answers each recorded request body with its recorded bytes (a dict lookup: what a hand-written
  mock costs at least): ``floor/sdk`` mounts it on the client the SDK builds by itself
  (``openai.DefaultHttpxClient(mounts=...)``: the same suite, nothing intercepted), ``floor`` hands
  the SDK a bare ``httpx2.Client(transport=...)``, which never builds the SDK's default transport;
* **pytest-recording +body**: ``@pytest.mark.vcr`` on every test, ``--record-mode=none``,
  ``vcr_config`` with ``match_on`` including ``body`` (what LLM tests need:
  without it any recorded call answers any prompt), per-test YAML cassettes where it looks for them.

Every run has plugin autoloading off (``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``) and loads only the
plugin it measures with ``-p``: the other pytest plugins a development environment holds would
add the same start-up to each variant and hide the ratios.

Reported: CPU seconds (user+system of the pytest process; less disturbed by other load than wall
time) and wall seconds, medians of the runs, and the ratios. Targets ("One path for every
request"): ours at most 1.2x the floor (judged on ``floor/sdk``, both shown), and at least 1.5x
faster than pytest-recording +body.

``--instructions`` then also counts what each variant executes, with valgrind (``_instructions``):
one run each, the same count whatever the machine's load, and the same two ratios by that count.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C
import _instructions
from bench_suite import run

INI = """\
[pytest]
addopts = -p no:cacheprovider -p no:benchmark -p no:hypothesispytest -q
markers =
    vcr: pytest-recording's marker (registered here for the runs where pytest-recording is disabled)
"""

CONFTEST = """\
import pytest


@pytest.fixture(scope="module")
def vcr_config():
    return {"match_on": ["method", "scheme", "host", "port", "path", "query", "body"]}
"""

# One function per test (as a suite is written), so each has its own cassette name in every tool.
HEADER = """\
import json
import os
from pathlib import Path

import httpx2
import openai
import pytest

CALLS = json.loads((Path(__file__).parent / "calls.json").read_text())
if os.environ.get("BENCH_FLOOR"):
    ANSWERS = {{c["body"]: (c["headers"], c["response"].encode()) for c in CALLS}}

    def answer(request):
        headers, body = ANSWERS[request.read().decode()]
        return httpx2.Response(200, headers=headers, content=body)

    if os.environ["BENCH_FLOOR"] == "client":  # the client the SDK builds itself, the mock mounted on it
        HTTP = openai.DefaultHttpxClient(mounts={{"all://": httpx2.MockTransport(answer)}})
    else:
        HTTP = httpx2.Client(transport=httpx2.MockTransport(answer))
else:
    HTTP = None
CLIENT = openai.OpenAI(api_key="sk-dummy-benchmark-key", max_retries=0, http_client=HTTP)


def call(i):
    result = CLIENT.chat.completions.create(**CALLS[i]["kwargs"])
    assert result.id == CALLS[i]["id"], (result.id, CALLS[i]["id"])
"""
TEST = """

@pytest.mark.vcr
def test_chat_{i:04d}():
    call({i})
"""


def build(folder: Path, n: int) -> None:
    exchanges = C.make_exchanges(n)
    captured = C.capture(exchanges)
    (folder / "pytest.ini").write_text(INI)
    (folder / "conftest.py").write_text(CONFTEST)
    calls = [
        {
            "kwargs": ex.kwargs,
            "id": ex.response_id,
            "body": c.body.decode(),
            "headers": c.response_headers,
            "response": c.response.decode(),
        }
        for ex, c in zip(exchanges, captured, strict=True)
    ]
    (folder / "calls.json").write_text(json.dumps(calls))
    (folder / "test_suite.py").write_text(HEADER.format() + "".join(TEST.format(i=i) for i in range(n)))
    for i, c in enumerate(captured):
        name = f"test_chat_{i:04d}"
        C.write_ours(folder / "cassettes" / "test_suite" / f"{name}.json", [c])
        C.write_vcr(folder / "cassettes" / "test_suite" / f"{name}.yaml", [c])  # pytest-recording's default


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--instructions", action="store_true", help="also count instructions (valgrind)")
    args = parser.parse_args()
    if args.instructions and (why := _instructions.available()):
        raise SystemExit(why)
    n = 500 if args.quick else 2000
    folder = Path(tempfile.mkdtemp(prefix="agentops-bench-sdk-suite-"))
    build(folder, n)
    alone = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # each run loads only the plugin it measures
    variants = {
        "ours": (["-p", "pytest_agentops.plugin"], alone),
        "floor": ([], {**alone, "BENCH_FLOOR": "1"}),
        "floor/sdk": ([], {**alone, "BENCH_FLOOR": "client"}),
        "vcr+body": (["-p", "pytest_recording.plugin", "--record-mode=none"], alone),
    }
    for extra, env in variants.values():
        run(folder, extra, env)  # warm-up, and a check that every test passes
    times: dict[str, list[tuple[float, float]]] = {label: [] for label in variants}
    for _ in range(args.runs):
        for label, (extra, env) in variants.items():
            times[label].append(run(folder, extra, env))
    print(f"{n} tests, one openai SDK call each, replayed; {args.runs} alternating runs (median)")
    cpu = {label: statistics.median(t[1] for t in ts) for label, ts in times.items()}
    wall = {label: statistics.median(t[0] for t in ts) for label, ts in times.items()}
    print(f"  {'':10} {'cpu s':>8} {'wall s':>8} {'cpu x floor':>12} {'µs/test over floor':>19}")
    for label in variants:
        over = (cpu[label] - cpu["floor"]) / n * 1e6
        print(f"  {label:10} {cpu[label]:8.2f} {wall[label]:8.2f} {cpu[label] / cpu['floor']:11.2f}x {over:18.0f}")
    verdicts(cpu, "CPU time")
    if args.instructions:
        report_instructions(n, _instructions.count_all(folder, variants))


def report_instructions(n: int, counted: dict[str, int]) -> None:
    print(f"{n} tests, one openai SDK call each, replayed; instructions executed, one valgrind run each")
    print(f"  {'':10} {'instructions':>14} {'x floor':>8} {'per test over floor':>20}")
    for label, value in counted.items():
        over = (value - counted["floor"]) / n
        print(f"  {label:10} {value:14,} {value / counted['floor']:7.3f}x {over:20,.0f}")
    verdicts({label: float(value) for label, value in counted.items()}, "instructions")


def verdicts(cost: dict[str, float], by: str) -> None:
    """The target against each floor: the SDK's own client with the mock mounted is the same suite
    with no interception (what the target means); the bare mock client also skips building the
    SDK's transport (its SSL context and connection pool), so it is the stricter floor."""
    for label, what in (("floor/sdk", "the SDK's own client"), ("floor", "a bare mock client")):
        ratio = cost["ours"] / cost[label]
        verdict = "PASS" if ratio <= 1.2 else "FAIL"
        print(f"[{verdict}] by {by}: ours {ratio:.2f}x the suite with no interception, {what} (target <= 1.2x)")
    speedup = cost["vcr+body"] / cost["ours"]
    verdict = "PASS" if speedup >= 1.5 else "FAIL"
    print(f"[{verdict}] by {by}: ours {speedup:.2f}x faster than pytest-recording +body (target >= 1.5x)")


if __name__ == "__main__":
    main()
