"""What ``workbench bench`` measures: a plan (full or quick sizes) and the cases it expands to.

Everything here is pure data: a ``Plan`` (``workbench.bench.plans``) holds the sizes,
``cases(plan, scenarios)`` lists the ``Case`` objects to measure, in order. Running them is
``workbench.bench.runner``'s job.

Scenarios:

* ``io``: every mode at added latency 0, 20 and 100 ms over a range of concurrency, plus the
  latency target's case (async, 50 ms, 500 pages of 10, concurrency 50);
* ``threads``: the threaded mode at 20 ms over thread counts from 1 to 128: where more
  threads stop helping (the GIL: one thread runs Python at a time);
* ``cpu``: CPU-heavy processing (``cpu_cost``), so threads against processes shows the GIL;
* ``persist``: the insert strategies of ``workbench.db.insert_strategies``, and raw COPY;
* ``dedup``: the Redis membership strategies of ``workbench.db.redis_dedup``;
* ``batching``: every mode with a transaction per page (``batch_rows=1``) and with the
  default batches, on the same load: what batching alone is worth, apart from scheduling;
* ``queue``: queue mode (here only: ``modes.SCALE_OUT``) by workers at 0 and 20 ms, async
  on the same load, and the queue's own cost per task (enqueue, claim, ack: no work);
* ``processors``: each processor alone on the same posts in batches of each size, then end
  to end in async mode, side by side (no target);
* ``growth``: every mode at growing sizes, each run in a child process for its peak memory;
* ``limits``: the HTTP limit (raw aiohttp fetch), the DB limit (raw COPY) and the peer (dlt)
  on the end-to-end load, the growth case the headline table and the targets compare with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from workbench.bench.plans import CORES, FULL, QUICK, LatencyCase, Plan
from workbench.db.insert_strategies import STRATEGIES
from workbench.db.redis_dedup import DEDUP_STRATEGIES
from workbench.errors import ConfigError
from workbench.ingestion.modes import IN_PROCESS, SCALE_OUT
from workbench.ingestion.writer import DEFAULT_BATCH_ROWS
from workbench.processing.registry import PROCESSORS

__all__ = ["FULL", "QUICK", "SCENARIOS", "Case", "LatencyCase", "Plan", "cases", "parse_scenarios"]

# The plans (sizes) are data of their own; re-exported here, where cases are made of them.
SCENARIOS = (
    "io", "threads", "cpu", "persist", "dedup", "batching", "queue", "processors", "growth",
    "limits",
)  # fmt: skip


@dataclass(frozen=True)
class Case:
    """One thing to measure ``reps`` times: a kind of trial, its mode or strategy, its load.

    ``kind`` says which trial runs it (``ingest``, ``ingest_child``, ``write``,
    ``copy_limit``, ``dedup``, ``http_limit``, ``peer``, ``process``); ``mode`` is the
    ingestion mode, the strategy, the limit's or the processor's name; ``size`` counts the
    ``unit`` handled per repetition (``page_size`` at a time, for ``process``).
    """

    scenario: str
    kind: str
    mode: str
    size: int
    unit: str = "records"
    latency_ms: float = 0.0
    concurrency: int = 1
    workers: int = 1
    page_size: int = 100
    cpu_cost: int = 0
    batch: int = 0
    #: Records per write transaction of an ingestion case (the same default in every mode).
    batch_rows: int = DEFAULT_BATCH_ROWS
    #: A write case whose keys are stored first with other checksums: every row is an update.
    update: bool = False
    timeline: bool = False
    #: How an ingestion case processes its pages (``workbench.processing.registry``).
    processor: str = "records"

    @property
    def name(self) -> str:
        """Return an identifier unique within a plan (the ``case`` column of results.csv)."""
        parts = [self.scenario, self.mode]
        if self.kind in ("ingest", "ingest_child", "http_limit", "peer"):
            parts += [f"{self.size}x{self.page_size}", f"{self.latency_ms:g}ms"]
            parts.append(f"w{self.workers}" if self.by_workers else f"c{self.concurrency}")
        elif self.kind == "process":
            parts.append(f"{self.size}x{self.page_size}")
        else:
            parts.append(str(self.size))
        if self.processor != "records":
            parts.append(self.processor)
        if self.cpu_cost:
            parts.append(f"cpu{self.cpu_cost}")
        if self.batch_rows != DEFAULT_BATCH_ROWS:
            parts.append(f"b{self.batch_rows}")
        if self.update:
            parts.append("update")
        return "/".join(parts)

    @property
    def label(self) -> str:
        """Return the mode or strategy as tables and charts show it."""
        if self.kind == "process":
            return f"{self.mode}, batches of {self.page_size:,}"
        if self.processor != "records":
            return f"{self.mode} ({self.processor})"
        if self.update:
            return f"{self.mode} (update)"
        if self.batch_rows != DEFAULT_BATCH_ROWS:
            return f"{self.mode} (batch {self.batch_rows})"
        return self.mode

    @property
    def by_workers(self) -> bool:
        """Tell whether the case's pages in flight are its worker processes."""
        return self.mode == "multiprocess" or self.mode in SCALE_OUT

    @property
    def pages(self) -> int:
        """Return how many pages an ingestion case reads."""
        return math.ceil(self.size / self.page_size)

    @property
    def in_flight(self) -> int:
        """Return how many pages the case can have in flight at once."""
        if self.mode == "sync":
            return 1
        return self.workers if self.by_workers else self.concurrency

    @property
    def ideal_seconds(self) -> float | None:
        """Return the wall time pure waiting would take (latency x pages / in flight), or None."""
        if self.kind != "ingest" or not self.latency_ms:
            return None
        return self.latency_ms / 1000 * self.pages / self.in_flight


