"""Each test's tap, routed to by hooks around the test's phases instead of an autouse fixture.

The interception is installed once per session (``tap.install``); per test there is only an
``Opener`` made the current one (``tap.current.active_tap`` asks it): a request, a ``@tool`` call or a
blocked socket opens the test's run, tap, simulators and guard on first use. A test that asks for
agentops (a marker, a fixture of ours, ``agentops_scope = all``) opens them before its fixtures.

Why hooks: an autouse fixture costs pytest's fixture machinery on every test of the suite (its
definition looked up, its finalizer registered, its teardown run), which was most of what the
plugin cost a test that makes no request. ``start`` runs in ``pytest_runtest_setup`` after the
skip marks were evaluated (a skipped test gets no run), ``stop`` once the test's teardown ended.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_agentops.cassette.errors import CassetteError
from pytest_agentops.plugin import gating as _guard
from pytest_agentops.policy import current as _current_guard
from pytest_agentops.tap import current as _current_tap
from pytest_agentops.tap.items import cassette_path_for, cassette_path_with, closest_mark

if TYPE_CHECKING:
    from pytest_agentops.backends.sims import SimSet
    from pytest_agentops.readers.assertions import AgentRun
    from pytest_agentops.tap.routing import Tap
    from pytest_agentops.tap.settings import Settings

RUN: pytest.StashKey[AgentRun] = pytest.StashKey()
TAP: pytest.StashKey[Tap] = pytest.StashKey()
SIMS: pytest.StashKey[SimSet] = pytest.StashKey()
OPENER: pytest.StashKey[Opener] = pytest.StashKey()


def start(item: pytest.Item, settings: Settings, *, eager: bool) -> Opener:
    """Make ``item``'s opener the current one; ``eager`` opens its tap now (before its fixtures)."""
    opener = item.stash[OPENER] = Opener(item, settings, eager=eager)
    if eager:
        opener.open()
    else:  # a request, a tool call or a blocked socket opens it
        opener.route()
    return opener


def stop(item: pytest.Item) -> None:
    """The test's teardown ended: close its tap (save what was recorded) and stop routing to it."""
    opener = item.stash.get(OPENER, None)
    if opener is not None:
        opener.close()


def release(item: pytest.Item) -> None:
    """The test's reports are all made: let go of its run, tap, cassette, guard and simulators.

    pytest keeps every item until the session ends, so whatever its stash holds stays alive too:
    a replayed suite kept each test's parsed cassette and trace, which every full garbage
    collection then walked again (and the memory grew with the suite). Nothing reads them after
    the teardown report; the figures the session needs were taken from the report by then.
    """
    stash = item.stash
    opener = stash.get(OPENER, None)
    if opener is not None and opener.untouched:  # most tests: nothing but the opener was stashed
        del stash[OPENER]
        return
    from pytest_agentops.plugin.outputs import PHASES  # (outputs imports this module)

    run = stash.get(RUN, None)
    if run is not None:  # the guard points back at its run: a cycle only a garbage collection frees
        run.guard = None
    keys: tuple[pytest.StashKey[Any], ...] = (OPENER, RUN, TAP, SIMS, _guard.GUARD, PHASES)
    for key in keys:
        if key in stash:
            del stash[key]


def opener_of(item: pytest.Item, settings: Settings, *, eager: bool) -> Opener:
    """``item``'s opener; started here if no setup hook of ours ran for it (a fixture asked first)."""
    opener = item.stash.get(OPENER, None)
    return opener if opener is not None else start(item, settings, eager=eager)


