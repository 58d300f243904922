"""Shell commands in the docs: ``console``/``bash``/``shell`` blocks and GitHub Actions ``run:`` steps.

Without ``<!-- run -->`` each command is checked: ``pytest`` arguments are parsed by the real pytest
parser with every installed plugin (and the agentops values validated as at start-up), ``agentops``
arguments by the real ``agentops`` parser, ``pip install`` extras must exist in pyproject.toml. With
``<!-- run -->`` the commands run in the page's project (pytest in-process, ``agentops`` through its
``main``) and the output shown under each ``$`` line must be in the real output.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest

from .blocks import REPO, DocsError
from .compare import match_lines
from .runners import SHELL_COMMANDS, Context, compare_outputs, inner_pytest, write_project

_SEPARATORS = {"&&", "||", ";", "|", "&"}  # "&": a background job ends a command


@dataclass
class Command:
    text: str
    line: int  # line in the Markdown file
    expected: list[str] = field(default_factory=list)  # output shown under it (console)


def commands_of(code: str, lang: str, first_line: int) -> list[Command]:
    """The commands of a block: ``$ `` lines (console) or every line (bash/shell), ``\\`` joined."""
    out: list[Command] = []
    pending: Command | None = None
    for n, raw in enumerate(code.splitlines()):
        line_no = first_line + 1 + n
        if pending is not None and pending.text.endswith("\\"):
            pending.text = pending.text[:-1] + " " + raw.strip()
            continue
        if lang == "console":
            if raw.startswith("$ "):
                pending = Command(raw[2:].strip(), line_no)
                out.append(pending)
            elif pending is not None:
                pending.expected.append(raw)
            elif raw.strip():
                raise DocsError(f"line {line_no}: console blocks start each command with '$ '")
        else:
            stripped = raw.strip()
            if stripped and not stripped.startswith("#"):
                pending = Command(stripped, line_no)
                out.append(pending)
    return out


def segments(command: str) -> list[list[str]]:
    """``a && b | c`` -> [[a...], [b...], [c...]], comments dropped, ``VAR=x`` prefixes dropped."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    parts: list[list[str]] = [[]]
    for token in lexer:
        if token in _SEPARATORS:
            parts.append([])
        else:
            parts[-1].append(token)
    out = []
    for words in parts:
        while words and (re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]) or words[0] in _PREFIXES):
            words = words[1:]
        if words and words[0] not in _CONTROL:
            out.append(words)
    return out


_PREFIXES = {"do", "then", "else"}  # shell keywords before a command
_CONTROL = {"for", "done", "fi", "while", "if"}  # loop and test headers: their command is checked inside


def classify(words: list[str]) -> tuple[str, list[str]]:
    """(tool, its arguments): pytest, agentops, pip, or the shell command's name."""
    head = words[0]
    if head in ("python", "python3", "py") and len(words) > 2 and words[1] == "-m":
        module = words[2]
        if module == "pytest":
            return "pytest", words[3:]
        if module == "pip":
            return "pip", words[3:]
        if module in ("pytest_agentops.cli",):
            return "agentops", words[3:]
        return f"python -m {module}", words[3:]
    if head == "uv" and words[1:2] == ["pip"]:
        return "pip", words[2:]
    if head in ("pytest", "agentops", "pip", "pip3", "mkdocs"):
        return head.rstrip("3"), words[1:]
    return head, words[1:]


# ---- checking -----------------------------------------------------------------------------------


def check_command(ctx: Context, words: list[str]) -> None:
    tool, args = classify(words)
    if tool == "pytest":
        check_pytest_args(ctx.pytester, args)
    elif tool == "agentops":
        check_agentops_args(args)
    elif tool == "pip":
        check_pip_args(args)
    elif tool == "mkdocs":
        if args[:1] not in (["build"], ["serve"]):
            raise DocsError(f"mkdocs {' '.join(args)}: expected mkdocs build/serve")
    elif tool == "python -m mkdocs":
        check_command(ctx, ["mkdocs", *args])
    elif tool in ("python", "python3") and args and args[0].endswith(".py"):
        if not (REPO / args[0]).is_file():  # a script of the repository, run from its root
            raise DocsError(f"python {args[0]}: no such file in the repository")
    elif tool not in SHELL_COMMANDS:
        raise DocsError(
            f"{' '.join(words)}: the docs test knows pytest, agentops, pip, mkdocs and "
            f"{', '.join(sorted(SHELL_COMMANDS))}; teach tests/docs_blocks/commands.py about this command"
        )


def check_pytest_args(pytester: pytest.Pytester, args: list[str]) -> None:
    problem = _pytest_args_problem(tuple(args))
    if problem:
        raise DocsError(f"pytest {shlex.join(args)}: {problem}")


@cache
def _pytest_args_problem(args: tuple[str, ...]) -> str | None:
    """Parse with pytest's own parser and every installed plugin; validate agentops' values."""
    from _pytest.config import get_config

    from pytest_agentops.tap import settings as agentops_config

    config = get_config(list(args))
    try:
        config = config.pluginmanager.hook.pytest_cmdline_parse(pluginmanager=config.pluginmanager, args=list(args))
    except pytest.UsageError as exc:
        return str(exc)
    except SystemExit as exc:  # argparse error printed to stderr
        return f"rejected by pytest's parser (exit {exc.code})"
    try:
        agentops_config.from_pytest(config)
    except agentops_config.UsageError as exc:
        return str(exc)
    finally:
        config._ensure_unconfigure()
    return None


