"""Thread-safety probes (notebook 08): a race made visible, and which clients threads may share.

* ``hammer(RacyCounter())``: threads that read a shared counter, let the GIL go (as any I/O
  would), then write it back lose updates; ``LockedCounter`` makes the read-and-write one
  step under a ``threading.Lock`` and loses none.
* ``shared_cursor``: two threads on one psycopg2 cursor; the cursor holds one result, so a
  thread reads the answer to the other's query.
* ``shared_connection``: a psycopg2 connection may be shared (each thread its own cursor),
  but it runs one query at a time and all its cursors share one transaction.
* ``shared_session``: one ``requests.Session`` for more threads than its connection pool
  keeps (``pool_maxsize``, 10): connections are thrown away and opened again.

The package's choices follow: one ``requests.Session`` per thread (``ThreadWorkers``), and
Postgres reached through a pool of connections, one per writing thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "LockedCounter",
    "Race",
    "RacyCounter",
    "hammer",
    "shared_connection",
    "shared_cursor",
    "shared_session",
]


class Counter(Protocol):
    """Something threads increment."""

    value: int

    def increment(self) -> None:
        """Add one."""


class RacyCounter:
    """Read the value, let another thread run, write it back plus one: not atomic."""

    def __init__(self, pause: Callable[[], None] = lambda: time.sleep(0)) -> None:
        self.value = 0
        #: What happens between the read and the write (default: give the GIL away, as I/O does).
        self.pause = pause

    def increment(self) -> None:
        """Add one, with a window between the read and the write."""
        current = self.value
        self.pause()
        self.value = current + 1


class LockedCounter(RacyCounter):
    """The same read, pause and write, made one step by a lock."""

    def __init__(self, pause: Callable[[], None] = lambda: time.sleep(0)) -> None:
        super().__init__(pause)
        self._lock = threading.Lock()

    def increment(self) -> None:
        """Add one while holding the lock: no other thread reads in between."""
        with self._lock:
            super().increment()


@dataclass(frozen=True)
class Race:
    """How many increments threads made, and how many the counter kept."""

    expected: int
    counted: int
    seconds: float

    @property
    def lost(self) -> int:
        """Return the updates overwritten by another thread's."""
        return self.expected - self.counted


def hammer(counter: Counter, *, threads: int = 4, increments: int = 1000) -> Race:
    """Have ``threads`` threads increment ``counter`` ``increments`` times each, all at once."""
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()  # every thread begins together, so they overlap
        for _ in range(increments):
            counter.increment()

    began = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(work) for _ in range(threads)]:
            future.result()
    return Race(threads * increments, counter.value, time.perf_counter() - began)


def _in_order(*steps: Callable[[], Any]) -> list[Any]:
    """Run ``steps`` alternately on two threads (even steps on one, odd on the other), in order."""
    turns = [threading.Event() for _ in steps]
    results: list[Any] = [None] * len(steps)

    def play(parity: int) -> None:
        for index in range(parity, len(steps), 2):
            if index:
                turns[index - 1].wait(10)
            results[index] = steps[index]()
            turns[index].set()

    threads = [threading.Thread(target=play, args=(parity,)) for parity in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def shared_cursor(dsn: str) -> dict[str, Any]:
    """Thread A and thread B each run a query on one cursor, then A fetches; return what A got."""
    import psycopg2

    connection = psycopg2.connect(dsn)
    try:
        cursor = connection.cursor()
        steps = (
            lambda: cursor.execute("SELECT 'the answer to A'"),  # thread A asks
            lambda: cursor.execute("SELECT 'the answer to B'"),  # thread B asks
            lambda: (cursor.fetchone() or ("",))[0],  # thread A reads "its" answer
        )
        return {"A asked": "SELECT 'the answer to A'", "A got": _in_order(*steps)[2]}
    finally:
        connection.close()


def shared_connection(dsn: str, *, threads: int = 2, sleep_s: float = 0.2) -> dict[str, Any]:
    """Measure ``pg_sleep`` queries on one shared connection vs one connection per thread.

    Also shows the shared transaction: thread B sees thread A's uncommitted row, and B's
    rollback undoes A's work.
    """
    import psycopg2

    def sleep_on(connections: list[Any]) -> float:
        def query(connection: Any) -> None:
            with connection.cursor() as cursor:  # a cursor of its own on each thread
                cursor.execute("SELECT pg_sleep(%s)", (sleep_s,))

        began = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(query, connections))
        return time.perf_counter() - began

    own = [psycopg2.connect(dsn) for _ in range(threads)]
    try:
        shared_s, separate_s = sleep_on([own[0]] * threads), sleep_on(own)
        for connection in own:
            connection.rollback()
        connection = own[0]
        a, b = connection.cursor(), connection.cursor()
        b_saw, after = _in_order(
            lambda: a.execute("CREATE TEMP TABLE probe (x int); INSERT INTO probe VALUES (1)"),
            lambda: _scalar(b, "SELECT count(*) FROM probe"),  # B: A has not committed
            lambda: None,
            lambda: connection.rollback(),  # B rolls back "its" transaction
            lambda: _scalar(a, "SELECT to_regclass('pg_temp.probe') IS NOT NULL"),
        )[1::3]
    finally:
        for connection in own:
            connection.close()
    return {
        "threads": threads,
        "sleep_s": sleep_s,
        "one shared connection (s)": shared_s,
        "a connection per thread (s)": separate_s,
        "B saw A's uncommitted rows": b_saw,
        "A's table after B's rollback": "still there" if after else "gone",
    }


def _scalar(cursor: Any, sql: str) -> Any:
    """Run ``sql`` and return the first column of its first row."""
    cursor.execute(sql)
    return cursor.fetchone()[0]


class _Discards(logging.Handler):
    """Count urllib3's 'Connection pool is full, discarding connection' warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        """Count one warning if it is a discarded connection."""
        self.count += "pool is full" in record.getMessage()


def shared_session(url: str, *, threads: int = 16, requests_each: int = 4) -> dict[str, int]:
    """GET ``url`` from ``threads`` threads, on one shared Session, then on one each.

    Returns how many connections urllib3 threw away in each case because the pool was full.
    """
    import requests

    def discarded(session_for: Callable[[], requests.Session]) -> int:
        handler, logger = _Discards(), logging.getLogger("urllib3.connectionpool")
        logger.addHandler(handler)
        start = threading.Barrier(threads)

        def work() -> None:
            session = session_for()
            start.wait()
            for _ in range(requests_each):
                session.get(url, timeout=10).raise_for_status()

        try:
            with ThreadPoolExecutor(threads) as pool:
                for future in [pool.submit(work) for _ in range(threads)]:
                    future.result()
        finally:
            logger.removeHandler(handler)
        return handler.count

    with requests.Session() as shared:
        one = discarded(lambda: shared)
    mine = threading.local()
    made: list[requests.Session] = []

    def own() -> requests.Session:
        session: requests.Session | None = getattr(mine, "session", None)
        if session is None:
            session = mine.session = requests.Session()
            made.append(session)
        return session

    try:
        each = discarded(own)
    finally:
        for session in made:
            session.close()
    return {"one shared Session": one, "a Session per thread": each}
