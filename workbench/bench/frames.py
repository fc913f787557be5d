"""Benchmark results as pandas DataFrames, for notebooks: headline, targets, one scenario."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from workbench.bench.runner import Result
from workbench.bench.summary import case_row, headline
from workbench.bench.targets import MISSED, TargetOutcome

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["headline_frame", "scenario_frame", "targets_frame"]


def headline_frame(results: Sequence[Result]) -> pd.DataFrame:
    """Return the headline: records/s of each mode, limit and the peer, with the ratios."""
    import pandas as pd

    rows = [
        {
            "": row.label,
            "records/s": round(row.result.rate.median),
            "min": round(row.result.rate.minimum),
            "max": round(row.result.rate.maximum),
            "x sync": row.speedup,
            "share of limit": row.share_of_limit,
            "peak MB": round(row.result.peak_mb.maximum) if row.result.peak_mb else None,
        }
        for row in headline(results)
    ]
    return pd.DataFrame(rows).set_index("").round(2) if rows else pd.DataFrame()


def targets_frame(outcomes: Sequence[TargetOutcome]) -> pd.DataFrame:
    """Return one row per target: measured, bound, verdict, what was compared, what limits it."""
    import pandas as pd

    rows = [
        {
            "target": o.title,
            "measured": o.measured_text,
            "bound": o.bound,
            "status": o.status,
            "compared": o.detail,
            "limits": (o.target.limits or "...") if o.status == MISSED else "",
        }
        for o in outcomes
    ]
    return pd.DataFrame(rows).set_index("target")


def scenario_frame(results: Sequence[Result], scenario: str) -> pd.DataFrame:
    """Return one scenario's cases: load, median rate and range, wall time, ideal, memory."""
    import pandas as pd

    rows = [case_row(result) for result in results if result.case.scenario == scenario]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    rates = ["per second", "min", "max"]
    frame[rates] = frame[rates].round().astype(int)
    return frame.round({"wall s": 3, "x ideal": 2, "peak MB": 0})