def parse_scenarios(text: str) -> tuple[str, ...]:
    """Parse ``--scenario io,cpu``: known names only, in the canonical order, no repeats."""
    names = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(names - set(SCENARIOS))
    if unknown or not names:
        raise ConfigError(
            f"--scenario: unknown or empty {', '.join(unknown) or repr(text)}; "
            f"known: {', '.join(SCENARIOS)}"
        )
    return tuple(name for name in SCENARIOS if name in names)


def _ingest(
    plan: Plan, scenario: str, mode: str, size: int, *, kind: str = "ingest", **load: Any
) -> Case:
    """Return an ingestion case with the plan's defaults for what ``load`` does not set."""
    values: dict[str, Any] = {
        "page_size": plan.page_size,
        "concurrency": plan.concurrency,
        "workers": CORES,
    }
    values.update(load)
    if mode == "sync":
        values["concurrency"] = values["workers"] = 1
    return Case(scenario, kind, mode, size, **values)


def _io_cases(plan: Plan) -> list[Case]:
    """Every mode at every latency over its range of concurrency, then the latency target."""
    found = []
    size = plan.io_pages * plan.io_page_size
    for latency in plan.io_latencies_ms:
        for mode in IN_PROCESS:
            loads = _io_loads(plan, mode)
            timeline_load = 16 if 16 in loads else max(loads)
            for load in loads:
                options: dict[str, Any] = {
                    "latency_ms": latency,
                    "page_size": plan.io_page_size,
                    "concurrency": load,
                    "workers": load,
                    "timeline": latency == 20 and load == timeline_load,
                }
                found.append(_ingest(plan, "io", mode, size, **options))
    target = plan.latency_case
    options = {
        "latency_ms": target.latency_ms,
        "page_size": target.page_size,
        "concurrency": target.concurrency,
    }
    found.append(_ingest(plan, "io", "async", target.pages * target.page_size, **options))
    return found


def _io_loads(plan: Plan, mode: str) -> tuple[int, ...]:
    """Return the pages in flight a mode is measured with: processes, threads or tasks."""
    if mode == "sync":
        return (1,)
    return plan.io_workers if mode == "multiprocess" else plan.io_concurrency


def _thread_cases(plan: Plan) -> list[Case]:
    """Return the threaded mode at one latency with every thread count of the plan."""
    size = plan.threads_pages * plan.io_page_size
    load: dict[str, Any] = {"latency_ms": plan.threads_latency_ms, "page_size": plan.io_page_size}
    return [
        _ingest(plan, "threads", "threaded", size, concurrency=count, **load)
        for count in plan.thread_counts
    ]


def _cpu_cases(plan: Plan) -> list[Case]:
    """Every mode on CPU-heavy records; multiprocess uses one process per core."""
    return [
        _ingest(plan, "cpu", mode, plan.cpu_records, cpu_cost=plan.cpu_cost) for mode in IN_PROCESS
    ]


