"""Shared fixtures: real Postgres and Redis (embedded unless configured), the local source API."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.extensions
import pytest
import redis

from workbench.local_api import FaultConfig, ServerHandle, serve_in_thread
from workbench.services import Services, ensure_services

FIXTURE = Path(__file__).parent / "fixtures" / "jsonplaceholder-data.json"
SOURCE_SEED = 7
TEST_REDIS_DB = 15  # tests flush this database only, never the one a user's runs fill


@pytest.fixture(scope="session")
def services() -> Services:
    """The running Postgres and Redis, started through workbench.services if needed."""
    return ensure_services()


@pytest.fixture
def postgres_dsn(services: Services) -> Iterator[str]:
    """A DSN for a brand-new database on the real server, dropped after the test."""
    name = f"wb_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(services.postgres_dsn)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield psycopg2.extensions.make_dsn(services.postgres_dsn, dbname=name)
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


@pytest.fixture
def redis_url(services: Services) -> Iterator[str]:
    """A URL for a flushed Redis database reserved for tests, flushed again afterwards."""
    parts = urlsplit(services.redis_url)
    url = urlunsplit(parts._replace(path=f"/{TEST_REDIS_DB}"))
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(scope="session")
def real_data() -> dict[str, list[dict[str, Any]]]:
    """Every resource of the real JSONPlaceholder data, by resource name."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def running_source() -> Iterator[ServerHandle]:
    """One server per test module (scale 1, seed 7), shared to keep the suite fast."""
    with serve_in_thread(seed=SOURCE_SEED) as handle:
        yield handle


@pytest.fixture
def source(running_source: ServerHandle) -> ServerHandle:
    """Return the module's server with no faults, zeroed counters and fresh fault draws."""
    running_source.set_faults(FaultConfig())
    running_source.reset_stats()
    return running_source
