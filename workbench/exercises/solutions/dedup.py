"""Model answer to exercise 08: batched Redis dedup that fails open, on the package's helpers.

``workbench.db.redis_dedup`` sends a batch's SMISMEMBER (or SADD) commands, 1000 members
apiece, in one pipeline: one round trip whatever the batch size, and none for an empty batch.
It maps redis-py's errors onto ours, so failing open is one ``except`` for
``CacheUnavailableError`` (Redis unreachable or timing out). A ``CacheDataError`` (the key
holds a string, say) is a bug, not an outage, and goes on up.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import redis

from workbench.db.redis_dedup import add_to_sets, seen_in_sets
from workbench.errors import CacheUnavailableError

__all__ = ["filter_unseen", "mark_seen"]


def filter_unseen(client: redis.Redis, key: str, members: Sequence[str]) -> list[str]:
    """Return the members not in the set at ``key``, in order; all of them if Redis is down."""
    try:
        seen = seen_in_sets(client, [(key, members)])
    except CacheUnavailableError:
        # Postgres decides what is new anyway (the upsert): without Redis we only lose the
        # shortcut, never a record.
        return list(members)
    return [member for member, known in zip(members, seen, strict=True) if not known]


def mark_seen(client: redis.Redis, key: str, members: Sequence[str]) -> None:
    """Add the members to the set at ``key``; do nothing if Redis is down."""
    # Unmarked members are checked again next time: harmless.
    with contextlib.suppress(CacheUnavailableError):
        add_to_sets(client, [(key, members)])
