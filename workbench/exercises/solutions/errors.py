"""Model answer to exercise 04: the package's own error tree and library mappings.

The tree is drawn in ``workbench.errors``' docstring; ``workbench.error_mapping`` has one
context manager per library, each raising the most specific error ``from`` the original.
"""

from __future__ import annotations

from workbench.error_mapping import map_aiohttp_errors, map_psycopg2_errors, map_requests_errors
from workbench.errors import (
    ClientError,
    HTTPStatusError,
    MalformedPayloadError,
    PermanentError,
    RateLimitedError,
    ServerError,
    SourceConnectionError,
    SourceTimeoutError,
    StorageDataError,
    StorageUnavailableError,
    TransientError,
    WorkbenchError,
)

__all__ = [
    "ClientError",
    "HTTPStatusError",
    "MalformedPayloadError",
    "PermanentError",
    "RateLimitedError",
    "ServerError",
    "SourceConnectionError",
    "SourceTimeoutError",
    "StorageDataError",
    "StorageUnavailableError",
    "TransientError",
    "WorkbenchError",
    "map_aiohttp_errors",
    "map_psycopg2_errors",
    "map_requests_errors",
]
