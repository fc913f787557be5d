"""Records appended to a Redis stream, consumed through a consumer group: ack = checkpoint.

    producer   XADD <stream> * resource posts record {...}     (workbench source produce)
    consumer   StreamConsumer(StreamSource(url, stream), connections).run(until_empty=True)
               (workbench source consume)

A ``StreamSource`` is a source whose units are not known in advance: each read of the group
(``XREADGROUP``) delivers a batch of entries, which becomes one unit per resource and goes
through the same stages as every mode (``TaskPipeline``: process, dedup, one transaction).
Entries are acknowledged only after their transaction committed, so the group's
acknowledgement is the consumer's checkpoint: a consumer killed at any point and restarted
under the same name first re-reads what it had been delivered and not acknowledged (its
pending entries), then goes on with new ones. Nothing is lost; what is read twice is
upserted by key (and dropped by dedup), so nothing is stored twice. Entries another consumer
left pending are claimed once idle for ``idle_s``; one that fails ``max_deliveries`` times
goes to ``<stream>:dead``. ``until_empty`` stops once the stream is drained.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from typing import Any, cast

import redis
from redis.typing import EncodableT, FieldT

from workbench.db.connections import Connections
from workbench.error_mapping import map_redis_errors
from workbench.ingestion.lifecycle import RunRecord
from workbench.ingestion.processes import WorkerIngestor
from workbench.ingestion.report import RunReport, UnitResult
from workbench.queue import groups
from workbench.queue.groups import Delivery
from workbench.queue.pipeline import TaskPipeline
from workbench.sources.files import json_or_text
from workbench.sources.source import Payload, RawPage, Source, WorkUnit

__all__ = ["StreamConsumer", "StreamSource"]


class StreamSource(Source):
    """Records of a Redis stream, read through consumer ``consumer`` of group ``group``."""

    cacheable = False

    def __init__(
        self,
        url: str,
        stream: str,
        *,
        group: str = "workbench",
        consumer: str = "consumer-1",
        resource: str = "posts",
        count: int = 100,
        block_s: float = 1.0,
        idle_s: float = 30.0,
        max_deliveries: int = 5,
        name: str = "stream",
    ) -> None:
        self.url, self.stream, self.group, self.consumer = url, stream, group, consumer
        #: The resource of entries that do not name one.
        self.resource = resource
        self.count, self.block_s, self.idle_s = count, block_s, idle_s
        self.max_deliveries = max_deliveries
        self.name = name
        self.client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=block_s + 10)
        self._delivered: dict[str, list[str]] = {}
        self._batches = 0

    def __repr__(self) -> str:
        return f"StreamSource({self.stream!r}, group={self.group!r}, consumer={self.consumer!r})"

    def first_units(self, resource: str, ahead: int = 1) -> list[WorkUnit]:
        """Return nothing: a stream's units are its deliveries (``deliver``), not known ahead."""
        return []

    def deliver(self, deliveries: Sequence[Delivery]) -> list[tuple[WorkUnit, list[str]]]:
        """Turn delivered entries into one unit per resource, each with its entries' ids."""
        by_resource: dict[str, list[Delivery]] = {}
        for delivery in deliveries:
            resource = delivery.fields.get("resource") or self.resource
            by_resource.setdefault(resource, []).append(delivery)
        units = []
        for resource, entries in by_resource.items():
            self._batches += 1
            ref = f"{self.stream}#{entries[0].id}..{entries[-1].id}"
            unit = WorkUnit(resource, self._batches, ref)
            self._delivered[ref] = [entry.fields.get("record", "") for entry in entries]
            units.append((unit, [entry.id for entry in entries]))
        return units

    def fetch(self, unit: WorkUnit, session: Any = None) -> Payload:
        """Return the records the unit's entries carried (delivered by ``deliver``)."""
        return Payload(json.dumps(self._delivered.pop(unit.ref)).encode())

    def parse(self, unit: WorkUnit, payload: Payload) -> RawPage:
        """Decode each entry's record; one that is not JSON stays text (it becomes a reject)."""
        return RawPage(unit, [json_or_text(text) for text in json.loads(payload.body)])

    def close(self) -> None:
        """Close the stream's client."""
        self.client.close()