def _persist_cases(plan: Plan) -> list[Case]:
    """Every insert strategy on the same new rows, the upsert updating them, then raw COPY."""
    found = [
        Case("persist", "write", name, plan.persist_rows, unit="rows", batch=plan.write_batch)
        for name in STRATEGIES
    ]
    rows, batch = plan.persist_rows, plan.write_batch
    found.append(
        Case("persist", "write", "upsert_copy", rows, unit="rows", batch=batch, update=True)
    )
    found.append(Case("persist", "copy_limit", "copy_limit", plan.persist_rows, unit="rows"))
    return found


def _dedup_cases(plan: Plan) -> list[Case]:
    """Every Redis membership strategy on the same keys, in batches of ``write_batch``."""
    return [
        Case("dedup", "dedup", name, plan.dedup_keys, unit="keys", batch=plan.write_batch)
        for name in DEDUP_STRATEGIES
    ]


def _batching_cases(plan: Plan) -> list[Case]:
    """Every mode with a transaction per page, then with the default batches, same load."""
    size = plan.batching_records
    return [
        _ingest(plan, "batching", mode, size, batch_rows=rows)
        for mode in IN_PROCESS
        for rows in (1, DEFAULT_BATCH_ROWS)
    ]


def _queue_cases(plan: Plan) -> list[Case]:
    """Queue mode by workers at each latency, async on the same load, the cost per task."""
    size, found = plan.queue_pages * plan.queue_page_size, []
    for latency in plan.queue_latencies_ms:
        load: dict[str, Any] = {"latency_ms": latency, "page_size": plan.queue_page_size}
        for workers in plan.queue_workers:
            found.append(_ingest(plan, "queue", "queue", size, workers=workers, **load))
        found.append(_ingest(plan, "queue", "async", size, **load))
    tasks = plan.queue_overhead_tasks
    found.append(Case("queue", "queue_overhead", "overhead", tasks, unit="tasks"))
    return found


def _processor_cases(plan: Plan) -> list[Case]:
    """Each processor alone on the same posts in batches of each size, then end to end."""
    size = plan.processor_records
    batches = sorted({min(batch, size) for batch in plan.processor_batches})
    alone = [
        Case("processors", "process", name, size, page_size=batch)
        for batch in batches
        for name in PROCESSORS
    ]
    # End to end in async, the fastest mode, where processing is the largest share of the CPU.
    return alone + [
        _ingest(plan, "processors", "async", size, processor=name) for name in PROCESSORS
    ]


def _growth_cases(plan: Plan) -> list[Case]:
    """Every mode at every growth size, in a child process (peak memory), sizes ascending."""
    return [
        _ingest(plan, "growth", mode, size, kind="ingest_child")
        for size in sorted(plan.growth_sizes)
        for mode in IN_PROCESS
    ]


def _limit_cases(plan: Plan) -> list[Case]:
    """List the HTTP and DB limits and the peer on the end-to-end load, and the peer at scale.

    The second peer case runs at the largest growth size, where the fastest mode is judged.
    """
    size = plan.e2e_records
    found = [
        _ingest(plan, "limits", "http_limit", size, kind="http_limit"),
        Case("limits", "copy_limit", "copy_limit", size, unit="rows"),
        _ingest(plan, "limits", "dlt", size, kind="peer", concurrency=1),
    ]
    largest = max(plan.growth_sizes, default=size)
    if largest != size:
        found.append(_ingest(plan, "limits", "dlt", largest, kind="peer", concurrency=1))
    return found


_BUILDERS = {
    "io": _io_cases,
    "threads": _thread_cases,
    "cpu": _cpu_cases,
    "persist": _persist_cases,
    "dedup": _dedup_cases,
    "batching": _batching_cases,
    "queue": _queue_cases,
    "processors": _processor_cases,
    "growth": _growth_cases,
    "limits": _limit_cases,
}


def cases(plan: Plan, scenarios: tuple[str, ...] = SCENARIOS, *, peer: bool = True) -> list[Case]:
    """Return every case of the chosen scenarios, in the order they run (``peer=False``: no dlt)."""
    chosen = [case for name in scenarios for case in _BUILDERS[name](plan)]
    return [case for case in chosen if peer or case.kind != "peer"]
