"""Cassette hygiene: what recorded interactions no test used any more, and removing them.

After a prompt change, ``--agent-record`` (new) adds the new requests and keeps the old ones, so a
cassette only grows. Each test's teardown report carries which of its cassette's interactions
the test played (as hashes, so it survives xdist's report serialisation); the session that sees
every report (the xdist controller, or the only process) adds them up, reports what no passing
test used at the end of a record session, and with ``--agent-record=prune`` removes it.
A cassette is only judged when every test that used it passed: a failed test stops early.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_agentops.cassette.format import Cassette, Interaction
    from pytest_agentops.tap.settings import Settings

ATTR = "agentops_cassette"  # the teardown report's attribute (kept by xdist's serialisation)


def digest(interaction: Interaction) -> str:
    canon = json.dumps(interaction, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()[:20]


def usage(cassette: Cassette, passed: bool) -> dict[str, Any]:
    """What one test did with its cassette: every interaction's hash, and the ones it played."""
    hashes = [digest(interaction) for interaction in cassette.interactions]
    return {
        "path": str(cassette.path),
        "all": hashes,
        "used": [hashes[i] for i in sorted(cassette.played) if i < len(hashes)],
        "passed": passed,
        "recorded_at": cassette.meta.get("recorded_at") if cassette.existed else None,
    }


@dataclass
class Tally:
    """One cassette file across the session's tests."""

    all: Counter[str] = field(default_factory=Counter)
    used: Counter[str] = field(default_factory=Counter)
    order: list[str] = field(default_factory=list)  # the latest file order, for interactions[i] indices
    passed: bool = True
    recorded_at: str | None = None

    def add(self, found: dict[str, Any]) -> None:
        seen: Counter[str] = Counter(found["all"])
        played: Counter[str] = Counter(found["used"])
        self.all |= seen  # the file as the last test saw it (it only grows)
        self.used |= played  # a shared cassette: used by any of its tests
        self.order = list(found["all"])
        self.passed = self.passed and bool(found["passed"])
        self.recorded_at = found.get("recorded_at") or self.recorded_at

    def unused(self) -> Counter[str]:
        return self.all - self.used

    def indices(self) -> list[int]:
        left = self.unused()
        out = []
        for i, hashed in enumerate(self.order):
            if left[hashed] > 0:
                left[hashed] -= 1
                out.append(i)
        return out


def prune_file(path: Path, unused: Counter[str]) -> int:
    """Remove the ``unused`` interactions (by hash) from ``path``; delete a file left empty."""
    from pytest_agentops.cassette.format import FORMAT_VERSION, _locked, build_meta, dump, read_document, write_atomic

    with _locked(path):
        if not path.exists():
            return 0
        document = read_document(path)
        left = Counter(unused)
        kept = []
        for interaction in document["interactions"]:
            hashed = digest(interaction)
            if left[hashed] > 0:
                left[hashed] -= 1
            else:
                kept.append(interaction)
        removed = len(document["interactions"]) - len(kept)
        if not kept:
            path.unlink()
        elif removed:
            meta = {**build_meta(kept), "recorded_at": (document.get("meta") or {}).get("recorded_at")}
            write_atomic(path, dump({"version": FORMAT_VERSION, "meta": meta, "interactions": kept}))
        return removed


class Hygiene:
    """Per-test usage on the teardown report; the session's tally, summary and pruning.

    ``cassette_of`` gives the cassette a test loaded (None when it opened none): the plugin, which
    keeps each test's tap, passes it in, so this layer never imports the plugin.
    """

    def __init__(
        self, config: pytest.Config, settings: Settings, cassette_of: Callable[[pytest.Item], Cassette | None]
    ) -> None:
        self.config = config
        self.settings = settings
        self.cassette_of = cassette_of
        self.tracking = settings.record != "none" or settings.max_age_days is not None
        self.tallies: dict[str, Tally] = {}
        self.pruned: dict[str, int] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        report = yield
        if not self.tracking:
            return report
        # A skipped test (pytest.skip in a fixture or the test) did not use its cassette fully either.
        failed = item.stash.get(_FAILED, False) or report.failed or report.skipped
        item.stash[_FAILED] = failed
        if call.when == "teardown":
            cassette = self.cassette_of(item)
            if cassette is not None and (len(cassette) or cassette.existed):
                setattr(report, ATTR, usage(cassette, passed=not failed))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        found = getattr(report, ATTR, None)
        if isinstance(found, dict) and not hasattr(self.config, "workerinput"):
            self.tallies.setdefault(str(found["path"]), Tally()).add(found)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.settings.record != "prune" or hasattr(self.config, "workerinput"):
            return
        for path, tally in self.tallies.items():
            unused = tally.unused()
            if tally.passed and unused:
                self.pruned[path] = prune_file(Path(path), unused)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for line in self.summary():
            terminalreporter.write_line(line)

    def summary(self) -> list[str]:
        lines = self._unused_lines() if self.settings.record != "none" else []
        return lines + self._old_lines()

    def _unused_lines(self) -> list[str]:
        stale = {p: t for p, t in sorted(self.tallies.items()) if t.passed and t.unused()}
        if not stale:
            return []
        total = sum(t.unused().total() for t in stale.values())
        if self.pruned:
            removed = sum(self.pruned.values())
            head = f"agentops: removed {removed} interaction(s) no test used, from {len(stale)} cassette(s):"
        else:
            head = f"agentops: {total} recorded interaction(s) in {len(stale)} cassette(s) were not used by any test:"
        lines = [head]
        for path, tally in stale.items():
            shown = ", ".join(f"[{i}]" for i in tally.indices()[:10])
            gone = " (file deleted: nothing left)" if self.pruned and not Path(path).exists() else ""
            lines.append(f"  {self._display(path)}: interactions{shown} of {len(tally.order)}{gone}")
        if not self.pruned:
            lines.append(
                "  remove them with: pytest --agent-record=prune (or agentops cassettes prune); after a prompt "
                "change, re-record with --agent-record=all instead"
            )
        return lines

    def _old_lines(self) -> list[str]:
        limit = self.settings.max_age_days
        if limit is None:
            return []
        now = _dt.datetime.now(_dt.UTC)
        old = []
        for path, tally in sorted(self.tallies.items()):
            when = _parse(tally.recorded_at)
            if when is not None and (now - when).total_seconds() > limit * 86400:
                old.append(f"  {self._display(path)}: recorded {tally.recorded_at} ({(now - when).days} days ago)")
        if not old:
            return []
        head = (
            f"agentops: warning: {len(old)} cassette(s) recorded more than {limit:g} days ago "
            "(agentops_cassette_max_age_days):"
        )
        return [head, *old, "  re-record them with: pytest --agent-record=all"]

    def _display(self, path: str) -> str:
        try:
            return str(Path(path).resolve().relative_to(self.settings.rootdir.resolve()))
        except ValueError:
            return path


_FAILED = pytest.StashKey[bool]()


def _parse(text: str | None) -> _dt.datetime | None:
    if not text:
        return None
    try:
        when = _dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=_dt.UTC)
