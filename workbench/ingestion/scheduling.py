"""Bounded scheduling, sync and async twins: never more than a window of jobs in flight.

Submitting a million pages to an executor at once would hold a million futures; keeping a
window of them in flight bounds memory while keeping every worker busy.

* ``bounded_map`` maps a function over items on an executor (threads or processes); on
  threads each call runs in a copy of the caller's context, so log lines keep the run's
  fields (a process gets them from its pool's initializer: a context cannot be pickled).
* ``abounded_map`` is its async twin: each call runs as a task on one of a fixed set of
  workers (a task's lane), so at most ``len(workers)`` are in flight; the items come from a
  plain iterator that may block (it looks up the response cache), read in a thread, as many
  at a time as lanes are free, so the event loop never waits on it and no item is taken
  before a lane can start it.
* ``iterate_in_thread`` runs an async iterator on an event loop in a helper thread and hands
  its items to the calling thread, which keeps writing while the loop keeps fetching.

Items may include ``WAIT``: the iterator's next items depend on results not seen yet (a
run's follow-up pages on page 1's count), and it says ``WAIT`` until it has seen them. Both
maps then start nothing new until a call in flight finishes and its result is handed over,
and draw again after it; the async twin also looks again every ``WAIT_POLL_S``, since its
consumer learns from the results in another thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import enum
import itertools
import queue
import threading
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Sequence,
)
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from typing import Any, Final, TypeVar

__all__ = ["WAIT", "Wait", "abounded_map", "bounded_map", "iterate_in_thread"]

T = TypeVar("T")
R = TypeVar("R")
W = TypeVar("W")


class Wait(enum.Enum):
    """The type of ``WAIT``, an item that is none (an enum, so type checkers narrow it)."""

    WAIT = "wait"


#: An item that says "no item yet": let a call in flight finish, hand its result over, then
#: draw the next item.
WAIT: Final = Wait.WAIT
#: Seconds between looks at an iterator that waits for results its consumer already holds.
WAIT_POLL_S = 0.001


def bounded_map(
    executor: Executor, fn: Callable[[T], R], items: Iterable[T | Wait], *, window: int
) -> Iterator[R]:
    """Yield ``fn(item)`` for every item, in completion order, with at most ``window`` pending."""
    pending: set[Future[R]] = set()
    threads = isinstance(executor, ThreadPoolExecutor)
    try:
        for item in items:
            if item is WAIT:
                if pending:  # the next items hang on these results: hand one over first
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from (future.result() for future in done)
                continue
            if threads:
                pending.add(executor.submit(contextvars.copy_context().run, fn, item))
            else:
                pending.add(executor.submit(fn, item))
            if len(pending) >= window:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in done)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (future.result() for future in done)
    finally:
        for future in pending:  # stopped early: what has not started never will
            future.cancel()


async def abounded_map(
    fn: Callable[[T, W], Coroutine[Any, Any, R]],
    items: Iterable[T | Wait],
    workers: Sequence[W],
) -> AsyncIterator[R]:
    """Yield ``await fn(item, worker)`` for every item, in completion order.

    Each call gets a worker no other call in flight holds, so ``len(workers)`` bounds the
    calls in flight and each worker's calls run one after another (a task's lane). A freed
    worker starts its next call before the results are handed over, so the time a consumer
    spends on them never holds a lane idle.
    """
    free = list(reversed(workers))
    running: dict[asyncio.Task[R], W] = {}
    read = _chunks(iter(items))
    ready: list[T | Wait] = []
    done: set[asyncio.Task[R]] = set()
    exhausted = paused = False
    try:
        while True:
            while free and not exhausted and not paused:
                if not ready:
                    ready = list(reversed(await read(len(free))))
                    exhausted = not ready
                    continue
                item = ready.pop()
                if item is WAIT:
                    paused = True
                    continue
                worker = free.pop()
                running[asyncio.create_task(fn(item, worker))] = worker
            if done and running:
                await asyncio.sleep(0)  # let the calls just started begin: send their requests
            for task in done:
                yield task.result()
            done = set()
            # Paused, look again soon: the consumer may learn from results in another thread.
            timeout = WAIT_POLL_S if paused else None
            if running:
                done, _ = await asyncio.wait(
                    running, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    free.append(running.pop(task))
            elif paused:
                await asyncio.sleep(WAIT_POLL_S)
            else:
                return
            paused = False
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


def _chunks(iterator: Iterator[T | Wait]) -> Callable[[int], Awaitable[list[T | Wait]]]:
    """Return a reader of ``iterator``'s next items, up to a ``WAIT``, run in a thread."""

    def take(count: int) -> list[T | Wait]:
        taken: list[T | Wait] = []
        for item in itertools.islice(iterator, count):
            taken.append(item)
            if item is WAIT:
                break
        return taken

    async def read(count: int) -> list[T | Wait]:
        return await asyncio.to_thread(take, count)

    return read


class _End:
    """What the loop's thread hands over last: the finished work, to re-raise its error."""

    def __init__(self, task: asyncio.Task[None]) -> None:
        self.task = task


def iterate_in_thread(items: AsyncIterator[T], *, window: int) -> Iterator[T]:
    """Iterate ``items`` on an event loop in a helper thread; yield them here, in order.

    At most ``window`` items wait between the two threads: the loop pauses when this side is
    behind. The loop's tasks start in a copy of this thread's context. Closing the iterator
    early (an exception on this side) cancels the loop's work and joins the thread.
    """
    handed: queue.SimpleQueue[Any] = queue.SimpleQueue()
    loop = asyncio.new_event_loop()
    space = asyncio.Semaphore(window)

    async def pump() -> None:
        try:
            async for item in items:
                await space.acquire()
                handed.put(item)
        finally:
            await _aclose(items)

    task = loop.create_task(pump())  # copies this thread's context into the loop's work
    task.add_done_callback(lambda done: handed.put(_End(done)))
    thread = threading.Thread(target=_run_loop, args=(loop, task), name="event-loop", daemon=True)
    thread.start()
    try:
        while not isinstance(item := handed.get(), _End):
            _call_soon(loop, space.release)
            yield item
        item.task.result()  # re-raise what stopped the loop's work, if anything did
    finally:
        _call_soon(loop, task.cancel)
        thread.join()


async def _aclose(items: AsyncIterator[Any]) -> None:
    """Close an async generator (running its ``finally``); other iterators need nothing."""
    aclose = getattr(items, "aclose", None)
    if aclose is not None:
        await aclose()


def _run_loop(loop: asyncio.AbstractEventLoop, task: asyncio.Task[None]) -> None:
    """Run ``task`` to its end on ``loop`` in this thread, then close the loop."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(asyncio.wait([task]))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], Any]) -> None:
    """Schedule ``callback`` on ``loop`` from another thread, unless the loop is already closed."""
    with contextlib.suppress(RuntimeError):  # the loop finished and closed: nothing to tell
        loop.call_soon_threadsafe(callback)