def check_agentops_args(args: list[str]) -> None:
    from pytest_agentops.cli import build_parser

    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(args)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise DocsError(f"agentops {shlex.join(args)}: {stderr.getvalue().strip()}") from None


@cache
def extras() -> frozenset[str]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return frozenset(data["project"]["optional-dependencies"])


def check_pip_args(args: list[str]) -> None:
    if not args or args[0] != "install":
        raise DocsError(f"pip {' '.join(args)}: only 'pip install' is expected in the docs")
    for word in args[1:]:
        if word.startswith("-"):
            continue
        name, _, rest = word.partition("[")
        if name in (".", "pytest-agentops", "pytest_agentops") or name.startswith("./"):
            for extra in rest.rstrip("]").split(",") if rest else ():
                if extra.strip() and extra.strip() not in extras():
                    raise DocsError(f"pip install {word}: no extra {extra!r} (extras: {', '.join(sorted(extras()))})")


# ---- running --------------------------------------------------------------------------------------


def run_block(ctx: Context) -> None:
    block = ctx.block
    commands = commands_of(block.code, block.lang, block.line)
    if not commands:
        raise DocsError("no command in this block")
    if not block.has("run"):
        if block.lang == "console" and any(c.expected for c in commands):
            shown = next(c for c in commands if c.expected)
            raise DocsError(
                f"line {shown.line}: this console block shows output, so it must run (<!-- run -->) to prove it"
            )
        for command in commands:
            for words in segments(command.text):
                try:
                    check_command(ctx, words)
                except DocsError as exc:
                    raise DocsError(f"line {command.line}: {exc}") from None
        return
    write_project(ctx)
    ctx.monkeypatch.chdir(ctx.root)
    last = 0
    terminal: list[str] = []
    for command in commands:
        output: list[str] = []
        for words in segments(command.text):
            last, text = run_one(ctx, words, last)
            output.append(text)
        text = "\n".join(output)
        terminal.append(text)
        if command.expected:
            problem = match_lines("\n".join(command.expected), text, ctx.roots())
            if problem:
                raise DocsError(f"line {command.line}: $ {command.text}\n{problem}")
        nxt = commands[commands.index(command) + 1] if command is not commands[-1] else None
        if last != 0 and not (nxt is not None and nxt.text == "echo $?"):
            raise DocsError(f"line {command.line}: $ {command.text} exited with {last}:\n{text[-5000:]}")
    ctx.outputs["terminal"] = "\n".join(terminal)
    compare_outputs(ctx)


def run_one(ctx: Context, words: list[str], last: int) -> tuple[int, str]:
    tool, args = classify(words)
    if tool == "pytest":
        result = inner_pytest(ctx, args)
        return int(result.ret), result.stdout.str() + "\n" + result.stderr.str()
    if tool == "agentops":
        from pytest_agentops.cli import main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
        return code, out.getvalue() + err.getvalue()
    if tool == "echo":
        return 0, " ".join(str(last) if a == "$?" else a for a in args)
    if tool == "cat":
        return 0, "".join((ctx.root / a).read_text(encoding="utf-8") for a in args)
    raise DocsError(f"{' '.join(words)}: cannot run this command in a <!-- run --> block (pytest, agentops, echo, cat)")


# ---- GitHub Actions -------------------------------------------------------------------------------


def check_workflow(ctx: Context, data: dict[Any, Any]) -> None:
    """A GitHub Actions workflow: triggers, jobs with runs-on and steps, each step uses or runs."""
    if "on" not in data and True not in data:  # YAML 1.1 reads a bare `on:` key as True
        raise DocsError("workflow: no 'on:' trigger")
    jobs = data["jobs"]
    if not isinstance(jobs, dict) or not jobs:
        raise DocsError("workflow: jobs must be a mapping of job id -> job")
    for job_id, job in jobs.items():
        if not isinstance(job, dict) or "runs-on" not in job or not isinstance(job.get("steps"), list):
            raise DocsError(f"workflow job {job_id}: needs runs-on and a list of steps")
        for n, step in enumerate(job["steps"]):
            if not isinstance(step, dict) or ("uses" in step) == ("run" in step):
                raise DocsError(f"workflow job {job_id} step {n + 1}: a step has either uses: or run:")
            if "uses" in step and not re.fullmatch(r"[\w.-]+/[\w./-]+@[\w.-]+", str(step["uses"])):
                raise DocsError(f"workflow job {job_id} step {n + 1}: uses: {step['uses']!r} is not owner/repo@ref")
            if "run" in step:
                for command in commands_of(str(step["run"]), "bash", 0):
                    text = re.sub(r"\$\{\{.*?\}\}", "X", command.text)  # ${{ matrix.x }} expressions
                    for words in segments(text):
                        try:
                            check_command(ctx, words)
                        except DocsError as exc:
                            raise DocsError(f"workflow job {job_id} step {n + 1}: {exc}") from None
