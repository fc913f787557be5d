"""Storage trials: each Postgres insert strategy and each Redis dedup strategy, same inputs.

* Persistence: the same processed posts written by every strategy of
  ``workbench.db.insert_strategies`` in batches of ``case.batch`` rows, one transaction per
  batch, into an emptied scratch source. Building each strategy's SQL or COPY text is its own
  cost, so it is timed; building the records is not.
* Dedup: the same fingerprints checked against a Redis set holding every other one, in
  batches of ``case.batch``, by every strategy of ``workbench.db.redis_dedup``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
import uuid
from typing import Any

import psycopg2
import redis

from workbench.bench.context import BenchContext, scratch_source
from workbench.bench.limits import processed_posts
from workbench.bench.runner import IncompleteRunError, Sample
from workbench.bench.scenarios import Case
from workbench.db.insert_strategies import STRATEGIES, Strategy, insert_copy
from workbench.db.postgres import WriteResult
from workbench.db.redis_dedup import DEDUP_STRATEGIES, add_to_sets, batches
from workbench.error_mapping import map_psycopg2_errors
from workbench.processing import ProcessedRecord

__all__ = ["DedupTrial", "WriteTrial", "fingerprints"]


def fingerprints(count: int) -> list[str]:
    """Return ``count`` distinct ``id:checksum`` members shaped like the pipeline's."""
    return [
        f"{i}:{hashlib.blake2b(str(i).encode(), digest_size=16).hexdigest()}" for i in range(count)
    ]


class WriteTrial:
    """Write the case's rows with one insert strategy, a transaction per batch."""

    def __init__(self, case: Case, ctx: BenchContext) -> None:
        self.case = case
        self.ctx = ctx
        self.strategy = STRATEGIES[case.mode]
        self.records = processed_posts(case.size)
        self.source = scratch_source(case.scenario, case.mode + ("-update" if case.update else ""))
        ctx.store.ensure_schema()

    def _write(self, count: int) -> tuple[float, WriteResult]:
        """Reset the source (untimed), then write the first ``count`` records and time it."""
        self.ctx.clear_source(self.source)
        with map_psycopg2_errors():
            connection = psycopg2.connect(self.ctx.postgres_dsn)
        try:
            if self.case.update:  # the same keys with other checksums: each row must change
                stale = [dataclasses.replace(r, checksum=f"old-{r.checksum}") for r in self.records]
                self._write_batches(connection, insert_copy, stale[:count])
            started = time.perf_counter()
            written = self._write_batches(connection, self.strategy, self.records[:count])
            return time.perf_counter() - started, written
        finally:
            connection.close()

    def _write_batches(
        self, connection: Any, strategy: Strategy, records: list[ProcessedRecord]
    ) -> WriteResult:
        """Write ``records`` with ``strategy``, one transaction per batch."""
        written = WriteResult()
        for batch in batches(records, self.case.batch):
            written += strategy(connection, batch, source=self.source)
            connection.commit()
        return written

    def warm_up(self) -> None:
        """Write one batch, untimed."""
        self._write(self.case.batch)

    def run(self) -> Sample:
        """Write every row and time it; every row must have been inserted (or updated)."""
        seconds, written = self._write(self.case.size)
        done = written.updated if self.case.update else written.inserted
        if done != self.case.size:
            raise IncompleteRunError(f"{self.case.name}: wrote {done} of {self.case.size} rows")
        return Sample(seconds, self.case.size)

    def close(self) -> None:
        """Leave no rows behind."""
        self.ctx.clear_source(self.source)


class DedupTrial:
    """Ask Redis which of the case's fingerprints it has seen, with one strategy."""

    def __init__(self, case: Case, ctx: BenchContext) -> None:
        self.case = case
        self.strategy = DEDUP_STRATEGIES[case.mode]
        self.members = fingerprints(case.size)
        self.client = redis.Redis.from_url(ctx.redis_url)
        # A key of its own: never one of the cache's sets.
        self.key = f"wb:bench:dedup:{uuid.uuid4().hex}"
        add_to_sets(self.client, [(self.key, self.members[::2])])

    def _check(self, members: list[str]) -> int:
        """Check ``members`` batch by batch; return how many were seen."""
        seen = 0
        for batch in batches(members, self.case.batch):
            seen += sum(self.strategy(self.client, self.key, batch))
        return seen

    def warm_up(self) -> None:
        """Check one batch, untimed."""
        self._check(self.members[: self.case.batch])

    def run(self) -> Sample:
        """Check every member and time it; the answers must match the set."""
        started = time.perf_counter()
        seen = self._check(self.members)
        seconds = time.perf_counter() - started
        if seen != len(self.members[::2]):
            raise IncompleteRunError(
                f"{self.case.name}: {seen} seen, expected {len(self.members[::2])}"
            )
        return Sample(seconds, self.case.size)

    def close(self) -> None:
        """Delete the set and close the client."""
        self.client.unlink(self.key)
        self.client.close()
