"""What the source server has answered: requests, statuses, injected faults, records served."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from workbench.local_api.faults import FAULT_KINDS

__all__ = ["ServerStats"]


class ServerStats:
    """Counters the server updates on its event loop and other threads may read or reset."""

    def __init__(self) -> None:
        # The server writes from its loop while a test or notebook reads from its own thread.
        self._lock = threading.Lock()
        self._requests = 0
        self._records = 0
        self._by_resource: Counter[str] = Counter()
        self._by_status: Counter[int] = Counter()
        self._faults: Counter[str] = Counter()

    def count_request(self, resource: str) -> None:
        """Count one request for ``resource``."""
        with self._lock:
            self._requests += 1
            self._by_resource[resource] += 1

    def count_status(self, status: int) -> None:
        """Count one answer sent with ``status``."""
        with self._lock:
            self._by_status[status] += 1

    def count_fault(self, kind: str) -> None:
        """Count one injected fault of ``kind``."""
        with self._lock:
            self._faults[kind] += 1

    def count_records(self, count: int) -> None:
        """Count ``count`` records sent in full."""
        with self._lock:
            self._records += count

    def snapshot(self) -> dict[str, Any]:
        """Return the counters as JSON-ready data (every fault kind present, maybe 0)."""
        with self._lock:
            return {
                "requests_total": self._requests,
                "by_resource": dict(sorted(self._by_resource.items())),
                "by_status": {str(code): n for code, n in sorted(self._by_status.items())},
                "faults": {kind: self._faults[kind] for kind in FAULT_KINDS},
                "hostile_pages": self._faults["hostile"],
                "records_served": self._records,
            }

    def reset(self) -> None:
        """Set every counter back to zero."""
        with self._lock:
            self._requests = self._records = 0
            self._by_resource.clear()
            self._by_status.clear()
            self._faults.clear()
