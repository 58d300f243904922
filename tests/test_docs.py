"""The docs site builds strictly, every code block in it runs, and the reference cannot drift.

Every fenced code block of ``docs/*.md``, ``README.md`` and ``examples/*/README.md`` is a test case
(id ``docs/page.md:LINE``, the line of its opening fence). How a block runs depends on its language
and on directives, HTML comments (invisible on the site) on the lines directly above the fence:

=========================  ========================================================================
block                      what the test does
=========================  ========================================================================
``python`` with ``def      a test module: run in an inner pytest session (in-process, ``pytester``,
test_...`` or ``<!--       with the plugin) with the directive's arguments; every test must pass, or
pytest: ARGS -->``         the outcome must be exactly ``<!-- outcome: passed=1 failed=1 -->``
other ``python``           run as a script in a fresh interpreter (a process of its own, outside
                           any pytest test, as a reader would run it: forked from the warm
                           interpreter, ``forkrun.run``), in a fresh folder holding the page's
                           project files; what it prints is its output
``toml``                   parsed; ``[tool.agentops...]`` is loaded by the plugin's own contract,
                           price and baseline loaders, and pytest (``--strict-config``) must accept
                           the file as a project's ``pyproject.toml``
``ini``                    parsed; a ``[pytest]``/``[tool:pytest]`` file must be accepted by pytest
``yaml``                   parsed; a GitHub Actions workflow is checked (jobs, steps, and every
                           command a step runs, as for ``bash``), agent contracts and fuzz corpora
                           are loaded by the library
``json``                   parsed; a cassette or a report is loaded by the library
``jsonl``                  a trace file: parsed line by line
``console``                each ``$ `` line is a command; ``bash``/``shell``: each line is one.
``bash``, ``shell``        ``pytest`` commands are parsed by pytest's real parser (every installed
                           plugin) and the agentops values validated; ``agentops`` commands by the
                           real ``agentops`` parser; ``pip install`` extras must exist. With
                           ``<!-- run -->`` they run for real in the page's project, and the output
                           shown under a ``$`` line must be in the real output (a console block that
                           shows output must run)
``text``                   must be checked: ``<!-- output -->`` (real output, below),
                           ``<!-- payload: template=ID goal=KIND -->`` (a fuzz payload the corpus
                           renders exactly so) or ``<!-- illustration -->`` (a drawing)
anything else              fails, unlabelled blocks too: nobody can add an untested block
=========================  ========================================================================

Other directives:

- ``<!-- file: PATH -->``: the block is the file PATH (``conftest.py``, ``pyproject.toml``,
  ``agent.py``, a cassette...) of the page's *project*: every run further down the page (pytest
  blocks, ``<!-- run -->`` console blocks, python blocks) gets it, a later block with the same
  PATH replaces it. The block itself must parse (python compiles, toml/yaml/json load, pyproject
  contracts validate) and a run must follow it. A test module with ``file:`` *and* ``pytest:`` is
  written under that name and run at once (``test_example.py`` without ``file:``).
- ``<!-- output -->`` on a ``text``, ``json``, ``jsonl`` or ``xml`` block: the run directly above it
  (other output blocks between are fine; ``from=ID`` names a run marked ``<!-- id: ID -->``)
  must produce it: its terminal output (pytest), what it printed (python), or with
  ``file=PATH`` a file it wrote. Text is compared line by line in order, gaps allowed, spaces
  collapsed, durations/ids/timestamps masked, pytest's banners by their title (inner sessions print
  80 columns wide), ``...`` matching anything; JSON as a pattern (keys left out are not compared,
  ``"..."`` matches anything, timings by type). See docs_blocks/compare.py.
- ``<!-- env: NAME=VALUE ... -->``: environment variables for the run.
- ``<!-- subprocess -->`` on a test module: run the inner session in a subprocess (for blocks that
  set process-wide state, such as OpenTelemetry's global tracer provider).
- ``<!-- excerpt: PATH -->``: the block is an excerpt of the repository's file PATH (its lines in
  order, a ``...`` line skipping any number); an excerpt of a test module runs in a process of its
  own (``forkrun.run``) from the repository root with ``<!-- pytest: ARGS -->`` (default: PATH),
  and its output blocks compare (an excerpt of a module under tests/ with neither is only checked
  against the file: this suite runs that module itself).
- ``<!-- quote: docs/PAGE.md -->``: the same block (language and text) is on that page, where it runs.

The conventions are also in docs/index.md ("Writing docs"). Inner pytest sessions run in-process
(``pytester.runpytest_inprocess``) so the whole file stays fast (about 20 s with ``-n 2``): the
tool registry is isolated per block, and the heavy SDKs are imported once (``PRELOAD``). Besides
the blocks, the tests below check that the site builds with ``mkdocs build --strict`` (and that a
broken link fails it; ``python -m mkdocs``, forked too), that docs/reference.md names every option,
ini key, marker, fixture, hook, ``agentops`` command and config key the plugin has, that the
simulators page lists every endpoint and error code, and that the fuzzing page shows every attack
family and obfuscation.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import forkrun
import pytest
from docs_blocks.blocks import REPO, Block, DocsError, all_blocks
from docs_blocks.runners import Context, check

PAGES = all_blocks()
BLOCKS: list[Block] = [block for page in PAGES.values() for block in page]


# Imported once here, so the in-process inner sessions share them: pytester forgets every module an
# inner session imported when it ends, and a class imported twice breaks isinstance() (hypothesis
# strategies) besides costing the import again in every session.
PRELOAD = (
    "openai",
    "stripe",
    "httpx",
    "hypothesis.strategies",
    "pytest_agentops.fuzz",
    "pytest_agentops.backends.model",
    "pytest_agentops.tap",
    "pytest_agentops.policy.engine",
    "simulators.billing",
    "simulators.ticketing",
    "simulators.crm",
    "zenpy",
    "hubspot",
)


@pytest.fixture(scope="module")
def preloaded() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_block(block: Block, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, preloaded: None) -> None:
    ctx = Context(block=block, page=PAGES[block.page], pytester=pytester, monkeypatch=monkeypatch)
    problem = None
    try:
        check(ctx)
    except DocsError as exc:
        problem = str(exc)
    if problem is not None:
        pytest.fail(f"{block.id} ({block.lang or 'no language'}): {problem}", pytrace=False)


def test_every_page_is_in_the_nav() -> None:
    import yaml

    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8").replace("!!python", "#"))
    listed: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            listed.append(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)

    walk(config["nav"])
    pages = sorted(p.name for p in (REPO / "docs").glob("*.md"))
    assert sorted(listed) == pages, "mkdocs.yml nav and docs/*.md differ"


# ---- the site builds strictly ---------------------------------------------------------------------


def _mkdocs(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--strict",
        "--config-file",
        str(config),
        "--site-dir",
        str(site),
    ]
    return forkrun.run(command, cwd=os.getcwd(), env=dict(os.environ), timeout=120)


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = _mkdocs(REPO / "mkdocs.yml", site)
    assert result.returncode == 0, result.stdout + result.stderr
    pages = sorted(p.stem for p in site.glob("*.html") if p.stem != "404")
    assert pages == sorted(p.stem for p in (REPO / "docs").glob("*.md"))  # file:// friendly: page.html
    # offline-friendly: no web fonts, no analytics, no script or stylesheet fetched from elsewhere
    for page in site.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        external = re.findall(r'<(?:script|link)[^>]*(?:src|href)="(https?://[^"]*)"', html)
        assert external == [], f"{page.name} loads {external}"
        assert "googletagmanager" not in html


def test_mkdocs_strict_build_fails_on_a_broken_link(tmp_path: Path) -> None:
    shutil.copy(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    index = tmp_path / "docs" / "index.md"
    index.write_text(
        index.read_text(encoding="utf-8")
        + "\nSee [the missing page](no-such-page.md) and [a missing section](cassettes.md#no-such-section).\n"
    )
    result = _mkdocs(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0
    assert "no-such-page.md" in result.stdout + result.stderr
    assert "no-such-section" in result.stdout + result.stderr


# ---- the reference lists everything the plugin registers ----------------------------------------------


def _reference() -> str:
    return (REPO / "docs" / "reference.md").read_text(encoding="utf-8")


def _missing(names: list[str]) -> list[str]:
    text = _reference()
    # `name`, or name followed by its value or arguments: `--agent-record[=MODE]`, `agent(...)`, `budgets.x`
    return [name for name in names if not any(f"`{name}{end}" in text for end in ("`", "=", "(", "[", ".", " "))]


@pytest.fixture(scope="module")
def plugin_config(request: pytest.FixtureRequest) -> pytest.Config:
    """The plugin as pytest configures it, in a fresh inner config."""
    from _pytest.config import get_config

    config = get_config(["-p", "no:cacheprovider"])
    config = config.pluginmanager.hook.pytest_cmdline_parse(pluginmanager=config.pluginmanager, args=[])
    config._do_configure()
    request.addfinalizer(config._ensure_unconfigure)
    return config


def test_reference_lists_every_option_and_ini_key(plugin_config: pytest.Config) -> None:
    group = plugin_config._parser.getgroup("agentops")
    options = [name for opt in group.options for name in opt.names() if name.startswith("--")]
    ini = [name for name in plugin_config._parser._inidict if name.startswith("agentops_")]
    assert len(options) >= 10 and len(ini) >= 15
    assert _missing(options) == []
    assert _missing(ini) == []
    # and nothing documented that does not exist
    documented = set(re.findall(r"`(--agent-[a-z-]+)", _reference()))
    assert documented <= set(options), documented - set(options)
    documented_ini = set(re.findall(r"`(agentops_[a-z_]+)", _reference()))
    assert documented_ini <= set(ini), documented_ini - set(ini)


def test_reference_lists_every_marker(plugin_config: pytest.Config) -> None:
    import pytest_agentops

    markers = [line.split("(")[0].split(":")[0] for line in plugin_config.getini("markers") if line.startswith("agent")]
    assert {"agent", "agent_budget", "agent_policy", "agent_cassette"} <= set(markers)
    assert _missing([f"@pytest.mark.{m}" for m in markers]) == []
    documented = set(re.findall(r"`@pytest\.mark\.(agent\w*)", _reference()))
    assert documented <= set(markers), documented - set(markers)
    assert pytest_agentops.__version__


def test_reference_lists_every_fixture(plugin_config: pytest.Config) -> None:
    from pytest_agentops import plugin
    from pytest_agentops.readers import passk

    fixtures = [
        name
        for name, value in vars(plugin).items()
        if not name.startswith("_") and type(value).__name__ == "FixtureFunctionDefinition"
    ]
    assert {"agent_run", "billing", "fake_llm", "agent_sims"} <= set(fixtures)
    assert _missing([*fixtures, passk.ARGNAME]) == []


def test_reference_lists_every_hook() -> None:
    from pytest_agentops.plugin import hookspecs

    hooks = [name for name in vars(hookspecs) if name.startswith("pytest_agentops_")]
    assert len(hooks) >= 4
    assert _missing(hooks) == []


def test_reference_lists_every_cli_command_and_option() -> None:
    from pytest_agentops.cli import build_parser

    missing = []

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    command = f"{prefix} {name}"
                    if sub._subparsers is None and f"`{command}" not in _reference():
                        missing.append(command)
                    walk(sub, command)
            elif action.option_strings and action.dest != "help":
                long = [s for s in action.option_strings if s.startswith("--")]
                if prefix.count(" ") >= 2 and long and f"`{long[0]}" not in _section(prefix):
                    missing.append(f"{prefix} {long[0]}")
        for name, sub in getattr(parser, "delegates", {}).items():  # `agentops report merge`
            if f"`{prefix} {name}" not in _reference():
                missing.append(f"{prefix} {name}")
            walk(sub, f"{prefix} {name}")

    walk(build_parser(), "agentops")
    assert missing == []


def _section(command: str) -> str:
    """The reference text about one CLI command: from its heading/row to the next command."""
    text = _reference()
    start = text.find(f"`{command}")
    if start < 0:
        return ""
    nxt = text.find("`agentops ", start + len(command) + 2)
    return text[start : nxt if nxt > 0 else len(text)]


def test_reference_lists_every_config_key() -> None:
    from pytest_agentops.policy import budget, contracts
    from pytest_agentops.readers import baseline as report

    keys = [f"{name}" for name in contracts.AgentContract.model_fields if name != "name"]
    for section, model in (("budgets", budget.Budget), ("logging", contracts.Logging), ("safety", contracts.Safety)):
        keys += [f"{section}.{field}" for field in model.model_fields]
    keys += list(report.TOLERANCE_KEYS)
    assert _missing(keys) == []
    for table in ("[tool.agentops.agents.<name>]", "[tool.agentops.prices]", "[tool.agentops.baseline]"):
        assert table in _reference()


# ---- the simulators page lists every endpoint and error code ---------------------------------------


@pytest.mark.parametrize("name", ["billing", "ticketing", "crm"])
def test_simulators_page_lists_every_endpoint_and_error_code(name: str) -> None:
    from simulators import simulator_class

    text = (REPO / "docs" / "simulators.md").read_text(encoding="utf-8")
    section = text[text.index(f"\n## {name} (") :]
    section = section[: section.find("\n## ", 1)]
    cls = simulator_class(name)
    missing = []
    for tool in cls.tools():
        path, tool_name = tool["path"], tool["tool"]
        # a hand-written table may list the object routes once, as {type}; the generated one lists each
        if (
            name == "crm"
            and "/objects/{type}" in section
            and tool["resource"] in ("contacts", "companies", "deals", "notes")
        ):
            path = path.replace(f"/objects/{tool['resource']}", "/objects/{type}")
            tool_name = tool_name.replace(f".{tool['resource']}.", ".{type}.")
        row = f"| `{tool['method']} {path}` | `{tool_name}` |"
        if row not in section:
            missing.append(row)
    assert missing == [], "endpoints missing from the simulators page's table"
    codes = [code for code in cls.all_error_codes() if f"`{code}`" not in text]
    assert codes == [], "error codes missing from the simulators page"


def test_fuzzing_page_shows_every_attack_family_and_obfuscation() -> None:
    """Each family has an example payload block (checked against the corpus by its directive), and each
    obfuscation is in the table (its example comes from the block that applies them all)."""
    from pytest_agentops import fuzz

    corpus = fuzz.default_corpus()
    blocks = PAGES["docs/fuzzing.md"]
    shown = {corpus.template(b.options("payload")["template"]).family for b in blocks if b.has("payload")}
    assert shown == set(fuzz.FAMILIES)
    text = (REPO / "docs" / "fuzzing.md").read_text(encoding="utf-8")
    assert [name for name in fuzz.OBFUSCATIONS if f"| `{name}` |" not in text] == []
    assert [family for family in fuzz.FAMILIES if f"**{family}**" not in text] == []


def _block(code: str, **directives: str) -> Block:
    return Block(page="README.md", line=1, lang="python", code=code, directives=directives)


def test_an_excerpt_must_be_in_the_file_as_written() -> None:
    from docs_blocks.runners import check_excerpt

    path = "examples/support_triage/test_triage.py"
    lines = (REPO / path).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("def test_refund_request"))
    later = next(i for i in range(start, len(lines)) if "outcome = triage(ticket_id)" in lines[i])
    # Contiguous lines, then a gap: accepted.
    check_excerpt(_block("\n".join([*lines[start : start + 2], "...", lines[later]]), excerpt=path))
    # One edited line, or parts out of order: refused, naming the part and where its first line is.
    edited = [lines[start], lines[start + 1].replace("world.ana", "world.bo")]
    with pytest.raises(DocsError, match=r"part 1 \(2 line\(s\).*is not in examples/support_triage/test_triage.py"):
        check_excerpt(_block("\n".join(edited), excerpt=path))
    with pytest.raises(DocsError, match="part 2"):
        check_excerpt(_block("\n".join([lines[later], "...", lines[start]]), excerpt=path))
    with pytest.raises(DocsError, match=r"no file examples/nope\.py"):
        check_excerpt(_block("x = 1", excerpt="examples/nope.py"))


def test_only_an_excerpt_of_this_suite_s_own_modules_is_not_run_again() -> None:
    from docs_blocks.runners import _run_by_the_suite

    assert _run_by_the_suite(REPO / "tests/test_sim_mcp.py")
    assert not _run_by_the_suite(REPO / "examples/support_triage/test_triage.py")  # the README's: it runs
    assert not _run_by_the_suite(REPO / "tests/conftest.toml")


def test_a_quote_must_match_a_block_of_the_page() -> None:
    from docs_blocks.runners import check_quote

    [original] = [b for b in PAGES["docs/cassettes.md"] if b.lang == "text" and "no recorded answer" in b.code]
    check_quote(Block(page="README.md", line=1, lang="text", code=original.code, directives={"quote": original.page}))
    with pytest.raises(DocsError, match="has no text block with exactly this text"):
        edited = original.code + "x\n"
        check_quote(Block(page="README.md", line=1, lang="text", code=edited, directives={"quote": original.page}))
