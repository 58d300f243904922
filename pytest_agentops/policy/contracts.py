"""Agent contracts: ``[tool.agentops.agents.<name>]`` in pyproject.toml, or a YAML file.

```toml
[tool.agentops.agents.support_triage]
model_routing = { classify = "gpt-4o-mini", draft = "gpt-4o" }
budgets = { max_tool_calls = 10, max_tokens_total = 12000, timeout_seconds = 20 }
logging = { store_prompt = false, store_tool_io = true, pii_redaction = true }
safety = { allowlisted_tools = ["kb_search", "crm.*.retrieve"], write_actions_require = ["validate_step"] }
```

The YAML file (ini ``agentops_contracts``/``--agent-contracts``) has the same shape under
``agents:``, and may hold ``prices:`` like ``[tool.agentops.prices]``. Every key is checked:
an unknown key or a bad value is an error naming the file, the contract and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pytest_agentops.policy.budget import Budget
from pytest_agentops.policy.engine import Policy
from pytest_agentops.policy.tools import Kind, Risk
from pytest_agentops.trace.prices import Price, PriceError, parse_table


class ContractError(ValueError):
    """A contract file or marker that cannot be used; the message names the file and the key."""


class Logging(BaseModel):
    """What the trace may keep (read by trace writers and reports)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    store_prompt: bool = True
    store_tool_io: bool = True
    pii_redaction: bool = False


class Safety(BaseModel):
    """The contract's policy: allowlist, write preconditions, tenant, highest risk allowed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allowlisted_tools: list[str] | None = None
    write_actions_require: list[str] = Field(default_factory=list)
    denied_tools: list[str] = Field(default_factory=list)
    read_only: bool = False
    tenant: str | None = None
    max_risk: Risk | None = None
    tool_access: dict[str, Kind] = Field(default_factory=dict)


class Mcp(BaseModel):
    """The agent's MCP servers by name (``mcp.<name>.<tool>``), as ``register_mcp_server`` names them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    servers: dict[str, str] = Field(default_factory=dict)


