"""Bounded scheduling helpers: never more than a window of units in flight.

Submitting a million pages to an executor at once would hold a million futures; keeping a
window of ``2 x workers`` in flight bounds memory while keeping every worker busy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def bounded_map(
    executor: Executor, fn: Callable[[T], R], items: Iterable[T], *, window: int
) -> Iterator[R]:
    """Yield ``fn(item)`` for every item, in completion order, with at most ``window`` pending."""
    pending: set[Future[R]] = set()
    iterator = iter(items)
    for item in iterator:
        pending.add(executor.submit(fn, item))
        if len(pending) >= window:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (future.result() for future in done)
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        yield from (future.result() for future in done)
