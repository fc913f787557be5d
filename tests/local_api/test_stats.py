from __future__ import annotations

from workbench.local_api.faults import FAULT_KINDS
from workbench.local_api.stats import ServerStats


class TestServerStats:
    """The counters behind ``/stats``."""

    def test_a_fresh_snapshot_is_all_zero(self) -> None:
        """Before any request every counter is zero and every fault kind is listed."""
        assert ServerStats().snapshot() == {
            "requests_total": 0,
            "by_resource": {},
            "by_status": {},
            "faults": dict.fromkeys(FAULT_KINDS, 0),
            "hostile_pages": 0,
            "records_served": 0,
        }

    def test_counts_accumulate(self) -> None:
        """Requests, statuses (as text keys), faults and records add up."""
        stats = ServerStats()
        stats.count_request("posts")
        stats.count_request("posts")
        stats.count_request("users")
        stats.count_status(200)
        stats.count_status(503)
        stats.count_fault("error")
        stats.count_records(10)
        stats.count_records(5)
        snapshot = stats.snapshot()
        assert snapshot["requests_total"] == 3
        assert snapshot["by_resource"] == {"posts": 2, "users": 1}
        assert snapshot["by_status"] == {"200": 1, "503": 1}
        assert snapshot["faults"]["error"] == 1
        assert snapshot["records_served"] == 15

    def test_reset_zeroes_everything(self) -> None:
        """After reset the snapshot is that of a fresh instance."""
        stats = ServerStats()
        stats.count_request("posts")
        stats.count_status(200)
        stats.count_fault("drop")
        stats.count_records(3)
        stats.reset()
        assert stats.snapshot() == ServerStats().snapshot()
