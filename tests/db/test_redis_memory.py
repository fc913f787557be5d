"""What a namespace's keys cost in Redis memory, and the server's memory ceiling and policy."""

from __future__ import annotations

import redis

from workbench.db.redis_cache import RedisCache
from workbench.db.redis_memory import memory_limits, namespace_memory
from workbench.processing import ProcessedRecord
from workbench.services.valkey import ThrowawayValkey


def fingerprinted(count: int) -> list[ProcessedRecord]:
    """Build ``count`` distinct posts records."""
    return [
        ProcessedRecord(resource="posts", external_id=str(i), data={}, checksum=f"{i:032x}")
        for i in range(count)
    ]


class TestNamespaceMemory:
    """namespace_memory: keys, members, bytes and TTLs by kind of key."""

    def test_sums_each_kind_under_the_namespace_only(self, redis_url: str) -> None:
        """Sets count their members, strings one each; other namespaces are not counted."""
        with (
            RedisCache(redis_url, namespace="mem") as cache,
            RedisCache(redis_url, namespace="other") as other,
        ):
            cache.mark_seen("jp", "posts", fingerprinted(300))
            cache.set_responses([(f"http://x/{i}", b"[]" * 100) for i in range(3)])
            other.mark_seen("jp", "posts", fingerprinted(10))
            usage = namespace_memory(cache.client, "mem")
        assert set(usage) == {"seen", "resp"}
        seen, resp = usage["seen"], usage["resp"]
        assert (seen.keys, seen.members, seen.expiring) == (1, 300, 0)
        assert (resp.keys, resp.members, resp.expiring) == (3, 3, 3)
        assert seen.bytes > 300 * 32 and resp.bytes > 3 * 200  # at least the members themselves
        assert seen.bytes_per_member == seen.bytes / 300

    def test_an_empty_namespace_is_empty(self, redis_url: str) -> None:
        """A namespace with no keys has no kinds."""
        with RedisCache(redis_url, namespace="nothing-here") as cache:
            assert namespace_memory(cache.client, "nothing-here") == {}


class TestMemoryLimits:
    """memory_limits: used memory, maxmemory, its policy and evictions."""

    def test_reads_what_the_server_is_set_to(self) -> None:
        """The ceiling and policy set on a server are what is read back; nothing evicted yet."""
        with ThrowawayValkey() as server:
            client = redis.Redis.from_url(server.url)
            client.config_set("maxmemory", 50_000_000)
            client.config_set("maxmemory-policy", "volatile-lru")
            limits = memory_limits(client)
            client.close()
        assert limits.maxmemory == 50_000_000 and limits.policy == "volatile-lru"
        assert limits.used_bytes > 0 and limits.evicted_keys == 0

    def test_counts_evictions(self) -> None:
        """Under allkeys-lru, writing past maxmemory evicts keys, and they are counted."""
        with ThrowawayValkey() as server:
            client = redis.Redis.from_url(server.url)
            client.config_set("maxmemory-policy", "allkeys-lru")
            client.config_set("maxmemory", memory_limits(client).used_bytes + 500_000)
            for i in range(100):
                client.set(f"k{i}", b"x" * 20_000)
            limits = memory_limits(client)
            client.close()
        assert limits.evicted_keys > 0
