"""The reliability table: a row per scenario and mode, judged, written as CSV and Markdown.

A row is judged when it is made (``Row.judge``): it fails when anything was duplicated or
lost, when a run's exit status is not the one expected, or when its runner saw something
wrong (a killed run not abandoned, memory that grew, a leaked handle). Rows are appended
to ``results.csv`` as they are made, with the environment they ran in, so a run stopped
halfway keeps what it did; ``summary.md`` holds the Markdown table. ``load_run`` reads a
folder back, and ``frame`` turns its rows into a pandas table (for the notebook).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.bench.results import LOCAL_PREFIX, RESULTS_FILE, Environment, environment_from_row
from workbench.reliability.runs import Observed
from workbench.reliability.scenarios import Scenario
from workbench.services.common import project_root

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COLUMNS",
    "SUMMARY_FILE",
    "ReliabilityRun",
    "Row",
    "frame",
    "latest_run",
    "load_run",
    "summary",
]

SUMMARY_FILE = "summary.md"
COUNTS = ("served", "landed", "rejected", "duplicated", "lost")


def status_text(statuses: Sequence[int]) -> str:
    """Write exit statuses of successive runs as ``143 → 0``."""
    return " → ".join(map(str, statuses))


@dataclass(frozen=True)
class Row:
    """One scenario in one mode: the count, the exit statuses, the time, and its verdict."""

    scenario: str
    group: str
    mode: str
    served: int | None
    landed: int | None
    rejected: int | None
    duplicated: int | None
    lost: int | None
    statuses: tuple[int, ...]
    expected: tuple[int, ...]
    seconds: float
    note: str
    #: Why the row failed; empty when it passed.
    failures: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when nothing was lost or duplicated and every status was the expected one."""
        return not self.failures

    @classmethod
    def judge(cls, scenario: Scenario, mode: str, seen: Observed, seconds: float) -> Row:
        """Make the row of what a scenario's runs did, and judge it."""
        counts = seen.accounting
        failures = [f"{counts.duplicated:,} duplicated"] if counts.duplicated else []
        failures += [f"{counts.lost:,} lost"] if counts.lost else []
        if tuple(seen.statuses) != scenario.expected:
            failures.append(f"exit {status_text(seen.statuses)}, expected "
                            f"{status_text(scenario.expected)}")  # fmt: skip
        return cls(
            scenario.name, scenario.group, mode,
            counts.served, counts.landed, counts.rejected, counts.duplicated, counts.lost,
            tuple(seen.statuses), scenario.expected, seconds,
            "; ".join([scenario.note, *seen.notes]), (*failures, *seen.problems),
        )  # fmt: skip

    @classmethod
    def crashed(cls, scenario: Scenario, mode: str, error: BaseException, seconds: float) -> Row:
        """Make the row of a scenario that could not be run to its end (it fails)."""
        reason = f"could not run: {type(error).__name__}: {' '.join(str(error).split())}"
        return cls(scenario.name, scenario.group, mode, None, None, None, None, None, (),
                   scenario.expected, seconds, scenario.note, (reason,))  # fmt: skip


_ENV = tuple(f"env_{f.name}" for f in fields(Environment))
COLUMNS = ("run_id", "plan", *(f.name for f in fields(Row)), "passed", *_ENV)


def _csv_row(row: Row, run_id: str, plan: str, environment: Environment) -> dict[str, Any]:
    """Return a row as CSV values (statuses joined by ``;``, a count not made left empty)."""
    values: dict[str, Any] = {"run_id": run_id, "plan": plan, **asdict(row)}
    values.update({name: "" if values[name] is None else values[name] for name in COUNTS})
    values["statuses"] = ";".join(map(str, row.statuses))
    values["expected"] = ";".join(map(str, row.expected))
    values["seconds"] = round(row.seconds, 2)
    values["failures"] = "\n".join(row.failures)  # a reason may hold any other character
    values["passed"] = row.passed
    values.update({f"env_{k}": v for k, v in asdict(environment).items()})
    return values


