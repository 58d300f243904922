"""pass^k (tau-bench): run a task k times and count the tasks every attempt of which succeeds.

``@pytest.mark.agent_pass_k(k)`` parametrises the test with ``agent_attempt`` = 1..k, ids
``attempt-1`` ... ``attempt-k`` (so ``test_refund[attempt-2]``, and each attempt has its own run,
trace and cassette ``<test name>[attempt-N].json``). The task is the test's node id without the
attempt.

For a task with n attempts of which c passed, tau-bench's estimate of pass^k is C(c, k) / C(n, k)
(with n == k: 1 when every attempt passed, else 0), averaged over tasks; pass@1 is the mean of
c / n. An attempt passes when its test passed (an escalation the test expects is a pass).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from math import comb
from typing import Any

import pytest

MARKER = (
    "agent_pass_k(k): run this test k times (ids attempt-1..attempt-k, each with its own run, "
    "trace and cassette) and report pass^k"
)
ARGNAME = "agent_attempt"
_ATTEMPT = re.compile(r"(?:^|-)attempt-\d+(?=-|$)")


def k_of(marker: pytest.Mark, where: str) -> int:
    args = list(marker.args)
    if "k" in marker.kwargs:
        args.append(marker.kwargs["k"])
    extra = set(marker.kwargs) - {"k"}
    if len(args) != 1 or extra or isinstance(args[0], bool) or not isinstance(args[0], int) or args[0] < 1:
        raise ValueError(f"{where}: @pytest.mark.agent_pass_k takes one integer k >= 1, e.g. agent_pass_k(3)")
    return int(args[0])


def generate(metafunc: pytest.Metafunc) -> None:
    """``pytest_generate_tests``: one item per attempt of a test marked ``agent_pass_k(k)``."""
    marker = metafunc.definition.get_closest_marker("agent_pass_k")
    if marker is None:
        return
    try:
        k = k_of(marker, metafunc.definition.nodeid)
    except ValueError as exc:
        raise pytest.Collector.CollectError(str(exc)) from None
    if ARGNAME not in metafunc.fixturenames:
        metafunc.fixturenames.append(ARGNAME)
    metafunc.parametrize(ARGNAME, range(1, k + 1), ids=[f"attempt-{i}" for i in range(1, k + 1)])


def attempt_of(item: pytest.Item) -> tuple[int, int] | None:
    """(attempt, k) of an item made by ``agent_pass_k``, else None."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or ARGNAME not in callspec.params:
        return None
    marker = item.get_closest_marker("agent_pass_k")
    k = k_of(marker, item.nodeid) if marker is not None else int(callspec.params[ARGNAME])
    return int(callspec.params[ARGNAME]), k


def task_of(nodeid: str) -> str:
    """The node id without its ``attempt-N`` parameter id (``test_x[attempt-2]`` -> ``test_x``)."""
    head, sep, rest = nodeid.partition("[")
    if not sep or not rest.endswith("]"):
        return nodeid
    params = _ATTEMPT.sub("", rest[:-1]).strip("-")
    return f"{head}[{params}]" if params else head


def pass_hat(attempts: int, successes: int, k: int) -> float:
    """tau-bench's unbiased pass^k of one task: C(c, k) / C(n, k)."""
    if attempts < k:
        raise ValueError("pass^k needs at least k attempts")
    return comb(successes, k) / comb(attempts, k)


def summarize(tests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """pass^k, pass@1 and per-task success counts, one entry per k in use."""
    by_task: dict[str, dict[str, Any]] = {}
    for t in tests:
        if t.get("attempt") is None or t.get("outcome") in ("skipped", "xfailed"):
            continue
        info = by_task.setdefault(t["task"], {"k": t["k"], "attempts": 0, "successes": 0})
        info["attempts"] += 1
        info["successes"] += t["outcome"] in ("passed", "xpassed")
    out = []
    for k in sorted({info["k"] for info in by_task.values()}):
        tasks = {name: info for name, info in sorted(by_task.items()) if info["k"] == k}
        complete = {name: info for name, info in tasks.items() if info["attempts"] >= k}
        hats = [pass_hat(i["attempts"], i["successes"], k) for i in complete.values()]
        ones = [i["successes"] / i["attempts"] for i in tasks.values() if i["attempts"]]
        out.append(
            {
                "k": k,
                "tasks": len(complete),
                "pass_hat_k": round(sum(hats) / len(hats), 6) if hats else 0.0,
                "pass_at_1": round(sum(ones) / len(ones), 6) if ones else 0.0,
                "per_task": {
                    name: {"attempts": i["attempts"], "successes": i["successes"]} for name, i in tasks.items()
                },
                "incomplete": sorted(name for name in tasks if name not in complete),
            }
        )
    return out
