"""Each scenario group's runner, once, on the quick plan: the trouble made, the count right.

The behaviours themselves are proven in every mode by the ingestion and command tests
(``tests/ingestion/test_outages.py``, ``tests/commands/test_signals.py``, ...); these check
that the reliability runner makes each trouble, reads the statuses and counts every record.
"""

from __future__ import annotations

import pytest

from workbench.reliability.runs import RUNNERS
from workbench.reliability.scenarios import QUICK, SCENARIOS
from workbench.reliability.table import Row
from workbench.reliability.workspace import Workspace
from workbench.services import Services

#: One scenario of each group but the soak (``test_soak``), each in another mode.
CASES = [
    ("faults", "async"),
    ("hostile-duplicate_ids", "async"),
    ("hostile-html", "threaded"),
    ("sigterm", "threaded"),
    ("sigkill", "multiprocess"),
    ("pg-restarts", "async"),
    ("pg-outage", "sync"),
    ("redis-kill", "threaded"),
]


@pytest.fixture
def workspace(services: Services, redis_url: str) -> Workspace:
    """Scratch databases on the test Postgres; the test run's own Redis database."""
    return Workspace(services.postgres_dsn, redis_url)


class TestRunners:
    """A scenario run end to end, as ``workbench reliability`` runs it."""

    @pytest.mark.parametrize(("name", "mode"), CASES)
    def test_the_row_passes(self, name: str, mode: str, workspace: Workspace) -> None:
        """The runs end with the expected statuses and every record is accounted for."""
        scenario = next(s for s in SCENARIOS if s.name == name)
        seen = RUNNERS[scenario.group](scenario, mode, QUICK, workspace)
        row = Row.judge(scenario, mode, seen, 0.0)
        assert row.passed, row
        assert row.served == row.landed + row.rejected

    def test_the_kill_leaves_an_abandoned_run_and_the_signal_a_resumed_one(
        self, workspace: Workspace
    ) -> None:
        """The notes say what the stopped runs became."""
        kill = next(s for s in SCENARIOS if s.name == "sigkill")
        assert RUNNERS["kill"](kill, "sync", QUICK, workspace).notes == [
            "killed run marked abandoned"
        ]
