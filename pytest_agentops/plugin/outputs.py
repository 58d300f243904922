"""pytest glue for what the plugin writes: trace files, the scorecard, the JSON report and baseline
gate, OpenTelemetry export, pass^k and the escalation marker.

``plugin.py`` calls ``addoption``, ``configure`` and (for each test's run) ``start_run``; the rest
are hooks of ``OutputHooks``, registered at configure time. Per-test figures are made in the
process that ran the test (an xdist worker, or the only process) and travel with the teardown
report as ``report.agentops`` (a JSON-able dict, serialised by pytest's report serialisation), so
the controller aggregates the same figures however the tests were distributed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_agentops.plugin.tapping import OPENER, RUN
from pytest_agentops.tap.items import closest_mark

if TYPE_CHECKING:
    from pytest_agentops.trace.run import Run

MARKERS = (
    "agent_escalation(reason=''): this test's outcome is an escalation (a hand-off to a human); "
    "when it passes, the scorecard counts it as escalated",
)


@dataclass
class OutputSettings:
    trace_dir: Path | None = None
    inline_payloads: bool = False
    report_path: Path | None = None
    baseline_path: Path | None = None
    baseline: dict[str, Any] | None = None
    tolerances: dict[str, float] = field(default_factory=dict)
    otel: bool = False

    @property
    def capture_io(self) -> bool:
        return self.trace_dir is not None or self.otel


SETTINGS = pytest.StashKey[OutputSettings]()


@dataclass
class Phases:
    """What each phase of one test reported: outcomes and durations."""

    outcomes: dict[str, str] = field(default_factory=dict)
    duration_s: float = 0.0
    section_added: bool = False
    failure: dict[str, str] | None = None  # the first failing phase and its error, for the trace


def _failure_text(report: pytest.TestReport, limit: int = 2000) -> str:
    """The error in a line or a few (pytest's "E" lines), not the whole traceback."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = str(getattr(crash, "message", "") or "") if crash is not None else str(report.longrepr or "")
    # The step table our own failures append is the trace itself: the trace file need not repeat it.
    kept = []
    for line in text.strip().splitlines():
        if re.match(r"\s*trace \(\d+ steps?\):", line):
            break
        kept.append(line)
    text = "\n".join(kept).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _RedactedRepr:
    """A failure's text with its secrets replaced; prints like pytest's own (``toterminal``)."""

    def __init__(self, text: str, crash_message: str | None) -> None:
        self.text = text
        if crash_message is not None:
            from types import SimpleNamespace

            self.reprcrash = SimpleNamespace(message=crash_message)

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line, red=line.startswith("E "))

    def __str__(self) -> str:
        return self.text


def _redact_report(report: pytest.TestReport, redactor: Any) -> None:
    """Failure text and captured sections reach the terminal (and junit XML): redact them first.

    The traceback is replaced by its text only when that text held a secret, so a clean report
    keeps pytest's own objects (and their colours).
    """
    if redactor is None:
        return
    if report.longrepr is not None:
        text = str(report.longrepr)
        redacted = redactor.text(text)
        if redacted != text:
            crash = getattr(report.longrepr, "reprcrash", None)
            message = redactor.text(str(getattr(crash, "message", "") or "")) if crash is not None else None
            report.longrepr = _RedactedRepr(redacted, message)  # type: ignore[assignment]
    if report.sections:
        report.sections = [(title, redactor.text(content)) for title, content in report.sections]


PHASES = pytest.StashKey[Phases]()


def addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("agentops")
    group.addoption("--agent-trace-dir", default=None, metavar="DIR", help="write one JSONL trace per test under DIR")
    group.addoption(
        "--agent-report", default=None, metavar="PATH", help="write the scorecard and per-test figures as JSON"
    )
    group.addoption(
        "--agent-baseline",
        default=None,
        metavar="PATH",
        help="compare with a previous --agent-report and fail the session on a regression",
    )
    group.addoption(
        "--agent-otel",
        action="store_true",
        default=None,
        help="export each test run as OpenTelemetry spans (GenAI conventions) to the global tracer provider",
    )
    parser.addini("agentops_trace_dir", "trace folder (as --agent-trace-dir)", default="")
    parser.addini(
        "agentops_trace_payloads",
        "files (default): data in DIR/payloads/<sha256>.json referenced by hash; inline: in the trace",
        default="files",
    )
    parser.addini("agentops_report", "JSON report path (as --agent-report)", default="")
    parser.addini("agentops_baseline", "baseline report path (as --agent-baseline)", default="")
    parser.addini(
        "agentops_baseline_tolerance",
        "baseline tolerances, one 'name = value' per line (e.g. success_rate_drop = 0.05, cost_rise = 20%)",
        type="linelist",
    )
    parser.addini("agentops_otel", "export OpenTelemetry spans (as --agent-otel)", type="bool", default=False)


