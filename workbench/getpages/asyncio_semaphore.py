"""asyncio: one task per page, at most ``concurrency`` in flight under a ``Semaphore``.

``download_many`` starts an event loop with ``asyncio.run``, as a script would; where a loop
already runs (Jupyter), ``asyncio.run`` refuses: await ``supervisor`` there instead.
"""

from __future__ import annotations

import asyncio

import aiohttp

CONCURRENCY = 16


async def get_page(session: aiohttp.ClientSession, url: str, semaphore: asyncio.Semaphore) -> bytes:
    """Download one page's body once the semaphore lets this task in."""
    async with semaphore, session.get(url) as response:
        response.raise_for_status()
        return await response.read()


async def supervisor(urls: list[str], concurrency: int = CONCURRENCY) -> int:
    """Download every page as a task, ``concurrency`` at a time; return the bytes received."""
    semaphore = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        bodies = await asyncio.gather(*(get_page(session, url, semaphore) for url in urls))
    return sum(len(body) for body in bodies)


def download_many(urls: list[str]) -> int:
    """Run ``supervisor`` on a new event loop (scripts; not inside a running loop)."""
    coroutine = supervisor(urls)
    try:
        return asyncio.run(coroutine)
    finally:
        coroutine.close()  # refused by a running loop: not left behind, never awaited
