"""Instruments that watch code from outside: Redis round trips, requests in flight, statements.

A grader (and the test suite) judges behaviour it can observe without trusting the code
under test: how many times a Redis client wrote to the server, how many HTTP requests were
in flight at once, which statements a Postgres connection sent. Each probe patches or wraps
the library, never the code it watches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

import psycopg2.extensions
import pytest

__all__ = [
    "InFlight",
    "RoundTrips",
    "StatementLog",
    "aiohttp_tracing",
    "count_redis_round_trips",
    "count_requests_in_flight",
    "logging_connection",
]


class RoundTrips:
    """How many times any Redis connection (sync or async) wrote a request to the server."""

    def __init__(self) -> None:
        self.count = 0

    def reset(self) -> None:
        """Start counting from zero again (after a warm-up that opened the connection)."""
        self.count = 0


def count_redis_round_trips(monkeypatch: pytest.MonkeyPatch) -> RoundTrips:
    """Count every ``send_packed_command``: one per command, or one per pipeline execute."""
    import redis.asyncio.connection
    import redis.connection

    counter = RoundTrips()
    sync_send: Callable[..., None] = redis.connection.AbstractConnection.send_packed_command
    async_send = redis.asyncio.connection.AbstractConnection.send_packed_command

    def counting_send(self: Any, command: Any, check_health: bool = True) -> None:
        counter.count += 1
        sync_send(self, command, check_health)

    async def async_counting_send(self: Any, command: Any, check_health: bool = True) -> None:
        counter.count += 1
        await async_send(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting_send)
    monkeypatch.setattr(
        redis.asyncio.connection.AbstractConnection, "send_packed_command", async_counting_send
    )
    return counter


class InFlight:
    """Operations under way right now, the most there ever were at once, and how many began."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.started = 0

    def enter(self) -> None:
        """Count one operation beginning."""
        with self._lock:
            self.now += 1
            self.started += 1
            self.peak = max(self.peak, self.now)

    def exit(self) -> None:
        """Count one operation ending (however it ended)."""
        with self._lock:
            self.now -= 1


def count_requests_in_flight(monkeypatch: pytest.MonkeyPatch) -> InFlight:
    """Watch every ``requests`` call at its transport adapter, whichever session made it."""
    import requests.adapters

    in_flight = InFlight()
    send = requests.adapters.HTTPAdapter.send

    def watched_send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        in_flight.enter()
        try:
            return send(self, request, *args, **kwargs)
        finally:
            in_flight.exit()

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", watched_send)
    return in_flight


def aiohttp_tracing(in_flight: InFlight) -> Any:
    """Return an ``aiohttp.TraceConfig`` counting a session's requests into ``in_flight``."""
    import aiohttp

    async def started(*_: Any) -> None:
        in_flight.enter()

    async def ended(*_: Any) -> None:
        in_flight.exit()

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(started)
    trace.on_request_end.append(ended)
    trace.on_request_exception.append(ended)
    return trace


class StatementLog:
    """What the cursors of one connection sent: each ``execute`` and each COPY, in order."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []

    @property
    def copies(self) -> int:
        """Return how many COPY operations were sent."""
        return sum(kind == "copy" for kind, _ in self.entries)

    def __len__(self) -> int:
        return len(self.entries)


class _LoggingCursor(psycopg2.extensions.cursor):
    """A psycopg2 cursor that notes every statement and COPY in its connection's log."""

    def _note(self, kind: str, text: Any) -> None:
        log = cast("_LoggingConnection", self.connection).statement_log
        log.entries.append((kind, str(text)[:200]))

    def execute(self, query: Any, vars: Any = None) -> Any:
        self._note("execute", query)
        return super().execute(query, vars)

    def executemany(self, query: Any, vars_list: Any) -> Any:
        # One statement per row is exactly what batching avoids: count each.
        rows = list(vars_list)
        for _ in rows:
            self._note("execute", query)
        return super().executemany(query, rows)

    def copy_expert(self, sql: Any, file: Any, size: int = 8192) -> Any:
        self._note("copy", sql)
        return super().copy_expert(sql, file, size)

    def copy_from(self, file: Any, table: str, *args: Any, **kwargs: Any) -> Any:
        self._note("copy", table)
        return super().copy_from(file, table, *args, **kwargs)


class _LoggingConnection(psycopg2.extensions.connection):
    """A psycopg2 connection whose cursors (any the code under test opens) log what they send."""

    def __init__(self, dsn: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(dsn, *args, **kwargs)
        self.statement_log = StatementLog()
        self.cursor_factory = _LoggingCursor


def logging_connection(dsn: str) -> Any:
    """Open a psycopg2 connection whose ``statement_log`` records every cursor's statements."""
    return psycopg2.connect(dsn, connection_factory=_LoggingConnection)
