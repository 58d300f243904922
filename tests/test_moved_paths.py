"""Old module paths answer for one release: the same module object, and a warning naming the new path."""

from __future__ import annotations

import importlib
import sys

import pytest

from pytest_agentops import _moved


@pytest.mark.parametrize(("old", "new"), sorted(_moved.MOVED.items()))
def test_an_old_path_is_the_module_at_its_new_path(old: str, new: str) -> None:
    sys.modules.pop(f"pytest_agentops.{old}", None)
    with pytest.warns(DeprecationWarning, match=f"moved to pytest_agentops.{new}"):
        module = importlib.import_module(f"pytest_agentops.{old}")
    assert module is importlib.import_module(f"pytest_agentops.{new}")


def test_a_moved_package_submodule_is_not_run_twice() -> None:
    sys.modules.pop("pytest_agentops.fakes.model", None)
    with pytest.warns(DeprecationWarning):
        old = importlib.import_module("pytest_agentops.fakes.model")
    assert old is importlib.import_module("pytest_agentops.backends.model.model")
    assert sys.modules["pytest_agentops.fakes.model"] is old


def test_paths_that_never_moved_are_not_answered() -> None:
    assert _moved.new_path("pytest_agentops.cli") is None
    assert _moved.new_path("pytest_agentops.trace") is None
    assert _moved.new_path("json") is None


def test_names_split_into_a_sibling_module_answer_at_their_old_module() -> None:
    """Issue 12's module splits: the old module keeps answering each moved name (the same object)."""
    from pytest_agentops.policy import budget, clocks
    from pytest_agentops.readers import pii, tracefile
    from simulators.ticketing import models, params

    for name in ("watch_clock", "start_simulated", "observe_freeze", "simulated"):
        assert getattr(budget, name) is getattr(clocks, name)
    assert (tracefile.mask_pii, tracefile.mask_pii_text) == (pii.mask_pii, pii.mask_pii_text)
    from simulators.ticketing.models import ShowParams, Tags, TicketCreateParams  # the old import path

    assert (ShowParams, TicketCreateParams, Tags) == (params.ShowParams, params.TicketCreateParams, params.Tags)
    with pytest.raises(AttributeError, match="no attribute 'NoSuchParams'"):
        _ = models.NoSuchParams
