"""The soak: a long run through every fault kind, watched for growth and for leaks.

One mode ingests ``records`` posts and comments (pages of 100) in this process, built by
``build_ingestor`` as the CLI builds it, from the local API in a process of its own that
answers 5% of requests with a fault, 1% of each kind (dropped connection, 500/503, 429
with ``Retry-After``, a truncated body, an answer slower than the client's deadline), and
always fails one page of comments. While it runs, ``TreeSampler`` samples the resident set
of this process and its workers (the API's process left out); before and after,
``take_census`` counts file descriptors, threads, child processes, Postgres backends and
Redis clients. The soak passes when the memory is steady (``probes.Steadiness``), no count
grew, and the run's exit status is the CLI's for a failed page (1).

A one-page warm-up run in the same mode (under another source name, without the cache)
comes first: what a process creates once and keeps for its life (multiprocessing's fork
server and its pipes, imported modules, the connection pool's classes) is not a leak; what
each run adds and does not give back is.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from workbench.config import Settings
from workbench.ingestion.factory import build_ingestor
from workbench.local_api import FaultConfig
from workbench.local_api.process_server import serve_in_process
from workbench.reliability.accounting import SourceSpec
from workbench.reliability.probes import (
    Census,
    Steadiness,
    TreeSampler,
    settled_census,
    take_census,
)

__all__ = ["EVERY_FAULT", "SoakOutcome", "soak", "soak_job", "soak_spec"]

#: 5% of answers faulty, 1% of each drawn kind, and one page that always fails.
EVERY_FAULT = FaultConfig(
    seed=3, error_rate=0.01, rate_limit_rate=0.01, drop_rate=0.01, malformed_rate=0.01,
    slow_rate=0.01, slow_ms=1000, retry_after_s=0.05, always_fail=("/comments?_page=2&",),
)  # fmt: skip
#: The client's deadline for one page: the ``slow`` answers (1 s) miss it.
TIMEOUT_S = 0.5
#: Records per user in the data set: 10 posts, and 5 comments on each.
PER_USER = {"posts": 10, "comments": 50}


def soak_spec(records: int, seed: int = 0) -> SourceSpec:
    """Return the data of a soak of at least ``records`` posts and comments, pages of 100."""
    users = math.ceil(records / sum(PER_USER.values()))
    return SourceSpec(seed, users / 10, tuple(PER_USER), page_size=100)


@dataclass(frozen=True)
class SoakOutcome:
    """How a soak ended: its status, its memory and what it held before and after."""

    mode: str
    status: int
    seconds: float
    spec: SourceSpec
    memory: Steadiness
    before: Census
    after: Census

    @property
    def leaks(self) -> dict[str, int]:
        """Return each handle count that grew over the run, by how much."""
        return self.after.leaks(self.before)

    def problems(self) -> list[str]:
        """Return what the soak got wrong: growing memory, leaked handles."""
        found = []
        if not self.memory.steady:
            found.append(
                f"memory grew: last quarter peak {self.memory.last_mb:.0f} MB > "
                f"limit {self.memory.limit_mb:.0f} MB"
            )
        found += [f"{count} {name} leaked" for name, count in self.leaks.items()]
        return found

    def note(self) -> str:
        """Describe the memory and handles in a few words."""
        memory, before, after = self.memory, asdict(self.before), asdict(self.after)
        names = {"fds": "fds", "threads": "threads", "children": "processes",
                 "pg_backends": "Postgres backends", "redis_clients": "Redis clients"}  # fmt: skip
        counts = ", ".join(f"{before[k]}/{after[k]} {name}" for k, name in names.items())
        return (
            f"RSS peak {memory.first_mb:.0f} → {memory.last_mb:.0f} MB (first → last quarter); "
            f"before/after: {counts}"
        )


def soak(
    mode: str,
    *,
    postgres_dsn: str,
    redis_url: str,
    records: int,
    slack_mb: float,
    seed: int = 0,
    source_name: str = "soak",
) -> SoakOutcome:
    """Run the soak of ``records`` in ``mode`` into an empty database; return its outcome."""
    spec = soak_spec(records, seed)
    with serve_in_process(seed=seed, scale=spec.scale, faults=EVERY_FAULT) as api:
        exclude = (api.process.pid,)
        settings = Settings(
            mode=mode, base_url=api.url, resources=spec.resources, page_size=spec.page_size,
            postgres_dsn=postgres_dsn, redis_url=redis_url, timeout_s=TIMEOUT_S, workers=2,
        )  # fmt: skip
        ahead = take_census(postgres_dsn, redis_url, exclude=exclude)
        warm_up = build_ingestor(
            settings.replace(max_pages=1, use_cache=False), source_name=f"{source_name}-warm-up"
        )
        try:
            warm_up.run()
        finally:
            warm_up.close()
        # The warm-up's connections close on the servers a moment after it lets go of them.
        before = settled_census(postgres_dsn, redis_url, replace(
            take_census(postgres_dsn, redis_url, exclude=exclude),
            pg_backends=ahead.pg_backends, redis_clients=ahead.redis_clients,
        ), exclude=exclude)  # fmt: skip
        with TreeSampler(exclude=exclude) as sampler:
            ingestor = build_ingestor(settings, source_name=source_name)
            try:
                report = ingestor.run()
            finally:
                ingestor.close()
        after = settled_census(postgres_dsn, redis_url, before, exclude=exclude)
    return SoakOutcome(
        mode=mode,
        status=0 if report.ok else 1,  # the CLI's status for the same report
        seconds=report.seconds,
        spec=spec,
        memory=sampler.steadiness(slack_mb),
        before=before,
        after=after,
    )


def soak_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run ``soak(**job)`` in a child (``workbench.bench.memory.run_child``); return its outcome.

    A fresh interpreter counts only the soak's own handles: a test harness around it keeps
    objects of its own alive (pytest keeps every captured log record, and with it each
    failed attempt's traceback and its frames' locals, an HTTP session among them).
    """
    outcome = soak(**job)
    return {
        "status": outcome.status,
        "spec": asdict(outcome.spec),
        "steady": outcome.memory.steady,
        "memory": asdict(outcome.memory),
        "leaks": outcome.leaks,
        "problems": outcome.problems(),
        "note": outcome.note(),
    }
