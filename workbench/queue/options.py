"""How a task queue is reached and paced: one small picklable value, checked when made.

The visibility timeout is Redis' *min-idle-time*: a task delivered to a worker and neither
acknowledged nor touched by that worker's heartbeat for ``idle_s`` is claimed by another
worker (``XAUTOCLAIM``). The heartbeat therefore has to beat well within it.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import ConfigError

__all__ = ["QueueOptions"]


@dataclass(frozen=True)
class QueueOptions:
    """Where the queue's Redis is and how its workers pace themselves (validated on creation)."""

    #: The queue's Redis; None: the cache's (``Connections.redis_url``).
    url: str | None = None
    #: Seconds a delivered task may go unacknowledged and untouched before another worker
    #: claims it: the visibility timeout.
    idle_s: float = 30.0
    #: Deliveries a task may fail (or crash its worker) before it goes to the dead letters.
    max_deliveries: int = 5
    #: Seconds between a worker's heartbeats (its registry entry, and its task's idle time).
    heartbeat_s: float = 2.0
    #: Seconds one read waits for a new task before the worker looks around again.
    block_s: float = 1.0
    #: Pages per task; None: as many as one write batch holds, spread over the workers.
    task_pages: int | None = None
    #: Seconds a finished job's keys stay readable (status, dead letters) before they expire.
    retention_s: int = 7 * 24 * 3600

    def __post_init__(self) -> None:
        if not self.idle_s > 0 or not self.block_s > 0 or self.retention_s < 1:
            raise ConfigError(f"queue timings must be positive: {self}")
        if self.max_deliveries < 1 or (self.task_pages is not None and self.task_pages < 1):
            raise ConfigError(f"queue max_deliveries and task_pages must be >= 1: {self}")
        if not 0 < self.heartbeat_s <= self.idle_s / 2:
            raise ConfigError(
                f"queue heartbeat_s={self.heartbeat_s:g} must be positive and at most half of "
                f"idle_s={self.idle_s:g}, or live workers would lose their tasks to claims"
            )

    @property
    def idle_ms(self) -> int:
        """Return the visibility timeout in milliseconds, as XAUTOCLAIM takes it."""
        return max(1, round(self.idle_s * 1000))

    @property
    def block_ms(self) -> int:
        """Return how long one read blocks, in milliseconds."""
        return max(1, round(self.block_s * 1000))
