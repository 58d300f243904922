"""A test whose tap cannot start (a bad marker, a corrupt cassette) errors at setup with the fault
named, and so does the next test that shares its fixtures: the first one once left a fixture half
set up, and the next failed on pytest's own bare ``assert not self._finalizers`` instead."""

from __future__ import annotations

import pytest


def test_a_bad_marker_fails_each_test_that_has_it(pytester: pytest.Pytester) -> None:
    """Terms that fail to merge are not kept: every test with the bad marker errors with the marker's
    fault (the second one once failed on pytest's own ``assert not self._finalizers`` instead, as
    the first left a fixture half set up), and the tests after them run as usual."""
    pytester.makepyfile(
        test_good="""
        def test_after(agent_run):
            assert agent_run.events == []
        """,
        test_bad="""
        import pytest

        pytestmark = pytest.mark.agent_policy(allow_typo=["x"])


        def test_one(agent_run):
            pass


        def test_two(agent_run):
            pass
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "test_bad.py", "test_good.py")
    fault = "@pytest.mark.agent_policy: allow_typo: unknown key"
    _two_errors_each_naming(result, [f"test_bad.py::{name}: {fault}" for name in ("test_one", "test_two")])


def test_a_corrupt_cassette_errors_each_test_that_reads_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_c="""
        def test_one(agent_run):
            pass


        def test_two(agent_run):
            pass


        def test_three_has_no_cassette(agent_run):
            assert agent_run.events == []
        """
    )
    folder = pytester.path / "cassettes" / "test_c"
    folder.mkdir(parents=True)
    for name in ("test_one", "test_two"):
        (folder / f"{name}.json").write_text("{not json", encoding="utf-8")
    result = pytester.runpytest("-p", "no:cacheprovider")
    _two_errors_each_naming(result, [f"{name}.json: not valid JSON at line 1" for name in ("test_one", "test_two")])


def _two_errors_each_naming(result: pytest.RunResult, messages: list[str]) -> None:
    """Both faulty tests errored and the third passed; each fault is named, pytest's bare assert never."""
    result.assert_outcomes(errors=2, passed=1)
    out = result.stdout.str()  # (the short summary may repeat a message, as wide as the terminal)
    for message in messages:
        assert message in out
    assert "AssertionError" not in out


def test_a_lazy_tests_corrupt_cassette_fails_it_at_its_first_request(pytester: pytest.Pytester) -> None:
    """A test that asks for nothing of ours reads its cassette when its first request opens the
    tap (the same open says whether it has one): the fault is one line naming the file, whichever
    part of reading it fails, and a neighbour with no cassette is untouched."""
    pytester.makepyfile(
        test_lazy="""
        import httpx


        def ask():
            httpx.post("https://api.openai.com/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": []})


        def test_not_json():
            ask()


        def test_not_utf8():
            ask()


        def test_no_cassette_no_request():
            pass
        """
    )
    folder = pytester.path / "cassettes" / "test_lazy"
    folder.mkdir(parents=True)
    (folder / "test_not_json.json").write_text("{not json", encoding="utf-8")
    (folder / "test_not_utf8.json").write_bytes(b'{"version": 1, "x": "\xff"}')
    result = pytester.runpytest("-p", "no:cacheprovider", "--agent-replay")
    result.assert_outcomes(failed=2, passed=1)
    out = result.stdout.str()
    for name, fault in (("test_not_json", "not valid JSON at line 1"), ("test_not_utf8", "not UTF-8 text")):
        assert f"{name}.json: {fault}" in out
        assert f"re-record it: pytest --agent-record=all test_lazy.py::{name}" in out  # the fix, one line
    assert "CassetteFormatError" not in out
