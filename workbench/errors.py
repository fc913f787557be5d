"""Every error workbench raises, in one hierarchy.

Each concrete error belongs to a *category* (where it happened) and to exactly one of
``TransientError`` (the same call may succeed later: retry it) or ``PermanentError``
(retrying cannot help: record it and move on). The retry decorator looks only at that split.

    WorkbenchError
    ├── TransientError                  worth another attempt
    ├── PermanentError                  not worth another attempt
    │
    ├── SourceError                     fetching from a source failed
    │   ├── HTTPStatusError             the source answered with an error status
    │   │   ├── ServerError             5xx                          [transient]
    │   │   ├── RateLimitedError        429, carries retry_after     [transient]
    │   │   └── ClientError             any other 4xx                [permanent]
    │   ├── SourceTimeoutError          no answer in time            [transient]
    │   ├── SourceConnectionError       refused, reset, dropped      [transient]
    │   ├── MalformedPayloadError       not JSON, or cut short       [transient]
    │   ├── UnexpectedPayloadError      valid JSON of the wrong shape [permanent]
    │   ├── PayloadTooLargeError        more bytes than the limit    [permanent]
    │   └── RedirectRefusedError        a redirect to another host   [permanent]
    ├── ValidationError                 a record breaks its schema   [permanent]
    ├── StorageError                    Postgres
    │   ├── StorageUnavailableError     connection lost or refused   [transient]
    │   ├── StorageConflictError        lost a race: 40001, 40P01    [transient]
    │   └── StorageDataError            the database refused the data [permanent]
    ├── CacheError                      Redis, as a cache or as the task queue's broker
    │   ├── CacheUnavailableError       connection lost or refused   [transient]
    │   │   └── CacheFullError          out of memory (maxmemory)    [transient]
    │   └── CacheDataError              the server refused the command [permanent]
    ├── QueueError                      the task queue (workbench.queue), beyond Redis' own errors
    │   ├── TaskFormatError             a task that cannot be decoded [permanent]
    │   ├── StreamGoneError             a stream or its group is gone [permanent]
    │   └── UnknownJobError             no such job (also a ConfigError) [permanent]
    ├── ConfigError                     a bad setting, flag or DSN   [permanent]
    └── ServiceError                    an embedded server would not start or stop [permanent]

Library exceptions (requests, aiohttp, psycopg2, redis) are translated into this tree in
``workbench.error_mapping``, one context manager per library, always with ``raise ... from``.
"""

from __future__ import annotations

__all__ = [
    "CacheDataError",
    "CacheError",
    "CacheFullError",
    "CacheUnavailableError",
    "ClientError",
    "ConfigError",
    "HTTPStatusError",
    "MalformedPayloadError",
    "PayloadTooLargeError",
    "PermanentError",
    "QueueError",
    "RateLimitedError",
    "RedirectRefusedError",
    "ServerError",
    "ServiceError",
    "SourceConnectionError",
    "SourceError",
    "SourceTimeoutError",
    "StorageConflictError",
    "StorageDataError",
    "StorageError",
    "StorageUnavailableError",
    "StreamGoneError",
    "TaskFormatError",
    "TransientError",
    "UnexpectedPayloadError",
    "UnknownJobError",
    "ValidationError",
    "WorkbenchError",
    "is_transient",
]


class WorkbenchError(Exception):
    """Base class of every error workbench raises."""

    #: Seconds a server asked us to wait before trying again, when it said so.
    retry_after: float | None = None


class TransientError(WorkbenchError):
    """An error that may go away if the same operation is tried again later."""


class PermanentError(WorkbenchError):
    """An error that will happen again on every attempt: do not retry it."""


# --- sources --------------------------------------------------------------------------


