"""Thread-safety probes: a lost-update race and its lock, and clients shared between threads."""

from __future__ import annotations

from workbench.local_api import FaultConfig, ServerHandle
from workbench.thread_safety import (
    LockedCounter,
    RacyCounter,
    hammer,
    shared_connection,
    shared_cursor,
    shared_session,
)


class TestCounters:
    """Read, pause, write: racy without a lock, exact with one."""

    def test_threads_lose_updates_of_a_racy_counter(self) -> None:
        """Four threads that let the GIL go between read and write lose most increments."""
        race = hammer(RacyCounter(), threads=4, increments=200)
        assert race.expected == 800 and race.lost > 0 and race.counted == 800 - race.lost

    def test_a_lock_loses_none(self) -> None:
        """The same pause under a lock: every increment is kept."""
        race = hammer(LockedCounter(), threads=4, increments=200)
        assert race.lost == 0 and race.counted == 800


class TestSharedPostgres:
    """psycopg2: a connection may be shared, a cursor may not, and both share one transaction."""

    def test_a_shared_cursor_answers_the_other_threads_query(self, postgres_dsn: str) -> None:
        """Thread A fetches after thread B executed on the same cursor: A gets B's answer."""
        assert shared_cursor(postgres_dsn)["A got"] == "the answer to B"

    def test_a_shared_connection_runs_one_query_at_a_time(self, postgres_dsn: str) -> None:
        """Two 0.2 s sleeps on one connection run in turn; its cursors share one transaction."""
        seen = shared_connection(postgres_dsn, threads=2, sleep_s=0.2)
        assert seen["one shared connection (s)"] >= 0.38  # a lower bound: one after the other
        assert seen["B saw A's uncommitted rows"] == 1
        assert seen["A's table after B's rollback"] == "gone"


class TestSharedSession:
    """requests: one Session for more threads than its pool keeps throws connections away."""

    def test_one_session_for_sixteen_threads_discards_connections(
        self, running_source: ServerHandle
    ) -> None:
        """A shared Session's pool of 10 overflows; a Session per thread never does."""
        running_source.set_faults(FaultConfig(latency_ms=20))
        try:
            seen = shared_session(f"{running_source.url}/posts?_page=1&_limit=5", threads=16)
        finally:
            running_source.set_faults(FaultConfig())
        assert seen["one shared Session"] > 0
        assert seen["a Session per thread"] == 0
