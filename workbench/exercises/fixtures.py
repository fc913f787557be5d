"""The pytest fixtures every exercise's behaviours run on: live services, a faulty API, probes.

Loaded as a plugin by the grader and imported by ``tests/exercises/conftest.py``, so the
behaviours meet the same Postgres, Redis and local API in a notebook, the CLI and CI. Nothing
here is faked: each test gets a fresh database, its own Redis keys and a local API whose
faults it sets.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

from workbench.db.redis_dedup import unlink_matching
from workbench.exercises.probes import (
    InFlight,
    RoundTrips,
    count_redis_round_trips,
    count_requests_in_flight,
)
from workbench.local_api import FaultConfig, ServerHandle, serve_in_thread
from workbench.services import Services, ensure_services
from workbench.services.scratch import scratch_database

#: The local API's seed: the same records and fault draws on every run.
API_SEED = 13


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``hint`` marker the behaviour tests carry."""
    config.addinivalue_line(
        "markers", "hint(text): the one-line hint the grader prints when the behaviour fails"
    )


@pytest.fixture(scope="session")
def live_services() -> Services:
    """The running Postgres and Redis (started through workbench.services if needed)."""
    return ensure_services()


@pytest.fixture
def fresh_dsn(live_services: Services) -> Iterator[str]:
    """A DSN for a brand-new, empty database, dropped after the test."""
    with scratch_database(live_services.postgres_dsn, prefix="wb_exercise_") as dsn:
        yield dsn


@pytest.fixture(scope="session")
def api_server() -> Iterator[ServerHandle]:
    """One local JSONPlaceholder-format API for the whole grading run."""
    with serve_in_thread(seed=API_SEED) as handle:
        yield handle


@pytest.fixture
def api(api_server: ServerHandle) -> ServerHandle:
    """The local API with no faults, zeroed counters and fresh fault draws."""
    api_server.set_faults(FaultConfig(seed=API_SEED))
    api_server.reset_stats()
    return api_server


@dataclass(frozen=True)
class RedisSandbox:
    """A client of the live Redis and a key prefix no one else uses."""

    url: str
    client: redis.Redis
    prefix: str

    def key(self, name: str) -> str:
        """Return a key under this sandbox's prefix."""
        return f"{self.prefix}:{name}"


@pytest.fixture
def redis_sandbox(live_services: Services) -> Iterator[RedisSandbox]:
    """A live Redis client and a fresh key prefix, whose keys are deleted after the test."""
    client = redis.Redis.from_url(live_services.redis_url)
    sandbox = RedisSandbox(live_services.redis_url, client, f"wb:exercise:{uuid.uuid4().hex}")
    try:
        yield sandbox
    finally:
        unlink_matching(client, f"{sandbox.prefix}:*")
        client.close()


@pytest.fixture
def redis_round_trips(monkeypatch: pytest.MonkeyPatch) -> RoundTrips:
    """Count the requests every Redis connection writes to its server."""
    return count_redis_round_trips(monkeypatch)


@pytest.fixture
def requests_in_flight(monkeypatch: pytest.MonkeyPatch) -> InFlight:
    """Count the ``requests`` calls under way at once, whichever thread or session made them."""
    return count_requests_in_flight(monkeypatch)
