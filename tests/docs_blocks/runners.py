"""Running one docs block according to its language and directives (see tests/test_docs.py)."""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import shlex
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import forkrun
import pytest
import yaml

from .blocks import REPO, Block, DocsError, outputs_of, project_files, runner_of
from .compare import loads_jsonl, match_json, match_lines, match_xml

# Plugins inner sessions do not need unless a block asks for them (faster start-up).
SPEED_PLUGINS = (
    "hypothesispytest",
    "benchmark",
    "recording",
    "schemathesis",
    "langsmith_plugin",
    "anyio",
    "cacheprovider",
)
DEFAULT_MODULE = "test_example.py"
SHELL_COMMANDS = {"echo", "cd", "export", "cat", "ls", "git", "mkdir", "cp", "mv", "rm", "tox", "ruff", "mypy", "kill"}


@dataclass
class Context:
    """What a block's run needs: the page's other blocks, a pytester project, a monkeypatch."""

    block: Block
    page: list[Block]
    pytester: pytest.Pytester
    monkeypatch: pytest.MonkeyPatch
    outputs: dict[str, str] = field(default_factory=dict)  # terminal output of the run

    @property
    def root(self) -> Path:
        return self.pytester.path

    def roots(self) -> list[str]:
        return [str(self.root), str(self.root.resolve()), str(REPO)]


# ---- dispatch ---------------------------------------------------------------------------------


def check(ctx: Context) -> None:
    block = ctx.block
    if block.problems:
        raise DocsError("; ".join(block.problems))
    if not block.lang:
        raise DocsError(
            "a code block needs a language (```python, ```console, ```text, ...) so the docs test knows how to "
            "run it; see 'Writing docs' in docs/index.md"
        )
    handler = HANDLERS.get(block.lang)
    if handler is None:
        raise DocsError(f"language {block.lang!r} is not one the docs test can run; use one of {', '.join(HANDLERS)}")
    if block.has("output"):
        runner_of(block, ctx.page)  # attached to a run, which compares it
        static_output(ctx)
        return
    if block.has("excerpt"):
        run_excerpt(ctx)
        return
    if block.has("quote"):
        check_quote(block)
        return
    if block.has("file") and not (block.lang == "python" and block.has("pytest")):
        check_file_block(ctx)
        return
    handler(ctx)


def static_output(ctx: Context) -> None:
    """An output block's own check: it parses (the comparison is made by its run)."""
    block = ctx.block
    if block.lang == "json":
        json.loads(block.code)
    elif block.lang == "jsonl":
        loads_jsonl(block.code)
    elif block.lang == "xml":
        ElementTree.fromstring(block.code)
    elif block.lang not in ("text", "console"):
        raise DocsError(f"<!-- output --> is for text, json, jsonl and xml blocks, not {block.lang}")


def check_file_block(ctx: Context) -> None:
    """A project file: it must parse, be valid for what it is, and be used by a run below it."""
    block = ctx.block
    later = [b for b in ctx.page[block.index + 1 :] if b.is_runner]
    if not later:
        raise DocsError(f"<!-- file: {block.get('file')} --> is not used: no runnable block follows it on the page")
    if block.lang == "python":
        compile(_numbered(block), block.id, "exec")
    elif block.lang == "toml":
        data = tomllib.loads(block.code)
        if block.get("file").endswith("pyproject.toml"):
            validate_pyproject(ctx, data)
    elif block.lang == "yaml":
        yaml.safe_load(block.code)
    elif block.lang == "json":
        json.loads(block.code)


# ---- python ----------------------------------------------------------------------------------


def _numbered(block: Block) -> str:
    """The block's code, shifted so tracebacks give the line numbers of the Markdown file."""
    return "\n" * block.line + block.code


def write_project(ctx: Context, extra: dict[str, str] | None = None) -> None:
    for path, file_block in project_files(ctx.block, ctx.page).items():
        target = ctx.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file_block.code, encoding="utf-8")
    for path, text in (extra or {}).items():
        target = ctx.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


