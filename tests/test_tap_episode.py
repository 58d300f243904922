"""``Tap.episode``: a block of a test with its own run, gates, mounts and cassette on the test's tap.

And the cassette API it is fed with: ``Cassette.extend`` (recorded interactions given as values,
each checked as a file's are) and ``Tap.origins``. ``fuzz.episode`` is built on these
(``tests/test_public_ground.py`` checks it uses nothing private).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_agentops.cassette.errors import CassetteFormatError
from pytest_agentops.cassette.format import Cassette
from pytest_agentops.cassette.layered import Layered
from pytest_agentops.cassette.matching import request_key
from pytest_agentops.tap import LiveRequest, Reply
from pytest_agentops.tap.opener import active_tap
from pytest_agentops.trace.run import Run


def _answer(text: str) -> Any:
    def handler(live: LiveRequest) -> Reply:
        return 200, {"content-type": "application/json"}, json.dumps({"from": text}).encode()

    return handler


def _recorded(url: str, said: str) -> dict[str, Any]:
    return {
        "kind": "tool",
        "request": {"method": "GET", "url": url, "headers": {}, "body": None},
        "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": {"json": {"from": said}}},
    }


def _cassette(name: str, *interactions: dict[str, Any]) -> Cassette:
    cassette = Cassette(Path(f"<{name}>"))
    cassette.extend(interactions)
    return cassette


def _deny_all(live: LiveRequest) -> Reply:
    return 403, {"content-type": "application/json"}, b'{"error": "denied by the episode"}'


def _tap() -> Any:
    tap = active_tap()
    assert tap is not None, "the test's tap is open (agent_run)"
    return tap


def test_an_episodes_events_land_on_its_own_run_and_its_mounts_answer_first(agent_run: Any) -> None:
    tap = _tap()
    tap.mount("https://kb.test", _answer("test"))
    run = Run("episode")
    with tap.episode(run) as scoped:
        scoped.mount("https://kb.test", _answer("episode"))
        assert httpx.get("https://kb.test/a").json() == {"from": "episode"}
    assert httpx.get("https://kb.test/b").json() == {"from": "test"}  # the episode's mount is gone

    assert [e.url for e in run.events] == ["https://kb.test/a"]
    assert [e.url for e in agent_run.events] == ["https://kb.test/b"]


def test_a_last_mount_answers_only_what_the_tests_mounts_do_not(agent_run: Any) -> None:
    tap = _tap()
    tap.mount("https://kb.test", _answer("test"))
    with tap.episode(Run("episode")) as scoped:
        scoped.mount("https:", _answer("catch-all"), last=True)
        assert httpx.get("https://kb.test/a").json() == {"from": "test"}
        assert httpx.get("https://elsewhere.test/").json() == {"from": "catch-all"}


def test_an_exception_inside_restores_the_run_gates_mounts_and_cassette(agent_run: Any) -> None:
    tap = _tap()
    tap.mount("https://kb.test", _answer("test"))
    before = (tap.run, tap.gates, tap.local, list(tap.local), tap.cassette, tap.origins())
    front = _cassette("planted", _recorded("https://recorded.test/x", "planted"))
    with (
        pytest.raises(RuntimeError, match="the example failed"),
        tap.episode(Run("episode"), gates=[_deny_all], cassette=front) as scoped,
    ):
        scoped.mount("https://other.test", _answer("episode"))
        assert tap.run is not before[0] and tap.cassette is front and tap.origins() == {"https://recorded.test"}
        assert httpx.get("https://kb.test/a").status_code == 403  # the episode's gates, not the test's
        raise RuntimeError("the example failed")

    assert (tap.run, tap.gates, tap.local, list(tap.local), tap.cassette, tap.origins()) == before
    assert tap.run is agent_run and tap.cassette is before[4]
    assert httpx.get("https://kb.test/a").json() == {"from": "test"}
    assert [e.status for e in agent_run.events] == [200]  # the denial went to the episode's run


def test_a_layered_cassette_answers_first_and_the_back_one_the_rest(agent_run: Any) -> None:
    front = _cassette("failing run", _recorded("https://api.test/x", "front"))
    back = _cassette("test's", _recorded("https://api.test/x", "back"), _recorded("https://api.test/y", "back"))
    run = Run("episode")
    with httpx.Client() as client, _tap().episode(run, cassette=Layered(front, back)):
        said = [client.get(f"https://api.test/{path}").json()["from"] for path in ("x", "y", "x")]
    assert said == ["front", "back", "back"]  # the front played out: the repeat comes from the back
    assert [e.backend for e in run.events] == ["cassette"] * 3


def test_answers_of_the_kept_backends_are_kept_as_interactions(agent_run: Any) -> None:
    tap = _tap()
    with tap.episode(
        Run("episode"), cassette=_cassette("c", _recorded("https://api.test/x", "c")), keep=["cassette"]
    ) as scoped:
        scoped.mount("https://kb.test", _answer("simulated"))
        httpx.get("https://api.test/x")
        httpx.get("https://kb.test/a")  # a simulator's answer: not kept
    [kept] = scoped.answers
    assert kept["request"]["url"] == "https://api.test/x" and kept["response"]["body"]["json"] == {"from": "c"}
    with tap.episode(Run("later")) as later:
        later.mount("https://kb.test", _answer("simulated"))
        httpx.get("https://kb.test/a")
    assert later.answers == [] and len(scoped.answers) == 1  # nothing kept unless asked, and only inside


def test_extend_checks_every_interaction_and_names_the_cassette_and_field() -> None:
    cassette = _cassette("planted", _recorded("https://api.test/x", "one"))
    bad = _recorded("https://api.test/y", "two")
    bad["request"]["method"] = 5
    with pytest.raises(CassetteFormatError) as caught:
        cassette.extend([_recorded("https://api.test/z", "fine"), bad])
    assert str(caught.value) == "cassette <planted>: interactions[2].request.method: expected a string, got 5"
    assert len(cassette) == 1  # all or nothing
    assert cassette.origins() == {"https://api.test"}
    replayed = cassette.take(request_key("GET", "https://api.test/x", None, cassette.config))
    assert replayed is not None and replayed["response"]["body"] == {"json": {"from": "one"}}  # indexed


def test_recording_fetches_a_saved_runs_error_answer_again() -> None:
    """A failing run may hold a 5xx the upstream gave; recording, the layered cassette lets it go."""
    from pytest_agentops.cassette.redact import Redactor
    from pytest_agentops.tap import Tap
    from pytest_agentops.trace.warning import AgentopsWarning

    tap = Tap(Run("test"), Cassette(Path("<test's>")), "new", Redactor())
    error = _recorded("https://api.test/x", "overloaded")
    error["response"]["status"] = 503
    front = _cassette("failing run", error)
    layered = Layered(front, tap.cassette)
    with tap.episode(Run("episode"), cassette=layered), pytest.warns(AgentopsWarning, match="held a 503 answer"):
        decision = tap.decide(LiveRequest("GET", "https://api.test/x", {}, b""))
    assert (decision.backend, decision.record) == ("network", True)  # asked again, and recorded


def test_an_episodes_cassette_answers_instead_of_the_tests_not_before_it() -> None:
    """docs/fuzzing.md and docs/how-it-works.md: ``cassette=`` replaces the test's for the block.

    A request only the test's cassette holds is a miss inside the block (naming the episode's
    cassette), and answered from the test's again after it.
    """
    from pytest_agentops.cassette.redact import Redactor
    from pytest_agentops.tap import Tap

    tests = _cassette("test's", _recorded("https://api.test/y", "test's"))
    tap = Tap(Run("test"), tests, "none", Redactor())
    with tap.episode(Run("episode"), cassette=_cassette("given", _recorded("https://api.test/x", "given"))):
        given = tap.decide(LiveRequest("GET", "https://api.test/x", {}, b""))
        only_the_tests = tap.decide(LiveRequest("GET", "https://api.test/y", {}, b""))
    after = tap.decide(LiveRequest("GET", "https://api.test/y", {}, b""))
    assert (given.backend, only_the_tests.backend, after.backend) == ("cassette", "miss", "cassette")
    assert only_the_tests.reply is not None and b"recorded request in <given>" in only_the_tests.reply["body"]["string"]
    assert after.reply is not None and after.reply["body"]["string"] == b'{"from":"test\'s"}'


FUZZ_CASSETTE_TEST = """
import httpx

