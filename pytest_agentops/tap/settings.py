"""Session settings read once from the command line and ini, with errors that name the option."""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

    from pytest_agentops.cassette.matching import MatchConfig
    from pytest_agentops.cassette.redact import Redactor
    from pytest_agentops.tap.telemetry import Telemetry

RECORD_MODES = ("new", "all", "prune")  # prune: as new, then remove what no test used (docs/cassettes.md)
SCOPES = ("auto", "all")
MODEL_STAGING = ("openai", "anthropic")  # the fake model's upstreams; the simulators' come from their registry
_UNSAFE = re.compile(r"[^A-Za-z0-9._\-\[\]=,+@]")


def staging_names() -> tuple[str, ...]:
    """Every ``--agent-staging NAME``: the model providers, then each registered simulator's."""
    from simulators import REGISTRY

    return (*MODEL_STAGING, *(entry.staging for entry in REGISTRY.values()))


def __getattr__(name: str) -> Any:
    if name == "STAGING_NAMES":  # the old constant, now read from the registry (kept for one release)
        return staging_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class UsageError(Exception):
    """A bad option value; pytest shows it as a usage error."""


@dataclass
class Settings:
    replay_strict: bool = False
    record: str = "none"  # "none" | "new" | "all"
    cassette_dir: Path = Path("cassettes")
    rootdir: Path = Path(".")
    staging: dict[str, str] = field(default_factory=dict)
    loopback_passthrough: bool = True
    scope: str = "auto"  # "auto" | "all": which tests the tap governs (docs/scope.md)
    record_errors: bool = False  # save upstream 5xx answers while recording (docs/cassettes.md)
    max_age_days: float | None = None  # warn on cassettes last recorded longer ago than this
    match_rules: tuple[str, ...] = ()
    telemetry_rules: tuple[str, ...] = ()  # agentops_telemetry_hosts lines (pytest_agentops.tap.telemetry)
    redact: dict[str, tuple[str, ...]] = field(default_factory=dict)
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    _match: MatchConfig | None = None
    _redactor: Redactor | None = None
    _folders: dict[Path, Path] = field(default_factory=dict)

    @property
    def match(self) -> MatchConfig:
        if self._match is None:
            from pytest_agentops.cassette.matching import MatchConfig

            self._match = MatchConfig.from_rules(self.match_rules)
        return self._match

    @functools.cached_property
    def telemetry(self) -> Telemetry:
        from pytest_agentops.tap.telemetry import Telemetry

        return Telemetry.from_lines(self.telemetry_rules)

    @property
    def redactor(self) -> Redactor:
        if self._redactor is None:
            from pytest_agentops.cassette.redact import Redactor, activate

            self._redactor = activate(Redactor.with_extra(**self.redact, rootdir=self.rootdir))
        return self._redactor

    def cassette_path(self, module_path: Path, test_name: str, named: str | None = None) -> Path:
        """``DIR/<module path without .py>/<test name>.json``, or ``DIR/<name>.json`` for a named one."""
        if named:
            name = named if named.endswith(".json") else named + ".json"
            return self.cassette_dir / name
        return self._module_folder(module_path) / (_UNSAFE.sub("_", test_name) + ".json")

    def _module_folder(self, module_path: Path) -> Path:
        """``DIR/<module path without .py>``, resolved once per module (every test asks)."""
        folder = self._folders.get(module_path)
        if folder is None:
            try:
                rel = module_path.resolve().relative_to(self.rootdir.resolve())
            except ValueError:
                rel = Path(module_path.name)
            folder = self._folders[module_path] = self.cassette_dir / rel.with_suffix("")
        return folder


def _option(config: pytest.Config, name: str) -> Any:
    """Command line first, then the ini option ``agentops_<name>``."""
    value = config.getoption(f"agent_{name}", default=None)
    if value in (None, False, []):
        value = config.getini(f"agentops_{name}") or value
    return value


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise UsageError(f"agentops_{name}: {value!r} is not a boolean (true/false)")


def netns_wanted(config: pytest.Config) -> bool:
    """``--agent-netns`` or ``agentops_netns = true``; read before the session is configured."""
    try:
        return _bool(_option(config, "netns") or False, "netns")
    except UsageError as exc:
        import pytest

        raise pytest.UsageError(str(exc)) from exc


def _days(value: Any) -> float | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        days = float(text)
    except ValueError:
        days = -1.0
    if days <= 0:
        raise UsageError(f"agentops_cassette_max_age_days: {text!r} is not a positive number of days")
    return days


def from_pytest(config: pytest.Config) -> Settings:
    rootdir = Path(str(config.rootpath))
    replay = _bool(_option(config, "replay") or False, "replay")
    record = _option(config, "record") or "none"
    if record not in ("none", *RECORD_MODES):
        raise UsageError(f"--agent-record: {record!r} is not one of: {', '.join(RECORD_MODES)}")
    if replay and record != "none":
        raise UsageError("--agent-replay and --agent-record cannot be used together")
    cassette_dir = Path(str(_option(config, "cassette_dir") or "cassettes"))
    if not cassette_dir.is_absolute():
        cassette_dir = rootdir / cassette_dir
    staging: dict[str, str] = {}
    for item in _option(config, "staging") or []:
        name, sep, url = str(item).partition("=")
        if not sep or not name or not url.startswith(("http://", "https://")):
            raise UsageError(f"--agent-staging: {item!r} is not NAME=http(s)://URL")
        known = staging_names()
        if name.strip() not in known:
            raise UsageError(f"--agent-staging: unknown NAME {name!r}; known: {', '.join(known)}")
        staging[name.strip()] = url.strip()
    scope = str(config.getini("agentops_scope") or "auto").strip().lower()
    if scope not in SCOPES:
        raise UsageError(f"agentops_scope: {scope!r} is not one of: {', '.join(SCOPES)}")
    settings = Settings(
        replay_strict=replay,
        scope=scope,
        record=record,
        cassette_dir=cassette_dir,
        rootdir=rootdir,
        staging=staging,
        loopback_passthrough=_bool(config.getini("agentops_loopback_passthrough"), "loopback_passthrough"),
        record_errors=_bool(_option(config, "record_errors") or False, "record_errors"),
        max_age_days=_days(config.getini("agentops_cassette_max_age_days")),
        match_rules=tuple(config.getini("agentops_match_ignore")),
        telemetry_rules=tuple(config.getini("agentops_telemetry_hosts")),
        redact={
            kind: tuple(config.getini(f"agentops_redact_{kind}")) for kind in ("headers", "query", "fields", "patterns")
        },
    )
    workerinput = getattr(config, "workerinput", None)
    if workerinput and "agentops_session" in workerinput:
        settings.session_id = workerinput["agentops_session"]
    try:  # the user's rules are checked now, not in the first test; the defaults are built on first use
        if settings.match_rules:
            settings.match  # noqa: B018
        if any(settings.redact.values()):
            settings.redactor  # noqa: B018
        if settings.telemetry_rules:
            settings.telemetry  # noqa: B018
    except (ValueError, re.error) as exc:
        raise UsageError(str(exc)) from exc
    return settings
