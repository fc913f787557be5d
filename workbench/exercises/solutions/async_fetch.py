"""Model answer to exercise 05: a bounded-concurrency async fetcher.

``limit`` workers share one iterator of the URLs, so at most ``limit`` requests are in flight
and only ``limit`` tasks exist however long the list (a semaphore around one task per URL
bounds the requests too, but not the tasks). Each request has its own timeout; each result
lands at its URL's index; a ``TaskGroup`` cancels every worker if the caller is cancelled
and waits for them to finish before the cancellation goes on up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import aiohttp

from workbench.error_mapping import map_aiohttp_errors

__all__ = ["fetch_all", "fetch_json"]


async def fetch_json(session: aiohttp.ClientSession, url: str, timeout: float) -> Any:
    """GET ``url`` and decode its JSON within ``timeout`` seconds, errors mapped to ours."""
    with map_aiohttp_errors(url):
        async with asyncio.timeout(timeout), session.get(url) as response:
            response.raise_for_status()
            return await response.json()


async def fetch_all(
    session: aiohttp.ClientSession, urls: Sequence[str], *, limit: int = 10, timeout: float = 5.0
) -> list[Any]:
    """Fetch every URL's JSON, ``limit`` at a time; return each body or exception, in order."""
    results: list[Any] = [None] * len(urls)
    todo = iter(enumerate(urls))

    async def worker() -> None:
        # The workers share ``todo``: each URL is taken by exactly one of them, and a worker
        # takes the next one as soon as it is free.
        for index, url in todo:
            try:
                results[index] = await fetch_json(session, url, timeout)
            except Exception as exc:  # one URL's failure is its result, not everyone's
                results[index] = exc

    async with asyncio.TaskGroup() as group:
        for _ in range(min(limit, len(urls))):
            group.create_task(worker())
    return results
