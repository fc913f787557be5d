"""Context managers for timing stages, Postgres transactions and temporary settings."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import TYPE_CHECKING, Any

import psycopg2
from psycopg2.extensions import TRANSACTION_STATUS_UNKNOWN, connection, cursor
from psycopg2.pool import AbstractConnectionPool

from workbench.error_mapping import map_psycopg2_errors

if TYPE_CHECKING:
    from workbench.config import Settings

__all__ = ["Timer", "override_settings", "transaction"]

# One lock for every ``timings`` mapping: the read-add-write on a plain dict is not atomic
# across threads, and stages finish rarely enough that sharing it costs nothing.
_TIMINGS_LOCK = threading.Lock()


class Timer:
    """Measure a block with ``with Timer() as t:`` or ``async with``; read ``t.elapsed``.

    With a ``name``, the elapsed seconds also go to ``record(name, seconds)`` and/or are
    added to ``timings[name]``, so timing the same stage many times (from many threads)
    accumulates its total. A block that raises is still timed and recorded: the time was
    spent. ``clock`` is injectable so tests need not sleep.
    """

    def __init__(
        self,
        name: str = "",
        *,
        record: Callable[[str, float], Any] | None = None,
        timings: MutableMapping[str, float] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if (record is not None or timings is not None) and not name:
            raise ValueError("Timer needs a name to record into record= or timings=")
        self.name = name
        self._record = record
        self._timings = timings
        self._clock = clock
        self._start: float | None = None
        self._elapsed = 0.0

    @property
    def elapsed(self) -> float:
        """Seconds measured: still growing inside the block, fixed once it has exited."""
        if self._start is not None:
            return self._clock() - self._start
        return self._elapsed

    def __enter__(self) -> Timer:
        self._start = self._clock()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._elapsed = self.elapsed
        self._start = None
        if self._timings is not None:
            with _TIMINGS_LOCK:
                self._timings[self.name] = self._timings.get(self.name, 0.0) + self._elapsed
        if self._record is not None:
            self._record(self.name, self._elapsed)

    async def __aenter__(self) -> Timer:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


@contextmanager
def transaction(source: AbstractConnectionPool | connection) -> Iterator[cursor]:
    """Yield a cursor inside one transaction: commit on success, roll back on any error.

    ``source`` is a psycopg2 connection pool (a connection is taken and always given back,
    closed if it broke) or a plain connection (left open). A cursor rather than the
    connection is yielded because every statement needs one; ``cursor.connection`` is
    there for the rest. psycopg2 errors leave as ``StorageError`` subclasses, except the
    pool's own ``PoolError`` when it has no free connection (see ``map_psycopg2_errors``).
    """
    pool = source if isinstance(source, AbstractConnectionPool) else None
    with map_psycopg2_errors():
        conn = source.getconn() if isinstance(source, AbstractConnectionPool) else source
        try:
            with conn.cursor() as cur:
                yield cur
            conn.commit()
        except BaseException:
            _rollback_quietly(conn)
            raise
        finally:
            if pool is not None:
                pool.putconn(conn, close=_is_broken(conn))


def _rollback_quietly(conn: connection) -> None:
    """Roll back, ignoring failure: the error that got us here is the one worth raising."""
    # A dead connection cannot roll back, and the server discards its work anyway.
    with suppress(psycopg2.Error):
        conn.rollback()


def _is_broken(conn: connection) -> bool:
    """Tell whether ``conn`` is closed or lost its server, so the pool must not reuse it."""
    return bool(conn.closed) or conn.info.transaction_status == TRANSACTION_STATUS_UNKNOWN


@contextmanager
def override_settings(settings: Settings, **changes: Any) -> Iterator[Settings]:
    """Change attributes of ``settings`` for the block, validated; restore them on exit.

    All changes are validated before any is applied, so a bad one leaves ``settings``
    untouched. Like ``Settings.replace``, ``None`` here sets None (optional fields only).
    """
    changed = settings.replace(**changes)
    previous = {name: getattr(settings, name) for name in changes}
    for name in changes:
        setattr(settings, name, getattr(changed, name))
    try:
        yield settings
    finally:
        for name, value in previous.items():
            setattr(settings, name, value)
