"""Translate requests, aiohttp, psycopg2 and redis exceptions into workbench's error tree.

One small context manager per library, in the style of httpx's ``map_exceptions``::

    with map_requests_errors(url):
        response = session.get(url, timeout=5)
        response.raise_for_status()
        rows = response.json()

Each library exception becomes the most specific workbench error, raised ``from`` the
original (so ``__cause__`` keeps the library's details). A ``WorkbenchError`` raised inside
passes through unchanged, and anything a manager does not recognise propagates as it is.
The managers are plain ``with`` blocks, so they work around ``await`` in async code too.
Each library is imported when its manager is entered, never by importing this module.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from workbench.errors import (
    CacheDataError,
    CacheUnavailableError,
    ConfigError,
    HTTPStatusError,
    MalformedPayloadError,
    SourceConnectionError,
    SourceError,
    SourceTimeoutError,
    StorageDataError,
    StorageUnavailableError,
    WorkbenchError,
)

__all__ = [
    "TRANSIENT_SQLSTATE_CLASSES",
    "map_aiohttp_errors",
    "map_psycopg2_errors",
    "map_redis_errors",
    "map_requests_errors",
    "parse_retry_after",
]

#: Translates one library exception, or returns None to let it propagate as it is.
Translator = Callable[[Exception], WorkbenchError | None]

_DELTA_SECONDS = re.compile(r"\d+(\.\d+)?")


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Read a ``Retry-After`` header (delta-seconds or HTTP-date) as seconds >= 0, else None.

    A date in the past means "now" (0.0); ``now`` is injectable for tests.
    """
    if value is None:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):
        seconds = float(text)
        return seconds if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # HTTP-dates are always GMT; parsedate_to_datetime leaves "-0000" naive.
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _describe(summary: str, url: str | None, exc: BaseException) -> str:
    """Build a message such as ``timed out for http://x/posts (ReadTimeout: read timed out)``."""
    where = f" for {url}" if url else ""
    detail = str(exc).strip()
    cause = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return f"{summary}{where} ({cause})"


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Read ``Retry-After`` from a library's (case-insensitive) header mapping, if any."""
    return parse_retry_after(headers.get("Retry-After")) if headers is not None else None


@contextmanager
def _translated(translate: Translator) -> Iterator[None]:
    """Run the block, re-raising library exceptions as what ``translate`` makes of them."""
    try:
        yield
    except WorkbenchError:
        raise
    except Exception as exc:
        mapped = translate(exc)
        if mapped is None:
            raise
        raise mapped from exc


def map_requests_errors(url: str | None = None) -> AbstractContextManager[None]:
    """Translate ``requests`` errors around a request and its ``.json()``.

    Every ``ValueError`` in the block counts as a malformed body (older requests raised a bare
    one from ``.json()``), so keep only the request and the decoding inside it.
    """
    import requests

    bad_url = (
        requests.exceptions.InvalidURL,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidSchema,
        requests.exceptions.URLRequired,
        requests.exceptions.InvalidHeader,
    )

    def translate(exc: Exception) -> WorkbenchError | None:
        request = getattr(exc, "request", None)
        where = url or getattr(request, "url", None)
        if isinstance(exc, requests.Timeout):
            return SourceTimeoutError(_describe("timed out", where, exc), url=where)
        if isinstance(exc, requests.HTTPError):
            response = exc.response
            if response is None:
                return SourceError(_describe("HTTP error", where, exc), url=where)
            return HTTPStatusError.for_status(
                response.status_code,
                url=url or response.url,
                retry_after=_retry_after(response.headers),
            )
        if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
            return SourceConnectionError(_describe("connection failed", where, exc), url=where)
        if isinstance(exc, ConnectionError):  # the builtin: reset, refused, broken pipe
            return SourceConnectionError(_describe("connection failed", where, exc), url=where)
        if isinstance(exc, bad_url):
            return ConfigError(_describe("bad request setting", where, exc))
        if isinstance(exc, ValueError | requests.exceptions.ContentDecodingError):
            return MalformedPayloadError(_describe("malformed body", where, exc), url=where)
        return None

    return _translated(translate)


