"""Model answer to exercise 06: a thread-pool fetcher whose shared counters stay correct.

``Counters`` guards one dict with one lock: ``add`` changes several counters as one step and
``snapshot`` copies them all at one instant. ``x += 1`` is a read, an add and a write; two
threads interleaving them lose updates, and a reader between two of ``add``'s writes would
see half of it. Each worker thread has its own ``requests.Session`` (sessions are not
documented as thread-safe), made by the pool's initializer and closed at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from workbench.error_mapping import map_requests_errors

__all__ = ["Counters", "fetch_all"]


class Counters:
    """Named integer counters threads can share: atomic ``add``, consistent ``snapshot``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, **counts: int) -> None:
        """Add to every named counter at once (one step, as seen from ``snapshot``)."""
        with self._lock:
            for name, count in counts.items():
                self._counts[name] = self._counts.get(name, 0) + count

    def snapshot(self) -> dict[str, int]:
        """Return a copy of every counter, all read at the same instant."""
        with self._lock:
            return dict(self._counts)

    def __repr__(self) -> str:
        return f"Counters({self.snapshot()})"


def fetch_all(
    urls: Sequence[str],
    *,
    workers: int = 8,
    timeout: float = 5.0,
    counters: Counters | None = None,
) -> list[Any]:
    """Fetch every URL's JSON on ``workers`` threads; each body or exception, in URL order.

    ``counters`` (a new one if not given) counts ``requests`` sent, and ``ok`` and ``failed``
    answers.
    """
    counters = counters if counters is not None else Counters()
    local = threading.local()
    sessions: list[requests.Session] = []
    sessions_lock = threading.Lock()

    def open_session() -> None:
        local.session = requests.Session()
        with sessions_lock:
            sessions.append(local.session)

    def fetch(url: str) -> Any:
        counters.add(requests=1)
        try:
            with map_requests_errors(url):
                response = local.session.get(url, timeout=timeout)
                response.raise_for_status()
                body = response.json()
        except Exception as exc:  # one URL's failure is its result, not everyone's
            counters.add(failed=1)
            return exc
        counters.add(ok=1)
        return body

    try:
        with ThreadPoolExecutor(workers, initializer=open_session) as pool:
            return list(pool.map(fetch, urls))  # map keeps the URLs' order
    finally:
        for session in sessions:
            session.close()
