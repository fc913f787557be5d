"""The queue's jobs on Redis: create one, add its tasks, deliver them, settle them, report.

A *job* is a hash (spec, status, counters) and a task stream read through the consumer group
``workers``; a *task* is a stream entry naming a few units of work (``codec``). Workers read
new tasks (``XREADGROUP``), claim tasks whose worker went quiet (``XAUTOCLAIM``), and settle
each one after its transaction committed (the ``SETTLE`` script: ack, count, report, close).
Every method is one round trip, or a few for the rare paths (claims, dead letters).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

import redis
from redis.typing import EncodableT, FieldT

from workbench.error_mapping import map_redis_errors
from workbench.errors import ConfigError, UnknownJobError
from workbench.queue import groups
from workbench.queue.groups import Delivery
from workbench.queue.keys import GROUP, QueueKeys
from workbench.queue.options import QueueOptions
from workbench.queue.scripts import SETTLE, TOUCH, WITHDRAW

__all__ = ["COUNTERS", "Broker"]

#: The counters of a job's hash, all starting at 0: tasks by outcome, then its pages' totals.
COUNTERS = (
    "tasks", "done", "failed", "dead", "claimed", "errors", "retried",
    "pages", "fetched", "inserted", "updated", "unchanged", "rejected", "failed_pages",
)  # fmt: skip


class Broker:
    """One namespace's task queue on one Redis (a decoding client; safe to share by threads)."""

    def __init__(self, client: redis.Redis, keys: QueueKeys, options: QueueOptions) -> None:
        self.client = client
        self.keys = keys
        self.options = options
        self._settle = client.register_script(SETTLE)
        self._touch = client.register_script(TOUCH)
        self._withdraw = client.register_script(WITHDRAW)

    @classmethod
    def connect(
        cls, url: str, *, namespace: str = "wb", options: QueueOptions | None = None
    ) -> Broker:
        """Open a broker on ``url``: reads may block ``block_s``, so the socket waits longer."""
        options = options or QueueOptions(url=url)
        client = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=5,
            socket_timeout=options.block_s + 10,
            health_check_interval=30,
        )
        return cls(client, QueueKeys(namespace), options)

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()

    def _run(self, pipe: Any) -> list[Any]:
        """Execute a pipeline, its errors mapped."""
        with map_redis_errors():
            return list(pipe.execute())

    # --- jobs ---------------------------------------------------------------------------

    def create_job(self, job: str, spec: Mapping[str, str], *, public: bool) -> None:
        """Record a new job (status running, counters at 0) and create its consumer group.

        ``public``: served by any ``workbench worker``; a run's own job is not (its local
        workers serve it).
        """
        with map_redis_errors():
            if self.client.exists(self.keys.job(job)):
                raise ConfigError(f"job {job!r} already exists on the queue: choose another id")
        now = time.time()
        pipe = self.client.pipeline(transaction=True)
        fields = {**spec, "status": "running", "created": f"{now:.3f}", "public": int(public)}
        pipe.hset(
            self.keys.job(job),
            mapping=cast(dict[FieldT, EncodableT], fields | dict.fromkeys(COUNTERS, 0)),
        )
        pipe.zadd(self.keys.jobs, {job: now})
        pipe.zremrangebyscore(self.keys.jobs, "-inf", now - self.options.retention_s)  # expired
        if public:
            pipe.sadd(self.keys.active, job)
        self._run(pipe)
        groups.ensure_group(self.client, self.keys.tasks(job), GROUP)

    def add_tasks(self, job: str, tasks: Sequence[Mapping[str, str]]) -> list[str]:
        """Append tasks to a job and count them, atomically; return their entry ids."""
        if not tasks:
            return []
        pipe = self.client.pipeline(transaction=True)
        for fields in tasks:
            pipe.xadd(self.keys.tasks(job), cast(dict[FieldT, EncodableT], dict(fields)))
        pipe.hincrby(self.keys.job(job), "tasks", len(tasks))
        return [str(id_) for id_ in self._run(pipe)[:-1]]

    def spec(self, job: str) -> dict[str, str]:
        """Return a job's hash: spec, status and counters (``UnknownJobError`` if none)."""
        with map_redis_errors():
            found = self.client.hgetall(self.keys.job(job))
        if not found:
            raise UnknownJobError(f"no job {job!r} on the queue (never made, or expired)")
        return dict(cast(dict[str, str], found))  # the client decodes replies

    def recent_jobs(self, limit: int) -> list[str]:
        """Return the ``limit`` most recent jobs whose record has not expired, newest first."""
        with map_redis_errors():
            jobs = cast(list[str], self.client.zrevrange(self.keys.jobs, 0, max(0, limit - 1)))
            alive = [bool(self.client.exists(self.keys.job(job))) for job in jobs]
        return [job for job, there in zip(jobs, alive, strict=True) if there]

    def active_jobs(self) -> list[str]:
        """Return the jobs ``workbench worker`` processes serve."""
        with map_redis_errors():
            return sorted(cast(set[str], self.client.smembers(self.keys.active)))

    def retire(self, job: str) -> None:
        """Stop serving a finished job (its keys expire on their own)."""
        with map_redis_errors():
            self.client.srem(self.keys.active, job)

    def cancel(self, job: str) -> None:
        """End a job that will not finish (its run stopped): drop its tasks, keep its record."""
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self.keys.job(job), mapping={"status": "cancelled", "finished": time.time()})
        pipe.delete(self.keys.tasks(job), self.keys.results(job), self.keys.errors(job))
        pipe.srem(self.keys.active, job)
        for key in (self.keys.job(job), self.keys.dead(job)):
            pipe.expire(key, self.options.retention_s)
        self._run(pipe)

    # --- deliveries ---------------------------------------------------------------------

    def read(
        self, consumer: str, jobs: Sequence[str], *, own: bool = False, block: bool = True
    ) -> list[Delivery]:
        """Read one new task of each job (``own``: this consumer's pending ones, no wait)."""
        streams = [self.keys.tasks(job) for job in jobs]
        block_ms = self.options.block_ms if block and not own else None
        return groups.read(self.client, GROUP, consumer, streams, block_ms=block_ms, own=own)

    def claim(self, consumer: str, job: str) -> list[Delivery]:
        """Claim one task of ``job`` idle past the visibility timeout, counting the claim."""
        claimed = groups.claim_idle(
            self.client, self.keys.tasks(job), GROUP, consumer, min_idle_ms=self.options.idle_ms
        )
        if claimed:
            with map_redis_errors():
                self.client.hincrby(self.keys.job(job), "claimed", len(claimed))
        return claimed

    def touch(self, consumer: str, deliveries: Sequence[Delivery]) -> None:
        """Reset the idle time of tasks this consumer still holds (its heartbeat on them)."""
        for delivery in deliveries:
            with map_redis_errors():
                self._touch(keys=[delivery.stream], args=[GROUP, consumer, delivery.id])

    def held(self, consumer: str, job: str) -> list[Delivery]:
        """Return the tasks of ``job`` that ``consumer`` holds (delivered, not acknowledged)."""
        stream = self.keys.tasks(job)
        with map_redis_errors():
            pending = self.client.xpending_range(
                stream, GROUP, "-", "+", 1000, consumername=consumer
            )
        return [
            Delivery(stream, str(p["message_id"]), {}, int(p["times_delivered"])) for p in pending
        ]

    def give_back(self, consumer: str, deliveries: Sequence[Delivery]) -> None:
        """Hand tasks back, claimable at once by any worker, this delivery uncounted."""
        groups.give_back(self.client, GROUP, consumer, deliveries, self.options.idle_ms)

    def record_error(self, delivery: Delivery, error: str) -> None:
        """Keep why a delivery failed, for the claim that follows (or the dead letter)."""
        job = self.keys.job_of(delivery.stream)
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(self.keys.errors(job), delivery.id, error)
        pipe.hincrby(self.keys.job(job), "errors", 1)
        self._run(pipe)

    def errors(self, job: str) -> dict[str, str]:
        """Return the last recorded error of each of ``job``'s failed tasks, by task id."""
        with map_redis_errors():
            errors = self.client.hgetall(self.keys.errors(job))
        return {str(task): str(error) for task, error in errors.items()}

    def last_error(self, delivery: Delivery) -> str | None:
        """Return the error of a task's last failed delivery, if one was recorded."""
        with map_redis_errors():
            error = self.client.hget(
                self.keys.errors(self.keys.job_of(delivery.stream)), delivery.id
            )
        return None if error is None else str(error)

    def settle(
        self,
        delivery: Delivery,
        outcome: str,
        *,
        results: str = "[]",
        counters: Mapping[str, int] | None = None,
        dead_fields: str = "",
        error: str = "",
        then_read: tuple[str, Sequence[str]] | None = None,
    ) -> tuple[int, list[Delivery]]:
        """Settle a task: 0 when another worker already had, 1 settled, 2 its job is done.

        ``outcome`` is done, failed (some pages failed: ``dead_fields`` holds them) or dead
        (the whole task, after too many deliveries). ``then_read=(consumer, jobs)`` also takes
        the consumer's next tasks, if any are waiting, in the same round trip (no wait).
        """
        extra = [item for pair in (counters or {}).items() for item in pair]
        job = self.keys.job_of(delivery.stream)
        argv = [
            GROUP, delivery.id, outcome, results, f"{time.time():.3f}", self.options.retention_s,
            dead_fields, error, str(delivery.deliveries), *extra,
        ]  # fmt: skip
        keys = self.keys.of_job(job)
        for attempt in (1, 2):
            pipe = self.client.pipeline(transaction=False)
            # EVALSHA itself: a Script object in a pipeline asks SCRIPT EXISTS first, a trip more.
            pipe.evalsha(self._settle.sha, len(keys), *keys, *argv)
            if then_read is not None:
                consumer, jobs = then_read
                streams: dict[Any, Any] = dict.fromkeys((self.keys.tasks(j) for j in jobs), ">")
                pipe.xreadgroup(GROUP, consumer, streams, count=1)
            with map_redis_errors():
                replies = pipe.execute(raise_on_error=False)
            if attempt == 1 and isinstance(replies[0], redis.exceptions.NoScriptError):
                with map_redis_errors():  # the server lost its scripts (a restart): load it
                    self.client.script_load(SETTLE)
                continue
            break
        if isinstance(replies[0], Exception):
            with map_redis_errors():
                raise replies[0]
        # A failed read (a job gone meanwhile) is only a missed shortcut: the loop reads again.
        taken = [] if len(replies) < 2 or isinstance(replies[1], Exception) else replies[1]
        return int(replies[0]), groups.deliveries(taken)

    def seal(self, job: str) -> bool:
        """Say no more tasks will come; return True when that completed the job."""
        argv: list[EncodableT] = [
            GROUP, "", "seal", "", f"{time.time():.3f}", self.options.retention_s, "", "", "0"
        ]  # fmt: skip
        with map_redis_errors():
            return int(self._settle(keys=self.keys.of_job(job), args=argv)) == 2

    def withdraw(self, job: str, ids: Sequence[str]) -> list[str]:
        """Take back the tasks among ``ids`` no worker has read yet; return their ids."""
        if not ids:
            return []
        keys = [self.keys.tasks(job), self.keys.job(job)]
        with map_redis_errors():
            return [str(id_) for id_ in self._withdraw(keys=keys, args=[GROUP, *ids])]

    # --- results and workers ------------------------------------------------------------

    def results(self, job: str, after: str, *, block_ms: int) -> list[tuple[str, dict[str, str]]]:
        """Return the settled tasks reported after entry ``after``, waiting up to ``block_ms``."""
        with map_redis_errors():
            replies: Any = self.client.xread({self.keys.results(job): after}, block=block_ms)
        return [(str(id_), dict(fields)) for _, entries in replies or [] for id_, fields in entries]

    def drop_results(self, job: str, ids: Sequence[str]) -> None:
        """Delete reports already read (a run's reader keeps its results stream short)."""
        if ids:
            with map_redis_errors():
                self.client.xdel(self.keys.results(job), *ids)

    def beat(self, name: str, info: Mapping[str, Any]) -> None:
        """Record a worker's heartbeat: what it does now, and when it last said so."""
        with map_redis_errors():
            self.client.hset(self.keys.workers, name, json.dumps({**info, "beat": time.time()}))

    def leave(self, name: str) -> None:
        """Remove a worker that stopped cleanly from the registry."""
        with map_redis_errors():
            self.client.hdel(self.keys.workers, name)

    def workers(self) -> dict[str, dict[str, Any]]:
        """Return every registered worker's last heartbeat, by name."""
        with map_redis_errors():
            found = cast(dict[str, str], self.client.hgetall(self.keys.workers))
        return {name: json.loads(info) for name, info in sorted(found.items())}
