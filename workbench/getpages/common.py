"""The runner and report every variant shares: time ``download_many`` over a list of URLs."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

__all__ = ["Report", "amain", "main", "page_urls"]


def page_urls(
    base_url: str, resource: str = "posts", *, pages: int, page_size: int = 10
) -> list[str]:
    """Return the URLs of the first ``pages`` pages of ``resource``."""
    base = base_url.rstrip("/")
    return [
        f"{base}/{resource}?{urlencode({'_page': n, '_limit': page_size})}"
        for n in range(1, pages + 1)
    ]


@dataclass(frozen=True)
class Report:
    """What one variant downloaded, and how long it took."""

    strategy: str
    pages: int
    bytes: int
    seconds: float

    @property
    def pages_per_second(self) -> float:
        """Return the pages downloaded per second."""
        return self.pages / self.seconds if self.seconds > 0 else 0.0


def main(download_many: Callable[[list[str]], int], urls: list[str]) -> Report:
    """Run one variant's ``download_many`` (it returns the bytes it got) and report it."""
    started = time.perf_counter()
    received = download_many(urls)
    return Report(_name(download_many), len(urls), received, time.perf_counter() - started)


async def amain(adownload_many: Callable[[list[str]], Awaitable[int]], urls: list[str]) -> Report:
    """Run a coroutine variant and report it; await it where an event loop runs (Jupyter)."""
    started = time.perf_counter()
    received = await adownload_many(urls)
    return Report(_name(adownload_many), len(urls), received, time.perf_counter() - started)


def _name(fn: Callable[..., object]) -> str:
    """Name a variant by its module: ``workbench.getpages.threadpool`` -> ``threadpool``."""
    return fn.__module__.rsplit(".", 1)[-1]