def append_row(folder: Path, row: Row, *, run_id: str, plan: str, env: Environment) -> None:
    """Append one row to the folder's results.csv (its header first when the file is new)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RESULTS_FILE
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(_csv_row(row, run_id, plan, env))


def _row(values: dict[str, str]) -> Row:
    """Read one CSV row back."""

    def numbers(text: str) -> tuple[int, ...]:
        return tuple(int(part) for part in text.split(";") if part)

    counts = {name: int(values[name]) if values[name] else None for name in COUNTS}
    return Row(
        values["scenario"], values["group"], values["mode"], **counts,
        statuses=numbers(values["statuses"]), expected=numbers(values["expected"]),
        seconds=float(values["seconds"]), note=values["note"],
        failures=tuple(values["failures"].splitlines()),
    )  # fmt: skip


@dataclass(frozen=True)
class ReliabilityRun:
    """A reliability run read back: its rows, its plan and where it ran."""

    folder: Path
    plan: str
    environment: Environment
    rows: list[Row]

    @property
    def passed(self) -> bool:
        """True when every row passed."""
        return all(row.passed for row in self.rows)


def load_run(folder: Path) -> ReliabilityRun:
    """Read a run's results.csv back (FileNotFoundError when the folder has none)."""
    with (folder / RESULTS_FILE).open(newline="", encoding="utf-8") as handle:
        values = list(csv.DictReader(handle))
    if not values:
        raise FileNotFoundError(f"{folder / RESULTS_FILE} has no rows")
    last = values[-1]
    return ReliabilityRun(folder, last["plan"], environment_from_row(last), list(map(_row, values)))


def latest_run(root: Path | None = None, *, local: bool = False) -> ReliabilityRun | None:
    """Return the most recent full run under ``root`` (``benchmarks/reliability/``), or None.

    Quick and partial runs (``local-<timestamp>``, git-ignored) count only with ``local``.
    """
    root = root or project_root() / "benchmarks" / "reliability"
    folders = [path.parent for path in root.glob(f"*/{RESULTS_FILE}")]
    folders = [f for f in folders if local or not f.name.startswith(LOCAL_PREFIX)]
    latest = max(folders, key=lambda f: f.name.removeprefix(LOCAL_PREFIX), default=None)
    return None if latest is None else load_run(latest)


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def markdown(rows: Sequence[Row]) -> str:
    """Return the rows as a Markdown table; a failed row is marked and says why."""
    lines = [
        "| scenario | mode | served | landed | rejected | duplicated | lost | exit status "
        "| seconds | note |",
        "|---|---|--:|--:|--:|--:|--:|---|--:|---|",
    ]
    for row in rows:
        name = row.scenario if row.passed else f"**✗ {row.scenario}**"
        note = row.note if row.passed else f"**FAILED: {'; '.join(row.failures)}**; {row.note}"
        counts = " | ".join(_count(getattr(row, c)) for c in COUNTS)
        status = status_text(row.statuses) or "-"
        lines.append(f"| {name} | {row.mode} | {counts} | {status} | {row.seconds:,.1f} "
                     f"| {note.replace('|', '/')} |")  # fmt: skip
    return "\n".join(lines)


def summary(run: ReliabilityRun) -> str:
    """Return the run as Markdown: where it ran, the verdict, then the table."""
    env, rows = run.environment, run.rows
    failed = [row for row in rows if not row.passed]
    verdict = (f"**{len(failed)} of {len(rows)} rows failed.**" if failed else
               f"All {len(rows)} rows passed: nothing duplicated, nothing lost, every exit "
               "status as expected.")  # fmt: skip
    return "\n\n".join([
        f"{run.plan.capitalize()} plan, {env.cpu_count} CPUs, Python {env.python}, "
        f"PostgreSQL {env.postgres}, Valkey {env.valkey}; "
        f"{sum(row.seconds for row in rows) / 60:,.1f} minutes in all.",
        verdict,
        markdown(rows),
    ])  # fmt: skip


def frame(rows: Sequence[Row]) -> pd.DataFrame:
    """Return the rows as a pandas table: one line per scenario and mode."""
    import pandas as pd

    table = pd.DataFrame([asdict(row) | {"passed": row.passed} for row in rows])
    table["exit status"] = [status_text(row.statuses) for row in rows]
    return table.drop(columns=["statuses", "expected", "failures"])