# Inner sessions print as on an 80-column terminal whatever runs the docs test (a wide terminal, a
# CI log with COLUMNS set): pytest truncates summary lines to the width. Banners are compared by
# their title anyway (compare.normalize_banner). A block's <!-- env: --> may still set COLUMNS.
TERMINAL = {"COLUMNS": "80"}


def _env(ctx: Context) -> None:
    for name, value in TERMINAL.items():
        ctx.monkeypatch.setenv(name, value)
    for word in shlex.split(ctx.block.get("env")):
        name, _, value = word.partition("=")
        ctx.monkeypatch.setenv(name, value)


@contextlib.contextmanager
def isolated() -> Iterator[None]:
    """Undo what a block registers globally (tools), so blocks never see each other's."""
    from pytest_agentops import tool_registry

    with tool_registry.isolated():
        yield


def run_python(ctx: Context) -> None:
    block = ctx.block
    if block.is_test_module:
        run_pytest_block(ctx)
        return
    write_project(ctx)
    # A fresh interpreter: the block runs outside any pytest test, as a reader's script would.
    script = ctx.root / "docs_block.py"
    script.write_text(_numbered(block), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ctx.root), str(REPO)]), "PYTHONDONTWRITEBYTECODE": "1"}
    env.update(TERMINAL)
    env.pop("PYTEST_XDIST_WORKER", None)
    for word in shlex.split(block.get("env")):
        name, _, value = word.partition("=")
        env[name] = value
    # Forked from the warm interpreter when that is sound (forkrun.run), else a real subprocess.
    result = forkrun.run([sys.executable, str(script)], cwd=ctx.root, env=env, timeout=120)
    if result.returncode != 0:
        raise DocsError(
            f"the block failed (exit {result.returncode}; line numbers are the page's):\n{result.stdout[-3000:]}"
            f"{result.stderr[-6000:]}"
        )
    ctx.outputs["terminal"] = result.stdout
    compare_outputs(ctx)


def speed_flags(args: list[str]) -> list[str]:
    text = " ".join(args)
    flags = []
    for name in SPEED_PLUGINS:
        if name == "hypothesispytest" and "hypothesis" in text:
            continue
        if name not in text:
            flags += ["-p", f"no:{name}"]
    return flags


def run_pytest_block(ctx: Context) -> None:
    block = ctx.block
    module = block.get("file") or DEFAULT_MODULE
    write_project(ctx, {} if block.has("file") else {module: block.code})
    args = shlex.split(block.get("pytest"))
    if not any(a.endswith(".py") or "::" in a or (ctx.root / a).is_dir() for a in args if not a.startswith("-")):
        args.append(module)
    result = inner_pytest(ctx, args)
    ctx.outputs["terminal"] = result.stdout.str() + "\n" + result.stderr.str()
    outcomes = result.parseoutcomes()
    # parseoutcomes() names errors "errors"; keep the words pytest prints ("1 error", "2 errors").
    got = {k: v for k, v in outcomes.items() if k in ("passed", "failed", "errors", "skipped", "xfailed", "xpassed")}
    expected = parse_outcome(block.get("outcome"))
    if expected is None:
        ok = got.get("passed", 0) >= 1 and set(got) <= {"passed", "skipped", "xfailed"} and result.ret == 0
        want = "every test passed"
    else:
        ok = got == expected
        want = " ".join(f"{k}={v}" for k, v in expected.items())
    if not ok:
        raise DocsError(
            f"the inner pytest session gave {got or 'no tests'} (exit code {int(result.ret)}), expected {want}:\n"
            + ctx.outputs["terminal"][-6000:]
        )
    compare_outputs(ctx)


def parse_outcome(text: str) -> dict[str, int] | None:
    if not text.strip():
        return None
    out = {}
    for word in text.split():
        key, _, value = word.partition("=")
        key = {"error": "errors"}.get(key, key)
        out[key] = int(value)
    return {k: v for k, v in out.items() if v}


