"""The probes: memory compared by quarters, handles counted before and after."""

from __future__ import annotations

import subprocess
import sys

import psycopg2
import pytest
import redis

from workbench.reliability.probes import (
    Census,
    Steadiness,
    TreeSampler,
    settled_census,
    take_census,
)

#: A child that holds 64 MiB resident until its stdin closes.
HOLDER = (
    "b = bytearray(b'x' * (64 << 20)); print('ready', flush=True); import sys; sys.stdin.read()"
)


class TestSteadiness:
    """The first quarter's peak against the last quarter's."""

    SAMPLES = [(0.0, 100.0), (1.0, 101.0), (2.0, 130.0), (3.0, 109.0), (4.0, 110.0)]

    def test_peaks_come_from_the_first_and_last_quarter_of_the_time_span(self) -> None:
        """The middle of the run counts in neither quarter."""
        memory = Steadiness.of(self.SAMPLES, slack_mb=0)
        assert (memory.first_mb, memory.last_mb) == (101.0, 110.0)

    def test_within_ten_percent_is_steady_and_slack_is_added(self) -> None:
        """110 against 101 is within 10%; 120 is not, unless the slack covers it."""
        assert Steadiness.of(self.SAMPLES, slack_mb=0).steady
        grown = [*self.SAMPLES[:-1], (4.0, 120.0)]
        assert not Steadiness.of(grown, slack_mb=0).steady
        assert Steadiness.of(grown, slack_mb=10).steady

    def test_no_sample_is_an_error(self) -> None:
        """A run that was never sampled cannot be called steady."""
        with pytest.raises(ValueError, match="no memory samples"):
            Steadiness.of([], slack_mb=0)


class TestTreeSampler:
    """Summed RSS of this process and its children."""

    def test_a_child_counts_unless_excluded(self) -> None:
        """A child holding 64 MiB raises the sum; excluded, it does not."""
        child = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)  # fmt: skip
        try:
            assert child.stdout is not None and child.stdout.readline() == "ready\n"
            with TreeSampler() as counted:
                pass
            with TreeSampler(exclude=[child.pid]) as left_out:
                pass
        finally:
            child.communicate(timeout=30)
        counted_mb = max(mb for _, mb in counted.samples)
        left_out_mb = max(mb for _, mb in left_out.samples)
        assert counted_mb - left_out_mb > 60


class TestCensus:
    """Handles counted on both sides: this process and the servers."""

    def test_leaks_are_the_counts_that_grew(self) -> None:
        """Only counts above the earlier census are leaks."""
        before, after = Census(7, 2, 1, 1, 0), Census(9, 2, 0, 1, 1)
        assert after.leaks(before) == {"fds": 2, "redis_clients": 1}

    def test_held_connections_count_and_closed_ones_settle(
        self, postgres_dsn: str, redis_url: str
    ) -> None:
        """An open Postgres connection and Redis client count; closed, the counts come back."""
        before = take_census(postgres_dsn, redis_url)
        connection = psycopg2.connect(postgres_dsn)
        client = redis.Redis.from_url(redis_url)
        client.ping()
        try:
            held = take_census(postgres_dsn, redis_url).leaks(before)
        finally:
            connection.close()
            client.close()
        assert held["pg_backends"] == 1 and held["redis_clients"] == 1 and held["fds"] >= 2
        assert settled_census(postgres_dsn, redis_url, before).leaks(before) == {}
