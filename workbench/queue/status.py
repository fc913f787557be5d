"""What a job is doing, read from Redis; its dead letters, and putting them back.

    status = job_status(broker, job)    # counters, waiting, in flight, lag, dead letters
    print(render(status, broker.workers()))
    retry_dead(broker, job)             # workbench queue retry-dead JOB

*Waiting* tasks were not delivered yet; *in flight* ones were delivered and not yet
acknowledged (Redis' pending-entries list); *done* were settled with every page saved,
*failed* with some pages failed after their retries (those pages are dead-lettered), *dead*
were dead-lettered whole after too many deliveries. *Lag* is the group's own count of
entries not yet delivered; each consumer's idle time says how long since it last read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.error_mapping import map_redis_errors
from workbench.errors import CacheDataError, ConfigError, TaskFormatError
from workbench.queue import groups
from workbench.queue.broker import COUNTERS, Broker
from workbench.queue.codec import decode_units
from workbench.queue.keys import GROUP

__all__ = ["JobStatus", "follow", "job_status", "job_summary", "render", "retry_dead"]


@dataclass
class JobStatus:
    """One job's state: its spec, counters and what its stream and group say right now."""

    job: str
    status: str
    spec: dict[str, str]
    counters: dict[str, int]
    waiting: int = 0
    in_flight: int = 0
    lag: int | None = None
    consumers: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """Tell whether the job ended (done, failed or cancelled)."""
        return self.status != "running"

    @property
    def settled(self) -> int:
        """Return the tasks settled so far, whatever their outcome."""
        return sum(self.counters[name] for name in ("done", "failed", "dead"))

    def as_dict(self) -> dict[str, Any]:
        """Return the status as JSON-ready data."""
        return asdict(self)


def job_summary(spec: Mapping[str, str]) -> dict[str, Any]:
    """Return a job's counters and status as a run report (the ``ingest_runs`` row)."""
    counters = {name: int(spec.get(name, 0)) for name in COUNTERS}
    return {"job": spec.get("run_id"), "status": spec.get("status"), **counters}


def job_status(broker: Broker, job: str) -> JobStatus:
    """Read one job's state: its hash, its group and consumers, its dead letters."""
    spec = broker.spec(job)
    counters = {name: int(spec.pop(name, 0)) for name in COUNTERS}
    status = JobStatus(job, spec.get("status", "?"), spec, counters)
    keys, client = broker.keys, broker.client
    try:
        with map_redis_errors():
            info = next((g for g in client.xinfo_groups(keys.tasks(job)) if g["name"] == GROUP), {})
            consumers = client.xinfo_consumers(keys.tasks(job), GROUP) if info else []
    except CacheDataError:  # no stream: the job was cancelled, or its tasks expired
        info, consumers = {}, []
    status.in_flight = int(info.get("pending", 0))
    status.lag = info.get("lag")
    status.waiting = max(0, counters["tasks"] - status.settled - status.in_flight)
    status.consumers = [
        {"name": c["name"], "in_flight": int(c["pending"]), "idle_s": int(c["idle"]) / 1000}
        for c in consumers
    ]
    with map_redis_errors():
        letters: Any = client.xrange(keys.dead(job), count=100)
    status.dead_letters = [_letter(id_, fields) for id_, fields in letters]
    return status


def _letter(id_: str, fields: Mapping[str, str]) -> dict[str, Any]:
    """Describe one dead letter: the task, the pages it names, its deliveries and last error."""
    try:
        units = decode_units(json.loads(fields.get("fields", "{}")))
        pages = ", ".join(f"{u.resource} page {u.page}" for u in units)
    except (ValueError, TaskFormatError):
        pages = "(undecodable task)"
    return {
        "id": id_,
        "task": fields.get("task"),
        "pages": pages,
        "deliveries": int(fields.get("deliveries", 0)),
        "error": fields.get("error", ""),
    }


