"""How big a benchmark run is: the sizes and repetitions of the full and the quick plan."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

from workbench.errors import ConfigError

__all__ = ["CORES", "FULL", "QUICK", "LatencyCase", "Plan"]

#: Worker processes for the CPU and growth scenarios: one per core.
CORES = os.cpu_count() or 2


@dataclass(frozen=True)
class LatencyCase:
    """The latency target's load: ``pages`` of ``page_size`` at ``latency_ms``, ``concurrency``."""

    latency_ms: float = 50.0
    pages: int = 500
    page_size: int = 10
    concurrency: int = 50


@dataclass(frozen=True)
class Plan:
    """Sizes and repetitions of one benchmark run (``FULL`` or ``QUICK``, maybe scaled)."""

    quick: bool = False
    reps: int = 3
    size_factor: float = 1.0
    io_latencies_ms: tuple[float, ...] = (0.0, 20.0, 100.0)
    io_concurrency: tuple[int, ...] = (4, 16, 64)
    #: Processes of the multiprocess I/O cases: each is an interpreter to start, so beyond
    #: two per core they only add start-up time on a small machine.
    io_workers: tuple[int, ...] = (2, 4)
    #: Enough pages that concurrency, not the run's fixed costs, decides the time.
    io_pages: int = 200
    io_page_size: int = 10
    #: The thread sweep: the threaded mode at ``threads_latency_ms`` with each thread count.
    thread_counts: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
    threads_latency_ms: float = 20.0
    threads_pages: int = 400
    latency_case: LatencyCase = LatencyCase()
    cpu_records: int = 10_000
    cpu_cost: int = 2_000
    persist_rows: int = 30_000
    write_batch: int = 1_000
    dedup_keys: int = 50_000
    batching_records: int = 20_000
    #: Queue mode by workers and latency (its own scenario), and its own cost per task.
    queue_workers: tuple[int, ...] = (1, 2, 4)
    queue_latencies_ms: tuple[float, ...] = (0.0, 20.0)
    queue_pages: int = 200
    queue_page_size: int = 10
    queue_overhead_tasks: int = 5_000
    #: Posts each processor handles alone (in batches of each size), and end to end.
    processor_records: int = 20_000
    processor_batches: tuple[int, ...] = (100, 1_000, 10_000)
    growth_sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    e2e_records: int = 100_000
    page_size: int = 100
    concurrency: int = 16
    warmup_pages: int = 5

    def scaled(self, factor: float) -> Plan:
        """Return this plan with every record, row, key and page count multiplied by ``factor``."""
        if not (math.isfinite(factor) and 0 < factor <= 10):
            raise ConfigError(f"--size-factor: expected a number in (0, 10], got {factor}")

        def pages(n: int) -> int:
            return max(2, round(n * factor))

        def records(n: int, page_size: int) -> int:
            return pages(n // page_size) * page_size

        return replace(
            self,
            size_factor=self.size_factor * factor,
            io_pages=pages(self.io_pages),
            threads_pages=pages(self.threads_pages),
            latency_case=replace(self.latency_case, pages=pages(self.latency_case.pages)),
            cpu_records=records(self.cpu_records, self.page_size),
            persist_rows=max(10, round(self.persist_rows * factor)),
            dedup_keys=max(10, round(self.dedup_keys * factor)),
            batching_records=records(self.batching_records, self.page_size),
            queue_pages=pages(self.queue_pages),
            queue_overhead_tasks=max(10, round(self.queue_overhead_tasks * factor)),
            processor_records=records(self.processor_records, self.page_size),
            growth_sizes=tuple(records(n, self.page_size) for n in self.growth_sizes),
            e2e_records=records(self.e2e_records, self.page_size),
        )

    def with_reps(self, reps: int) -> Plan:
        """Return this plan with ``reps`` timed repetitions per case (at least 3)."""
        if reps < 3:
            raise ConfigError(f"--reps: expected at least 3 repetitions, got {reps}")
        return replace(self, reps=reps)

    @property
    def label(self) -> str:
        """Name the plan in results: ``full``, ``quick``, with the size factor when not 1."""
        name = "quick" if self.quick else "full"
        return name if self.size_factor == 1 else f"{name} x{self.size_factor:g}"


#: The full run: about 15 minutes on two cores.
FULL = Plan()
#: The quick run: fewer cases and smaller sizes (the targets' smaller versions), still 3 reps.
QUICK = Plan(
    quick=True,
    io_concurrency=(16,),
    io_workers=(4,),
    io_pages=40,
    thread_counts=(1, 4, 16, 64),
    threads_pages=80,
    cpu_records=3_000,
    persist_rows=10_000,
    dedup_keys=20_000,
    batching_records=5_000,
    queue_pages=150,
    queue_overhead_tasks=2_000,
    processor_records=5_000,
    processor_batches=(100, 5_000),
    growth_sizes=(1_000, 10_000),
    e2e_records=10_000,
)
