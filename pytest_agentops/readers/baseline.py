"""The JSON report (``--agent-report``) and the baseline gate (``--agent-baseline``).

The gate compares each agent contract present in both reports (and the total) and names every
figure that moved past its tolerance. Tolerances, from ``[tool.agentops.baseline]`` in pyproject.toml
or the ini option ``agentops_baseline_tolerance`` (``name = value`` lines, which win):

=========================  =======  ==================================================================
key                        default  a regression when
=========================  =======  ==================================================================
``success_rate_drop``      0.0      the success rate drops by more than this (0.05 = 5 points)
``escalation_rate_rise``   0.0      the escalation rate rises by more than this (points)
``tool_error_rate_rise``   0.0      tool errors per run rise by more than this (absolute)
``tool_calls_rise``        0.10     tool calls per successful run rise by more than this (relative)
``cost_rise``              0.10     cost per completed task rises by more than this (relative)
``tokens_rise``            0.10     tokens per completed task rise by more than this (relative)
``pass_k_drop``            0.0      pass^k (same k) drops by more than this (absolute)
=========================  =======  ==================================================================

A value may be written as a fraction (``0.05``) or a percentage (``"5%"``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_agentops.readers.formats import num, pct, usd

TOLERANCE_KEYS: dict[str, tuple[float, str]] = {
    "success_rate_drop": (0.0, "absolute"),
    "escalation_rate_rise": (0.0, "absolute"),
    "tool_error_rate_rise": (0.0, "absolute"),
    "tool_calls_rise": (0.10, "relative"),
    "cost_rise": (0.10, "relative"),
    "tokens_rise": (0.10, "relative"),
    "pass_k_drop": (0.0, "absolute"),
}
_EPS = 1e-9


class ReportError(ValueError):
    """A bad tolerance or an unreadable baseline; shown as a usage error."""


def default_tolerances() -> dict[str, float]:
    return {key: default for key, (default, _) in TOLERANCE_KEYS.items()}


def parse_tolerance(key: str, value: Any, where: str) -> float:
    if key not in TOLERANCE_KEYS:
        raise ReportError(f"{where} {key}: unknown key; known keys: {', '.join(TOLERANCE_KEYS)}")
    number: float
    if isinstance(value, bool):
        raise ReportError(f"{where} {key}: must be a number >= 0 or a percentage like '5%' (got {value!r})")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise ReportError(
                f"{where} {key}: must be a number >= 0 or a percentage like '5%' (got {value!r})"
            ) from None
    else:
        raise ReportError(f"{where} {key}: must be a number >= 0 or a percentage like '5%' (got {value!r})")
    if number < 0 or number != number:
        raise ReportError(f"{where} {key}: must be >= 0 (got {value!r})")
    return number


def tolerances(pyproject: Path | None, ini_lines: list[str]) -> dict[str, float]:
    """Defaults, then ``[tool.agentops.baseline]``, then the ``agentops_baseline_tolerance`` lines."""
    out = default_tolerances()
    if pyproject is not None and pyproject.is_file():
        import tomllib

        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            data = {}
        section = data.get("tool", {}).get("agentops", {}).get("baseline")
        if section is not None:
            if not isinstance(section, Mapping):
                raise ReportError(f"{pyproject.name}: [tool.agentops.baseline] must be a table")
            for key, value in section.items():
                out[str(key)] = parse_tolerance(str(key), value, f"{pyproject.name}: [tool.agentops.baseline]")
    for line in ini_lines:
        key, sep, value = line.partition("=")
        if not sep:
            raise ReportError(f"agentops_baseline_tolerance: {line!r} is not 'name = value'")
        out[key.strip()] = parse_tolerance(key.strip(), value.strip(), "agentops_baseline_tolerance:")
    return out


def load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportError(f"--agent-baseline: cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ReportError(f"--agent-baseline: {path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != "pytest-agentops-report" or "agents" not in data:
        raise ReportError(f"--agent-baseline: {path} is not a pytest-agentops report (written by --agent-report)")
    return data


def write(path: Path, report: Mapping[str, Any]) -> None:
    from pytest_agentops.trace.files import write_atomic

    write_atomic(path, (json.dumps(report, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8"))


# ---- comparing with a baseline ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Regression:
    agent: str
    key: str  # the tolerance key that was exceeded
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"agent": self.agent, "key": self.key, "message": self.message}


def _fmt(value: float, money: bool) -> str:
    return usd(value) if money else num(value, 2, trim=True)


def compare_group(
    name: str, old: Mapping[str, Any], new: Mapping[str, Any], tol: Mapping[str, float]
) -> list[Regression]:
    out: list[Regression] = []
    if not new.get("runs") or not old.get("runs"):
        return out

    def drop(field: str, key: str, label: str) -> None:
        was, now = old.get(field), new.get(field)
        if was is None or now is None:
            return
        if was - now > tol[key] + _EPS:
            out.append(
                Regression(
                    name,
                    key,
                    f"{name}: {label} dropped from {pct(was)} to {pct(now)} (tolerance {pct(tol[key])} points, {key})",
                )
            )

    def rise_abs(field: str, key: str, label: str, percent: bool = True) -> None:
        was, now = old.get(field), new.get(field)
        if was is None or now is None:
            return
        if now - was > tol[key] + _EPS:
            if percent:
                shown, allowed = (pct(was), pct(now)), f"{pct(tol[key])} points"
            else:
                shown, allowed = (_fmt(was, False), _fmt(now, False)), f"{tol[key]:g}"
            out.append(
                Regression(
                    name, key, f"{name}: {label} rose from {shown[0]} to {shown[1]} (tolerance {allowed}, {key})"
                )
            )

    def rise_rel(field: str, key: str, label: str, money: bool = False) -> None:
        was, now = old.get(field), new.get(field)
        if was is None or now is None:
            return
        if now > was * (1 + tol[key]) + _EPS:
            change = f"+{(now / was - 1) * 100:.1f}%, " if was else ""
            out.append(
                Regression(
                    name,
                    key,
                    f"{name}: {label} rose from {_fmt(was, money)} to {_fmt(now, money)} "
                    f"({change}tolerance {tol[key] * 100:g}%, {key})",
                )
            )

    drop("success_rate", "success_rate_drop", "success rate")
    rise_abs("escalation_rate", "escalation_rate_rise", "escalation rate")
    rise_abs("tool_error_rate", "tool_error_rate_rise", "tool errors per run", percent=False)
    rise_rel("tool_calls_per_success", "tool_calls_rise", "tool calls per successful run")
    rise_rel("cost_per_task", "cost_rise", "cost per completed task", money=True)
    rise_rel("tokens_per_task", "tokens_rise", "tokens per completed task")
    return out


def compare(baseline: Mapping[str, Any], current: Mapping[str, Any], tol: Mapping[str, float]) -> list[Regression]:
    """Every regression of ``current`` against ``baseline``, per contract in both, then pass^k."""
    found: list[Regression] = []
    old_agents: Mapping[str, Any] = baseline.get("agents") or {}
    for name, stats in current["agents"].items():
        if name in old_agents:
            found.extend(compare_group(name, old_agents[name], stats, tol))
    old_k = {group["k"]: group for group in baseline.get("pass_k") or []}
    for group in current.get("pass_k") or []:
        was = old_k.get(group["k"])
        if was is None or not was.get("tasks") or not group["tasks"]:
            continue
        if was["pass_hat_k"] - group["pass_hat_k"] > tol["pass_k_drop"] + _EPS:
            k = group["k"]
            found.append(
                Regression(
                    f"pass^{k}",
                    "pass_k_drop",
                    f"pass^{k} dropped from {was['pass_hat_k']:.3f} to {group['pass_hat_k']:.3f} "
                    f"(tolerance {tol['pass_k_drop']:g}, pass_k_drop)",
                )
            )
    return found