def retry_dead(broker: Broker, job: str) -> int:
    """Put a job's dead letters back on its stream as new tasks; return how many."""
    spec = broker.spec(job)
    if spec.get("public") != "1":
        raise ConfigError(
            f"job {job!r} was an ingest run's own job; its workers are gone: run it again"
        )
    keys, client = broker.keys, broker.client
    with map_redis_errors():
        letters: Any = client.xrange(keys.dead(job))
    if not letters:
        return 0
    groups.ensure_group(client, keys.tasks(job), GROUP)
    pipe = client.pipeline(transaction=True)
    for id_, fields in letters:
        pipe.xadd(keys.tasks(job), json.loads(fields["fields"]))
        pipe.xdel(keys.dead(job), id_)
    pipe.hincrby(keys.job(job), "tasks", len(letters))
    pipe.hincrby(keys.job(job), "retried", len(letters))
    pipe.hset(keys.job(job), "status", "running")
    pipe.hdel(keys.job(job), "finished")
    for key in keys.of_job(job):
        pipe.persist(key)
    pipe.sadd(keys.active, job)
    with map_redis_errors():
        pipe.execute()
    return len(letters)


def follow(
    broker: Broker,
    job: str,
    on_update: Callable[[JobStatus], None],
    *,
    interval_s: float = 0.5,
    stop: Callable[[], bool] = lambda: False,
) -> JobStatus:
    """Read a job's status every ``interval_s`` until it ends (or ``stop``); return the last."""
    while True:
        status = job_status(broker, job)
        on_update(status)
        if status.finished or stop():
            return status
        time.sleep(interval_s)


def render(
    status: JobStatus, workers: Mapping[str, Mapping[str, Any]], *, stale_s: float = 10.0
) -> str:
    """Return a job's status as a few lines of text, its workers' heartbeats included."""
    c, spec = status.counters, status.spec
    lines = [
        f"job {status.job}: {status.status}  (source {spec.get('source_name', '?')}, "
        f"resources {spec.get('resources', '?')})",
        f"tasks {c['tasks']}: waiting {status.waiting}, in flight {status.in_flight}, "
        f"done {c['done']}, failed {c['failed']}, dead-lettered {c['dead']}  "
        f"(claimed {c['claimed']}, errors {c['errors']}, retried {c['retried']})",
        f"pages {c['pages']}: fetched {c['fetched']}, inserted {c['inserted']}, updated "
        f"{c['updated']}, unchanged {c['unchanged']}, rejected {c['rejected']}; "
        f"failed pages {c['failed_pages']}",
        f"consumer lag: {status.lag if status.lag is not None else '-'} (entries the group "
        "has not delivered yet)",
    ]
    for consumer in status.consumers:
        lines.append(
            f"  consumer {consumer['name']}: {consumer['in_flight']} in flight, "
            f"idle {consumer['idle_s']:.1f} s"
        )
    if status.dead_letters:
        lines.append(
            f"dead letters ({len(status.dead_letters)}): workbench queue retry-dead {status.job}"
        )
    for letter in status.dead_letters:
        lines.append(
            f"  {letter['id']} (task {letter['task']}, {letter['deliveries']} deliveries) "
            f"{letter['pages']}: {letter['error']}"
        )
    lines += render_workers(workers, stale_s=stale_s)
    return "\n".join(lines)


def render_workers(workers: Mapping[str, Mapping[str, Any]], *, stale_s: float = 10.0) -> list[str]:
    """Return one line per registered worker: its state, task and last heartbeat.

    A worker silent for more than ``stale_s`` is marked stale: killed, or cut off from Redis.
    """
    lines = ["workers:" if workers else "workers: none registered"]
    now = time.time()
    for name, info in workers.items():
        age = now - float(info.get("beat", 0))
        doing = f" job {info['job']} task {info['task']}" if info.get("task") else ""
        lines.append(
            f"  {name}: {info.get('state', '?')}{doing}, {info.get('handled', 0)} tasks, "
            f"last heartbeat {age:.1f} s ago"
            + (" (stale: stopped or cut off?)" if age > stale_s else "")
        )
    return lines
