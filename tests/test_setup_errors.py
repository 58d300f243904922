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
    result.assert_outcomes(errors=2, passed=1)
    out = result.stdout.str()  # (the short summary may repeat a message, as wide as the terminal)
    for name in ("test_one", "test_two"):
        assert f"test_bad.py::{name}: @pytest.mark.agent_policy: allow_typo: unknown key" in out
    assert "AssertionError" not in out


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
    result.assert_outcomes(errors=2, passed=1)
    out = result.stdout.str()  # (the short summary may repeat a message, as wide as the terminal)
    for name in ("test_one", "test_two"):
        assert f"{name}.json: not valid JSON at line 1" in out
    assert "AssertionError" not in out
