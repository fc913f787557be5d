"""Results on disk: ``results.csv`` rows appended case by case, each with its environment.

One folder per run (``benchmarks/results/<timestamp>/``). Every row carries the case, its
median and spread, every repetition's seconds, and the environment it ran in (CPU count,
Python, workbench, Postgres, Valkey and dlt versions, and the digests of the dependency locks
the venvs were installed from), so a row means something on its own
and runs appended into one folder from several invocations stay distinguishable
(``run_id``). Reading a folder back keeps the latest row of each case.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import platform
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import psycopg2
import redis

import workbench
from workbench.bench.peer_env import LOCK as PEER_LOCK
from workbench.bench.runner import Result, Spread
from workbench.bench.scenarios import Case
from workbench.error_mapping import map_psycopg2_errors, map_redis_errors
from workbench.locks import LOCKS, file_digest
from workbench.services.common import project_root

__all__ = [
    "COLUMNS",
    "RESULTS_FILE",
    "Environment",
    "collect_environment",
    "environment_from_row",
    "latest_folder",
    "load_results",
    "read_rows",
    "result_from_row",
    "row_for",
    "run_folder_name",
    "write_row",
]

RESULTS_FILE = "results.csv"
#: Prefix of run folders git ignores: quick and partial runs, never reference material.
LOCAL_PREFIX = "local-"


@dataclass(frozen=True)
class Environment:
    """Where a run happened: what its numbers depend on besides the code."""

    cpu_count: int
    python: str
    platform: str
    workbench: str
    postgres: str
    valkey: str
    dlt: str  # empty when dlt is not installed (the peer was skipped)
    # The first 16 hex digits of the sha256 of requirements-lock.txt, and of the peer's lock
    # when the peer ran: which resolution of every dependency the numbers come from. Empty in
    # runs from before locks (and with no lock file, as in a non-editable install).
    lock: str = ""
    peer_lock: str = ""


_CASE_COLUMNS = tuple(f.name for f in fields(Case))
_ENV_COLUMNS = tuple(f"env_{f.name}" for f in fields(Environment))
_MEASURES = ("seconds", "rate", "peak_mb")
COLUMNS = (
    "run_id",
    "plan",
    "case",
    *_CASE_COLUMNS,
    "reps",
    *(f"{m}_{s}" for m in _MEASURES for s in ("median", "min", "max")),
    "ideal_seconds",
    "samples",
    *_ENV_COLUMNS,
)


def collect_environment(postgres_dsn: str, redis_url: str, dlt: str | None) -> Environment:
    """Ask the servers their versions and describe this machine."""
    with map_psycopg2_errors():
        connection = psycopg2.connect(postgres_dsn)
        try:
            with connection.cursor() as cur:
                cur.execute("SHOW server_version")
                (version,) = cur.fetchone() or ()
                postgres = str(version)
        finally:
            connection.close()
    with map_redis_errors():
        client = redis.Redis.from_url(redis_url)
        try:
            info = client.info("server")
        finally:
            client.close()
    valkey = info.get("valkey_version") or info.get("redis_version", "unknown")
    return Environment(
        cpu_count=os.cpu_count() or 0,
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.machine()}",
        workbench=workbench.__version__,
        postgres=postgres,
        valkey=str(valkey),
        dlt=dlt or "",
        lock=file_digest(project_root() / LOCKS[0].path),
        peer_lock=file_digest(project_root() / PEER_LOCK) if dlt else "",
    )


def run_folder_name(now: dt.datetime, *, local: bool) -> str:
    """Name a run's folder by its UTC start; quick or partial runs get the ignored prefix."""
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{LOCAL_PREFIX}{stamp}" if local else stamp


def _spread_columns(name: str, spread: Spread | None) -> dict[str, Any]:
    """Return a spread as three columns (empty when not measured)."""
    values = (
        (None, None, None) if spread is None else (spread.median, spread.minimum, spread.maximum)
    )
    return {
        f"{name}_{s}": "" if v is None else round(v, 6)
        for s, v in zip(("median", "min", "max"), values, strict=True)
    }


