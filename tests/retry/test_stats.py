"""Per-call statistics, running totals and the per-context statistics view."""

from __future__ import annotations

import pickle
import threading
from contextvars import ContextVar, copy_context

import pytest

from workbench.retry.stats import CallStatistics, RetryStats, StatisticsView


class TestRetryStats:
    """RetryStats.record and RetryStats.merge."""

    def test_record_adds_a_call(self) -> None:
        """Recording calls adds calls, attempts, sleep, and counts unsuccessful calls."""
        totals = RetryStats()
        totals.record(CallStatistics(attempts=3, total_sleep=0.3, succeeded=True))
        totals.record(CallStatistics(attempts=5, total_sleep=1.5, succeeded=False))
        totals.record(CallStatistics(attempts=1, succeeded=None))  # cancelled
        assert (totals.calls, totals.attempts, totals.failures) == (3, 9, 2)
        assert totals.retries == 6
        assert totals.total_sleep == pytest.approx(1.8)

    def test_merge_adds_totals(self) -> None:
        """Merging adds every counter of the other total."""
        totals = RetryStats(1, 2, 0, 0.5)
        totals.merge(RetryStats(2, 5, 1, 1.0))
        assert totals == RetryStats(3, 7, 1, 1.5)

    def test_concurrent_records_are_not_lost(self) -> None:
        """Many threads recording at once lose no update."""
        totals = RetryStats()
        call = CallStatistics(attempts=2, total_sleep=0.5, succeeded=True)

        def work() -> None:
            for _ in range(2000):
                totals.record(call)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert (totals.calls, totals.attempts) == (16000, 32000)

    def test_pickles_for_worker_processes(self) -> None:
        """A total survives pickling (its lock is rebuilt) and still records."""
        copy = pickle.loads(pickle.dumps(RetryStats(1, 3, 1, 0.25)))
        assert copy == RetryStats(1, 3, 1, 0.25)
        copy.record(CallStatistics(attempts=1, succeeded=True))
        assert copy.calls == 2


class TestCallStatistics:
    """CallStatistics.elapsed."""

    def test_elapsed_only_once_ended(self) -> None:
        """Elapsed is end minus start, and None while the call is still running."""
        assert CallStatistics(start_time=10.0).elapsed is None
        assert CallStatistics(start_time=10.0, end_time=12.5).elapsed == 2.5


class TestStatisticsView:
    """StatisticsView reads the current context's value."""

    def test_reads_through_to_the_current_context(self) -> None:
        """Attributes come from the value set in the reading context, zeros when unset."""
        current: ContextVar[CallStatistics | None] = ContextVar("test_view", default=None)
        view = StatisticsView(current)
        assert view.attempts == 0
        other = copy_context()
        other.run(current.set, CallStatistics(attempts=4))
        assert other.run(lambda: view.attempts) == 4
        assert view.get() == CallStatistics()

    def test_private_names_are_not_forwarded(self) -> None:
        """Private attribute lookups fail plainly instead of reaching the statistics."""
        view = StatisticsView(ContextVar("test_private", default=None))
        with pytest.raises(AttributeError, match=r"^_missing$"):
            _ = view._missing
        # A private name the statistics do have is not reached either.
        assert not hasattr(view, "__dataclass_fields__")