from pytest_agentops import fuzz

PLANTED = {"version": 1, "meta": {}, "interactions": [
    {"kind": "tool",
     "request": {"method": "GET", "url": "https://planted.test/x", "headers": {}, "body": None},
     "response": {"status": 200, "headers": {"content-type": "application/json"},
                  "body": {"json": {"from": "planted"}}}},
]}


def test_episode_cassette(agent_run):
    with fuzz.episode(cassette=PLANTED) as ep:
        assert httpx.get("https://planted.test/x").json() == {"from": "planted"}
        # Held by the test's cassette only: not answered from it (the sink answers an origin the
        # episode's cassette never recorded).
        assert httpx.get("https://kb.test/y").json() == {}
    assert [e.backend for e in ep.run.events] == ["cassette", "simulator"]
    assert httpx.get("https://kb.test/y").json() == {"from": "the test's cassette"}
    assert [e.backend for e in agent_run.events] == ["cassette"]
"""


def test_fuzz_episode_cassette_replaces_the_tests_cassette_for_the_episode(pytester: pytest.Pytester) -> None:
    """The ``cassette=`` row of docs/fuzzing.md's episode table, in a real test with a cassette file."""
    pytester.makepyfile(test_inner=FUZZ_CASSETTE_TEST)
    recorded = _recorded("https://kb.test/y", "the test's cassette")
    path = pytester.path / "cassettes" / "test_inner" / "test_episode_cassette.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 1, "meta": {}, "interactions": [recorded]}), encoding="utf-8")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)