def row_for(result: Result, *, run_id: str, plan: str, environment: Environment) -> dict[str, Any]:
    """Return the CSV row of one result."""
    ideal = result.case.ideal_seconds
    row: dict[str, Any] = {"run_id": run_id, "plan": plan, "case": result.case.name}
    row.update(asdict(result.case))
    row["reps"] = len(result.samples)
    for name in _MEASURES:
        row.update(_spread_columns(name, getattr(result, name)))
    row["ideal_seconds"] = "" if ideal is None else round(ideal, 6)
    row["samples"] = ";".join(f"{s:.6f}" for s in result.samples)
    row.update({f"env_{k}": v for k, v in asdict(environment).items()})
    return row


def write_row(folder: Path, row: Mapping[str, Any]) -> None:
    """Append one row to the folder's results.csv (its header first when the file is new).

    A file written before a column was added is rewritten with today's header first, its rows
    keeping their values and leaving the new columns empty.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RESULTS_FILE
    new = not path.exists() or path.stat().st_size == 0
    if not new:
        with path.open(newline="") as handle:
            header = next(csv.reader(handle), [])
        if tuple(header) != COLUMNS:
            _rewrite(path, read_rows(folder))
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)


def _rewrite(path: Path, rows: Iterable[Mapping[str, str]]) -> None:
    """Write ``rows`` again under today's header."""
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, restval="", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def read_rows(folder: Path) -> list[dict[str, str]]:
    """Return every row of the folder's results.csv, in order (empty when there is none)."""
    path = folder / RESULTS_FILE
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _spread(row: Mapping[str, str], name: str) -> Spread | None:
    """Read three spread columns back (None when empty)."""
    if not row.get(f"{name}_median"):
        return None
    return Spread(*(float(row[f"{name}_{s}"]) for s in ("median", "min", "max")))


#: How a Case field's CSV text is read back, by the field's annotation.
_PARSERS: dict[str, Any] = {"int": int, "float": float, "bool": lambda t: t == "True", "str": str}


def environment_from_row(row: Mapping[str, str]) -> Environment:
    """Read the environment columns of a row back (a column added since the run: empty)."""
    values: dict[str, Any] = {f.name: row.get(f"env_{f.name}", "") for f in fields(Environment)}
    return Environment(**{**values, "cpu_count": int(values["cpu_count"])})


def result_from_row(row: Mapping[str, str]) -> Result:
    """Rebuild a ``Result`` (without its report) from a CSV row.

    A case field the row leaves empty, or has no column for (a run from before the field
    existed), takes the field's default.
    """
    values = {f.name: _PARSERS[str(f.type)](row[f.name]) for f in fields(Case) if row.get(f.name)}
    seconds, rate = _spread(row, "seconds"), _spread(row, "rate")
    assert seconds is not None and rate is not None, f"row {row['case']} has no timings"
    samples = tuple(float(s) for s in row["samples"].split(";") if s)
    return Result(Case(**values), seconds, rate, samples, _spread(row, "peak_mb"))


def load_results(rows: Iterable[Mapping[str, str]]) -> list[Result]:
    """Return the latest result of each case, in the order cases first appeared."""
    latest: dict[str, Mapping[str, str]] = {}
    for row in rows:
        latest[row["case"]] = row  # dicts keep first-insertion order; later rows overwrite
    return [result_from_row(row) for row in latest.values()]


def latest_folder(root: Path) -> Path | None:
    """Return the most recent run folder under ``root`` holding a results.csv, or None."""
    runs = [p.parent for p in root.glob(f"*/{RESULTS_FILE}")]
    return max(runs, key=lambda p: p.name.removeprefix(LOCAL_PREFIX), default=None)
