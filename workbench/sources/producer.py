"""Writing a source's records onto a Redis stream at a given rate (``workbench source produce``).

    count = produce(client, "wb:src", source_records(source, ["posts"]), rate=200)

Each record becomes one entry ``{resource, record}`` (the record as JSON), appended with
``XADD`` in small pipelined chunks paced to ``rate`` records per second; ``maxlen`` caps
the stream (approximately, as Redis trims whole nodes). The records come from any
``Source``: the local API, the real one, or files.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import redis
from redis.typing import EncodableT, FieldT

from workbench.error_mapping import map_redis_errors
from workbench.ingestion.workers import RetryOptions
from workbench.sources.source import Source, WorkUnit

__all__ = ["produce", "source_records"]

#: Entries per pipelined round trip when the rate does not ask for smaller ones.
CHUNK = 500


def source_records(
    source: Source,
    resources: Sequence[str],
    *,
    max_pages: int | None = None,
    retry: RetryOptions | None = None,
) -> Iterator[tuple[str, Any]]:
    """Yield ``(resource, record)`` for every record of the resources, page after page."""
    read = (retry or RetryOptions()).decorator()(_read)
    with source.session() as session:
        for resource in resources:
            for unit in source.first_units(resource):
                records, total = read(source, unit, session)
                yield from ((resource, record) for record in records)
                if unit.page == 1:
                    for more in source.follow_up_units(resource, total, max_pages):
                        yield from ((resource, record) for record in read(source, more, session)[0])


def _read(source: Source, unit: WorkUnit, session: Any) -> tuple[list[Any], int | None]:
    """Fetch and parse one unit (one retried step); return its records and the page count."""
    page = source.parse(unit, source.fetch(unit, session))
    return page.records, page.total_pages


def produce(
    client: redis.Redis,
    stream: str,
    records: Iterable[tuple[str, Any]],
    *,
    rate: float | None = None,
    maxlen: int | None = None,
    limit: int | None = None,
) -> int:
    """Append records to ``stream`` at ``rate`` per second (None: at once); return how many."""
    chunk = CHUNK if not rate else max(1, min(CHUNK, round(rate / 20)))
    started, sent = time.monotonic(), 0
    pending: list[tuple[str, Any]] = []
    for item in records:
        if limit is not None and sent + len(pending) >= limit:
            break
        pending.append(item)
        if len(pending) == chunk:
            sent += _send(client, stream, pending, maxlen)
            pending = []
            if rate:  # wait until this many records are due
                time.sleep(max(0.0, started + sent / rate - time.monotonic()))
    return sent + (_send(client, stream, pending, maxlen) if pending else 0)


def _send(
    client: redis.Redis, stream: str, items: Sequence[tuple[str, Any]], maxlen: int | None
) -> int:
    """Append a chunk of records in one round trip; return how many."""
    pipe = client.pipeline(transaction=False)
    for resource, record in items:
        record_json = json.dumps(record, separators=(",", ":"))
        fields: dict[FieldT, EncodableT] = {"resource": resource, "record": record_json}
        pipe.xadd(stream, fields, maxlen=maxlen, approximate=True)
    with map_redis_errors():
        pipe.execute()
    return len(items)
