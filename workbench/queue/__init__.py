"""A task queue on Redis Streams: ingestion spread over workers on any machine.

The stream, the consumer group, the pending-entries list, claiming and acknowledgement are
Redis'; workbench only decides what a task is and when it is done:

    keys.py      every key of the queue, under the cache's namespace
    options.py   where the queue's Redis is, the visibility timeout, deliveries, heartbeat
    codec.py     tasks, results and source specs as JSON
    groups.py    consumer-group primitives (also StreamSource's): read, claim, ack, give back
    scripts.py   the two Lua scripts: settle a task atomically, touch a held one
    broker.py    jobs: create, add tasks, deliver, settle, results, the worker registry
    pipeline.py  the stages every mode runs, for one task's units
    worker.py    the worker loop
    serve.py     a worker serving every job, here or in a process (``workbench worker``)
    local.py     a run's own job and local workers (``workbench ingest --mode queue``)
    jobs.py      enqueueing a job from the command line (``workbench enqueue``)
    status.py    what a job is doing, dead letters and retrying them (``workbench queue``)
"""

from __future__ import annotations

from workbench.queue.broker import Broker
from workbench.queue.keys import GROUP, QueueKeys
from workbench.queue.options import QueueOptions

__all__ = ["GROUP", "Broker", "QueueKeys", "QueueOptions"]
