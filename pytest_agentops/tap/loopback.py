"""Requests that arrive on a loopback port take the in-process path.

A subprocess agent (``agent_sims.env()``, ``fake_llm.env()``), a non-Python agent or raw bytes on
a socket reach a server thread, not a patched client, so no interception sees them. The servers
behind ``agent_sims`` and ``fake_llm.serve()`` hand each request here instead: it becomes the same
``LiveRequest``, is judged by the same gates of the test's tap (a denied write is answered with the
in-process denial and never reaches the simulator), is served by the one backend mounted for its
URL, and its one event is written on the test's run by the tap, before the answer goes out (a
client that has read its answer finds the event on the trace).

The tap is the one the server was opened for (the test's own), not whichever test runs when the
request arrives: a server thread inherits no context, and a simulator's port belongs to its test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pytest_agentops.tap.routing import Decision, LiveRequest

if TYPE_CHECKING:
    from pytest_agentops.tap.routing import Tap
    from pytest_agentops.trace.run import Backend
    from simulators.core.server import Answer, Direct, Front


def live_request(method: str, url: str, headers: Mapping[str, str], body: bytes) -> LiveRequest:
    """The one request object, as a patched client would have built it (header names lower-cased)."""
    from pytest_agentops.trace import providers

    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        lowered[key] = f"{lowered[key]}, {value}" if key in lowered else value
    live = LiveRequest(method.upper(), url, lowered, body)
    live.kind = "model" if providers.detect_provider(live.method, live.url) else "tool"
    return live


def admit(tap: Tap, live: LiveRequest) -> Decision | None:
    """Ask ``tap``'s gates once; a denial, already written on the run, or None to serve ``live``."""
    live.gated = True
    denied = tap.gate(live)
    if denied is not None:
        assert denied.reply is not None
        tap.answer(denied, denied.reply)
    return denied


def served(tap: Tap, live: LiveRequest, backend: Backend, status: int, headers: Mapping[str, str], body: bytes) -> None:
    """``backend`` answered ``live`` outside the tap's routing (a stream): write its one event."""
    response = {
        "status": {"code": status, "message": ""},
        "headers": {k.lower(): [v] for k, v in headers.items()},
        "body": {"string": body},
    }
    tap.answer(Decision(live, backend), response)


def answer_of(reply: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """A tap reply (vcr-shaped) as the (status, headers, body) a loopback server sends."""
    headers = {
        k: ", ".join(v) if isinstance(v, list) else str(v)
        for k, v in reply["headers"].items()
        if k.lower() not in ("content-length", "transfer-encoding")  # the server frames the body itself
    }
    return int(reply["status"]["code"]), headers, reply["body"]["string"] or b""


def front(tap_of: Callable[[], Tap | None]) -> Front:
    """The ``SimServer`` front that sends each request through the tap ``tap_of()`` returns."""

    def through_tap(method: str, url: str, headers: dict[str, str], body: bytes, direct: Direct) -> Answer:
        tap = tap_of()
        if tap is None:  # the test is over: nobody governs the port any more
            return direct(method, url, headers, body)
        live = live_request(method, url, headers, body)
        try:
            decision = tap.decide(live)
        except Exception:  # an injected drop or timeout (traced by the tap): close without a reply
            return None
        if not decision.traced or decision.reply is None:  # nothing of the tap serves this URL
            return direct(method, url, headers, body)
        tap.answer(decision, decision.reply)
        return answer_of(decision.reply)

    return through_tap
