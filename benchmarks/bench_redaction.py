"""Redaction cost on the record path (before vs after the detect-secrets rewrite), and replay unchanged.

Usage: python benchmarks/bench_redaction.py [--quick]

Same run, same traffic (``_common``: OpenAI chat completions as the SDK sends them; request bodies
of ~5 KB are kept):

* record path: everything ``cassette.record.to_interaction`` redacts for one interaction (request
  URL, headers and parsed body; response headers and parsed body), with the old hand-kept redactor
  (``_redact_before.py``) and the new one; median per interaction, and the ratio;
* the same with a planted secret in the request (a key in a message) and its echo in the answer;
* replay path: what redaction the tap still does per replayed request (the event URL) before and
  after, and a whole replay through the tap per request (``bench_replay.ours_replay``).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C
import _redact_before as before

from pytest_agentops.cassette.matching import body_value
from pytest_agentops.cassette.redact import Redactor

PLANTED = "sk-" + "proj-" + "Bench0123456789abcdefghijklmnopqrstuvwxyz"


def interaction_parts(c: C.Captured, planted: bool) -> tuple[str, dict[str, list[str]], Any, dict[str, list[str]], Any]:
    req_headers: dict[str, list[str]] = {}
    for name, value in c.headers:
        req_headers.setdefault(name.lower(), []).append(value)
    resp_headers: dict[str, list[str]] = {}
    for name, value in c.response_headers:
        resp_headers.setdefault(name.lower(), []).append(value)
    request = body_value(c.body, "application/json")
    response = json.loads(c.response)
    if planted:
        request["messages"][-1] = {"role": "user", "content": f"my key is {PLANTED}, keep it safe"}
        response["choices"][0]["message"]["content"] = f"You said {PLANTED}."
    return c.url, req_headers, request, resp_headers, response


def redact_old(r: Any, parts: tuple[Any, ...]) -> None:
    url, req_headers, request, resp_headers, response = parts
    r.url(url), r.headers_dict(req_headers), r.value(request), r.headers_dict(resp_headers), r.value(response)


def redact_new(r: Redactor, parts: tuple[Any, ...]) -> None:
    url, req_headers, request, resp_headers, response = parts
    r.url(url), r.headers_dict(req_headers), r.request(request), r.headers_dict(resp_headers), r.value(response)


def per_item(fn: Callable[[Any], None], items: list[Any], repeats: int) -> float:
    """Median over ``repeats`` passes of the seconds per item."""
    samples = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        for item in items:
            fn(item)
        samples.append((time.perf_counter() - start) / len(items))
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer interactions and repeats (~10 s)")
    args = parser.parse_args()
    n, repeats = (120, 3) if args.quick else (600, 7)
    captured = C.capture(C.make_exchanges(n))
    sized = [c for c in captured if 4000 <= len(c.body) <= 6000] or captured
    mean_kb = statistics.mean(len(c.body) + len(c.response) for c in sized) / 1024
    print(f"{len(sized)} interactions, request+response {mean_kb:.1f} KB on average (request bodies 4-6 KB)")

    start = time.perf_counter()
    new = Redactor(key=b"bench")
    new.text("warm up " + PLANTED)  # loads detect-secrets' plugins once per process
    first_use = time.perf_counter() - start
    old = before.Redactor()
    failures = 0
    print(f"\nnew redactor, first use (imports detect-secrets' plugins once): {C.fmt_us(first_use)}")

    print("\nrecord path, per interaction       before      after      ratio")
    for planted in (False, True):
        items = [interaction_parts(c, planted) for c in sized]
        t_old = per_item(lambda p: redact_old(old, p), items, repeats)
        t_new = per_item(lambda p: redact_new(new, p), items, repeats)
        label = "with a planted key + its echo" if planted else "clean traffic"
        print(f"  {label:30s} {C.fmt_us(t_old):>10s} {C.fmt_us(t_new):>10s} {t_new / t_old:9.1f}x")
        ok = t_new < 0.005  # 5 ms per interaction: recording is bounded by the network, not by this
        failures += not ok
        print(f"  [{'PASS' if ok else 'FAIL'}] under 5 ms per interaction")

    urls = [c.url for c in sized]
    t_old_url = per_item(old.url, urls, repeats)
    t_new_url = per_item(new.url, urls, repeats)
    print("\nreplay path: redaction per request (the event URL)")
    print(f"  before {C.fmt_us(t_old_url)}   after {C.fmt_us(t_new_url)}   ratio {t_new_url / t_old_url:.2f}x")
    ok = t_new_url <= max(t_old_url * 1.5, 2e-6)
    failures += not ok
    print(f"  [{'PASS' if ok else 'FAIL'}] no slower than before (within 1.5x or 2 µs)")

    import bench_replay

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cassette.json"
        C.write_ours(path, captured)
        bench_replay.ours_replay(path, captured, len(captured))  # warm
        elapsed = min(bench_replay.ours_replay(path, captured, len(captured)) for _ in range(repeats))
    print(f"\nreplay through the tap: {C.fmt_us(elapsed / len(captured))} per request ({len(captured)} requests)")
    print("(bench_replay.py compares this with vcrpy; the redactor adds only the cached URL lookup above)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
