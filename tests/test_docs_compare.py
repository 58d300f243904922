"""The docs comparison does not depend on the terminal: pytest's banners and rules are padded to
its width (and around a duration of any number of digits), and compare by their title."""

from __future__ import annotations

from docs_blocks.compare import match_lines, normalize_banner, normalize_line

SHOWN = """
============================== agentops scorecard ==============================
agent  runs
============================== 8 passed in 1.72s ===============================
"""


def _banner(title: str, width: int, fill: str = "=") -> str:
    """A banner as pytest's TerminalWriter.sep draws it for a terminal ``width`` wide."""
    text = f" {title} "
    left = (width - len(text)) // 2
    return fill * left + text + fill * (width - len(text) - left)


def test_banners_of_any_width_match() -> None:
    for width in (60, 80, 132, 200):
        real = "\n".join([_banner("agentops scorecard", width), "agent  runs", _banner("8 passed in 12.34s", width)])
        assert match_lines(SHOWN, real) is None, width


def test_a_different_title_still_fails() -> None:
    real = "\n".join([_banner("agentops scorecard", 80), "agent  runs", _banner("1 failed, 7 passed in 1.72s", 80)])
    problem = match_lines(SHOWN, real)
    assert problem is not None and "  === 8 passed in <n>s ===" in problem


def test_what_is_and_is_not_a_banner() -> None:
    assert normalize_banner("_" * 31 + " test_greets[attempt-2] " + "_" * 25) == "___ test_greets[attempt-2] ___"
    assert normalize_banner("-" * 30 + " agentops trace " + "-" * 34) == "--- agentops trace ---"
    assert normalize_banner("=" * 80) == "==="
    assert normalize_banner("a == b") == "a == b"
    assert normalize_banner("| --- | --- |") == "| --- | --- |"
    assert normalize_banner("--- real output ---x") == "--- real output ---x"
    assert normalize_line("=====  8 passed   in 0.91s  =====") == "=== 8 passed in <n>s ==="
