"""docs/frameworks.md's table is written from a run (tests/frameworks/matrix.json), not by hand, and
that run used the versions installed here: after an upgrade, run the matrix again (render.py says how)."""

from __future__ import annotations

import json
import os
from importlib import metadata
from typing import Any

import pytest
from matrix import FRAMEWORKS
from render import END, PAGE, RESULTS, START, rendered, table

RERUN = "run the matrix again and render the page: see the docstring of tests/frameworks/render.py"


def _results() -> dict[str, Any]:
    return json.loads(RESULTS.read_text())


def _installed(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def test_the_page_is_what_render_writes_from_the_committed_run() -> None:
    page = PAGE.read_text()
    assert rendered(page, _results()) == page, f"docs/frameworks.md's matrix was edited by hand: {RERUN}"


def _pins() -> dict[str, Any]:
    """The project's own version ranges for each distribution its extras name (pyproject.toml)."""
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((PAGE.parents[1] / "pyproject.toml").read_text())["project"]
    pins: dict[str, Any] = {}
    for extra in project["optional-dependencies"].values():
        for line in extra:
            requirement = Requirement(line)
            pins.setdefault(requirement.name, requirement.specifier)
    return pins


def test_the_committed_run_used_versions_this_project_installs() -> None:
    """Each framework installed here is on the page, and its row (when run in this environment: the
    test extra, or the tox env running this) names versions inside the project's pins, as the
    installed ones are. An exact match would turn CI red on every upstream release; the session
    header prints the installed versions, and rendering the page again brings the row up to date."""
    env = os.environ.get("TOX_ENV_NAME", "test")
    runs, pins = _results()["frameworks"], _pins()
    stale = []
    for key, fw in FRAMEWORKS.items():
        if _installed(fw.dists[0]) is None:
            continue  # its row comes from its own tox env, or says why it cannot be installed
        ran = runs.get(key)
        if ran is None:
            stale.append(f"{fw.name} is installed but not on the page")
            continue
        if ran["env"] != env:
            continue
        for dist, version in ran["versions"].items():
            pin = pins.get(dist)
            if pin is not None and version not in pin:
                stale.append(f"{fw.name}: the page has {dist} {version}, outside this project's pin {pin}")
    assert not stale, f"{'; '.join(stale)}: {RERUN}"


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        (["passed", "passed"], "passed (2)"),
        (["passed", "failed"], "**failed** 1 of 2"),
        (["skipped"], "skipped (1)"),
    ],
)
def test_a_row_says_how_its_tests_ended(outcomes: list[str], expected: str) -> None:
    tests = {f"tests/frameworks/test_litellm.py::test_{n}": o for n, o in enumerate(outcomes)}
    run = {"versions": {"litellm": "1.0"}, "python": "3.11.7", "env": "test", "tests": tests}
    [line] = [line for line in table({"frameworks": {"litellm": run}}).splitlines() if line.startswith("| LiteLLM")]
    assert line == f"| LiteLLM | litellm 1.0 | `.[test]`, Python 3.11.7 | {expected} | no test | no tools of its own |"
    crewai = FRAMEWORKS["crewai"].apart
    assert f"| CrewAI | not installed: {crewai} | `tox -e crewai` (no result yet) |" in table({"frameworks": {}})


def test_the_markers_are_on_the_page() -> None:
    page = PAGE.read_text()
    assert page.count(START) == page.count(END) == 1
