"""Run the chosen scenarios in their modes, one row each, and write the table as it grows.

Each row starts from an empty database and an empty Redis (``Workspace``) and is timed
from its setup to its count. A row whose runner raises is recorded as failed with the
reason, and the next row runs: one broken scenario never hides the others' results.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from workbench.bench.results import Environment
from workbench.reliability.runs import RUNNERS
from workbench.reliability.scenarios import Plan, Scenario
from workbench.reliability.table import SUMMARY_FILE, Row, append_row, load_run, summary
from workbench.reliability.workspace import Workspace

__all__ = ["run_reliability"]

log = logging.getLogger("workbench.reliability")


def run_reliability(
    plan: Plan,
    scenarios: Sequence[Scenario],
    folder: Path,
    workspace: Workspace,
    environment: Environment,
    progress: Callable[[Row], None] | None = None,
) -> list[Row]:
    """Run every scenario in each of its modes; write results.csv and summary.md in ``folder``."""
    run_id, rows = uuid.uuid4().hex[:12], []
    for scenario in scenarios:
        for mode in scenario.modes:
            workspace.flush_redis()
            started = time.perf_counter()
            try:
                seen = RUNNERS[scenario.group](scenario, mode, plan, workspace)
                row = Row.judge(scenario, mode, seen, time.perf_counter() - started)
            except Exception as exc:  # the row fails with the reason; the others still run
                log.exception("scenario %s in %s mode could not run", scenario.name, mode)
                row = Row.crashed(scenario, mode, exc, time.perf_counter() - started)
            append_row(folder, row, run_id=run_id, plan=plan.name, env=environment)
            rows.append(row)
            if progress is not None:
                progress(row)
    (folder / SUMMARY_FILE).write_text(summary(load_run(folder)) + "\n", encoding="utf-8")
    return rows
