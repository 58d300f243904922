"""Shared fixtures: the fake upstream and an inner pytest project run through ``pytester``."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import forkrun
import pytest
import zygote
from upstream import ENV_VAR, Upstream

zygote.remember_installed_metadata()  # every in-process inner session reads it as it starts

# Plugins the inner sessions do not need; skipping them halves an inner pytest's start-up time.
# The inner projects are agent suites: every request of every test is governed (agentops_scope).
INNER_INI = """
[pytest]
addopts = -p no:hypothesispytest -p no:benchmark -p no:recording -p no:cacheprovider
    -p no:schemathesis -p no:langsmith_plugin -p no:anyio
agentops_scope = all
"""

INNER_CONFTEST = '''
import gc
import json
import os

import pytest

UPSTREAM = os.environ.get("AGENTOPS_TEST_UPSTREAM", "http://127.0.0.1:9")
OPENAI_KEY = "sk-test-inner00000000000000000000"
ANTHROPIC_KEY = "sk-ant-test-inner00000000000000"


@pytest.fixture
def upstream_url():
    return UPSTREAM


@pytest.fixture
def backend(request):
    """How the tap must have served this run's requests."""
    return "network" if request.config.getoption("agent_record") else "cassette"


@pytest.fixture
def seen(request):
    """Write what the agent code saw, so the outer test can compare a record run with its replay."""
    path = os.environ.get("AGENTOPS_TEST_SEEN")

    def note(value):
        if path:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"test": request.node.name, "value": value}) + "\\n")

    return note


@pytest.fixture
def oai():
    import openai

    return openai.OpenAI(base_url=UPSTREAM + "/v1", api_key=OPENAI_KEY)


@pytest.fixture
def aoai():
    import openai

    return openai.AsyncOpenAI(base_url=UPSTREAM + "/v1", api_key=OPENAI_KEY)


@pytest.fixture
def claude():
    import anthropic

    return anthropic.Anthropic(base_url=UPSTREAM, api_key=ANTHROPIC_KEY)
'''


#: The plugins this suite's own pyproject turns off, turned off in the inner sessions too:
#: schemathesis's imports hypothesis in every inner session, langsmith's about 230 modules of its
#: own (with opentelemetry and httpx2), and pytester forgets them after each in-process session, so
#: every session imported them again: a trivial in-process session took 440 ms, now 75 ms.
INNER_ADDOPTS = "-p no:schemathesis -p no:langsmith_plugin -p no:benchmark"


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.Pytester]:
    """Inner sessions fork from a warm interpreter instead of starting cold (``forkrun.py``)."""
    forkrun.install(pytester)
    monkeypatch.setenv("PYTEST_ADDOPTS", INNER_ADDOPTS)  # pytester has just cleared the user's
    with import_hooks_kept():
        yield pytester


@contextlib.contextmanager
def import_hooks_kept() -> Iterator[None]:
    """Undo the path hooks an in-process inner session installed, as pytester undoes its ``sys.meta_path``.

    pytester forgets the modules an inner session imported, but not an import hook they added: a
    session that imports fastmcp imports py-key-value, whose ``beartype_this_package()`` puts beartype's
    loader in ``sys.path_hooks`` for good, so every later import in this worker went through it and
    each inner session imported about 370 beartype modules again (forgotten again at its end).
    """
    hooks = list(sys.path_hooks)
    try:
        yield
    finally:
        if sys.path_hooks != hooks:
            sys.path_hooks[:] = hooks
            sys.path_importer_cache.clear()  # its finders were made by the hooks just removed


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[Upstream]:
    """A running fake upstream; its URL reaches inner sessions through the environment."""
    up = Upstream().start()
    monkeypatch.setenv(ENV_VAR, up.url)
    try:
        yield up
    finally:
        up.stop()


class Project:
    """An inner pytest project: conftest with SDK clients, runs in a subprocess."""

    def __init__(self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pytester = pytester
        self.monkeypatch = monkeypatch
        self.path: Path = pytester.path

    def run(self, *args: str, seen: str | None = None, timeout: float = 90) -> pytest.RunResult:
        if seen is not None:
            self.monkeypatch.setenv("AGENTOPS_TEST_SEEN", str(self.path / f"seen-{seen}.jsonl"))
        else:
            self.monkeypatch.delenv("AGENTOPS_TEST_SEEN", raising=False)
        return self.pytester.runpytest_subprocess(*args, timeout=timeout)

    def seen(self, label: str) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        path = self.path / f"seen-{label}.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            out.setdefault(item["test"], []).append(item["value"])
        return out

    def cassette(self, relative: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.path / relative).read_text(encoding="utf-8"))
        return data

    def popen_pytest(self, *args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
        """An inner pytest we can kill: the same command ``runpytest_subprocess`` builds."""
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        return subprocess.Popen(
            [sys.executable, "-m", "pytest", f"--basetemp={self.path / 'basetemp'}", *args],
            cwd=self.path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            **kwargs,
        )


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Project:
    pytester.makeini(INNER_INI)
    pytester.makeconftest(INNER_CONFTEST)
    return Project(pytester, monkeypatch)


def pytest_configure(config: pytest.Config) -> None:
    """With ``-n`` and no ``--dist`` of the caller's, an idle worker takes the other's queued tests.

    xdist's default (load) mode leaves each worker the queue it was sent: one worker sat idle for
    the last 11 s of a 145 s run while the other worked through its queue. Set here, not in
    ``addopts``: the README's examples command reads the same pyproject, without xdist installed.
    """
    given = any(arg == "-d" or arg.startswith("--dist") for arg in config.invocation_params.args)
    if config.getoption("dist", "no") == "load" and not given:
        config.option.dist = "worksteal"


def pytest_sessionstart(session: pytest.Session) -> None:
    """No cyclic gc while collecting: importing the SDKs made about 15 full collections, each longer."""
    config = session.config
    if config.getoption("dist", "no") != "no" and not hasattr(config, "workerinput"):
        return  # xdist's controller collects nothing (and would run with gc off to the end)
    gc.disable()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what collection made, so the many in-process inner sessions collect only their own garbage.

    pytest collects garbage several times as each session ends (``gc_collect_harder``); in this
    process that walked every SDK and plugin module the suite imported, half a second a session.
    """
    gc.collect()
    gc.freeze()
    gc.enable()


def pytest_sessionfinish(session: pytest.Session) -> None:
    gc.enable()  # collection may have ended before it finished


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Freeze again as each test file ends, once its fixtures are gone: what is alive then stays.

    Tests import SDKs and frameworks for good after collection, and each of the worker's full
    collections walked all of them again (about 40 a worker, up to 0.6 s each as the heap grew).
    """
    if nextitem is None or nextitem.path != item.path:
        gc.collect()
        gc.freeze()