def map_aiohttp_errors(url: str | None = None) -> AbstractContextManager[None]:
    """Translate ``aiohttp`` and asyncio timeout errors; use it around awaits as ``with``."""
    import aiohttp

    def translate(exc: Exception) -> WorkbenchError | None:
        if isinstance(exc, TimeoutError):  # asyncio.TimeoutError and aiohttp.ServerTimeoutError
            return SourceTimeoutError(_describe("timed out", url, exc), url=url)
        if isinstance(exc, aiohttp.ContentTypeError):  # before its base, ClientResponseError
            return MalformedPayloadError(_describe("malformed body", url, exc), url=url)
        if isinstance(exc, aiohttp.ClientResponseError):
            info = exc.request_info
            return HTTPStatusError.for_status(
                exc.status,
                url=url or (str(info.real_url) if info is not None else None),
                retry_after=_retry_after(exc.headers),
            )
        if isinstance(exc, json.JSONDecodeError):
            return MalformedPayloadError(_describe("malformed body", url, exc), url=url)
        connection_lost = aiohttp.ClientConnectionError | aiohttp.ClientPayloadError
        if isinstance(exc, connection_lost | ConnectionError):
            return SourceConnectionError(_describe("connection failed", url, exc), url=url)
        if isinstance(exc, aiohttp.InvalidURL):
            return ConfigError(_describe("bad request setting", url, exc))
        return None

    return _translated(translate)


#: SQLSTATE classes worth another attempt: the connection (08), the server shutting down or
#: starting (57), out of resources (53), a transaction rolled back by a serialization failure
#: or a deadlock (40). Any other class is about the statement or its data.
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57"})


def map_psycopg2_errors() -> AbstractContextManager[None]:
    """Translate ``psycopg2`` errors: lost or refused connections, and refused statements.

    The SQLSTATE decides, not the class psycopg2 picked: psycopg2 raises
    ``OperationalError`` for a lost connection (no SQLSTATE) and for "index row size exceeds
    btree maximum" (54000) alike, and only the first is worth retrying. A connection pool's
    own ``PoolError`` (no free connection) passes untouched: the database never saw a thing,
    and the pool is the caller's (a leaked connection, or more users than ``maxconn``).
    """
    import psycopg2
    import psycopg2.pool

    def translate(exc: Exception) -> WorkbenchError | None:
        if not isinstance(exc, psycopg2.Error) or isinstance(exc, psycopg2.pool.PoolError):
            return None
        code = getattr(exc, "pgcode", None)
        # No SQLSTATE on psycopg2's own base classes: libpq lost or never had the connection.
        lost = type(exc) in (psycopg2.OperationalError, psycopg2.InterfaceError)
        rolled_back = isinstance(exc, psycopg2.extensions.TransactionRollbackError)
        if (code is None and lost) or rolled_back or (code or "")[:2] in TRANSIENT_SQLSTATE_CLASSES:
            return StorageUnavailableError(_describe("Postgres unavailable", None, exc))
        return StorageDataError(_describe("Postgres refused the statement", None, exc))

    return _translated(translate)


def map_redis_errors() -> AbstractContextManager[None]:
    """Translate ``redis`` errors: lost or refused connections, and refused commands."""
    import redis

    def translate(exc: Exception) -> WorkbenchError | None:
        unavailable = redis.exceptions.ConnectionError | redis.exceptions.TimeoutError
        if isinstance(exc, unavailable):
            return CacheUnavailableError(_describe("Redis unavailable", None, exc))
        if isinstance(exc, redis.exceptions.RedisError):  # ResponseError and the rest
            return CacheDataError(_describe("Redis refused the command", None, exc))
        return None

    return _translated(translate)
