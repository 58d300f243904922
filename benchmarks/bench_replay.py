"""Replay cost per request: pytest-agentops' tap vs vcrpy as pytest-recording configures it, same run.

Usage: python benchmarks/bench_replay.py [--quick] [--instructions]

Both cassettes hold the same N OpenAI chat completions (POST https://api.openai.com/v1/chat/completions,
every request body distinct). Each replay sends all N requests in recorded order through a real
httpx2 client whose transport the library patches, and checks every answer is the recorded one.
See benchmarks/README.md for what is measured and how vcrpy's slow cases are sampled.

``--instructions`` also counts, with valgrind (``_instructions.count_region``), the instructions
of the 1,000 requests alone (not the process's start-up or the cassette's load), through the tap
and through the floor: the tap's overhead a request in instructions, the same on every run however
loaded the machine is, and in µs at the rate this run's timed floor executed them.
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C
import _instructions

DEFAULT_MATCH_ON = ("method", "scheme", "host", "port", "path", "query")  # vcrpy's, which pytest-recording keeps
BODY_MATCH_ON = (*DEFAULT_MATCH_ON, "body")
SKIP_HEADERS = frozenset({"host", "content-length", "connection", "accept-encoding"})


def send_all(client: Any, captured: list[C.Captured], indexes: range | list[int]) -> float:
    """Send the captured requests at ``indexes`` through ``client``; seconds; checks every answer."""
    items = [(captured[i], [(k, v) for k, v in captured[i].headers if k not in SKIP_HEADERS]) for i in indexes]
    gc.collect()
    _instructions.mark("-z")
    start = time.perf_counter()
    for c, headers in items:
        response = client.post(c.url, content=c.body, headers=headers)
        if response.status_code != 200 or json.loads(response.content)["id"] != c.response_id:
            raise AssertionError(f"wrong answer for {c.response_id}: {response.status_code} {response.content[:200]!r}")
    elapsed = time.perf_counter() - start
    _instructions.mark("-d")
    return elapsed


def sdk_all(client: Any, exchanges: list[C.Exchange], n: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for ex in exchanges[:n]:
        result = client.chat.completions.create(**ex.kwargs)
        if result.id != ex.response_id:
            raise AssertionError(f"wrong answer: {result.id} != {ex.response_id}")
    return time.perf_counter() - start


# ---- ours --------------------------------------------------------------------------------------


def ours_replay(path: Path, captured: list[C.Captured], n: int, exchanges: list[C.Exchange] | None = None) -> float:
    """One replay of all ``n`` requests with the tap open (``session.open_tap``, as the plugin does)."""
    import httpx2

    from pytest_agentops.tap.opener import open_tap
    from pytest_agentops.tap.settings import Settings
    from pytest_agentops.trace.run import Run

    run = Run("bench")
    with open_tap(Settings(), run, path) as tap:
        if exchanges is None:
            elapsed = send_all(httpx2.Client(), captured, range(n))
        else:
            elapsed = sdk_all(C.sdk_client(), exchanges, n)
    if run.misses or len(run.events) != n or len(tap.cassette.played) != n:
        raise AssertionError(f"tap replay incomplete: {len(run.events)} events, {len(run.misses)} misses")
    if any(e.backend != "cassette" for e in run.events):
        raise AssertionError("a request was not served from the cassette")
    return elapsed


def ours_load(path: Path) -> float:
    from pytest_agentops.cassette.format import Cassette
    from pytest_agentops.tap.settings import Settings

    match = Settings().match
    gc.collect()
    start = time.perf_counter()
    Cassette.load(path, match)
    return time.perf_counter() - start


def floor(captured: list[C.Captured], n: int) -> float:
    """The client alone: the same requests answered by an unpatched MockTransport with the same bytes."""
    import httpx2

    by_body = {c.body: c for c in captured[:n]}

    def handler(request: httpx2.Request) -> httpx2.Response:
        c = by_body[request.read()]
        return httpx2.Response(200, headers=c.response_headers, content=c.response)

    return send_all(httpx2.Client(transport=httpx2.MockTransport(handler)), captured, range(n))


def sdk_floor(captured: list[C.Captured], exchanges: list[C.Exchange], n: int) -> float:
    import httpx2

    by_body = {c.body: c for c in captured[:n]}

    def handler(request: httpx2.Request) -> httpx2.Response:
        c = by_body[request.read()]
        return httpx2.Response(200, headers=c.response_headers, content=c.response)

    return sdk_all(C.sdk_client(httpx2.MockTransport(handler)), exchanges, n)


# ---- vcrpy -------------------------------------------------------------------------------------


def vcr_replay(
    path: Path, captured: list[C.Captured], n: int, match_on: tuple[str, ...], windows: int, width: int
) -> tuple[float, float, str]:
    """vcrpy replay: (load seconds, seconds per request, how it was measured).

    ``windows == 0``: every request in order. Otherwise ``windows`` runs of ``width`` requests,
    centred at evenly spaced positions; before each run the cassette's play counts are set to
    what an in-order replay leaves there (every earlier interaction played once), so each
    request scans exactly what it would scan in a full run. vcrpy's cost per request grows
    linearly with the position, so the mean over evenly spaced windows estimates the full mean.
    """
    import httpx2
    import vcr

    my_vcr = vcr.VCR(record_mode="none")  # what pytest-recording builds, with record_mode "none"
    gc.collect()
    start = time.perf_counter()
    context = my_vcr.use_cassette(str(path), match_on=match_on)
    cassette = context.__enter__()
    load = time.perf_counter() - start
    try:
        if len(cassette) != n:
            raise AssertionError(f"vcrpy loaded {len(cassette)} interactions, expected {n}")
        client = httpx2.Client()
        if windows == 0:
            return load, send_all(client, captured, range(n)) / n, "all"
        total = 0.0
        count = 0
        for k in range(windows):
            first = max(0, min(n - width, int((k + 0.5) * n / windows) - width // 2))
            cassette.play_counts = collections.Counter(dict.fromkeys(range(first), 1))
            total += send_all(client, captured, range(first, first + width))
            count += width
        return load, total / count, f"{count} sampled"
    finally:
        context.__exit__(None, None, None)


# ---- instructions ------------------------------------------------------------------------------

COUNTED = 1000  # requests in the counted region


def child(variant: str, folder: Path) -> int:
    """One warm-up replay, then the counted one (``send_all`` marks the region)."""
    with open(folder / "captured.pickle", "rb") as fh:
        captured = pickle.load(fh)  # written by this script's parent a moment ago
    path = folder / f"ours-{COUNTED}.json"

    def once() -> float:
        return ours_replay(path, captured, COUNTED) if variant == "ours" else floor(captured, COUNTED)

    region = os.environ.pop(_instructions.REGION_ENV, "")
    once()  # first-use costs (lazy imports, caches) are not a request's
    os.environ[_instructions.REGION_ENV] = region
    once()
    return 0


def count_requests(folder: Path, captured: list[C.Captured]) -> dict[str, int]:
    """Instructions of ``COUNTED`` requests through the tap and through the floor, two at a time."""
    from concurrent.futures import ThreadPoolExecutor

    with open(folder / "captured.pickle", "wb") as fh:
        pickle.dump(captured[:COUNTED], fh)
    script = str(Path(__file__).resolve())
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            variant: pool.submit(_instructions.count_region, [script, "--child", variant, str(folder)], folder)
            for variant in ("ours", "floor")
        }
        return {variant: future.result() for variant, future in futures.items()}


def report_instructions(counted: dict[str, int], floor_s: float) -> None:
    per = {variant: n / COUNTED for variant, n in counted.items()}
    over = per["ours"] - per["floor"]
    rate = floor_s / per["floor"]  # seconds an instruction, as this run's timed floor executed them
    print(f"\nInstructions, {COUNTED:,} requests (one valgrind run each, start-up and cassette load excluded)")
    print(f"  floor {per['floor']:,.0f} a request, ours {per['ours']:,.0f}: the tap adds {over:,.0f} a request")
    print(
        f"  [{'PASS' if over * rate <= 40e-6 else 'FAIL'}] by instructions: the tap's overhead at the floor's rate "
        f"({rate * 1e9:.2f} ns an instruction) is {over * rate * 1e6:.0f} us a request (target <= 40 us)"
    )


# ---- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 interactions only, fewer samples")
    parser.add_argument("--instructions", action="store_true", help="also count instructions (valgrind)")
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], Path(args.child[1]))
    if args.instructions and (why := _instructions.available()):
        raise SystemExit(why)
    sizes = [100, 1000] if args.quick else [100, 1000, 5000]
    repeats = 2 if args.quick else 3
    wall = time.perf_counter()

    import httpx2
    import openai
    import vcr

    print("replay benchmark: pytest-agentops tap vs vcrpy (pytest-recording defaults)")
    print(
        f"python {sys.version.split()[0]}, vcrpy {vcr.__version__}, openai {openai.__version__}, "
        f"httpx2 {httpx2.__version__}, {os.cpu_count()} cpu(s)"
    )
    exchanges = C.make_exchanges(max(sizes))
    seconds, captured = C.timed(lambda: C.capture(exchanges))
    print(
        f"captured {len(captured)} chat completions through the openai SDK in {C.fmt_s(seconds)} "
        f"(request body {min(len(c.body) for c in captured):,}-{max(len(c.body) for c in captured):,} bytes, "
        f"response {sum(len(c.response) for c in captured) // len(captured):,} bytes on average)\n"
    )

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="agentops-bench-") as tmp:
        for n in sizes:
            ours_path = Path(tmp) / f"ours-{n}.json"
            vcr_path = Path(tmp) / f"vcr-{n}.yaml"
            C.write_ours(ours_path, captured[:n])
            C.write_vcr(vcr_path, captured[:n])
            row: dict[str, Any] = {"n": n}
            row["ours_mb"] = ours_path.stat().st_size / 1e6
            row["vcr_mb"] = vcr_path.stat().st_size / 1e6
            row["ours_load"] = C.median([ours_load(ours_path) for _ in range(repeats)])
            row["ours"] = C.median([ours_replay(ours_path, captured, n) / n for _ in range(repeats)])
            row["floor"] = floor(captured, n) / n
            # The tap's overhead, paired: ours and the floor in turn, the median of the differences
            # (the machine's speed drifts between two separate medians; a pair shares it).
            pairs = [ours_replay(ours_path, captured, n) / n - floor(captured, n) / n for _ in range(5)]
            row["overhead"] = C.median(pairs)
            m = min(n, 1000)
            row["ours_sdk"] = ours_replay(ours_path, captured, m, exchanges) / m
            row["sdk_floor"] = sdk_floor(captured, exchanges, m) / m
            # vcrpy, default matchers: full in order up to 1,000; sampled windows above.
            plan = (0, 0) if n <= 1000 else ((6, 10) if args.quick else (10, 20))
            load_d, row["vcr"], row["vcr_how"] = vcr_replay(vcr_path, captured, n, DEFAULT_MATCH_ON, *plan)
            # vcrpy + body: full for 100; one request at each of several evenly spaced positions above.
            if n <= 100:
                plan = (0, 0)
            elif n <= 1000:
                plan = (8, 1) if args.quick else (16, 1)
            else:
                plan = (8, 1)
            load_b, row["vcr_body"], row["vcr_body_how"] = vcr_replay(vcr_path, captured, n, BODY_MATCH_ON, *plan)
            row["vcr_load"] = (load_d + load_b) / 2
            rows.append(row)
            if args.instructions and n == COUNTED:
                counted = count_requests(Path(tmp), captured)
            print(
                f"  N={n:>5,}: ours {C.fmt_us(row['ours'])} us/req, vcrpy {C.fmt_us(row['vcr'])} us/req, "
                f"vcrpy+body {C.fmt_us(row['vcr_body'])} us/req  ({time.perf_counter() - wall:.0f} s elapsed)",
                flush=True,
            )

    print("\nReplay, per request (httpx2 client, all N requests in recorded order; times in microseconds)")
    header = (
        f"{'N':>6} | {'ours':>7} | {'vcrpy default':>13} | {'vcrpy +body':>11} | "
        f"{'default/ours':>12} | {'+body/ours':>10} | vcrpy measured on"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['n']:>6,} | {C.fmt_us(r['ours']):>7} | {C.fmt_us(r['vcr']):>13} | {C.fmt_us(r['vcr_body']):>11} | "
            f"{r['vcr'] / r['ours']:>11.1f}x | {r['vcr_body'] / r['ours']:>9.0f}x | "
            f"default: {r['vcr_how']}, +body: {r['vcr_body_how']}"
        )

    print("\nWhere the time goes, per request (microseconds)")
    header = (
        f"{'N':>6} | {'httpx2 floor':>12} | {'tap overhead':>12} | {'ours via SDK':>12} | {'SDK floor':>9} | "
        f"{'SDK overhead':>12}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['n']:>6,} | {C.fmt_us(r['floor']):>12} | {C.fmt_us(r['overhead']):>12} | "
            f"{C.fmt_us(r['ours_sdk']):>12} | {C.fmt_us(r['sdk_floor']):>9} | "
            f"{C.fmt_us(r['ours_sdk'] - r['sdk_floor']):>12}"
        )
    print("  (floor = same client, unpatched MockTransport answering the same bytes; tap overhead = median of")
    print("   5 paired differences, ours minus floor, run in turn; SDK columns over")
    print("   min(N, 1,000) requests through openai's client.chat.completions.create)")

    print("\nCassette load (read + parse + index; not included above)")
    header = f"{'N':>6} | {'ours':>9} | {'vcrpy':>9} | {'ours file':>9} | {'vcrpy file':>10}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['n']:>6,} | {C.fmt_s(r['ours_load']):>9} | {C.fmt_s(r['vcr_load']):>9} | "
            f"{r['ours_mb']:>6.1f} MB | {r['vcr_mb']:>7.1f} MB"
        )

    print("\nTargets")
    by_n = {r["n"]: r for r in rows}
    r100, r1000 = by_n[100], by_n[1000]
    body_ratio = r1000["vcr_body"] / r1000["ours"]
    default_ratio = r1000["vcr"] / r1000["ours"]
    flat = r1000["ours"] / r100["ours"]
    print(
        f"  [{'PASS' if body_ratio >= 20 else 'FAIL'}] N=1,000: ours >= 20x faster than vcrpy with body matching "
        f"(the configuration that replays LLM calls correctly): {body_ratio:,.0f}x"
    )
    print(
        f"  [{'PASS' if default_ratio >= 20 else 'FAIL'}] N=1,000: ours >= 20x faster than vcrpy with its default "
        f"matchers (body ignored, answers by order): {default_ratio:,.1f}x"
    )
    print(
        f"  [{'PASS' if flat <= 2 else 'FAIL'}] flat cost: ours at N=1,000 within 2x of ours at N=100: "
        f"{C.fmt_us(r1000['ours'])} vs {C.fmt_us(r100['ours'])} us = {flat:.2f}x"
    )
    over = r1000["overhead"]
    print(
        f"  [{'PASS' if over <= 40e-6 else 'FAIL'}] N=1,000: the tap's overhead over the bare httpx2 client "
        f"at most 40 us per request: {C.fmt_us(over)} us"
    )
    if args.instructions:
        report_instructions(counted, r1000["floor"])
    print(f"\ntotal {time.perf_counter() - wall:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
