"""Targets read from a file, judged from one run's results: met, MISSED or not measured.

The package knows how to measure (``workbench.bench.measures``); the project's verdicts live
in ``benchmarks/targets.toml``: for each target a title, a measure with its arguments, a
bound (``at_most`` or ``at_least``) and, for when it is missed, what limits it::

    [[targets]]
    key = "gil"
    title = "Multiprocess beats the GIL on CPU-heavy records"
    measure = "speedup"
    args = { scenario = "cpu", mode = "multiprocess", over = "sync" }
    at_least = 1.7
    limits = "process start-up and pickling of results"

A target whose inputs were not measured (scenario not chosen, peer not installed) is "not
measured", never met by default.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.bench.measures import MEASURES
from workbench.bench.runner import Result
from workbench.errors import ConfigError

__all__ = ["MET", "MISSED", "NOT_MEASURED", "Target", "TargetOutcome", "evaluate", "load_targets"]

MET, MISSED, NOT_MEASURED = "met", "MISSED", "not measured"


@dataclass(frozen=True)
class Target:
    """One target: the measure it is judged by and its bound."""

    key: str
    title: str
    measure: str
    bound: float
    at_most: bool
    unit: str = "x"
    args: dict[str, Any] = field(default_factory=dict)
    limits: str = ""
    #: Shown when not measured: what the run must include (e.g. "needs growth and limits").
    needs: str = ""

    @property
    def bound_text(self) -> str:
        """Return the bound as shown in tables: ``<= 2.00x``, ``>= 300,000 keys/s``."""
        sign = "<=" if self.at_most else ">="
        return f"{sign} {_number(self.bound, self.unit)}"

    def judge(self, value: float) -> str:
        """Return met or MISSED for a measured value."""
        ok = value <= self.bound if self.at_most else value >= self.bound
        return MET if ok else MISSED


@dataclass(frozen=True)
class TargetOutcome:
    """One target's verdict: the measured value against the bound, and what was compared."""

    target: Target
    measured: float | None
    status: str
    detail: str

    @property
    def key(self) -> str:
        """Return the target's key."""
        return self.target.key

    @property
    def title(self) -> str:
        """Return the target's title."""
        return self.target.title

    @property
    def bound(self) -> str:
        """Return the target's bound as text."""
        return self.target.bound_text

    @property
    def measured_text(self) -> str:
        """Return the measured value as shown in the summary."""
        return "-" if self.measured is None else _number(self.measured, self.target.unit)


def _number(value: float, unit: str) -> str:
    """Format a value with its unit: ratios with two decimals, large numbers with commas."""
    if unit == "x":
        return f"{value:,.0f}x" if abs(value) >= 1000 else f"{value:.2f}x"
    return f"{value:,.0f} {unit}" if abs(value) >= 100 else f"{value:.2f} {unit}"


def load_targets(path: Path) -> list[Target]:
    """Read the targets of a TOML file; a bad entry is a ``ConfigError`` naming it."""
    try:
        entries = tomllib.loads(path.read_text(encoding="utf-8")).get("targets", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read targets from {path}: {exc}") from exc
    return [_target(entry, path) for entry in entries]


def _target(entry: dict[str, Any], path: Path) -> Target:
    """Build one target from its TOML table."""
    key = entry.get("key", "?")
    if entry.get("measure") not in MEASURES:
        raise ConfigError(f"{path}: target {key!r}: unknown measure {entry.get('measure')!r}")
    if ("at_most" in entry) == ("at_least" in entry):
        raise ConfigError(f"{path}: target {key!r}: give exactly one of at_most, at_least")
    bound: Any = entry.get("at_most", entry.get("at_least"))  # exactly one is there
    return Target(
        key=key,
        title=entry.get("title", key),
        measure=entry["measure"],
        bound=float(bound),
        at_most="at_most" in entry,
        unit=entry.get("unit", "x"),
        args=dict(entry.get("args", {})),
        limits=entry.get("limits", ""),
        needs=entry.get("needs", ""),
    )


def evaluate(targets: Sequence[Target], results: Sequence[Result]) -> list[TargetOutcome]:
    """Judge every target from one run's results."""
    outcomes = []
    for target in targets:
        measured = MEASURES[target.measure](results, **target.args)
        if measured is None:
            why = target.needs or f"its inputs ({target.measure}) were not measured in this run"
            outcomes.append(TargetOutcome(target, None, NOT_MEASURED, why))
        else:
            status = target.judge(measured.value)
            outcomes.append(TargetOutcome(target, measured.value, status, measured.detail))
    return outcomes
