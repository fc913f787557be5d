"""The pure half of ``workbench.retry``: how long to wait, what to retry, and when to stop.

Nothing here sleeps, reads a clock or calls the retried function, so the sync and async
loops in ``workbench.retry`` share every decision and differ only in how they call and sleep.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from workbench.errors import ConfigError, TransientError

__all__ = ["Backoff", "Decision", "RetryCondition", "RetryPolicy"]


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff: ``min(cap, base * factor**(attempt-1))``, full jitter."""

    base: float = 0.1
    factor: float = 2.0
    cap: float = 10.0
    jitter: bool = True
    #: Seed one (``random.Random(7)``) to make jittered waits repeatable in tests.
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (self.base >= 0 and self.factor >= 1 and self.cap >= 0):
            raise ConfigError(
                f"retry backoff base={self.base!r}, factor={self.factor!r}, cap={self.cap!r}: "
                "expected base >= 0, factor >= 1 and cap >= 0"
            )

    def ceiling(self, attempt: int) -> float:
        """Return the wait after failed attempt ``attempt`` (1-based) before any jitter."""
        try:
            raw = self.base * self.factor ** (attempt - 1)
        except OverflowError:
            # factor**n past the float range is past any cap too.
            return self.cap
        return min(self.cap, raw)

    def delay(self, attempt: int) -> float:
        """Return the wait after failed attempt ``attempt``: the ceiling, or uniform below it."""
        ceiling = self.ceiling(attempt)
        # Full jitter (uniform over [0, ceiling]) spreads clients that failed together the most.
        return self.rng.uniform(0.0, ceiling) if self.jitter else ceiling


@dataclass(frozen=True)
class RetryCondition:
    """Which exceptions earn another attempt: instances of ``on`` that pass ``retry_if``."""

    on: tuple[type[BaseException], ...] = (TransientError,)
    retry_if: Callable[[BaseException], bool] | None = None

    def __post_init__(self) -> None:
        if not all(isinstance(kind, type) and issubclass(kind, BaseException) for kind in self.on):
            raise ConfigError(f"retry on={self.on!r}: expected exception classes")

    @classmethod
    def build(
        cls,
        on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
        retry_if: Callable[[BaseException], bool] | None = None,
    ) -> RetryCondition:
        """Apply the defaults: ``TransientError``, or every ``Exception`` if only ``retry_if``."""
        if on is None:
            on = (Exception,) if retry_if is not None else (TransientError,)
        elif isinstance(on, type):
            on = (on,)
        return cls(tuple(on), retry_if)

    def __call__(self, exc: BaseException) -> bool:
        """Tell whether ``exc`` is worth another attempt."""
        return isinstance(exc, self.on) and (self.retry_if is None or self.retry_if(exc))


@dataclass(frozen=True)
class Decision:
    """What to do after a failed attempt: wait ``wait`` seconds, or stop (``wait`` is None)."""

    wait: float | None
    #: False when the exception is not one we retry at all (as opposed to running out).
    retryable: bool
    #: Why retrying stops, for the exception's note and the give-up log; empty when retrying.
    reason: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    """Every decision of the retry loop, as a pure function of the failure, attempt and time."""

    attempts: int | None = 5
    budget: float | None = None
    backoff: Backoff = field(default_factory=Backoff)
    condition: RetryCondition = field(default_factory=RetryCondition)

    def __post_init__(self) -> None:
        if self.attempts is None and self.budget is None:
            raise ConfigError("retry attempts=None, budget=None: expected at least one limit")
        if self.attempts is not None and self.attempts < 1:
            raise ConfigError(f"retry attempts={self.attempts!r}: expected an integer >= 1")
        if self.budget is not None and not self.budget >= 0:
            raise ConfigError(f"retry budget={self.budget!r}: expected seconds >= 0")

    def decide(self, exc: BaseException, attempt: int, elapsed: float) -> Decision:
        """Decide after failed attempt ``attempt``, ``elapsed`` seconds after the first began."""
        if not self.condition(exc):
            return Decision(None, retryable=False, reason=f"{type(exc).__name__} is not retried")
        if self.attempts is not None and attempt >= self.attempts:
            return Decision(None, retryable=True, reason=f"attempt limit {self.attempts} reached")
        wait = self.backoff.delay(attempt)
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, int | float) and math.isfinite(retry_after):
            # Deliberately not capped: the server knows its load, and an earlier
            # return would only earn another 429.
            wait = max(wait, float(retry_after))
        if self.budget is not None and elapsed + wait > self.budget:
            reason = (
                f"waiting {wait:.2f} s more would overrun the {self.budget:g} s budget "
                f"({elapsed:.2f} s used)"
            )
            return Decision(None, retryable=True, reason=reason)
        return Decision(wait, retryable=True)
