"""The shared helpers: one way to write a figure, one "don't retry" reply."""

from __future__ import annotations

import pytest

from pytest_agentops.readers import formats


@pytest.mark.parametrize(
    ("value", "money", "percent", "number"),
    [
        (None, "-", "-", "-"),
        (0.0000155, "$0.000016", "0.0%", "0.0"),
        (0.25, "$0.250000", "25.0%", "0.2"),
        (1234.5, "$1,234.50", "123450.0%", "1234.5"),
        (3, "$3.00", "300.0%", "3"),
        (float("nan"), "-", "-", "-"),
    ],
)
def test_one_way_to_write_a_figure(value: float | None, money: str, percent: str, number: str) -> None:
    assert (formats.usd(value), formats.pct(value), formats.num(value)) == (money, percent, number)


def test_unknown_cost_and_durations() -> None:
    assert formats.usd(None, ["my-model"]) == "unknown"
    assert (formats.ms(12.34), formats.ms(1200), formats.seconds(0.5)) == ("12.3 ms", "1.20 s", "500.0 ms")
    assert (formats.count(12345.0), formats.num(2.5, 2, trim=True), formats.num(2.5, 2)) == ("12,345", "2.5", "2.50")
    assert formats.text_table(("a", "n"), [("xy", "1"), ("z", "10")]) == ["a    n", "xy   1", "z   10"]


def test_denials_and_misses_share_one_no_retry_reply() -> None:
    """The policy's denial and the tap's cassette miss tell every SDK not to retry, in the same words."""
    from pytest_agentops.policy.engine import Guard
    from pytest_agentops.policy.tools import Denial
    from pytest_agentops.trace.replies import no_retry

    status, headers, body = Guard.reply(Denial("read_only", "writes are not allowed"), "crm.contacts.create")
    assert status == 403 and headers["x-agentops-denied"] == "read_only"
    assert headers["x-should-retry"] == headers["stripe-should-retry"] == "false"
    miss_headers, _ = no_retry({"error": {}}, ("x-agentops-miss", "1"))
    assert {k: v for k, v in headers.items() if k != "x-agentops-denied"} == {
        k: v for k, v in miss_headers.items() if k != "x-agentops-miss"
    }
    assert b'"rule": "read_only"' in body