def inner_pytest(ctx: Context, args: list[str]) -> pytest.RunResult:
    _env(ctx)
    ctx.monkeypatch.syspath_prepend(str(REPO))
    if ctx.block.has("subprocess"):
        ctx.monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ctx.root), str(REPO)]))
        return ctx.pytester.runpytest_subprocess(*args, *speed_flags(args), timeout=120)
    with isolated():
        return ctx.pytester.runpytest_inprocess(*args, *speed_flags(args))


# ---- excerpts of the repository -----------------------------------------------------------------


def check_excerpt(block: Block) -> Path:
    """The block's lines appear in the file, in order; a ``...`` line skips any number of lines."""
    path = REPO / block.get("excerpt")
    if not path.is_file():
        raise DocsError(f"excerpt: no file {block.get('excerpt')} in the repository")
    source = [line.rstrip() for line in path.read_text(encoding="utf-8").splitlines()]
    segments: list[list[str]] = [[]]
    for line in block.code.splitlines():
        if line.strip() == "...":
            segments.append([])
        else:
            segments[-1].append(line.rstrip())
    at = 0
    for n, segment in enumerate(s for s in segments if s):
        width = len(segment)
        # The first segment may start anywhere; later ones anywhere after the previous (a gap).
        found = next((i for i in range(at, len(source) - width + 1) if source[i : i + width] == segment), None)
        if found is None:
            first = segment[0].strip()
            near = [i + 1 for i, line in enumerate(source) if line.strip() == first]
            where = f"its first line is at line(s) {near} of the file" if near else "its first line is not in the file"
            raise DocsError(
                f"excerpt: part {n + 1} ({width} line(s), starting {first!r}) is not in {block.get('excerpt')} "
                f"as written, after line {at}; {where}. Copy it again from the file (a '...' line skips lines)."
            )
        at = found + width
    return path


def check_quote(block: Block) -> None:
    """A block repeated from a docs page (the README's): the page's copy is the one that runs."""
    from .blocks import all_blocks

    page = block.get("quote")
    others = all_blocks().get(page)
    if others is None or page == block.page:
        raise DocsError(f"quote: {page!r} is not another docs page (docs/NAME.md)")
    if not any(o.lang == block.lang and o.code == block.code and not o.has("quote") for o in others):
        raise DocsError(f"quote: {page} has no {block.lang} block with exactly this text; copy it again from there")


def _run_by_the_suite(path: Path) -> bool:
    return path.suffix == ".py" and (REPO / "tests") in path.parents


