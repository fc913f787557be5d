"""Validated descriptors for addresses: a source's URL, a Redis URL, a Postgres DSN.

Each checks the shape only (scheme, host, port, database number); whether the address
answers is learnt on connecting. An invalid value's error never quotes a password.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, urlsplit

from workbench.validators import Validated

__all__ = ["PostgresDsn", "RedisUrl", "Url"]


class _UriValidated(Validated):
    """Shared parsing for URL-shaped settings: string, known scheme, valid port."""

    schemes: tuple[str, ...] = ()

    def split(self, name: str, value: Any) -> SplitResult:
        """Parse ``value`` as a URL of one of ``schemes`` or raise the setting's error."""
        if not isinstance(value, str):
            raise self.fail(name, value)
        try:
            parts = urlsplit(value.strip())
            parts.port  # noqa: B018 -- reading it is the check: a bad port raises ValueError
        except ValueError:
            raise self.fail(name, value) from None
        if parts.scheme.lower() not in self.schemes:
            raise self.fail(name, value)
        return parts


class Url(_UriValidated):
    """An http or https URL with a host, stored without a trailing slash."""

    schemes = ("http", "https")
    expected = "an http:// or https:// URL with a host"

    def validate(self, name: str, value: Any) -> str:
        """Return the URL stripped of whitespace and of any trailing slash."""
        if not self.split(name, value).hostname:
            raise self.fail(name, value)
        return str(value).strip().rstrip("/")


class RedisUrl(_UriValidated):
    """A redis://, rediss:// (TLS) or unix:// (socket path) URL."""

    schemes = ("redis", "rediss", "unix")
    expected = "a redis://host[:port][/db], rediss://... or unix:///path/to/socket URL"

    def validate(self, name: str, value: Any) -> str:
        """Require a host (TCP) or a socket path (unix) and a numeric database, if any."""
        parts = self.split(name, value)
        if parts.scheme.lower() == "unix":
            valid = bool(parts.path)
        else:
            db = parts.path.strip("/")
            valid = bool(parts.hostname) and (not db or db.isdigit())
        if not valid:
            raise self.fail(name, value)
        return str(value).strip()


class PostgresDsn(Validated):
    """A libpq connection string: a postgresql:// or postgres:// URI, or key=value pairs.

    The embedded server's socket form ``postgresql://postgres:@/postgres?host=/dir`` is a
    URI with an empty host and a ``host`` query parameter, which libpq (and this) accepts.
    """

    expected = "a postgresql:// or postgres:// URI or a libpq key=value string"

    def validate(self, name: str, value: Any) -> str:
        """Let libpq's own parser judge the string; also reject other schemes and bad ports."""
        from psycopg2 import ProgrammingError
        from psycopg2.extensions import parse_dsn

        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, value)
        dsn = value.strip()
        scheme, is_uri, _ = dsn.partition("://")
        if is_uri and scheme.lower() not in ("postgresql", "postgres"):
            raise self.fail(name, value)
        try:
            # psycopg2's message quotes the DSN, password included, so it is never shown.
            ports = parse_dsn(dsn).get("port", "")
        except ProgrammingError:
            raise self.fail(name, value) from None
        # libpq allows one port per host, comma-separated; it only checks them on connect.
        if ports and not all(_is_port(p) for p in ports.split(",")):
            raise self.fail(name, value)
        return dsn


def _is_port(text: str) -> bool:
    """Tell whether ``text`` is a TCP port number (an empty entry means the default port)."""
    return not text or (text.isdigit() and 0 < int(text) < 65536)
