"""One retried call's bookkeeping (CallTracker) and the default logging hooks."""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar

import pytest

from workbench.errors import ClientError, ServerError
from workbench.retry.call import CallTracker, RetryState, log_before_sleep, log_giveup
from workbench.retry.policies import Backoff, RetryPolicy
from workbench.retry.stats import CallStatistics, RetryStats


def tracker(
    current: ContextVar[CallStatistics | None],
    *,
    seen: list[RetryState] | None = None,
    totals: RetryStats | None = None,
) -> CallTracker:
    """Build a tracker on a constant clock with jitter off, collecting every hook call."""
    return CallTracker(
        "fetch",
        RetryPolicy(attempts=3, backoff=Backoff(jitter=False)),
        current,
        clock=lambda: 5.0,
        before_sleep=None if seen is None else seen.append,
        on_giveup=None if seen is None else seen.append,
        stats=totals,
    )


class TestCallTracker:
    """CallTracker."""

    def test_publishes_its_statistics_at_once(self) -> None:
        """The call's statistics are visible in the context from the start of the call."""
        current: ContextVar[CallStatistics | None] = ContextVar("t1", default=None)
        call = tracker(current)
        assert current.get() is call.stats
        assert call.stats.start_time == 5.0

    def test_untouched_first_attempt_permanent_error(self) -> None:
        """A non-retryable error on attempt 1 gets no note and runs no hook."""
        seen: list[RetryState] = []
        call = tracker(ContextVar("t2", default=None), seen=seen)
        exc = ClientError("HTTP 400", status=400)
        assert call.failed(exc) is None
        assert not getattr(exc, "__notes__", [])
        assert seen == []
        assert call.stats.succeeded is False

    def test_cancelled_call_is_recorded_as_a_failure(self) -> None:
        """A call left by CancelledError still ends and counts as not succeeded in the totals."""
        totals = RetryStats()
        with (
            pytest.raises(asyncio.CancelledError),
            tracker(ContextVar("t3", default=None), totals=totals) as call,
        ):
            assert call.failed(ServerError("HTTP 503", status=503)) == 0.1
            raise asyncio.CancelledError
        assert call.stats.end_time == 5.0
        assert (totals.calls, totals.attempts, totals.failures) == (1, 1, 1)

    def test_slept_counts_waits(self) -> None:
        """Finished waits add up to total_sleep and the latest is last_wait."""
        call = tracker(ContextVar("t4", default=None))
        call.slept(0.1)
        call.slept(0.2)
        assert call.stats.total_sleep == pytest.approx(0.3)
        assert call.stats.last_wait == 0.2


class TestLogHooks:
    """log_before_sleep and log_giveup."""

    def test_messages(self, caplog: pytest.LogCaptureFixture) -> None:
        """The retry line names function, attempt, error and wait; the give-up line the reason."""
        exc = ServerError("HTTP 503", status=503)
        with caplog.at_level(logging.WARNING, logger="workbench.retry"):
            log_before_sleep(RetryState("fetch", 2, exc, 0.4, 0.3, 0.1))
            log_giveup(RetryState("fetch", 5, exc, None, 9.0, 1.5, "attempt limit 5 reached"))
        assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
            ("WARNING", "fetch: attempt 2 failed with ServerError: HTTP 503; retrying in 0.40 s"),
            (
                "ERROR",
                "fetch: giving up after 5 attempts (attempt limit 5 reached): "
                "ServerError: HTTP 503",
            ),
        ]
