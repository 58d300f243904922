"""SDK telemetry sent outside a test, answered locally in strict offline mode (``--agent-replay``).

SDKs send their telemetry when they please, not only while a test runs: litellm fetches its price
list when a test module imports it (collection), CrewAI's and the Agents SDK's exporters post from
a background thread after the test has ended. Inside a test its tap answers them
(``tap.telemetry``); outside one no tap is open, and in strict offline mode the network guard
refuses the socket, which an SDK logs as an error or raises out of an import. So the session keeps
this answerer under every test's tap: it wants only what ``tap.telemetry`` recognises, answers it as
a test's tap would (never sent, never recorded, never a miss) and lists each as a ``telemetry``
event on its own run, which the session's summary reports. Any other request outside a test is
left as it is without the plugin (and the guard refuses it): harmless to install.
"""

from __future__ import annotations

from pathlib import Path

from pytest_agentops.cassette.format import Cassette
from pytest_agentops.cassette.redact import Redactor
from pytest_agentops.tap import current
from pytest_agentops.tap.routing import Tap
from pytest_agentops.tap.telemetry import Telemetry
from pytest_agentops.trace.run import Run

OUTSIDE = "(outside a test)"


class Outside:
    """Answers recognised telemetry while no test's tap is open; ``run.events`` lists each one."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry
        self.run = Run(OUTSIDE)
        # Record mode "none" and a cassette with no file: nothing is ever looked up or saved.
        self._tap = Tap(self.run, Cassette(Path("<outside a test: no cassette>")), "none", Redactor(), in_scope=False)
        self._tap.telemetry = telemetry

    def __call__(self, method: str, url: str) -> Tap | None:
        """The tap for ``url`` when it is telemetry, else None (the request goes on as without the plugin)."""
        return self._tap if self.telemetry.rule_for(url) is not None else None

    def lines(self) -> list[str]:
        """One line per telemetry request answered outside a test, for the session's summary."""
        lines = []
        for event in self.run.events:
            rule = self.telemetry.rule_for(event.url)
            lines.append(f"{event.method} {event.url} -> {event.status} ({rule.why if rule else 'telemetry'})")
        return lines


def start(telemetry: Telemetry) -> Outside:
    """Start the interception (once per process) and answer telemetry outside tests until ``stop``."""
    from pytest_agentops.tap import install

    install.acquire()
    outside = Outside(telemetry)
    current.push_outside(outside)
    return outside


def stop(outside: Outside) -> None:
    from pytest_agentops.tap import install

    current.pop_outside(outside)
    install.release()
