"""Comparing what a docs page shows with what really came out.

Text: every non-empty line of the docs block must appear in the real output, in order (other lines
may come between, like ``fnmatch_lines``), after both are normalised: runs of spaces collapsed,
durations and ids masked, pytest's banners reduced to their title (their width follows the
terminal's). ``...`` inside a line matches anything; a line that is only ``...`` is
a gap. JSON: the docs value is a pattern: a dict's keys must be present with matching values (keys
it leaves out are not compared; ``"...": "..."`` says so explicitly), lists match item by item (a
last item ``"..."`` allows more), the string ``"..."`` matches anything, and timing/id fields match
any value of the same shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from xml.etree import ElementTree

# Values that differ from one run to the next: compared by shape only.
VOLATILE_KEYS = frozenset(
    {
        "trace_id",
        "agentops.trace_id",
        "duration_s",
        "started_at",
        "offset_ms",
        "duration_ms",
        "p50",
        "p95",
        "recorded_at",
        "time",
        "timestamp",
        "seconds",
        "latency_ms",
        "session",
        "payloads",  # hashes of the data, some of which holds generated ids
    }
)

_HEX_ID = re.compile(r"\b[0-9a-f]{32}\b")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?")
_DECIMAL = re.compile(r"(?<![\d$.])\d+\.\d+(?![\d%.])")
_STEP_ROW = re.compile(r"^\d+ (?:model|tool) ")


# pytest pads its section banners (``=== 8 passed in 1.72s ===``) and rules to the terminal width,
# so their length depends on the terminal and on the text inside (a duration's digits): compared
# as the title between three of the fill character.
_BANNER = re.compile(r"^([=_-])\1{2,} (.*?) \1{2,}$")
_RULE = re.compile(r"^([=_-])\1{5,}$")


def normalize_banner(line: str) -> str:
    """A pytest banner or rule with its padding reduced to three fill characters."""
    found = _BANNER.match(line)
    if found:
        fill = found.group(1) * 3
        return f"{fill} {found.group(2)} {fill}"
    found = _RULE.match(line)
    return found.group(1) * 3 if found else line


def normalize_line(line: str) -> str:
    line = normalize_banner(" ".join(line.split()))
    line = _HEX_ID.sub("<id>", line)
    line = _ISO.sub("<time>", line)
    if _STEP_ROW.match(line):  # seq kind tool/model backend status tokens ms note: ms varies
        words = line.split(" ")
        if len(words) > 6:
            words[6] = "<ms>"
        line = " ".join(words)
    return _DECIMAL.sub("<n>", line)


def normalize(text: str, roots: Iterable[str] = ()) -> list[str]:
    for root in roots:
        text = text.replace(root.rstrip("/") + "/", "").replace(root, ".")
    return [normalize_line(line) for line in text.splitlines()]


def _pattern(line: str) -> re.Pattern[str]:
    """``...`` (with the spaces around it) matches anything."""
    return re.compile(".*".join(re.escape(part) for part in re.split(r"\s*\.\.\.\s*", line)))


def match_lines(expected: str, actual: str, roots: Iterable[str] = ()) -> str | None:
    """None when every line of ``expected`` is found in ``actual`` in order, else what went wrong."""
    roots = list(roots)
    want = [line for line in normalize(expected, roots) if line and line != "..."]
    have = normalize(actual, roots)
    pos = 0
    for n, line in enumerate(want):
        pattern = _pattern(line)
        for k in range(pos, len(have)):
            if pattern.fullmatch(have[k]):
                pos = k + 1
                break
        else:
            near = [h for h in have if h and _similar(h, line)]
            hint = ("\nnearest real lines:\n  " + "\n  ".join(near[:3])) if near else ""
            return (
                f"line {n + 1} of the docs block is not in the real output (after line {pos} of it):\n"
                f"  {line}{hint}\n--- real output (normalised) ---\n" + "\n".join(have)
            )
    return None


def _similar(a: str, b: str) -> bool:
    wa, wb = set(a.split()), set(b.split())
    return len(wa & wb) >= max(2, min(len(wa), len(wb)) // 2)


# ---- JSON ------------------------------------------------------------------------------------


def _shape(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def match_json(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Problems where ``actual`` does not fit the docs pattern ``expected``."""
    if expected == "...":
        return []
    if isinstance(expected, str) and "..." in expected and isinstance(actual, str):
        return [] if _pattern(expected).fullmatch(actual) else [f"{path}: {actual!r} does not match {expected!r}"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"[:300]]
        problems = []
        for key, value in expected.items():
            if key == "...":
                continue
            if key not in actual:
                problems.append(f"{path}.{key}: missing (keys: {', '.join(map(str, actual))})")
            elif key in VOLATILE_KEYS:
                if _shape(value) != _shape(actual[key]) and value is not None and actual[key] is not None:
                    problems.append(f"{path}.{key}: expected a {_shape(value)}, got {actual[key]!r}")
            else:
                problems.extend(match_json(value, actual[key], f"{path}.{key}"))
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: expected a list, got {actual!r}"[:300]]
        open_ended = bool(expected) and expected[-1] == "..."
        items = expected[:-1] if open_ended else expected
        if len(actual) < len(items) or (not open_ended and len(actual) != len(items)):
            return [f"{path}: expected {len(items)} item(s){' or more' if open_ended else ''}, got {len(actual)}"]
        problems = []
        for i, item in enumerate(items):
            problems.extend(match_json(item, actual[i], f"{path}[{i}]"))
        return problems
    if isinstance(expected, float) and isinstance(actual, int | float) and not isinstance(actual, bool):
        return [] if abs(expected - actual) <= 1e-9 + 1e-6 * abs(expected) else [f"{path}: {actual!r} != {expected!r}"]
    if expected != actual or type(expected) is not type(actual):
        return [f"{path}: {actual!r} != {expected!r}"[:300]]
    return []


# ---- XML -------------------------------------------------------------------------------------


def match_xml(expected: ElementTree.Element, actual: ElementTree.Element, path: str = "") -> list[str]:
    """The docs element must be found in ``actual`` (itself or a descendant) with its attributes
    (volatile ones by presence) and, in order, its children."""
    candidates = [el for el in actual.iter(expected.tag) if _attrs_match(expected, el)]
    if not candidates:
        same = [ElementTree.tostring(el, encoding="unicode")[:200] for el in actual.iter(expected.tag)]
        return [f"{path}/{expected.tag} {expected.attrib}: not found; real ones: {same[:3]}"]
    problems: list[str] = []
    for el in candidates:
        problems = []
        children = list(el)
        pos = 0
        for child in expected:
            for k in range(pos, len(children)):
                if not match_xml(child, children[k], path + "/" + expected.tag):
                    pos = k + 1
                    break
            else:
                problems.append(f"{path}/{expected.tag}/{child.tag} {child.attrib}: not found")
        if not problems:
            return []
    return problems


def _attrs_match(expected: ElementTree.Element, actual: ElementTree.Element) -> bool:
    name = expected.attrib.get("name", "")
    for key, value in expected.attrib.items():
        if key not in actual.attrib:
            return False
        if key in VOLATILE_KEYS or (key == "value" and name in VOLATILE_KEYS):
            continue
        if value != actual.attrib[key]:
            return False
    return True


def loads_jsonl(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
