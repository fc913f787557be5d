"""``workbench bench``: every mode ingests the same pages from the local API; a table per run.

Each mode runs against the embedded (or configured) Postgres and Redis and the local source
API started in-process with the added latency asked for. Records land under a source name of
their own (``bench-<mode>``), cleared before each mode runs, so the modes write the same rows
into the same empty space and user data is never touched. Results are appended as CSV and a
Markdown table under ``benchmarks/results/<timestamp>/``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import platform
import sys
from pathlib import Path
from typing import Any

from workbench.config import MODES, Settings
from workbench.errors import ConfigError
from workbench.servers.common import project_root

COLUMNS = ("mode", "records", "pages", "seconds", "records_per_second", "speedup_vs_sync")


def run_mode(mode: str, base_url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Ingest the benchmark's posts in one mode and return its row of results."""
    from workbench.ingestion.factory import build_ingestor

    settings = Settings.from_env(
        mode=mode,
        base_url=base_url,
        resources="posts",
        page_size=args.page_size,
        concurrency=args.concurrency,
        use_cache=False,
    )
    ingestor = build_ingestor(settings, source_name=f"bench-{mode}")
    try:
        ingestor.store.ensure_schema()
        ingestor.store.delete_source(ingestor.source.name)
        report = ingestor.run()
    finally:
        ingestor.close()
    if not report.ok or report.inserted != report.fetched:
        raise RuntimeError(f"{mode}: the benchmark run was incomplete: {report.summary()}")
    return {
        "mode": mode,
        "records": report.fetched,
        "pages": report.pages,
        "seconds": round(report.seconds, 4),
        "records_per_second": round(report.records_per_second, 1),
    }


def write_results(rows: list[dict[str, Any]], out: Path, args: argparse.Namespace) -> Path:
    """Write results.csv and summary.md into a new timestamped folder; return the folder."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = out / stamp
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "results.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    header = "| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS) + "\n"
    body = "".join("| " + " | ".join(str(row[c]) for c in COLUMNS) + " |\n" for row in rows)
    environment = (
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{args.records} posts in pages of {args.page_size}, "
        f"{args.latency_ms} ms added latency, concurrency {args.concurrency}."
    )
    (folder / "summary.md").write_text(f"# workbench bench\n\n{environment}\n\n{header}{body}")
    return folder


def _bench(args: argparse.Namespace) -> int:
    """Run every requested mode and print the table."""
    from workbench.sources import FaultConfig, serve_in_thread

    if args.records < 1 or args.page_size < 1 or args.latency_ms < 0:
        raise ConfigError("--records and --page-size must be >= 1 and --latency-ms >= 0")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        raise ConfigError(
            f"--modes: unknown mode(s) {', '.join(unknown)}; known: {', '.join(MODES)}"
        )
    faults = FaultConfig(latency_ms=args.latency_ms)
    rows = []
    with serve_in_thread(scale=args.records / 100, faults=faults) as server:
        for mode in modes:
            print(f"bench: {mode} ...", file=sys.stderr, flush=True)
            rows.append(run_mode(mode, server.url, args))
    baseline = next((r["records_per_second"] for r in rows if r["mode"] == "sync"), None)
    for row in rows:
        speedup = row["records_per_second"] / baseline if baseline else float("nan")
        row["speedup_vs_sync"] = round(speedup, 2)
    folder = write_results(rows, Path(args.out), args)
    print((folder / "summary.md").read_text())
    print(f"results: {folder}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``bench`` to the CLI."""
    parser = subparsers.add_parser("bench", help="measure every mode on the local API")
    parser.add_argument("--records", type=int, default=5000, help="posts to ingest (5000)")
    parser.add_argument("--page-size", type=int, default=50, help="records per page (50)")
    parser.add_argument("--latency-ms", type=int, default=20, help="added latency (20 ms)")
    parser.add_argument("--concurrency", type=int, default=16, help="threads or tasks (16)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated modes (all)")
    default_out = project_root() / "benchmarks" / "results"
    parser.add_argument("--out", default=str(default_out), help="results folder")
    parser.set_defaults(handler=_bench)
