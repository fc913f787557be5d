"""Hide passwords in DSNs and URLs before they reach a repr, an error message or a log line."""

from __future__ import annotations

import re

__all__ = ["MASK", "describe_dsn", "redact"]

MASK = "***"

# ``scheme://user:password@``. The password is greedy up to the last ``@`` of the
# whitespace-delimited token, so an unencoded ``@``, ``/`` or ``?`` in it stays hidden;
# the price is over-masking odd URLs such as ``http://host:80/a@b``, which beats leaking.
_URI_PASSWORD = re.compile(r"(?P<keep>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@]*:)(?P<secret>\S*)@")

# libpq ``password=...`` (also PGPASSWORD=, db_password=, and ``?password=`` in a URI query).
# A quoted value may contain spaces and backslash-escaped quotes; an unquoted one runs to
# the next whitespace, so any ``&other=param`` after it is masked too rather than risked.
_KEYWORD_PASSWORD = re.compile(
    r"(?P<keep>password\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'?|\S*)", re.IGNORECASE
)


def redact(text: str) -> str:
    """Return ``text`` with every DSN or URL password replaced by ``***``.

    Handles URIs (``postgresql://user:pw@host/db``, ``redis://:pw@host``), libpq key=value
    strings (``host=h password='p w'``) and ``password=`` query parameters, including when
    they are embedded in longer text such as an exception message. Text without a password
    comes back unchanged.
    """
    text = _URI_PASSWORD.sub(_mask_uri_password, text)
    return _KEYWORD_PASSWORD.sub(lambda m: f"{m['keep']}{MASK}", text)


def _mask_uri_password(match: re.Match[str]) -> str:
    """Mask the password of one ``scheme://user:password@`` match, keeping an empty one empty."""
    # ``postgresql://postgres:@/db`` has no password; writing *** there would suggest one.
    secret = MASK if match["secret"] else ""
    return f"{match['keep']}{secret}@"


def describe_dsn(dsn: str) -> str:
    """Name where a Postgres DSN points, for messages: ``host:port/dbname``, never a password.

    A Unix socket folder stands where the host would; a DSN libpq cannot parse is shown
    redacted.
    """
    from psycopg2 import ProgrammingError
    from psycopg2.extensions import parse_dsn

    try:
        parts = parse_dsn(dsn)
    except ProgrammingError:
        return redact(dsn)
    host = parts.get("host") or "localhost"
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"{host}{port}/{parts.get('dbname') or parts.get('user') or ''}"
