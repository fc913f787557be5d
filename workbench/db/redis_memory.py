"""What a namespace's keys cost in Redis memory, and how the server is set to free memory.

    usage = namespace_memory(client, "wb:pg-1234")  # by kind of key: resp, seen, q
    usage["seen"].bytes_per_member                  # what one dedup fingerprint costs
    limits = memory_limits(client)                  # used, maxmemory, policy, evictions

The kinds are the key's second segment (``<ns>:resp:...``, ``<ns>:seen:...``, ``<ns>:q:...``,
see ``CacheKeys`` and ``workbench.queue.keys``). Sizes come from ``MEMORY USAGE`` with every
element sampled, so they are exact but cost the server a walk of each key: for notebooks and
diagnostics, not for a hot path. Keys are found with ``SCAN`` (never ``KEYS``) and measured a
SCAN batch per round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from workbench.db.redis_dedup import BATCH_SIZE, batches
from workbench.db.redis_policy import CacheKeys
from workbench.error_mapping import map_redis_errors

__all__ = ["KindUsage", "MemoryLimits", "memory_limits", "namespace_memory"]

# How many members a key holds, by its type: a string is one value.
_LENGTH = {"set": "SCARD", "hash": "HLEN", "list": "LLEN", "zset": "ZCARD", "stream": "XLEN"}


@dataclass(frozen=True, slots=True)
class KindUsage:
    """The keys of one kind under a namespace: how many, their members, bytes and TTLs."""

    kind: str
    keys: int
    members: int
    bytes: int
    #: Keys that expire on their own (a TTL set); the others stay until deleted or evicted.
    expiring: int

    @property
    def bytes_per_member(self) -> float:
        """Return the bytes one member (a fingerprint, a cached page) costs, overhead included."""
        return self.bytes / self.members if self.members else 0.0


@dataclass(frozen=True, slots=True)
class MemoryLimits:
    """How much memory a Redis uses, its ceiling and what it does on reaching it."""

    used_bytes: int
    #: 0: no ceiling (the server grows until the operating system stops it).
    maxmemory: int
    #: ``noeviction`` refuses writes when full; ``allkeys-*`` evicts any key, ``volatile-*``
    #: only keys with a TTL.
    policy: str
    evicted_keys: int


def namespace_memory(client: redis.Redis, namespace: str) -> dict[str, KindUsage]:
    """Measure every key under ``namespace``, summed by kind, in kind order of first sight."""
    found: dict[str, list[int]] = {}  # kind -> [keys, members, bytes, expiring]
    pattern = CacheKeys(namespace).namespace_pattern()
    with map_redis_errors():
        keys = list(client.scan_iter(match=pattern, count=BATCH_SIZE))
        for batch in batches(keys):
            types = _pipelined(client, [("TYPE", key) for key in batch])
            commands = []
            for key, kind in zip(batch, types, strict=True):
                length = _LENGTH.get(kind.decode() if isinstance(kind, bytes) else kind)
                commands += [
                    ("MEMORY", "USAGE", key, "SAMPLES", 0),
                    ("PTTL", key),
                    (length, key) if length else ("EXISTS", key),
                ]
            answers = _pipelined(client, commands)
            for index, key in enumerate(batch):
                size, ttl, members = answers[3 * index : 3 * index + 3]
                kind = _kind(key, namespace)
                totals = found.setdefault(kind, [0, 0, 0, 0])
                totals[0] += 1
                totals[1] += int(members or 0)
                totals[2] += int(size or 0)
                totals[3] += int(ttl is not None and ttl >= 0)
    return {kind: KindUsage(kind, *totals) for kind, totals in found.items()}


def memory_limits(client: redis.Redis) -> MemoryLimits:
    """Read the server's memory use, ``maxmemory``, ``maxmemory-policy`` and evictions so far."""
    with map_redis_errors():
        memory, stats = client.info("memory"), client.info("stats")
        policy = client.config_get("maxmemory-policy")["maxmemory-policy"]
    return MemoryLimits(
        int(memory["used_memory"]),
        int(memory["maxmemory"]),
        str(policy),
        int(stats["evicted_keys"]),
    )


def _pipelined(client: redis.Redis, commands: list[tuple[object, ...]]) -> list[Any]:
    """Send raw commands in one pipeline and return their answers (raw replies: any type)."""
    pipe = client.pipeline(transaction=False)
    for command in commands:
        pipe.execute_command(*command)  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
    return pipe.execute()


def _kind(key: bytes | str, namespace: str) -> str:
    """Return a key's kind: the segment after the namespace (``resp``, ``seen``, ``q``)."""
    text = key.decode() if isinstance(key, bytes) else key
    return text[len(namespace) + 1 :].split(":", 1)[0]
