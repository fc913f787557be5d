"""The quick soak in every mode: every record accounted for, nothing leaked, memory level.

The full soak (a million records per mode) runs in ``make reliability``; this one reads
``QUICK.soak_records`` through the same faults, with ``QUICK.soak_slack_mb`` of absolute
slack on the memory comparison (see ``workbench.reliability.scenarios.QUICK``). It runs in a
fresh interpreter (``soak_job``), so that what pytest itself holds is not counted.
"""

from __future__ import annotations

import pytest

from workbench.bench.memory import run_child
from workbench.ingestion import MODES
from workbench.reliability.accounting import SourceSpec, account
from workbench.reliability.scenarios import QUICK


class TestQuickSoak:
    """A few thousand records through 5% faults of every kind and one failing page."""

    @pytest.mark.parametrize("mode", tuple(MODES))
    def test_nothing_lost_or_doubled_nothing_leaked_memory_steady(
        self, mode: str, postgres_dsn: str, redis_url: str
    ) -> None:
        """Landed + rejected = served, 0 duplicated, 0 lost, no handle kept, RSS level."""
        job = {"mode": mode, "postgres_dsn": postgres_dsn, "redis_url": redis_url,
               "records": QUICK.soak_records, "slack_mb": QUICK.soak_slack_mb}  # fmt: skip
        outcome = run_child("workbench.reliability.soak:soak_job", job, timeout_s=300).result
        spec = SourceSpec(**{**outcome["spec"], "resources": tuple(outcome["spec"]["resources"])})
        counts = account(postgres_dsn, "soak", spec)
        assert counts.served >= QUICK.soak_records
        assert counts.landed + counts.rejected == counts.served
        assert counts.rejected == 100  # the page of comments that always fails
        assert (counts.duplicated, counts.lost) == (0, 0)
        assert outcome["status"] == 1  # that page failed: the CLI would exit 1
        assert outcome["leaks"] == {}, outcome["note"]
        assert outcome["steady"], outcome["memory"]
