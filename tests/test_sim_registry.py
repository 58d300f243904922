"""The simulator registry: one registration gives a simulator its fixture, its ``agent_sims``
entry, its ``--agent-staging`` name and ``agentops sim serve``, with no other edit.

The fourth simulator here (``weather``) is defined by the test, never shipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulators import REGISTRY, SIMULATORS, simulator_class
from simulators.core.registry import Registry

# A whole simulator in one module: a resource, a read and a write, and its one registry line.
WEATHER = textwrap.dedent(
    '''
    from typing import Any, ClassVar

    from pydantic import BaseModel

    from simulators import register
    from simulators.core.errors import SimError
    from simulators.core.routing import Router
    from simulators.core.simulator import Context, Simulator
    from simulators.core.state import ResourceSpec


    class Station(BaseModel):
        id: str
        city: str
        celsius: float = 21.5


    class NewStation(BaseModel):
        city: str


    router = Router("weather")


    @router.get("/v1/stations/{id}", tool="weather.stations.retrieve", response=Station)
    def retrieve(ctx: Context, p: None) -> Any:
        """Read a station."""
        return ctx.require("stations", ctx.path["id"])


    @router.post("/v1/stations", tool="weather.stations.create", params=NewStation, response=Station)
    def create(ctx: Context, p: NewStation) -> Any:
        """Open a station."""
        return ctx.insert("stations", Station(id=ctx.new_id("st"), city=p.city))


    class WeatherSimulator(Simulator):
        router = router
        resources: ClassVar[tuple[ResourceSpec, ...]] = (ResourceSpec("stations", Station, "st", "station"),)

        def seed_demo(self) -> None:
            self.seed({"stations": [{"id": "st_demo", "city": "Lisbon"}]})


    register("weather", WeatherSimulator, base_url="https://weather.sim.test", about="test-only weather")
    '''
)


@pytest.fixture
def weather_module(tmp_path: Path) -> Iterator[Path]:
    """``weather_sim.py`` on disk; the registration it makes is undone afterwards (the registry is
    process-wide, and an in-process pytester session shares it)."""
    folder = tmp_path / "weather_pkg"
    folder.mkdir()
    (folder / "weather_sim.py").write_text(WEATHER)
    try:
        yield folder
    finally:
        REGISTRY.unregister("weather")
        sys.modules.pop("weather_sim", None)


def test_the_shipped_simulators_are_declared_once_each() -> None:
    assert list(REGISTRY) == ["billing", "ticketing", "crm"]
    assert SIMULATORS is REGISTRY  # the old name is the same live table
    for entry in REGISTRY.values():
        cls = simulator_class(entry.name)
        assert cls.name == entry.name and entry.staging == entry.name
        # the class does not repeat the URL: it takes the registration's
        assert "default_base_url" not in vars(cls) or vars(cls)["default_base_url"] == entry.base_url
        assert cls().base_url == entry.base_url == f"https://{entry.name}.sim.agentops.local"


def test_a_registration_is_checked() -> None:
    registry = Registry()
    registry.register("one", "pkg.mod:One", base_url="https://one.test")
    with pytest.raises(ValueError, match="'one' is already registered"):
        registry.register("one", "pkg.mod:Other", base_url="https://other.test")
    with pytest.raises(ValueError, match="give base_url="):
        registry.register("two", "pkg.mod:Two")
    with pytest.raises(ValueError, match="lower-case letters"):
        registry.register("Two-2", "pkg.mod:Two", base_url="https://two.test")
    with pytest.raises(ValueError, match="not an http"):
        registry.register("two", "pkg.mod:Two", base_url="two.test")
    with pytest.raises(ValueError, match="staging name 'one' is 'one'"):
        registry.register("three", "pkg.mod:Three", base_url="https://three.test", staging="one")
    with pytest.raises(KeyError, match="unknown simulator 'nope'; known: one"):
        registry.get_entry("nope")
    heard: list[str] = []
    stop = registry.listen(lambda entry: heard.append(entry.name))
    registry.register("four", "pkg.mod:Four", base_url="https://four.test")
    stop()
    registry.register("five", "pkg.mod:Five", base_url="https://five.test")
    assert heard == ["four"] and list(registry) == ["one", "four", "five"]


def _staging() -> Any:
    """A real loopback server standing in for the weather service's staging: the simulator itself,
    seeded, answering one field differently (staging stations are colder)."""
    import weather_sim

    class Colder(weather_sim.WeatherSimulator):  # type: ignore[misc]
        def encode(self, result: Any) -> bytes:
            if hasattr(result, "celsius"):
                result = result.model_copy(update={"celsius": -3.0})
            return bytes(super().encode(result))

    sim = Colder()
    sim.seed({"stations": [{"id": "st_1", "city": "Oslo"}]})
    return sim, sim.serve()


def test_a_registered_simulator_gets_fixture_agent_sims_and_staging(
    pytester: pytest.Pytester, weather_module: Path
) -> None:
    pytester.syspathinsert(weather_module)
    pytester.makeconftest("import weather_sim  # registers the weather simulator\n")
    module = pytester.makepyfile(
        """
        import httpx

        def test_fixture(weather, agent_run):
            weather.seed({"stations": [{"id": "st_1", "city": "Oslo"}]})
            with weather.client() as client:
                assert client.get("/v1/stations/st_1").json()["celsius"] == 21.5
                assert client.post("/v1/stations", json={"city": "Porto"}).status_code == 200
            weather.assert_wrote("stations", city="Porto")
            assert weather.base_url == "https://weather.sim.test"
            assert [e.tool for e in agent_run.tool_calls] == ["weather.stations.retrieve", "weather.stations.create"]
            assert [e.tool for e in agent_run.writes] == ["weather.stations.create"]

        def test_agent_sims(agent_sims):
            served = agent_sims.weather
            assert served.base_url.startswith("http://127.0.0.1:")
            env = agent_sims.env()
            assert env["AGENTOPS_WEATHER_URL"] == served.base_url
            assert env["AGENTOPS_WEATHER_API_KEY"] == served.api_key
            answer = httpx.post(served.base_url + "/v1/stations", json={"city": "Faro"}, headers=served.auth_headers())
            assert answer.status_code == 200, answer.text
            served.assert_wrote("stations", city="Faro")

        def test_staging(weather, pytestconfig):
            if not pytestconfig.getoption("agent_record"):
                return
            with weather.client() as client:
                assert client.get("/v1/stations/st_1").json()["celsius"] == -3.0  # staging's answer, recorded
            assert len(weather.ledger) == 0  # the local instance saw nothing
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--fixtures")
    assert (
        "A fresh test-only weather simulator for this test, served in-process through the tap." in result.stdout.str()
    )
    assert "A fresh Stripe-compatible billing simulator for this test" in result.stdout.str()

    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)

    bad = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--agent-staging=sun=http://127.0.0.1:1")
    assert "unknown NAME 'sun'; known: openai, anthropic, billing, ticketing, crm, weather" in bad.stderr.str()

    _, server = _staging()
    try:
        recorded = pytester.runpytest_inprocess(
            "-p",
            "no:cacheprovider",
            "--agent-record",
            f"--agent-staging=weather={server.base_url}",
            f"{module.name}::test_staging",
        )
        recorded.assert_outcomes(passed=1)
    finally:
        server.stop()
    cassettes = list((pytester.path / "cassettes").rglob("*.json"))
    assert any("https://weather.sim.test/v1/stations/st_1" in path.read_text() for path in cassettes)


def test_sim_serve_serves_a_registered_simulator(weather_module: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(weather_module), os.environ.get("PYTHONPATH", "")])}
    code = "import sys, weather_sim; from pytest_agentops.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "sim", "serve", "weather", "--demo", "--api-key", "wk_test_1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert banner.startswith("weather simulator on http://127.0.0.1:"), banner + (
            proc.stderr.read() if proc.stderr else ""
        )
        base_url = banner.split()[3]
        answer = httpx.get(f"{base_url}/v1/stations/st_demo", headers={"Authorization": "Bearer wk_test_1"})
        assert answer.status_code == 200 and answer.json()["city"] == "Lisbon"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
