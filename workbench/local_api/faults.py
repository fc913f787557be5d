"""Deterministic fault injection: which answer each request gets, from a seed, not from timing.

A request's fate is drawn from a hash of (seed, its path and query without fault parameters,
and how many times that same key has been asked before). Concurrent clients therefore see
exactly the faults sequential ones do, and a retry of a URL gets a fresh, reproducible draw.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from random import Random
from typing import Any

from workbench.errors import ConfigError
from workbench.local_api.checks import is_finite_number

__all__ = [
    "FAULT_KINDS",
    "OVERRIDE_PARAMS",
    "FaultConfig",
    "FaultDecision",
    "FaultInjector",
    "check_fault_values",
    "decide",
]

#: Fault kinds that share one draw, in band order; their rates may add up to at most 1.
EXCLUSIVE_KINDS = ("drop", "error", "rate_limit", "malformed", "slow")
#: Every kind a request can be given (``always_fail`` is matched, not drawn).
FAULT_KINDS = (*EXCLUSIVE_KINDS, "always_fail")
RATE_FIELDS = tuple(f"{kind}_rate" for kind in EXCLUSIVE_KINDS)
DURATION_FIELDS = ("latency_ms", "jitter_ms", "retry_after_s", "slow_ms")
#: Query parameter -> field, for overriding the server's faults on one request.
OVERRIDE_PARAMS = {f"_{name}": name for name in (*DURATION_FIELDS, *RATE_FIELDS)}


@dataclass(frozen=True)
class FaultConfig:
    """Faults to inject: latency for every answer, and rates of each faulty kind of answer.

    Latency (with jitter) is the network's: a fault-free answer is built as its request
    arrives and held that long before it is sent. A faulty answer is the server's doing: it
    waits first (a slow one ``slow_ms`` more), then fails or answers.

    The five rates are fractions of answers and exclude one another, so their sum is at most
    1. A request whose path and decoded query (fault parameters left out, as in
    ``/posts?_page=3&_limit=10``) contain one of the ``always_fail`` texts always gets a 500.
    """

    seed: int = 0
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after_s: float = 1.0
    drop_rate: float = 0.0
    malformed_rate: float = 0.0
    slow_rate: float = 0.0
    slow_ms: float = 3000.0
    always_fail: tuple[str, ...] = ()
    #: Hostile answers (``workbench.local_api.hostile``): the first on ``hostile_page``, the
    #: next on the page after, ...; header kinds on every page.
    hostile: tuple[str, ...] = ()
    hostile_page: int = 2
    #: Where a ``redirect`` answer points: another host's base URL.
    hostile_target: str = ""
    #: How big a ``huge`` answer is.
    huge_mb: float = 40.0

    def __post_init__(self) -> None:
        # One text is one pattern (or kind), not one per character.
        for name in ("always_fail", "hostile"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        check_fault_values(dataclasses.asdict(self))

    @property
    def any_rate(self) -> bool:
        """Tell whether any faulty kind of answer can be drawn (a rate above 0)."""
        return any(getattr(self, field) for field in RATE_FIELDS)

    def with_overrides(self, query: Mapping[str, str]) -> FaultConfig:
        """Return this config with any ``_latency_ms``-style query parameters applied."""
        changes: dict[str, Any] = {}
        for param, field in OVERRIDE_PARAMS.items():
            if param in query:
                changes[field] = _parse_number(param, query[param])
        if not changes:
            return self
        check_fault_values({**dataclasses.asdict(self), **changes}, label=lambda f: f"_{f}")
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class FaultDecision:
    """What one request gets: a delay before answering and at most one fault."""

    delay_s: float = 0.0
    kind: str | None = None
    status: int | None = None


def check_fault_values(values: Mapping[str, Any], label: Callable[[str], str] = str) -> None:
    """Raise ConfigError, naming ``label(field)``, if a fault setting is out of range."""
    for field in RATE_FIELDS:
        if not is_finite_number(values[field]) or not 0 <= values[field] <= 1:
            raise ConfigError(f"{label(field)} {values[field]!r}: expected a number from 0 to 1")
    for field in DURATION_FIELDS:
        if not is_finite_number(values[field]) or values[field] < 0:
            raise ConfigError(f"{label(field)} {values[field]!r}: expected a number >= 0")
    total = sum(values[field] for field in RATE_FIELDS)
    if total > 1 + 1e-9:
        names = " + ".join(label(field) for field in RATE_FIELDS)
        raise ConfigError(f"{names} = {total:g}: expected at most 1 (one fault per answer)")
    for pattern in values["always_fail"]:
        if not isinstance(pattern, str) or not pattern:
            raise ConfigError(f"{label('always_fail')} {pattern!r}: expected a non-empty text")
    if not isinstance(values["seed"], int):
        raise ConfigError(f"{label('seed')} {values['seed']!r}: expected an integer")
    _check_hostile(values, label)


def _check_hostile(values: Mapping[str, Any], label: Callable[[str], str]) -> None:
    """Raise ConfigError for an unknown hostile kind, a bad page or a redirect to nowhere."""
    from workbench.local_api.hostile import HOSTILE_KINDS

    for kind in values.get("hostile", ()):
        if kind not in HOSTILE_KINDS:
            known = ", ".join(HOSTILE_KINDS)
            raise ConfigError(f"{label('hostile')} {kind!r}: expected one of {known}")
    page = values.get("hostile_page", 2)
    if not isinstance(page, int) or page < 1:
        raise ConfigError(f"{label('hostile_page')} {page!r}: expected an integer >= 1")
    if "redirect" in values.get("hostile", ()) and not values.get("hostile_target"):
        raise ConfigError(f"{label('hostile_target')}: a redirect needs a target URL")
    if not is_finite_number(values.get("huge_mb", 1.0)) or values.get("huge_mb", 1.0) <= 0:
        raise ConfigError(f"{label('huge_mb')} {values.get('huge_mb')!r}: expected a number > 0")


def decide(config: FaultConfig, key: str, attempt: int) -> FaultDecision:
    """Draw the fate of the ``attempt``-th request (from 1) for ``key`` under ``config``."""
    if not config.jitter_ms and not config.always_fail and not config.any_rate:
        # Nothing to draw: the answer is the latency alone (seeding a Random costs more than
        # the rest of a request's fault handling, on every page the server sends).
        return FaultDecision(config.latency_ms / 1000)
    rng = Random(f"{config.seed}|{attempt}|{key}")
    band, jitter, coin = rng.random(), rng.random(), rng.random()
    delay_ms = config.latency_ms + jitter * config.jitter_ms
    if any(pattern in key for pattern in config.always_fail):
        return FaultDecision(delay_ms / 1000, "always_fail", 500)
    threshold = 0.0
    for kind in EXCLUSIVE_KINDS:
        threshold += getattr(config, f"{kind}_rate")
        if band < threshold:
            break
    else:
        return FaultDecision(delay_ms / 1000)
    if kind == "slow":
        delay_ms += config.slow_ms
    status = {"error": 500 if coin < 0.5 else 503, "rate_limit": 429}.get(kind)
    return FaultDecision(delay_ms / 1000, kind, status)


class FaultInjector:
    """The server's current FaultConfig plus how often each key has been asked for."""

    def __init__(self, config: FaultConfig) -> None:
        self._lock = threading.Lock()
        self._config = config
        self._attempts: dict[str, int] = {}

    @property
    def config(self) -> FaultConfig:
        """Return the server-wide fault config."""
        return self._config

    def configure(self, config: FaultConfig) -> None:
        """Replace the server-wide faults and start every key's draws afresh."""
        with self._lock:
            self._config = config
            self._attempts.clear()

    def reset(self) -> None:
        """Forget every key's attempt count, so the same requests meet the same faults again."""
        with self._lock:
            self._attempts.clear()

    def next_decision(self, key: str, config: FaultConfig | None = None) -> FaultDecision:
        """Count one more attempt at ``key`` and draw its fate (under ``config`` if given)."""
        with self._lock:
            attempt = self._attempts.get(key, 0) + 1
            self._attempts[key] = attempt
            config = config or self._config
        return decide(config, key, attempt)


def _parse_number(param: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{param} {text!r}: expected a number") from None