def _path(config: pytest.Config, option: str, ini: str) -> Path | None:
    value = config.getoption(option, default=None) or config.getini(ini)
    if not value:
        return None
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else Path(str(config.rootpath)) / path


def configure(config: pytest.Config) -> None:
    from pytest_agentops.plugin.gating import _pyproject
    from pytest_agentops.readers import passk

    for marker in (*MARKERS, passk.MARKER):
        config.addinivalue_line("markers", marker)
    payloads = str(config.getini("agentops_trace_payloads") or "files").strip().lower()
    if payloads not in ("files", "inline"):
        raise pytest.UsageError(f"agentops_trace_payloads: {payloads!r} is not one of: files, inline")
    otel = config.getoption("agent_otel", default=None)
    if otel is None:
        otel = bool(config.getini("agentops_otel"))
    settings = OutputSettings(
        trace_dir=_path(config, "agent_trace_dir", "agentops_trace_dir"),
        inline_payloads=payloads == "inline",
        report_path=_path(config, "agent_report", "agentops_report"),
        baseline_path=_path(config, "agent_baseline", "agentops_baseline"),
        otel=bool(otel),
    )
    if settings.otel:
        from pytest_agentops.readers.otel import OtelMissing, check_available

        try:
            check_available()
        except OtelMissing as exc:
            raise pytest.UsageError(f"pytest-agentops: {exc}") from None
    if settings.baseline_path is not None and not hasattr(config, "workerinput"):
        from pytest_agentops.readers.baseline import ReportError, load, tolerances

        try:
            settings.baseline = load(settings.baseline_path)
            settings.tolerances = tolerances(_pyproject(config), list(config.getini("agentops_baseline_tolerance")))
        except ReportError as exc:
            raise pytest.UsageError(f"pytest-agentops: {exc}") from None
    config.stash[SETTINGS] = settings
    if not config.pluginmanager.has_plugin("agentops-outputs"):
        config.pluginmanager.register(OutputHooks(config, settings), "agentops-outputs")


def start_run(item: pytest.Item, run: Run) -> None:
    """Called by the tap fixture when it makes a test's run."""
    from pytest_agentops.readers.passk import attempt_of

    settings = item.config.stash.get(SETTINGS, None)
    if settings is not None:
        run.capture_io = settings.capture_io
    found = attempt_of(item)
    if found is not None:
        run.attempt = found[0]


# ---- per test -------------------------------------------------------------------------------------


def _phase_outcome(report: pytest.TestReport) -> str:
    xfail = hasattr(report, "wasxfail")
    if report.failed:
        return "failed"
    if report.skipped:
        return "xfailed" if xfail else "skipped"
    return "xpassed" if xfail and report.when == "call" else "passed"


def combined_outcome(outcomes: dict[str, str]) -> str:
    if "failed" in outcomes.values():
        return "failed"
    if "call" in outcomes:
        return outcomes["call"]
    return outcomes.get("setup", "skipped")


def _contract_name(item: pytest.Item, run: Run | None) -> tuple[bool, str | None]:
    """(whether a contract applies, its name) for the test's run."""
    if run is not None and run.guard is not None:
        contract = run.contract
        return contract is not None, (getattr(contract, "name", "") or None) if contract is not None else None
    marker = closest_mark(item, "agent")  # the run never started (setup failed before the tap)
    if marker is None or len(marker.args) != 1:
        return False, None
    arg = marker.args[0]
    return True, arg if isinstance(arg, str) else (getattr(arg, "name", "") or None)


def _escalations(item: pytest.Item, run: Run | None, outcome: str) -> list[str]:
    reasons = list(run.escalations) if run is not None else []
    marker = closest_mark(item, "agent_escalation")
    if marker is not None and outcome in ("passed", "xpassed"):
        reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
        reasons.append(str(reason or "@pytest.mark.agent_escalation"))
    return reasons


