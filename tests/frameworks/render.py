"""Write the matrix table of docs/frameworks.md from a run's results (``AGENTOPS_MATRIX_JSON``).

    AGENTOPS_MATRIX_JSON=tests/frameworks/matrix.json python -m pytest tests/frameworks -n 2
    tox -e instructor,strands,crewai,adk,llamaindex  # frameworks apart from the test extra add their rows
    # (or: AGENTOPS_MATRIX_JSON=$PWD/tests/frameworks/matrix.json bash .ci/frameworks, with new envs)
    python tests/frameworks/render.py  # [RESULTS.json [PAGE.md]]

Only the part of the page between the two ``matrix`` comments is replaced; tests/frameworks/
test_matrix_page.py fails when that part is not what this script writes from the committed results,
or when those results name other versions than the ones installed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from matrix import FRAMEWORKS, Framework  # noqa: E402

RESULTS = HERE / "matrix.json"
PAGE = HERE.parents[1] / "docs" / "frameworks.md"
START, END = "<!-- matrix: start (written by tests/frameworks/render.py) -->", "<!-- matrix: end -->"
HEADER = (
    "| Framework | Versions | Run with | fake_llm, model side: tool calls, streamed, async "
    "| recorded, replayed in `unshare -n` | its own tools on the trace, denied by the policy |"
)


def category(nodeid: str) -> str:
    """Which column a test counts in: by its module and name (the matrix's tests are named so)."""
    path, _, test = nodeid.partition("::")
    if "replay" in test:
        return "replay"
    if Path(path).stem.startswith("test_tools_") or "deni" in test or "tool_path" in test:
        return "tools"
    return "model"


def cell(outcomes: list[str]) -> str:
    if not outcomes:
        return "no test"
    failed = outcomes.count("failed")
    if failed:
        return f"**failed** {failed} of {len(outcomes)}"
    passed = outcomes.count("passed")
    if passed == 0:
        return f"skipped ({len(outcomes)})"
    skipped = len(outcomes) - passed
    return f"passed ({passed})" + (f", {skipped} skipped" if skipped else "")


def row(fw: Framework, result: dict[str, Any] | None) -> str:
    if result is None:
        where = f"`tox -e {fw.tox}` (no result yet)" if fw.tox else "not run"
        why = f"not installed: {fw.apart}" if fw.apart else "not installed"
        return f"| {fw.name} | {why} | {where} | | | |"
    versions = ", ".join(f"{d} {v}" if v else f"{d} (not installed)" for d, v in result["versions"].items())
    env = "`.[test]`" if result["env"] == "test" else f"`tox -e {result['env']}`"
    columns: dict[str, list[str]] = {"model": [], "replay": [], "tools": []}
    for nodeid, outcome in result["tests"].items():
        columns[category(nodeid)].append(outcome)
    tools = cell(columns["tools"]) if fw.tools or columns["tools"] else "no tools of its own"
    return (
        f"| {fw.name} | {versions} | {env}, Python {result['python']} | {cell(columns['model'])} "
        f"| {cell(columns['replay'])} | {tools} |"
    )


def table(results: dict[str, Any]) -> str:
    """The Markdown written between the markers: the table, then each framework's tests."""
    runs = results.get("frameworks", {})
    lines = [HEADER, "| --- | --- | --- | --- | --- | --- |"]
    lines += [row(fw, runs.get(key)) for key, fw in FRAMEWORKS.items()]
    lines += ["", "The tests behind each row, as they ended in that run:", ""]
    for key, fw in FRAMEWORKS.items():
        if key in runs:
            tests = ", ".join(f"`{nodeid.split('/')[-1]}` {outcome}" for nodeid, outcome in runs[key]["tests"].items())
            lines.append(f"- {fw.name}: {tests}")
    return "\n".join(lines)


def rendered(page: str, results: dict[str, Any]) -> str:
    """``page`` with the part between the markers replaced by ``table(results)``."""
    head, start, rest = page.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"the page has no {START!r} ... {END!r} section")
    return f"{head}{START}\n{table(results)}\n{END}{tail}"


def main(argv: list[str]) -> int:
    results_path = Path(argv[0]) if argv else RESULTS
    page_path = Path(argv[1]) if len(argv) > 1 else PAGE
    results = json.loads(results_path.read_text())
    page_path.write_text(rendered(page_path.read_text(), results))
    print(f"wrote the matrix of {page_path} from {results_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
