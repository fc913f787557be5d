"""The test suite's own isolation: each run claims a Redis database of its own."""

from __future__ import annotations

import uuid

import redis

from tests.conftest import claim_redis_db, release_redis_db


class TestClaims:
    """Concurrent test runs on one machine never flush each other's database."""

    def test_this_run_holds_a_claim_on_a_database_other_than_zero(
        self, test_redis_db: int, redis_url: str
    ) -> None:
        """The run's database is never 0 (a user's) and its claim key exists."""
        assert test_redis_db != 0
        assert redis_url.endswith(f"/{test_redis_db}")

    def test_two_runs_get_different_databases(self, services: object, test_redis_db: int) -> None:
        """A second claimant gets another database; released, the database is free again."""
        admin = redis.Redis.from_url(services.redis_url)  # type: ignore[attr-defined]
        other = uuid.uuid4().hex
        try:
            db = claim_redis_db(admin, other)
            assert db != test_redis_db
            release_redis_db(admin, db, other)
            assert admin.get(f"wb:test-claim:{db}") is None
        finally:
            admin.close()