class SourceError(WorkbenchError):
    """Fetching from a source (an HTTP API, a file) failed."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class HTTPStatusError(SourceError):
    """The source answered with an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        url: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.retry_after = retry_after

    @classmethod
    def for_status(
        cls, status: int, *, url: str | None = None, retry_after: float | None = None
    ) -> HTTPStatusError:
        """Build the most specific subclass for ``status`` (429, other 4xx, 5xx)."""
        message = f"HTTP {status} from {url}" if url else f"HTTP {status}"
        if status == 429:
            return RateLimitedError(message, status=status, url=url, retry_after=retry_after)
        if status >= 500:
            return ServerError(message, status=status, url=url, retry_after=retry_after)
        return ClientError(message, status=status, url=url)


class ServerError(HTTPStatusError, TransientError):
    """The source failed on its side (5xx)."""


class RateLimitedError(HTTPStatusError, TransientError):
    """The source asked us to slow down (429); ``retry_after`` says for how long."""


class ClientError(HTTPStatusError, PermanentError):
    """The source refused the request itself (4xx other than 429)."""


class SourceTimeoutError(SourceError, TransientError):
    """The source did not answer within the client's timeout."""


class SourceConnectionError(SourceError, TransientError):
    """The connection to the source was refused, reset or dropped mid-answer."""


class MalformedPayloadError(SourceError, TransientError):
    """The body was not JSON, or was cut short: another attempt may get it whole."""


class UnexpectedPayloadError(SourceError, PermanentError):
    """The body was valid JSON of the wrong shape (an object where an array belongs)."""


class PayloadTooLargeError(SourceError, PermanentError):
    """The body grew past the configured size limit; it was not read any further."""


class RedirectRefusedError(SourceError, PermanentError):
    """The source redirected to a host it is not allowed to redirect to."""


# --- records --------------------------------------------------------------------------


class ValidationError(PermanentError):
    """A record does not match its resource's schema."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- storage and cache ----------------------------------------------------------------


class StorageError(WorkbenchError):
    """A Postgres operation failed."""


class StorageUnavailableError(StorageError, TransientError):
    """Postgres could not be reached or dropped the connection."""


class StorageConflictError(StorageError, TransientError):
    """The transaction lost a race with another one (serialization failure, deadlock).

    Postgres rolled it back whole; running the whole transaction again is the cure.
    """


class StorageDataError(StorageError, PermanentError):
    """Postgres refused the statement or the data (constraint, type, syntax)."""


class CacheError(WorkbenchError):
    """A Redis operation failed."""


class CacheUnavailableError(CacheError, TransientError):
    """Redis could not be reached or dropped the connection."""


class CacheFullError(CacheUnavailableError):
    """Redis refused a write for want of memory (``maxmemory`` reached, nothing to evict).

    A cache that fails open treats it as an outage (writes are dropped, records stay with
    Postgres); a queue worker waits for room like it waits for a Redis that is away.
    """


class CacheDataError(CacheError, PermanentError):
    """Redis refused the command (wrong type, bad argument, unknown command)."""


# --- the task queue ---------------------------------------------------------------------


class QueueError(WorkbenchError):
    """Something about the task queue's jobs and tasks (Redis' own errors are CacheErrors)."""


class TaskFormatError(QueueError, PermanentError):
    """A task on a stream cannot be decoded (a poison message): no attempt will read it."""


class StreamGoneError(QueueError, PermanentError):
    """A job's stream or its consumer group no longer exists (the job ended or was removed)."""


# --- configuration and services -------------------------------------------------------


class ConfigError(PermanentError):
    """A setting, flag or DSN is invalid; the message names it, its value and what was expected."""


class ServiceError(PermanentError):
    """An embedded server could not be started, reached or stopped."""


class UnknownJobError(QueueError, ConfigError):
    """No job of that id on the queue (finished long ago, or mistyped)."""


def is_transient(exc: BaseException) -> bool:
    """Tell whether ``exc`` is worth retrying under workbench's transient/permanent split."""
    return isinstance(exc, TransientError)
