"""Thread pool: ``workers`` threads, each with its own session; results as they complete."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, as_completed

import requests

from workbench.getpages.sequential import get_page

WORKERS = 16


def download_many(urls: list[str], workers: int = WORKERS) -> int:
    """Download the pages on a thread pool; return the bytes received."""
    local = threading.local()  # a Session per thread: threads must not share one
    sessions: list[requests.Session] = []

    def get(url: str) -> bytes:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            sessions.append(local.session)
        return get_page(local.session, url)

    try:
        with ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(get, url) for url in urls]
            return sum(len(future.result()) for future in as_completed(futures))
    finally:
        for session in sessions:
            session.close()