def run_excerpt(ctx: Context) -> None:
    """An excerpt of a test module also runs, from the repository root, as a reader would run it."""
    block = ctx.block
    path = check_excerpt(block)
    if not block.is_test_module:
        return
    if _run_by_the_suite(path) and not block.has("pytest") and not outputs_of(block, ctx.page):
        return  # nothing to compare, and the suite runs this module itself: running it twice proves nothing more
    args = shlex.split(block.get("pytest")) or [block.get("excerpt")]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **TERMINAL}
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_CURRENT_TEST", None)
    # Nothing written into the repository: no cache; traces (if asked for) go to the test's folder.
    args = [a.replace("{tmp}", str(ctx.root)) for a in args]
    result = forkrun.run(
        [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider"], cwd=REPO, env=env, timeout=300
    )
    ctx.outputs["terminal"] = result.stdout + "\n" + result.stderr
    if result.returncode != 0:
        raise DocsError(
            f"excerpt: pytest {' '.join(args)} (in the repository) exited {result.returncode}:\n"
            + ctx.outputs["terminal"][-6000:]
        )
    compare_outputs(ctx)


# ---- outputs ----------------------------------------------------------------------------------


def compare_outputs(ctx: Context) -> None:
    problems = []
    for out in outputs_of(ctx.block, ctx.page):
        problem = compare_one(ctx, out)
        if problem:
            problems.append(
                f"{out.id} (<!-- output{': ' + out.get('output') if out.get('output') else ''} -->): {problem}"
            )
    if problems:
        raise DocsError("\n\n".join(problems))


def compare_one(ctx: Context, out: Block) -> str | None:
    options = out.options("output")
    path = options.get("file")
    if path:
        target = ctx.root / path
        if not target.is_file():
            found = sorted(str(p.relative_to(ctx.root)) for p in ctx.root.rglob("*") if p.is_file())
            return f"the run wrote no file {path}; files: {', '.join(found[:40])}"
        actual = target.read_text(encoding="utf-8")
    else:
        actual = ctx.outputs.get("terminal", "")
    if out.lang in ("text", "console"):
        return match_lines(out.code, actual, ctx.roots())
    if out.lang == "json":
        try:
            real = json.loads(actual)
        except ValueError as exc:
            return f"the real output is not JSON ({exc}): {actual[:500]}"
        problems = match_json(json.loads(out.code), real)
        return "\n".join(problems) or None
    if out.lang == "jsonl":
        want, have = loads_jsonl(out.code), loads_jsonl(actual)
        if len(want) != len(have):
            return f"{len(have)} line(s) in the real file, {len(want)} in the docs:\n{actual[:3000]}"
        problems = [p for w, h in zip(want, have, strict=True) for p in match_json(w, h)]
        return "\n".join(problems) or None
    if out.lang == "xml":
        problems = match_xml(ElementTree.fromstring(out.code), ElementTree.fromstring(actual))
        return "\n".join(problems) or None
    return f"cannot compare a {out.lang} block"


# ---- configuration files ------------------------------------------------------------------------


def run_toml(ctx: Context) -> None:
    data = tomllib.loads(ctx.block.code)
    if "tool" in data:
        validate_pyproject(ctx, data)
        accepted_by_pytest(ctx, "pyproject.toml", ctx.block.code)
    elif "project" not in data and "build-system" not in data:
        raise DocsError("a toml block must be pyproject.toml content ([tool.*] tables), or a <!-- file: ... -->")


def validate_pyproject(ctx: Context, data: dict[str, Any]) -> None:
    agentops = data.get("tool", {}).get("agentops")
    if agentops is None:
        return
    from pytest_agentops.policy import contracts
    from pytest_agentops.readers import baseline as report

    path = ctx.root / "docs-pyproject.toml"
    path.write_text(ctx.block.code, encoding="utf-8")
    try:
        contracts.load_pyproject(path, ctx.root, contracts.Contracts())
        report.tolerances(path, [])
    finally:
        path.unlink()


def accepted_by_pytest(ctx: Context, name: str, text: str) -> None:
    """A config file the plugin reads: pytest (with --strict-config) runs a trivial test under it."""
    (ctx.root / name).write_text(text, encoding="utf-8")
    ctx.pytester.makepyfile(test_docs_config="def test_config_is_accepted():\n    pass\n")
    result = inner_pytest(ctx, ["--strict-config", "--strict-markers", "-W", "error::pytest.PytestConfigWarning"])
    if result.ret != 0:
        raise DocsError(
            f"pytest does not accept this {name}:\n{result.stdout.str()[-3000:]}{result.stderr.str()[-3000:]}"
        )


def run_ini(ctx: Context) -> None:
    parser = configparser.ConfigParser()
    parser.read_string(ctx.block.code)
    for section, name in (("pytest", "pytest.ini"), ("tool:pytest", "setup.cfg"), ("tox", "tox.ini")):
        if parser.has_section(section):
            if section != "tox":
                accepted_by_pytest(ctx, name, ctx.block.code)
            return
    raise DocsError("an ini block must be a pytest.ini ([pytest]), setup.cfg ([tool:pytest]) or tox.ini ([tox])")


def run_yaml(ctx: Context) -> None:
    data = yaml.safe_load(ctx.block.code)
    if not isinstance(data, dict):
        raise DocsError("a yaml block must be a mapping")
    if "jobs" in data:
        from .commands import check_workflow

        check_workflow(ctx, data)
    elif "agents" in data:
        from pytest_agentops.policy import contracts

        path = ctx.root / "contracts.yaml"
        path.write_text(ctx.block.code, encoding="utf-8")
        contracts.load_yaml(path, ctx.root, contracts.Contracts())
    elif "templates" in data or "goals" in data:
        from pytest_agentops import fuzz

        path = ctx.root / "corpus.yaml"
        path.write_text(ctx.block.code, encoding="utf-8")
        fuzz.load_corpus(path)
    else:
        raise DocsError(
            "a yaml block must be a GitHub Actions workflow (jobs:), agent contracts (agents:), a fuzz corpus "
            "(templates:/goals:), or a <!-- file: ... --> a run below uses"
        )


def run_json(ctx: Context) -> None:
    data = json.loads(ctx.block.code)
    if isinstance(data, dict) and "interactions" in data and "version" in data:
        from pytest_agentops.cassette.format import Cassette

        path = ctx.root / "cassette.json"
        path.write_text(ctx.block.code, encoding="utf-8")
        Cassette.load(path)
    elif isinstance(data, dict) and data.get("format") == "pytest-agentops-report":
        from pytest_agentops.readers import baseline as report

        path = ctx.root / "report.json"
        path.write_text(ctx.block.code, encoding="utf-8")
        report.load(path)
    else:
        raise DocsError("a json block must be a cassette, a report, an <!-- output --> or a <!-- file: ... -->")


def run_jsonl(ctx: Context) -> None:
    lines = loads_jsonl(ctx.block.code)
    if not lines or lines[0].get("format") != "pytest-agentops-trace":
        raise DocsError("a jsonl block must be a trace file (its first line the header) or an <!-- output -->")


def run_xml(ctx: Context) -> None:
    ElementTree.fromstring(ctx.block.code)
    raise DocsError("an xml block must be an <!-- output: file=... --> of a run")


def run_text(ctx: Context) -> None:
    block = ctx.block
    if block.has("illustration"):
        return
    if block.has("payload"):
        check_payload(block)
        return
    raise DocsError(
        "a text block must show real output (<!-- output -->, below the block that makes it), a fuzz payload "
        "(<!-- payload: template=... goal=... -->) or be a drawing (<!-- illustration -->)"
    )


def check_payload(block: Block) -> None:
    from pytest_agentops import fuzz

    options = block.options("payload")
    corpus = fuzz.default_corpus()
    template = corpus.template(options.pop("template"))
    goal = corpus.goals[options.pop("goal")]
    canary = options.pop("canary", "CANARY-1a2b3c4d")
    obfuscations = [o for o in options.pop("obfuscations", "").split(",") if o]
    kwargs: dict[str, Any] = {"obfuscations": obfuscations}
    for key in ("style", "language"):
        if key in options:
            kwargs[key] = options.pop(key)
    if "seed" in options:
        kwargs["seed"] = int(options.pop("seed"))
    if options:
        raise DocsError(f"payload: unknown option(s) {', '.join(options)}")
    payload = fuzz.render(template, goal, canary, **kwargs)
    expected = block.code.rstrip("\n")
    if payload.text != expected:
        raise DocsError(
            f"the corpus renders this payload differently:\n--- docs ---\n{expected}\n--- real ---\n{payload.text}"
        )


def run_commands(ctx: Context) -> None:
    from .commands import run_block

    run_block(ctx)


HANDLERS = {
    "python": run_python,
    "toml": run_toml,
    "ini": run_ini,
    "yaml": run_yaml,
    "json": run_json,
    "jsonl": run_jsonl,
    "xml": run_xml,
    "console": run_commands,
    "bash": run_commands,
    "shell": run_commands,
    "text": run_text,
}