class Opener:
    """One test's run, tap, simulators and guard, opened once (a second ``open`` returns the same tap)."""

    def __init__(self, item: pytest.Item, settings: Settings, *, eager: bool) -> None:
        self.item, self.settings, self.eager = item, settings, eager
        self.tap: Tap | None = None
        self.guard: _guard.Deferred | None = None
        self._opening = False
        self._stack: contextlib.ExitStack | None = None
        self._routed: _Routing | None = None

    def route(self) -> None:
        """Until ``close``, requests and ``@tool`` calls of this test open it (a lazy test)."""
        self._routed = _Routing(self)

    def open(self) -> Tap | None:
        if self.tap is None and not self._opening:  # a request made while opening finds no tap yet
            self._opening = True
            try:
                stack = self._stack = self._stack or contextlib.ExitStack()
                self.tap, self.guard = stack.enter_context(_test_tap(self.item, self.settings, eager=self.eager))
            finally:
                self._opening = False
        return self.tap

    @property
    def untouched(self) -> bool:
        """Never asked to open: the test stashed no run, tap, simulators, guard or report figures."""
        return self._stack is None

    def open_guard(self) -> _guard.Deferred | None:
        self.open()
        return self.guard

    def close(self) -> None:
        routed, self._routed = self._routed, None
        try:
            if self._stack is not None:
                self._stack.close()
        finally:
            if routed is not None:
                routed.end()


class _Routing:
    """A lazy test's place in the tap stack and as the ``@tool`` guard, without a context manager each."""

    def __init__(self, opener: Opener) -> None:
        self._pending = _Pending(opener)
        _current_tap.push(self._pending)
        self._guard = _current_guard.push_guard(_guard.Opening(opener.open_guard))

    def end(self) -> None:
        _current_guard.pop_guard(self._guard)
        _current_tap.pop(self._pending)


class _Pending:
    """What a lazy test leaves on the tap stack: it opens the test's tap for a request it governs."""

    def __init__(self, opener: Opener) -> None:
        self._opener = opener
        self._cassette: bool | None = None

    def __call__(self) -> Tap | None:
        return self._opener.open()

    def wants(self, method: str, url: str) -> bool:
        """``Tap.governs`` asked before the tap exists: an unopened tap has no mounts to match."""
        opener = self._opener
        if opener.tap is not None or opener.eager:
            return True
        from pytest_agentops.tap.scope import governed_url
        from pytest_agentops.trace.providers import detect_provider

        if detect_provider(method, url) or governed_url(method, url):
            return True
        if self._cassette is None:  # a test with a cassette is in scope (read when its tap opens)
            self._cassette = os.path.isfile(cassette_path_for(opener.item, opener.settings))
        return self._cassette


@contextlib.contextmanager
def _test_tap(item: pytest.Item, settings: Settings, *, eager: bool) -> Iterator[tuple[Tap, _guard.Deferred | None]]:
    """``eager``: the test asked for agentops, so its guard is the ``@tool`` guard from setup (a lazy
    test set a ``guard.Opening`` instead)."""
    from pytest_agentops.backends.sims import SimSet as Sims
    from pytest_agentops.cassette.format import read_text
    from pytest_agentops.plugin import cassette_fix
    from pytest_agentops.plugin.outputs import start_run
    from pytest_agentops.readers.assertions import AgentRun
    from pytest_agentops.tap.opener import open_tap

    run = AgentRun(item.nodeid)
    item.stash[RUN] = run
    start_run(item, run)
    marker = closest_mark(item, "agent_cassette")
    path = cassette_path_with(item, settings, marker)
    redact = item.ihook.pytest_agentops_redact_interaction  # conftest-scoped to this test's folder
    hook = redact if redact.get_hookimpls() else None
    try:
        text = None
        if eager or settings.record == "all":  # its cassette is read when the tap opens (or never)
            in_scope = eager or os.path.isfile(path)  # (Path.is_file: 3x the cost)
        else:  # one open says whether it has a cassette (then it is in scope) and reads it
            text = read_text(path, missing_ok=True)
            in_scope = text is not None
        with open_tap(settings, run, path, hook, in_scope=in_scope, text=text) as tap:
            item.stash[TAP] = tap
            tap.record_errors = settings.record_errors or bool(marker and marker.kwargs.get("record_errors"))
            item.stash[SIMS] = sims = Sims(tap, settings.staging, settings.record != "none")
            try:
                with _guard.activate(item, run, tap, tools=eager) as deferred:
                    yield tap, deferred
            finally:
                sims.close()
    except CassetteError as exc:  # loading it, or re-reading it to merge at save: one line, no traceback
        raise pytest.fail.Exception(cassette_fix(exc, item), pytrace=False) from None
