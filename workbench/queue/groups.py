"""Consumer-group primitives over Redis streams, shared by the task queue and StreamSource.

Each function is one Redis command (two for a claim), translated into workbench's errors:

    ensure_group   XGROUP CREATE ... MKSTREAM        the group exists (idempotent)
    read           XREADGROUP ... > | 0              new entries, or this consumer's own
    claim_idle     XAUTOCLAIM + XPENDING             an entry idle too long, with its deliveries
    ack            XACK                              done: the checkpoint moves on
    give_back      XCLAIM ... IDLE RETRYCOUNT        make an entry claimable now, uncounted

The stream, the group, the pending-entries list, claiming and acknowledgement are Redis';
callers only decide what an entry means and when it is done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis

from workbench.error_mapping import map_redis_errors
from workbench.errors import StreamGoneError

__all__ = ["Delivery", "ack", "claim_idle", "deliveries", "ensure_group", "give_back", "read"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One stream entry delivered to a consumer: its stream, id, fields and delivery count."""

    stream: str
    id: str
    fields: dict[str, str]
    deliveries: int = 1


def _gone(exc: Exception) -> bool:
    """Tell whether a (mapped) Redis error says the stream or its group does not exist."""
    return "NOGROUP" in str(exc)


def ensure_group(client: redis.Redis, stream: str, group: str, start: str = "0") -> None:
    """Create ``group`` on ``stream`` (and the stream), reading from ``start``; idempotent."""
    try:
        with map_redis_errors():
            client.xgroup_create(stream, group, id=start, mkstream=True)
    except Exception as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def read(
    client: redis.Redis,
    group: str,
    consumer: str,
    streams: Sequence[str],
    *,
    count: int = 1,
    block_ms: int | None = None,
    own: bool = False,
) -> list[Delivery]:
    """Read up to ``count`` new entries per stream (``own``: this consumer's pending ones)."""
    if not streams:
        return []
    start = "0" if own else ">"
    try:
        with map_redis_errors():
            replies = client.xreadgroup(
                group, consumer, dict.fromkeys(streams, start), count=count, block=block_ms
            )
    except Exception as exc:
        if _gone(exc):
            raise StreamGoneError(f"a stream or group is gone: {exc}") from exc
        raise
    return deliveries(replies)


def deliveries(replies: Any) -> list[Delivery]:
    """Return the entries of an XREADGROUP reply (as read, or from a pipeline)."""
    return [
        Delivery(_text(stream), _text(id_), _fields(fields))
        for stream, entries in replies or []
        for id_, fields in entries
        if fields is not None  # an own entry deleted since: nothing left to handle
    ]


def claim_idle(
    client: redis.Redis, stream: str, group: str, consumer: str, *, min_idle_ms: int, count: int = 1
) -> list[Delivery]:
    """Claim up to ``count`` entries idle for ``min_idle_ms``, each with its delivery count."""
    try:
        with map_redis_errors():
            reply = client.xautoclaim(stream, group, consumer, min_idle_ms, count=count)
            claimed = [(id_, fields) for id_, fields in reply[1] if fields is not None]
            if not claimed:
                return []
            pending = client.xpending_range(
                stream, group, min=claimed[0][0], max=claimed[-1][0], count=len(claimed)
            )
    except Exception as exc:
        if _gone(exc):
            raise StreamGoneError(f"{stream} or its group is gone: {exc}") from exc
        raise
    counts = {_text(p["message_id"]): int(p["times_delivered"]) for p in pending}
    return [
        Delivery(stream, _text(id_), _fields(fields), counts.get(_text(id_), 1))
        for id_, fields in claimed
    ]


def ack(client: redis.Redis, stream: str, group: str, ids: Sequence[str]) -> int:
    """Acknowledge entries (their checkpoint moves on); return how many were pending."""
    if not ids:
        return 0
    with map_redis_errors():
        return int(client.xack(stream, group, *ids))


def give_back(
    client: redis.Redis, group: str, consumer: str, deliveries: Sequence[Delivery], idle_ms: int
) -> None:
    """Make entries claimable at once by any consumer, without counting this delivery."""
    with map_redis_errors():
        pipe = client.pipeline(transaction=False)
        for d in deliveries:
            retries = max(0, d.deliveries - 1)
            pipe.xclaim(
                d.stream, group, consumer, 0, [d.id], idle=idle_ms, retrycount=retries, justid=True
            )
        pipe.execute()


def _text(value: Any) -> str:
    """Return a reply item as text (clients may or may not decode responses)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _fields(fields: dict[Any, Any]) -> dict[str, str]:
    """Return an entry's fields as text."""
    return {_text(key): _text(value) for key, value in fields.items()}