class OutputHooks:
    """Trace files, the failure step table, per-test figures, the scorecard and the report."""

    def __init__(self, config: pytest.Config, settings: OutputSettings) -> None:
        self.config = config
        self.settings = settings
        self.tests: dict[str, dict[str, Any]] = {}
        self.report: dict[str, Any] | None = None
        self.regressions: list[Any] = []
        self.errors: list[str] = []

    # ---- pass^k -------------------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)  # after @pytest.mark.parametrize: ids end in "-attempt-N"
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        from pytest_agentops.readers.passk import generate

        generate(metafunc)

    # ---- reports of one test ------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        try:
            if report.longrepr is not None or report.sections:  # else nothing to redact: no redactor built
                _redact_report(report, self._redactor())
            self._on_report(item, report)
        except Exception as exc:  # reporting must never change a test's result
            self.errors.append(f"{item.nodeid}: {type(exc).__name__}: {exc}")
        return report

    def _agent_test(self, item: pytest.Item) -> bool:
        """An agent test has a row even when it never ran its body (skipped at setup: no run)."""
        from pytest_agentops.plugin import SETTINGS as TAP_SETTINGS
        from pytest_agentops.plugin import asks_for_agentops

        settings = item.config.stash.get(TAP_SETTINGS, None)
        return settings is not None and asks_for_agentops(item, settings)

    def _trace_path(self, item: pytest.Item) -> Path | None:
        from pytest_agentops.readers.tracefile import relative_path

        root = self.settings.trace_dir
        return None if root is None else root / relative_path(item.nodeid)

    def _on_report(self, item: pytest.Item, report: pytest.TestReport) -> None:
        run = item.stash.get(RUN, None)
        if run is None and (OPENER in item.stash or not self._agent_test(item)):
            return  # a test outside the scope that never opened its tap: not an agent run
        phases = item.stash.get(PHASES, None)
        if phases is None:
            phases = item.stash[PHASES] = Phases()
        phases.outcomes[report.when] = _phase_outcome(report)
        phases.duration_s += report.duration
        if report.failed and phases.failure is None:
            phases.failure = {"when": report.when, "message": _failure_text(report)}
        if report.failed and not phases.section_added and run is not None and run.events:
            phases.section_added = True
            self._add_step_table(item, report, run)
        if report.when == "teardown":
            self._finish(item, report, phases, run)

    def _add_step_table(self, item: pytest.Item, report: pytest.TestReport, run: Run) -> None:
        from pytest_agentops.readers.assertions import step_table

        redactor = self._redactor()
        table = step_table(run.events)
        table = redactor.text(table) if redactor is not None else table
        shown = str(report.longrepr or "") + "".join(content for _, content in report.sections)
        if f"trace ({len(run.events)} steps):" in shown and table.splitlines()[-1].strip() in shown:
            return  # an assertion or the budget guard already printed the whole trace
        path = self._trace_path(item)
        if path is not None:
            table += f"\ntrace file: {_display(path, self.config)}"
        report.sections.append(("agentops trace", table))

    def _finish(self, item: pytest.Item, report: pytest.TestReport, phases: Phases, run: Run | None) -> None:
        from pytest_agentops.readers import scorecard
        from pytest_agentops.readers.passk import attempt_of, task_of

        outcome = combined_outcome(phases.outcomes)
        has_contract, contract = _contract_name(item, run)
        escalations = _escalations(item, run, outcome)
        found = attempt_of(item)
        attempt, k = found if found is not None else (None, None)
        task = task_of(item.nodeid) if found is not None else None
        figs = scorecard.figures(
            run,
            nodeid=item.nodeid,
            outcome=outcome,
            duration_s=phases.duration_s,
            contract=scorecard.contract_label(has_contract, contract),
            escalations=escalations,
            task=task,
            attempt=attempt,
            k=k,
        )
        if not scorecard.is_agent_run(figs):
            return
        if run is not None and self.settings.trace_dir is not None:
            from pytest_agentops.readers.tracefile import write_trace

            meta = {
                "outcome": outcome,
                "result": figs["result"],
                "duration_s": round(phases.duration_s, 6),
                "contract": contract,
                "escalations": escalations,
            }
            if phases.failure is not None:
                meta["failure"] = phases.failure
            if attempt is not None:
                meta.update(task=task, attempt=attempt, k=k)
            path = write_trace(
                self.settings.trace_dir,
                run,
                meta,
                redactor=self._redactor(),
                inline=self.settings.inline_payloads,
                on_error=self.errors.append,
            )
            if path is not None:
                figs["trace_file"] = path.relative_to(self.settings.trace_dir).as_posix()
        if run is not None and self.settings.otel:
            from pytest_agentops.readers.otel import export

            export(run, nodeid=item.nodeid, contract=contract, outcome=outcome, ended_at=time.time(), figures=figs)
        props = scorecard.junit_properties(figs)
        report.user_properties.extend(props)
        item.user_properties.extend(props)
        report.agentops = figs  # type: ignore[attr-defined]  # travels to the xdist controller

    def _redactor(self) -> Any:
        from pytest_agentops.plugin import SETTINGS as TAP_SETTINGS

        settings = self.config.stash.get(TAP_SETTINGS, None)
        return settings.redactor if settings is not None else None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        figs = getattr(report, "agentops", None)
        if report.when == "teardown" and isinstance(figs, dict):
            self.tests[report.nodeid] = figs

    # ---- the session --------------------------------------------------------------------------

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput"):
            return  # the xdist controller aggregates
        if not self._wanted():
            return  # no agent test, no file, no gate, no sink: nothing would read the report
        from pytest_agentops.readers import baseline as _report
        from pytest_agentops.readers import scorecard

        built = scorecard.build(self.tests.values())
        settings = self.settings
        if settings.baseline is not None:
            self.regressions = _report.compare(settings.baseline, built, settings.tolerances)
            built["baseline"] = {
                "path": _display(settings.baseline_path, self.config) if settings.baseline_path else None,
                "tolerances": settings.tolerances,
                "regressions": [r.to_dict() for r in self.regressions],
            }
            if self.regressions and session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if settings.report_path is not None:
            if settings.trace_dir is not None:  # so `agentops report merge` finds each shard's traces
                from pytest_agentops.readers.merge import relative_trace_dir

                built["trace_dir"] = relative_trace_dir(settings.trace_dir, settings.report_path)
            try:
                redactor = self._redactor()
                _report.write(settings.report_path, redactor.value(built) if redactor is not None else built)
            except OSError as exc:
                self.errors.append(f"could not write the report {settings.report_path}: {exc}")
        self.report = built
        self.config.hook.pytest_agentops_report(report=built, config=self.config)

    def _wanted(self) -> bool:
        settings = self.settings
        return bool(
            self.tests
            or settings.report_path is not None
            or settings.baseline is not None
            or self.config.hook.pytest_agentops_report.get_hookimpls()
        )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.report is None and self.settings.baseline is None and not self.errors:
            return
        from pytest_agentops.readers import scorecard

        tr = terminalreporter
        built = self.report
        if built is not None and scorecard.has_calls(built):
            tr.write_sep("=", "agentops scorecard")
            for line in scorecard.format_scorecard(built):
                tr.write_line(line)
            traces = sum(1 for t in built["tests"] if t.get("trace_file"))
            if traces and self.settings.trace_dir is not None:
                tr.write_line(f"traces: {traces} file(s) in {_display(self.settings.trace_dir, self.config)}")
            if self.settings.report_path is not None:
                tr.write_line(f"report: {_display(self.settings.report_path, self.config)}")
        if self.settings.baseline is not None and built is not None:
            where = _display(self.settings.baseline_path, self.config) if self.settings.baseline_path else "baseline"
            if self.regressions:
                tr.write_sep("=", "agentops baseline: regressions", red=True, bold=True)
                for regression in self.regressions:
                    tr.write_line(f"REGRESSION {regression.message}", red=True)
                tr.write_line(f"{len(self.regressions)} regression(s) against {where}: the session fails")
            else:
                tr.write_line(f"agentops baseline: no regressions against {where}")
        for error in self.errors:
            tr.write_line(f"pytest-agentops: {error}", yellow=True)


def _display(path: Path | None, config: pytest.Config) -> str:
    if path is None:
        return ""
    try:
        return str(path.relative_to(Path(str(config.rootpath))))
    except ValueError:
        return str(path)
