"""What a long run must give back: memory that stays level, and every handle it opened.

* ``TreeSampler``: the resident set of this process and every process below it (a
  multiprocess run's workers), summed from /proc (``workbench.bench.memory``) every
  ``interval_s`` while a run goes on; processes named in ``exclude`` (the source server
  and what it started) are left out. ``Steadiness`` compares the peak of the first quarter
  of the samples' time span with the peak of the last quarter: steady when the last is
  within 10% of the first, plus an absolute slack stated by the caller.
* ``Census``: open file descriptors and threads of this process, its child processes,
  clients' Postgres backends on the run's database (``pg_stat_activity``) and Redis
  clients on the run's database (``CLIENT LIST``), the counting connections left out.
  ``settled_census`` counts again, for a bounded time, until no count is above the one
  taken before the run: a server notices a closed connection a moment after the client.
  Garbage is collected before each count, as leak hunters do: a socket held only by an
  unreachable cycle (a failed attempt's exception, its traceback and their frames) goes
  with the next collection; a leak is what stays reachable.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

import psycopg2
import redis

from workbench.bench.memory import descendants, status_kib
from workbench.error_mapping import map_psycopg2_errors, map_redis_errors

__all__ = ["Census", "Steadiness", "TreeSampler", "settled_census", "take_census"]

#: How much the last quarter's peak may exceed the first quarter's, as a fraction.
GROWTH = 0.10


def _tree(root: int, exclude: Collection[int]) -> list[int]:
    """Return ``root`` and every process below it, less ``exclude`` and their descendants."""
    skipped = set(exclude)
    for pid in exclude:
        skipped.update(descendants(pid))
    return [pid for pid in (root, *descendants(root)) if pid not in skipped]


class TreeSampler:
    """Sample this process tree's summed RSS in a thread while the block runs."""

    def __init__(self, *, exclude: Collection[int] = (), interval_s: float = 0.05) -> None:
        self.exclude = tuple(exclude)
        self.interval_s = interval_s
        #: (seconds since start, MiB) pairs.
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()  # the end of the run is in the last quarter, however short it was

    def _sample(self) -> None:
        kib = sum(status_kib(pid, "VmRSS") for pid in _tree(os.getpid(), self.exclude))
        self.samples.append((time.monotonic() - self._started, kib / 1024))

    def _run(self) -> None:
        while True:
            self._sample()
            if self._stop.wait(self.interval_s):
                return

    def steadiness(self, slack_mb: float) -> Steadiness:
        """Compare the peaks of the first and the last quarter of the run."""
        return Steadiness.of(self.samples, slack_mb)


@dataclass(frozen=True)
class Steadiness:
    """Peak RSS of a run's first and last quarter, and the slack allowed on top of 10%."""

    first_mb: float
    last_mb: float
    slack_mb: float

    @classmethod
    def of(cls, samples: list[tuple[float, float]], slack_mb: float) -> Steadiness:
        """Split ``(seconds, MiB)`` samples into quarters of their time span; keep the peaks."""
        if not samples:
            raise ValueError("no memory samples: the run was not sampled")
        end = samples[-1][0]
        first = [mb for at, mb in samples if at <= end / 4] or [samples[0][1]]
        last = [mb for at, mb in samples if at >= end * 3 / 4]
        return cls(max(first), max(last), slack_mb)

    @property
    def limit_mb(self) -> float:
        """Return the most the last quarter's peak may be."""
        return self.first_mb * (1 + GROWTH) + self.slack_mb

    @property
    def steady(self) -> bool:
        """True when the last quarter's peak stays within the limit."""
        return self.last_mb <= self.limit_mb


@dataclass(frozen=True)
class Census:
    """Handles held at one moment: by this process, and by the servers for the run's database."""

    fds: int
    threads: int
    children: int
    pg_backends: int
    redis_clients: int

    def leaks(self, before: Census) -> dict[str, int]:
        """Return each count that grew since ``before``, by how much."""
        grown = {k: v - asdict(before)[k] for k, v in asdict(self).items()}
        return {k: v for k, v in grown.items() if v > 0}


_BACKENDS = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND backend_type = 'client backend'
"""


def _pg_backends(dsn: str) -> int:
    """Count the clients' backends on the DSN's database, this one left out.

    Only client backends: an autovacuum worker tidying the table a run just filled is
    Postgres' own, not a connection the run kept.
    """
    with map_psycopg2_errors():
        connection = psycopg2.connect(dsn)
        try:
            with connection.cursor() as cur:
                cur.execute(_BACKENDS)
                (count,) = cur.fetchone() or ()
                return int(count)
        finally:
            connection.close()


def _redis_clients(url: str) -> int:
    """Count the clients on the URL's Redis database, this one left out."""
    db = int(urlsplit(url).path.strip("/") or 0)
    with map_redis_errors():
        client = redis.Redis.from_url(url)
        try:
            me = client.client_id()
            return sum(1 for c in client.client_list() if int(c["db"]) == db and int(c["id"]) != me)
        finally:
            client.close()


def take_census(postgres_dsn: str, redis_url: str, *, exclude: Collection[int] = ()) -> Census:
    """Count the handles now; this process's before the counting connections open."""
    gc.collect()
    fds = len(os.listdir("/proc/self/fd"))
    threads = len(os.listdir("/proc/self/task"))
    children = len(_tree(os.getpid(), exclude)) - 1
    return Census(fds, threads, children, _pg_backends(postgres_dsn), _redis_clients(redis_url))


def settled_census(
    postgres_dsn: str,
    redis_url: str,
    before: Census,
    *,
    exclude: Collection[int] = (),
    timeout_s: float = 5.0,
) -> Census:
    """Count again until nothing is above ``before`` or ``timeout_s`` passes; return the last."""
    deadline = time.monotonic() + timeout_s
    while True:
        after = take_census(postgres_dsn, redis_url, exclude=exclude)
        if not after.leaks(before) or time.monotonic() >= deadline:
            return after
        time.sleep(0.1)