class StreamConsumer:
    """Consume a ``StreamSource`` into Postgres, acknowledging entries after their commit."""

    def __init__(
        self,
        source: StreamSource,
        connections: Connections,
        *,
        resources: Sequence[str] = ("posts",),
        run_id: str | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.source = source
        ingestor = WorkerIngestor(source, connections, resources=resources, run_id=run_id)
        self.pipeline = TaskPipeline(ingestor, source.consumer)
        self.stop = stop or threading.Event()
        self._resumed = False

    def run(
        self, *, until_empty: bool = False, progress: Callable[[UnitResult], None] | None = None
    ) -> RunReport:
        """Consume until stopped (or drained); the session is an ``ingest_runs`` row."""
        ingestor, source = self.pipeline.ingestor, self.source
        report = RunReport(
            ingestor.run_id,
            "stream",
            source.name,
            ingestor.resources,
            write_connections=ingestor.write_connections,
        )
        groups.ensure_group(source.client, source.stream, source.group)
        record = RunRecord(ingestor.store, ingestor.retrying, ingestor.run_id, ingestor.heartbeat_s)
        record.start("stream", source.name, ingestor.resources)
        try:
            while not self.stop.is_set():
                deliveries = self._next()
                if deliveries:
                    for result in self.handle(deliveries):
                        report.add(result)
                        if progress is not None:
                            progress(result)
                elif until_empty and not self._holding():
                    break
        finally:
            record.finish("ok" if report.ok else "failed", report.summary())
        return report

    def _next(self) -> list[Delivery]:
        """Return own pending entries first (a restart), then idle ones, then new ones."""
        s = self.source
        if not self._resumed:
            self._resumed = True
            own = groups.read(s.client, s.group, s.consumer, [s.stream], count=s.count, own=True)
            if own:
                return own
        claimed = groups.claim_idle(
            s.client, s.stream, s.group, s.consumer,
            min_idle_ms=round(s.idle_s * 1000), count=s.count,
        )  # fmt: skip
        fresh = [d for d in claimed if d.deliveries <= s.max_deliveries]
        self._dead_letter([d for d in claimed if d.deliveries > s.max_deliveries])
        if fresh:
            return fresh
        block_ms = max(1, round(s.block_s * 1000))
        return groups.read(
            s.client, s.group, s.consumer, [s.stream], count=s.count, block_ms=block_ms
        )

    def handle(self, deliveries: Sequence[Delivery]) -> list[UnitResult]:
        """Run delivered entries through the pipeline; acknowledge those whose page committed."""
        units = self.source.deliver(deliveries)
        results = self.pipeline.run([unit for unit, _ in units])
        ok = {result.url for result in results if result.error is None}
        done = [id_ for unit, ids in units if unit.ref in ok for id_ in ids]
        groups.ack(self.source.client, self.source.stream, self.source.group, done)
        return results

    def _dead_letter(self, deliveries: Sequence[Delivery]) -> None:
        """Move entries delivered too often to ``<stream>:dead`` and acknowledge them."""
        s = self.source
        for delivery in deliveries:
            fields = {**delivery.fields, "entry": delivery.id, "deliveries": delivery.deliveries}
            with map_redis_errors():
                s.client.xadd(f"{s.stream}:dead", cast(dict[FieldT, EncodableT], fields))
        groups.ack(s.client, s.stream, s.group, [d.id for d in deliveries])

    def _holding(self) -> bool:
        """Tell whether this consumer still holds entries it has not acknowledged."""
        s = self.source
        with map_redis_errors():
            mine = s.client.xpending_range(s.stream, s.group, "-", "+", 1, consumername=s.consumer)
        return bool(mine)

    def close(self) -> None:
        """Close the pipeline (session, store, cache) and the stream's client."""
        self.pipeline.close()
        self.source.close()
