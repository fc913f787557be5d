"""One call of a retried function in progress: its bookkeeping, and what its hooks are told.

``workbench.retry`` runs one ``CallTracker`` per call; the tracker asks the ``RetryPolicy``
what to do after each failure, runs the hooks, notes the give-up on the exception and keeps
the ``CallStatistics``. The default hooks log one WARNING per retry and one ERROR per give-up
on the ``workbench.retry`` logger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from workbench.retry.policies import RetryPolicy
from workbench.retry.stats import CallStatistics, RetryStats

__all__ = ["CallTracker", "Hook", "RetryState", "log_before_sleep", "log_giveup", "logger"]

logger = logging.getLogger("workbench.retry")


@dataclass(frozen=True)
class RetryState:
    """What a hook is told: which call, which attempt failed, with what, and what comes next."""

    fn_name: str
    attempt: int
    exception: Exception
    #: Seconds about to be slept, or None when retrying stops.
    wait: float | None
    #: Seconds since the first attempt began, by the decorator's clock.
    elapsed: float
    total_sleep: float
    #: Why retrying stops; empty while it goes on.
    reason: str = ""


Hook = Callable[[RetryState], object]


def log_before_sleep(state: RetryState) -> None:
    """Log one WARNING before a retry: function, failed attempt, wait and exception."""
    exc = state.exception
    logger.warning(
        "%s: attempt %d failed with %s: %s; retrying in %.2f s",
        state.fn_name,
        state.attempt,
        type(exc).__name__,
        exc,
        state.wait,
    )


def log_giveup(state: RetryState) -> None:
    """Log one ERROR when retrying stops: function, attempts, reason and exception."""
    exc = state.exception
    logger.error(
        "%s: giving up after %d attempts (%s): %s: %s",
        state.fn_name,
        state.attempt,
        state.reason,
        type(exc).__name__,
        exc,
    )


class CallTracker:
    """One call of a retried function: asks the policy after failures, runs hooks, counts."""

    def __init__(
        self,
        name: str,
        policy: RetryPolicy,
        current: ContextVar[CallStatistics | None],
        *,
        clock: Callable[[], float],
        before_sleep: Hook | None,
        on_giveup: Hook | None,
        stats: RetryStats | None,
    ) -> None:
        self._name = name
        self._policy = policy
        self._clock = clock
        self._before_sleep = before_sleep
        self._on_giveup = on_giveup
        self._totals = stats
        self._start = clock()
        self.stats = CallStatistics(start_time=self._start)
        # Published at once, so hooks and the caller's thread or task can read it.
        current.set(self.stats)

    def __enter__(self) -> CallTracker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stats.end_time = self._clock()
        if self._totals is not None:
            self._totals.record(self.stats)

    def succeeded(self) -> None:
        """Count the attempt that returned."""
        self.stats.attempts += 1
        self.stats.succeeded = True

    def failed(self, exc: Exception) -> float | None:
        """Count a failed attempt; return the wait before the next, or None to re-raise ``exc``."""
        self.stats.attempts += 1
        attempts = self.stats.attempts
        elapsed = self._clock() - self._start
        decision = self._policy.decide(exc, attempts, elapsed)
        state = RetryState(
            self._name,
            attempts,
            exc,
            decision.wait,
            elapsed,
            self.stats.total_sleep,
            decision.reason,
        )
        if decision.wait is not None:
            if self._before_sleep is not None:
                self._before_sleep(state)
            return decision.wait
        self.stats.succeeded = False
        # A first-attempt error we never retry stays untouched, as if there were no decorator.
        if decision.retryable or attempts > 1:
            plural = "s" if attempts != 1 else ""
            exc.add_note(
                f"workbench.retry: {self._name} gave up after {attempts} attempt{plural}: "
                f"{decision.reason}"
            )
            if self._on_giveup is not None:
                self._on_giveup(state)
        return None

    def slept(self, wait: float) -> None:
        """Count a finished wait."""
        self.stats.total_sleep += wait
        self.stats.last_wait = wait