class AgentContract(BaseModel):
    """One agent's contract: which models it may use, its budgets, logging and safety rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    model_routing: dict[str, str] = Field(default_factory=dict)
    budgets: Budget = Field(default_factory=Budget)
    logging: Logging = Field(default_factory=Logging)
    safety: Safety = Field(default_factory=Safety)
    mcp: Mcp = Field(default_factory=Mcp)

    @property
    def models(self) -> list[str]:
        """The pinned model ids (the values of ``model_routing``), in order, without repeats."""
        return list(dict.fromkeys(self.model_routing.values()))

    @property
    def policy(self) -> Policy:
        s = self.safety
        return Policy(
            allow=s.allowlisted_tools,
            deny=s.denied_tools,
            writes_require=s.write_actions_require,
            read_only=s.read_only,
            tenant=s.tenant,
            max_risk=s.max_risk,
            models=self.models or None,
            access=s.tool_access,
        )

    @property
    def budget(self) -> Budget:
        return self.budgets


# ---- error messages ---------------------------------------------------------------------------

_SECTIONS: dict[str, type[BaseModel]] = {
    "": AgentContract,
    "budgets": Budget,
    "logging": Logging,
    "safety": Safety,
    "mcp": Mcp,
}
_EXPECT = {
    "name": "must be a string",
    "model_routing": 'must be a table of step = "model id"',
    "model_routing.*": "must be a model id string",
    "budgets": "must be a table (max_tool_calls, max_tokens_total, max_cost_usd, timeout_seconds, max_repeated_calls, "
    "max_simulated_seconds)",
    "budgets.max_tool_calls": "must be an integer >= 0",
    "budgets.max_tokens_total": "must be a positive integer",
    "budgets.max_cost_usd": "must be a number >= 0 (USD)",
    "budgets.timeout_seconds": "must be a positive number of seconds",
    "budgets.max_repeated_calls": "must be a positive integer",
    "budgets.max_simulated_seconds": "must be a positive number of (simulated) seconds",
    "logging": "must be a table (store_prompt, store_tool_io, pii_redaction)",
    "logging.store_prompt": "must be true or false",
    "logging.store_tool_io": "must be true or false",
    "logging.pii_redaction": "must be true or false",
    "safety": "must be a table (allowlisted_tools, write_actions_require, denied_tools, read_only, tenant, max_risk, "
    "tool_access)",
    "safety.allowlisted_tools": 'must be a list of tool names or patterns, e.g. ["kb_search", "crm.*.retrieve"]',
    "safety.allowlisted_tools.*": "must be a tool name or pattern string",
    "safety.write_actions_require": 'must be a list of precondition names, e.g. ["validate_step"]',
    "safety.write_actions_require.*": "must be a precondition name string",
    "safety.denied_tools": "must be a list of tool names or patterns",
    "safety.denied_tools.*": "must be a tool name or pattern string",
    "safety.read_only": "must be true or false",
    "safety.tenant": "must be a tenant id string",
    "safety.max_risk": "must be one of low, medium, high, critical",
    "safety.tool_access": 'must be a table of tool name or pattern = "read" or "write"',
    "safety.tool_access.*": 'must be "read" or "write"',
    "mcp": "must be a table (servers)",
    "mcp.servers": 'must be a table of server name = "URL of its MCP endpoint"',
    "mcp.servers.*": "must be a URL string",
}


def _error_path(loc: tuple[int | str, ...]) -> tuple[str, str]:
    """(shown key, key in _EXPECT) for a pydantic error location."""
    parts = [str(p) for p in loc]
    shown = ".".join(parts)
    generic = [parts[0], "*", *parts[2:]] if parts and parts[0] == "model_routing" and len(parts) > 1 else parts
    if len(generic) >= 3 and generic[0] in ("safety", "mcp"):
        generic = [generic[0], generic[1], "*"]
    return shown, ".".join(generic)


def explain(exc: ValidationError, where: str) -> list[str]:
    """One ``<where> <key>: <problem>`` line per error of ``exc``."""
    lines = []
    seen: set[str] = set()
    for err in exc.errors():
        shown, key = _error_path(err["loc"])
        if shown in seen:
            continue
        seen.add(shown)
        if err["type"] == "extra_forbidden":
            parent, _, _ = shown.rpartition(".")
            model = _SECTIONS.get(parent)
            known = ", ".join(_known_keys(model)) if model is not None else ""
            problem = "unknown key" + (f"; known keys{' in ' + parent if parent else ''}: {known}" if known else "")
        elif err["type"] == "missing":
            problem = "missing"
        else:
            problem = _EXPECT.get(key) or err["msg"]
            if "input" in err and not isinstance(err["input"], dict | list):
                problem += f" (got {err['input']!r})"
        lines.append(f"{where} {shown}: {problem}" if shown else f"{where}: {problem}")
    return lines


def _known_keys(model: type[BaseModel]) -> list[str]:
    return [name for name in model.model_fields if not (model is AgentContract and name == "name")]


def validate_contract(name: str, raw: Any, where: str) -> AgentContract:
    if not isinstance(raw, Mapping):
        raise ContractError(f"{where}: must be a table of contract keys ({', '.join(_known_keys(AgentContract))})")
    if "name" in raw:
        raise ContractError(f"{where} name: unknown key; the contract's name is its table name ({name!r})")
    try:
        return AgentContract.model_validate({**raw, "name": name}, strict=True)
    except ValidationError as exc:
        raise ContractError("\n".join(explain(exc, where))) from None


# ---- loading --------------------------------------------------------------------------------------


@dataclass
class Contracts:
    """Every contract and price override found in the project's config."""

    agents: dict[str, AgentContract] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # contract name -> file it came from
    prices: dict[str, Price] = field(default_factory=dict)

    def get(self, name: str) -> AgentContract | None:
        return self.agents.get(name)

    def unknown(self, name: str) -> str:
        known = ", ".join(sorted(self.agents)) or "(none)"
        files = ", ".join(sorted(set(self.sources.values())))
        where = f" (from {files})" if files else " (define them in [tool.agentops.agents.<name>] in pyproject.toml)"
        return f"unknown agent contract {name!r}; known: {known}{where}"


