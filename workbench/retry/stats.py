"""Numbers about retried calls: one call's statistics, and running totals over many calls.

``CallStatistics`` describes a single call of a retried function; the decorator keeps the
latest one per thread or asyncio task and shows it through a ``StatisticsView``.
``RetryStats`` adds calls up (``stats=`` on the decorator), e.g. into an ingestion report.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["CallStatistics", "RetryStats", "StatisticsView"]


@dataclass
class CallStatistics:
    """What happened in one call of a retried function; times are readings of its ``clock``."""

    attempts: int = 0
    total_sleep: float = 0.0
    last_wait: float | None = None
    start_time: float | None = None
    end_time: float | None = None
    #: None while the call runs (or if it was cancelled), then whether it returned a value.
    succeeded: bool | None = None

    @property
    def elapsed(self) -> float | None:
        """Return seconds from the start of the first attempt to the end of the call, if ended."""
        if self.start_time is None or self.end_time is None:
            return None
        return self.end_time - self.start_time


@dataclass
class RetryStats:
    """Running totals over many calls; safe to share between threads and to pickle."""

    calls: int = 0
    attempts: int = 0
    failures: int = 0
    total_sleep: float = 0.0

    def __post_init__(self) -> None:
        # Not a field: it stays out of ==, repr and dataclasses.asdict.
        self._lock = threading.Lock()

    @property
    def retries(self) -> int:
        """Return how many attempts were retries, i.e. beyond the first of each call."""
        return self.attempts - self.calls

    def record(self, call: CallStatistics) -> None:
        """Add one finished call (a call that did not succeed counts as a failure)."""
        failed = 0 if call.succeeded else 1
        self.merge(RetryStats(1, call.attempts, failed, call.total_sleep))

    def merge(self, other: RetryStats) -> None:
        """Add another running total into this one, e.g. one sent home by a worker process."""
        with self._lock:
            self.calls += other.calls
            self.attempts += other.attempts
            self.failures += other.failures
            self.total_sleep += other.total_sleep

    def __getstate__(self) -> dict[str, Any]:
        # Locks cannot be pickled; worker processes send their totals home by pickling.
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()


class StatisticsView:
    """``wrapper.statistics``: the current thread's or task's last call of one retried function.

    Attributes are read through to that ``CallStatistics`` (``f.statistics.attempts``) at the
    moment of reading; ``get()`` returns the object itself.
    """

    def __init__(self, current: ContextVar[CallStatistics | None]) -> None:
        self._current = current

    def get(self) -> CallStatistics:
        """Return the statistics of the last call made in this context (zeros before any)."""
        last = self._current.get()
        return CallStatistics() if last is None else last

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            # Private names (copy and pickle probe some) must not recurse into the ContextVar.
            raise AttributeError(name)
        return getattr(self.get(), name)

    def __repr__(self) -> str:
        return f"StatisticsView({self.get()!r})"
