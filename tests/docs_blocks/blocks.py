"""Fenced code blocks of a Markdown page, with the ``<!-- name: value -->`` directives above them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Every language a docs block may have, and what the test does with it (tests/test_docs.py).
LANGUAGES = ("python", "toml", "ini", "yaml", "json", "jsonl", "xml", "console", "bash", "shell", "text")

# Directives: an HTML comment on its own line directly above the fence (several may be stacked).
DIRECTIVES = {
    "pytest": "python: run this test module in an inner pytest session with these arguments",
    "outcome": "python: the inner session's expected outcomes, e.g. passed=1 failed=1 (default: all passed)",
    "file": "this block is the file PATH of the page's project, for this and every later run on the page",
    "output": "compare with the output of the run above (or file=PATH it wrote; from=ID picks the run)",
    "id": "name this run, for output: from=ID further down the page",
    "run": "console/bash: run the commands for real in the page's project (default: check them only)",
    "payload": "text: the fuzz payload that template=ID goal=KIND canary=... renders",
    "illustration": "text: a drawing, not code or output; nothing to run",
    "env": "python/console: environment variables for the run, NAME=VALUE ...",
    "subprocess": "python test module: run the inner session in a subprocess (for process-wide state)",
    "quote": "the block is also on the docs page PAGE (same language, same text), where it is tested",
    "excerpt": "the block is an excerpt of the repository's file PATH ('...' lines skip); a test module runs there",
}

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*(?P<name>[a-z][a-z-]*)\s*(?::\s*(?P<value>.*?))?\s*-->\s*$")


class DocsError(Exception):
    """A block the docs test cannot accept: the message says why and how to fix it."""


@dataclass
class Block:
    page: str  # path relative to the repository, e.g. "docs/cassettes.md"
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    directives: dict[str, str] = field(default_factory=dict)
    index: int = 0  # position among the page's blocks
    problems: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    def has(self, name: str) -> bool:
        return name in self.directives

    def get(self, name: str, default: str = "") -> str:
        return self.directives.get(name, default)

    def options(self, name: str) -> dict[str, str]:
        """``key=value`` words of a directive (``output: file=x.json from=run``)."""
        out: dict[str, str] = {}
        for word in self.get(name).split():
            key, sep, value = word.partition("=")
            out[key] = value if sep else ""
        return out

    # ---- roles -------------------------------------------------------------------------------

    @property
    def is_test_module(self) -> bool:
        return self.lang == "python" and (
            self.has("pytest") or bool(re.search(r"^(async )?def test_\w*\(", self.code, re.M))
        )

    @property
    def is_runner(self) -> bool:
        """Whether the block runs something now (and so may have ``output`` blocks below it)."""
        if self.has("output") or (self.has("file") and not self.has("pytest")):
            return False
        if self.lang == "python":
            return True
        return self.lang in ("console", "bash", "shell") and self.has("run")


def parse(text: str, page: str) -> list[Block]:
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence, info = match["indent"], match["fence"], match["info"].strip()
        start = i
        body: list[str] = []
        i += 1
        closed = False
        while i < len(lines):
            stripped = lines[i].strip()
            if stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}:
                closed = True
                break
            line = lines[i]
            # Content is indented like its fence (a block inside a list item).
            body.append(line[len(indent) :] if line[: len(indent)].strip() == "" else line.lstrip())
            i += 1
        i += 1
        block = Block(
            page=page, line=start + 1, lang=info.split()[0].lower() if info else "", code="\n".join(body) + "\n"
        )
        if not closed:
            block.problems.append("the fence is never closed")
        j = start - 1
        while j >= 0 and (m := _DIRECTIVE.match(lines[j])):
            name = m["name"]
            if name not in DIRECTIVES:
                block.problems.append(f"unknown directive <!-- {name} -->; known: {', '.join(DIRECTIVES)}")
            elif name in block.directives:
                block.problems.append(f"directive <!-- {name} --> given twice")
            else:
                block.directives[name] = m["value"] or ""
            j -= 1
        block.index = len(blocks)
        blocks.append(block)
    return blocks


def pages() -> list[Path]:
    """Every page whose blocks are tested: docs/*.md, the README and the examples' READMEs."""
    return [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md", *sorted(REPO.glob("examples/*/README.md"))]


def all_blocks() -> dict[str, list[Block]]:
    out = {}
    for path in pages():
        rel = path.relative_to(REPO).as_posix()
        out[rel] = parse(path.read_text(encoding="utf-8"), rel)
    return out


def runner_of(block: Block, page: list[Block]) -> Block:
    """The run an ``output`` block shows: ``from=ID``, else the nearest runner above it."""
    wanted = block.options("output").get("from")
    if wanted:
        for other in page:
            if other.get("id") == wanted and other.is_runner:
                if other.index > block.index:
                    raise DocsError(f"output: from={wanted}: that run comes after this block")
                return other
        raise DocsError(f"output: from={wanted}: no runnable block has <!-- id: {wanted} --> on this page")
    for other in reversed(page[: block.index]):
        if other.has("output"):
            continue
        if other.is_runner:
            return other
        break
    raise DocsError(
        "an <!-- output --> block must follow the block whose output it shows (a python or pytest block, "
        "or a console block with <!-- run -->), or name it with from=ID"
    )


def outputs_of(block: Block, page: list[Block]) -> list[Block]:
    found = []
    for other in page:
        if other.has("output"):
            try:
                if runner_of(other, page) is block:
                    found.append(other)
            except DocsError:
                pass
    return found


def project_files(block: Block, page: list[Block]) -> dict[str, Block]:
    """The page's project as a run sees it: every ``file:`` block above it (and itself), later wins."""
    files: dict[str, Block] = {}
    for other in page[: block.index + 1]:
        if other.has("file"):
            files[other.get("file")] = other
    return files