def _display(path: Path, rootdir: Path) -> str:
    try:
        return str(path.resolve().relative_to(rootdir.resolve()))
    except ValueError:
        return str(path)


def load_pyproject(path: Path, rootdir: Path, into: Contracts) -> None:
    import tomllib

    shown = _display(path, rootdir)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ContractError(f"{shown}: cannot read: {exc}") from None
    section = data.get("tool", {}).get("agentops")
    if section is None:
        return
    if not isinstance(section, Mapping):
        raise ContractError(f"{shown}: [tool.agentops] must be a table")
    unknown = sorted(set(section) - {"agents", "prices", "baseline"})  # baseline: pytest_agentops.readers.baseline
    if unknown:
        raise ContractError(f"{shown}: [tool.agentops] {unknown[0]}: unknown key; known keys: agents, prices, baseline")
    agents = section.get("agents", {})
    if not isinstance(agents, Mapping):
        raise ContractError(f"{shown}: [tool.agentops.agents] must be a table of [tool.agentops.agents.<name>]")
    for name, raw in agents.items():
        _add(into, str(name), validate_contract(str(name), raw, f"{shown}: [tool.agentops.agents.{name}]"), shown)
    if "prices" in section:
        try:
            into.prices.update(parse_table(section["prices"], f"{shown}: [tool.agentops.prices]"))
        except PriceError as exc:
            raise ContractError(str(exc)) from None


def load_yaml(path: Path, rootdir: Path, into: Contracts) -> None:
    import yaml

    shown = _display(path, rootdir)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ContractError(f"{shown}: cannot read the agent contracts file: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ContractError(f"{shown}: not valid YAML: {exc}") from None
    if data is None:
        return
    if not isinstance(data, Mapping):
        raise ContractError(f"{shown}: must be a mapping with 'agents:' (and optionally 'prices:')")
    unknown = sorted(str(k) for k in set(data) - {"agents", "prices"})
    if unknown:
        raise ContractError(f"{shown}: {unknown[0]}: unknown key; known keys: agents, prices")
    agents = data.get("agents") or {}
    if not isinstance(agents, Mapping):
        raise ContractError(f"{shown}: agents: must be a mapping of contract name -> contract")
    for name, raw in agents.items():
        _add(into, str(name), validate_contract(str(name), raw, f"{shown}: agents.{name}"), shown)
    if data.get("prices") is not None:
        try:
            into.prices.update(parse_table(data["prices"], f"{shown}: prices"))
        except PriceError as exc:
            raise ContractError(str(exc)) from None


def _add(into: Contracts, name: str, contract: AgentContract, source: str) -> None:
    if name in into.agents:
        raise ContractError(f"agent contract {name!r} is defined twice: in {into.sources[name]} and in {source}")
    into.agents[name] = contract
    into.sources[name] = source


def load(rootdir: Path, pyproject: Path | None = None, yaml_path: str | Path | None = None) -> Contracts:
    """Contracts of the project at ``rootdir``: pyproject.toml's tables, then the YAML file if any."""
    contracts = Contracts()
    pyproject = pyproject if pyproject is not None else rootdir / "pyproject.toml"
    if pyproject.is_file() and b"agentops" in pyproject.read_bytes():
        load_pyproject(pyproject, rootdir, contracts)
    if yaml_path:
        path = Path(yaml_path)
        if not path.is_absolute():
            path = rootdir / path
        load_yaml(path, rootdir, contracts)
    return contracts
