"""Throwaway databases on the running Postgres, for tests and graded exercises.

Each ``scratch_database`` is created empty, handed out as a DSN and dropped afterwards (with
``FORCE``, so a connection someone forgot to close cannot keep it alive).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

__all__ = ["scratch_database"]


@contextmanager
def scratch_database(admin_dsn: str, *, prefix: str = "wb_test_") -> Iterator[str]:
    """Create a brand-new database through ``admin_dsn``; yield its DSN; drop it on exit."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(admin_dsn)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield psycopg2.extensions.make_dsn(admin_dsn, dbname=name)
        finally:
            with admin.cursor() as cur:
                drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                cur.execute(drop.format(sql.Identifier(name)))
    finally:
        admin.close()
